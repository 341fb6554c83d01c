## A second plugin with a different state type, allocating every frame.
import plugin_interface

type FrameLog* = object
  lines*: seq[string]

proc init(api: PluginAPI) =
  discard setContext(api, "frame_log", FrameLog())

proc update(api: PluginAPI, dt: float) =
  let log = getContext[FrameLog](api, "frame_log")
  log.data.lines.add("frame " & $(log.data.lines.len + 1))

proc render(api: PluginAPI) =
  api.draw(1, "Log: " & $getContext[FrameLog](api, "frame_log").data.lines.len & " lines")

proc handleEvent(api: PluginAPI, key: char): bool = false

proc shutdown(api: PluginAPI) = discard

proc makePlugin*(): PluginModule =
  PluginModule(name: "frame_log", init: init, update: update, render: render,
               handleEvent: handleEvent, shutdown: shutdown)
