## The seed's broken plugin interface: contexts kept as raw, uncounted pointers.
import std/tables

type
  Screen* = ref object
    lines*: seq[string]
  PluginAPI* = ref object
    pluginData*: Table[string, pointer]   ## raw pointers: ARC/ORC does not count them
    screen*: Screen
  PluginContext*[T] = ref object
    pluginName*: string
    data*: T
  PluginModule* = object
    name*: string
    init*: proc (api: PluginAPI) {.nimcall.}
    update*: proc (api: PluginAPI, dt: float) {.nimcall.}
    render*: proc (api: PluginAPI) {.nimcall.}
    handleEvent*: proc (api: PluginAPI, key: char): bool {.nimcall.}
    shutdown*: proc (api: PluginAPI) {.nimcall.}

proc newPluginAPI*(): PluginAPI =
  PluginAPI(pluginData: initTable[string, pointer](), screen: Screen(lines: newSeq[string](4)))

proc setPluginData*(api: PluginAPI, name: string, data: pointer) =
  api.pluginData[name] = data

proc getPluginData*(api: PluginAPI, name: string): pointer =
  api.pluginData.getOrDefault(name, nil)

proc setContext*[T](api: PluginAPI, name: string, data: T): PluginContext[T] =
  result = PluginContext[T](pluginName: name, data: data)
  api.setPluginData(name, cast[pointer](result))   # the bug: nothing owns it now

proc getContext*[T](api: PluginAPI, name: string): PluginContext[T] =
  let p = api.getPluginData(name)
  if p.isNil:
    result = api.setContext(name, T())
  else:
    result = cast[PluginContext[T]](p)             # unchecked: whatever is there

proc draw*(api: PluginAPI, row: int, text: string) =
  if row in 0 ..< api.screen.lines.len: api.screen.lines[row] = text
