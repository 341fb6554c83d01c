## The engine (the seed's backstorie), in miniature: runs plugins for N frames. The same
## source as refimpl/nim/backstorie.nim, built against the broken plugin_interface.nim.
## Usage: backstorie [--frames=N] [--reset-at=N] [--no-log] [--wrong-type]
import std/[os, strutils]
import plugin_interface, simple_counter, frame_log

proc main() =
  var frames = 120
  var resetAt = -1
  var withLog = true
  var wrongType = false
  for arg in commandLineParams():
    if arg.startsWith("--frames="): frames = parseInt(arg[9 .. ^1])
    elif arg.startsWith("--reset-at="): resetAt = parseInt(arg[11 .. ^1])
    elif arg == "--no-log": withLog = false
    elif arg == "--wrong-type": wrongType = true
  let api = newPluginAPI()
  var plugins = @[simple_counter.makePlugin()]
  if withLog: plugins.add(frame_log.makePlugin())
  for plugin in plugins: plugin.init(api)
  if wrongType:  # fetch the counter's context as the log's state type
    echo "wrong-type: ", getContext[FrameLog](api, "simple_counter").data.lines.len, " lines"
  for frame in 1 .. frames:
    if frame == resetAt:
      for plugin in plugins:
        if plugin.handleEvent(api, 'r'): break
    for plugin in plugins: plugin.update(api, 1.0 / 60.0)
    for i in 0 ..< api.screen.lines.len: api.screen.lines[i] = ""
    for plugin in plugins: plugin.render(api)
  for line in api.screen.lines:
    if line.len > 0: echo line
  for plugin in plugins: plugin.shutdown(api)

main()
