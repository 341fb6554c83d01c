"""What every package of this project leans on: command lines, stack frames, the collector,
address reuse and the hosts' `run` command, one public module each."""

__all__: list[str] = []
