"""Write a file so that readers only ever see the old content or the new, whole.

The text goes to a temporary file beside the target, created here (so this run owns
it), flushed to disk, and moved into place with `os.replace`, which is atomic within
one folder. Nothing else in the folder, and not the folder itself, is touched.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["write_text_atomically"]


def _new_file_mode(target: Path) -> int:
    """The mode the target should end with: its current one, else what `open()` gives."""
    try:
        return os.stat(target).st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_text_atomically(target: Path, text: str) -> None:
    """Replace `target` with `text` (UTF-8) atomically; on any error the old `target`
    stays as it was and the temporary file is removed."""
    descriptor, temporary = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
    )
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, _new_file_mode(target))
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
