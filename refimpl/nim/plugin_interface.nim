## The fixed plugin interface: counted references to a common base, checked downcasts.
import std/tables

type
  Screen* = ref object
    lines*: seq[string]
  PluginContextBase* = ref object of RootObj
    pluginName*: string
  PluginContext*[T] = ref object of PluginContextBase
    data*: T
  PluginAPI* = ref object
    pluginData*: Table[string, PluginContextBase]   ## counted references
    screen*: Screen
  PluginModule* = object
    name*: string
    init*: proc (api: PluginAPI) {.nimcall.}
    update*: proc (api: PluginAPI, dt: float) {.nimcall.}
    render*: proc (api: PluginAPI) {.nimcall.}
    handleEvent*: proc (api: PluginAPI, key: char): bool {.nimcall.}
    shutdown*: proc (api: PluginAPI) {.nimcall.}

proc newPluginAPI*(): PluginAPI =
  PluginAPI(pluginData: initTable[string, PluginContextBase](),
            screen: Screen(lines: newSeq[string](4)))

proc setPluginData*(api: PluginAPI, name: string, data: PluginContextBase) =
  api.pluginData[name] = data

proc getPluginData*(api: PluginAPI, name: string): PluginContextBase =
  api.pluginData.getOrDefault(name, nil)

proc setContext*[T](api: PluginAPI, name: string, data: T): PluginContext[T] =
  result = PluginContext[T](pluginName: name, data: data)
  api.setPluginData(name, result)

proc getContext*[T](api: PluginAPI, name: string): PluginContext[T] =
  let base = api.getPluginData(name)
  if base.isNil:
    result = api.setContext(name, T())
  else:
    result = PluginContext[T](base)                # checked: ObjectConversionDefect

proc draw*(api: PluginAPI, row: int, text: string) =
  if row in 0 ..< api.screen.lines.len: api.screen.lines[row] = text
