## The seed's plugin: counts frames, draws `Frame: N`, resets on `r`.
## It compiles unchanged against the broken and the fixed interface.
import plugin_interface

type CounterState* = object
  count*: int

proc init(api: PluginAPI) =
  discard setContext(api, "simple_counter", CounterState())

proc update(api: PluginAPI, dt: float) =
  let ctx = getContext[CounterState](api, "simple_counter")
  inc ctx.data.count

proc render(api: PluginAPI) =
  api.draw(0, "Frame: " & $getContext[CounterState](api, "simple_counter").data.count)

proc handleEvent(api: PluginAPI, key: char): bool =
  if key == 'r':
    getContext[CounterState](api, "simple_counter").data.count = 0
    return true

proc shutdown(api: PluginAPI) = discard

proc makePlugin*(): PluginModule =
  PluginModule(name: "simple_counter", init: init, update: update, render: render,
               handleEvent: handleEvent, shutdown: shutdown)
