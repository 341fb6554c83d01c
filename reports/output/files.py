"""Writing into a folder the user owns: each file whole or not at all, nothing else touched.

`stage_text` writes a temporary file beside its target, created by this run (so this run
owns it) and flushed to disk; `os.replace` then moves it into place, atomically within one
folder. `write_text_atomically` does both for one file, `write_texts_atomically` for
several as one unit. `output_folder` checks, before any work, that a folder can take the
files. Nothing else in the folder, and not the folder itself, is ever moved, replaced,
re-created, re-permissioned or deleted. A target that is a symbolic link is replaced by a
regular file, never followed: what it points to keeps its content and mode, and no new
file is ever setuid, setgid or sticky.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import secrets
import signal
import stat
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from types import FrameType
from typing import Any

__all__ = [
    "LOCK_FILE",
    "UnusableFolder",
    "folder_lock",
    "output_folder",
    "stage_text",
    "write_text_atomically",
    "write_texts_atomically",
]

LOCK_FILE = ".report.lock"
"""Locked instead of the folder where the file system cannot lock a folder (NFS)."""


class UnusableFolder(ValueError):
    """A folder that cannot take the files; the message names it and says why."""


def _mode_to_keep(target: Path) -> int | None:
    """The permission bits (`0o777`) of `target` when it is itself a regular file, or
    None (then the new file gets what `open()` gives: 0o666 less the umask, applied by
    the kernel). A symbolic link is not followed: its target's mode is never copied. The
    setuid, setgid and sticky bits are never kept: `0o6755` gives `0o755`."""
    try:
        status = os.lstat(target)
    except OSError:
        return None
    return stat.S_IMODE(status.st_mode) & 0o777 if stat.S_ISREG(status.st_mode) else None


def stage_text(target: Path, text: str) -> Path:
    """Write `text` (UTF-8) to a new temporary file `.NAME.XXXXXXXX.tmp` beside `target`,
    flushed to disk, and return its path; moving it onto `target` is the caller's. Its mode
    is the permission bits of `target` when that is a regular file, without setuid, setgid
    or sticky; otherwise (missing, a symbolic link, anything else) what `open()` gives.
    On any error nothing is left behind, and an `OSError` names `target` (its `errno`
    kept: ENOSPC stays ENOSPC)."""
    mode = _mode_to_keep(target)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
    while True:
        temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
        try:
            descriptor = os.open(temporary, flags, 0o666)
            break
        except FileExistsError:  # another run's (or anyone's) file: never ours to touch
            continue
        except OSError as error:
            raise OSError(error.errno, error.strerror, str(target)) from error
    try:
        with open(descriptor, "w", encoding="utf-8", closefd=True) as stream:
            stream.write(text)
            stream.flush()
            if mode is not None:
                os.fchmod(stream.fileno(), mode)
            os.fsync(stream.fileno())
    except BaseException as error:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        if isinstance(error, OSError) and error.filename is None:
            raise OSError(error.errno, error.strerror, str(target)) from error
        raise
    return temporary


def write_text_atomically(target: Path, text: str) -> None:
    """Replace `target` with `text` (UTF-8) atomically: a reader sees the old content or
    the new, whole. On any error (an interrupt included) `target` stays as it was and the
    temporary file is removed. Not covered: a SIGKILL before the move leaves the
    temporary `.NAME.XXXXXXXX.tmp` file behind (the old `target` is still whole)."""
    temporary = stage_text(target, text)
    try:
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def write_texts_atomically(folder: Path, texts: Mapping[str, str]) -> None:
    """Write each `name: text` of `texts` into `folder` as one unit.

    Every text is first written to its own temporary file in `folder`; only when all are
    on disk are they moved into place with `os.replace`, under `folder_lock(folder)` (the
    commit: one rename each, microseconds). So:

    - Two writers into one folder leave all the files of one of them, never a mix.
    - An error or an interrupt before the commit leaves the old files exactly as they
      were, and this run's temporary files are removed. SIGINT, SIGTERM and SIGHUP
      arriving during the commit are held until it is done, then delivered (Ctrl-C
      raises KeyboardInterrupt, an unhandled SIGTERM ends the process, once every file
      is in place).
    - The folder itself is never moved, replaced, re-created or re-permissioned, and
      nothing in it but the named files is created, moved or deleted (except
      `LOCK_FILE`, see `folder_lock`).

    Not guaranteed: a SIGKILL or a power cut during the commit, or a rename the file system
    refuses halfway, can leave old and new files mixed; signals are held only when this
    is called from the main thread (where Python handles them); a SIGKILL before the commit
    leaves that run's `.NAME.XXXXXXXX.tmp` files behind (the old files still whole).

    Raises `OSError` naming the file when one cannot be written (its errno kept), and
    `IsADirectoryError` when a folder has one of the names (then nothing is replaced).
    """
    staged: dict[str, Path] = {}
    try:
        for name, text in texts.items():
            staged[name] = stage_text(folder / name, text)
        with folder_lock(folder):
            for name in texts:
                if _is_folder(folder / name):
                    raise IsADirectoryError(
                        errno.EISDIR, "a folder has its name", str(folder / name)
                    )
            with _signals_held():
                for name in texts:
                    os.replace(staged[name], folder / name)
                    del staged[name]
    finally:
        for temporary in staged.values():
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on `folder` for the block: every writer that takes it waits
    for the one that holds it. The lock is `flock` on the folder itself, which creates
    nothing; where the file system cannot lock a folder (NFS), `LOCK_FILE` in it is locked
    instead, made if missing and left in place. Waiting can be interrupted (Ctrl-C)."""
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        except OSError:  # EBADF, ENOLCK, EOPNOTSUPP: this file system locks files only
            os.close(descriptor)
            descriptor = -1
            descriptor = os.open(folder / LOCK_FILE, _LOCK_FILE_FLAGS, 0o666)
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        if descriptor >= 0:
            os.close(descriptor)


_LOCK_FILE_FLAGS = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
# O_RDWR: NFS takes an exclusive flock only on a file open for writing.
_HELD_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP for the block: while it runs, their handlers only
    note what came; when it ends, the handlers that were in place are put back and each
    signal that came is raised again, in order (Ctrl-C then raises KeyboardInterrupt, an
    unhandled SIGTERM ends the process). A signal that came just before is either
    handled before the block starts or held with the others.

    Handlers, not the thread's signal mask: a process-directed signal goes to any thread
    that does not block it, and a native thread (numpy's, for one) would take it and end
    the process. Signals are handled in the main thread only, so elsewhere this holds
    nothing. SIGINT is put back last, so a new Ctrl-C cannot stop the others being put
    back."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    came: list[int] = []
    previous: dict[signal.Signals, _Handler] = {}

    def note(signum: int, frame: FrameType | None) -> None:
        came.append(signum)

    try:
        for signum in _HELD_SIGNALS:
            handler = signal.getsignal(signum)
            if handler is not None:  # None: set outside Python, could not be put back
                previous[signum] = handler
                signal.signal(signum, note)
        yield
    finally:
        for held in reversed(previous):
            signal.signal(held, previous[held])
        for arrived in dict.fromkeys(came):
            signal.raise_signal(arrived)


def _is_folder(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except FileNotFoundError:
        return False


def _writable(path: str, status: os.stat_result) -> bool:
    """Whether files may be made in the folder: the OS allows it (a read-only mount does
    not), and its owner has not made it read-only (`chmod a-w`, which root would ignore)."""
    return os.access(path, os.W_OK | os.X_OK) and bool(status.st_mode & 0o222)


def output_folder(text: str, files: Iterable[str] = ()) -> Path:
    """Return `text` as the folder to write `files` into, creating it (never its parents)
    when it is missing and its parent is a writable folder.

    Raises `UnusableFolder` ("'PATH' is not a folder", "... is read-only", "... File name
    too long", ...) for a path that is empty, holds a NUL, is not valid in the file system's
    encoding (bytes that are not UTF-8 on a UTF-8 system), names something other than a
    folder (a file, `/dev/null`, a link to nothing), or a folder that cannot take files or
    holds a folder named as one of `files`; or when the parent of a missing folder is
    missing or read-only, or the file system refuses the name. Nothing but the missing
    folder itself is ever created.

    >>> output_folder("/dev/null")
    Traceback (most recent call last):
    reports.output.UnusableFolder: '/dev/null' is not a folder
    """
    if not text:
        raise UnusableFolder("'' is empty: give a folder")
    if "\0" in text:
        raise UnusableFolder(f"{text!r} contains a NUL character")
    try:
        text.encode(sys.getfilesystemencoding())
    except UnicodeEncodeError:
        encoding = sys.getfilesystemencoding().upper().replace("UTF8", "UTF-8")
        raise UnusableFolder(f"{text!r} is not valid {encoding} on this system") from None
    try:
        status = os.stat(text)
    except FileNotFoundError:
        status = _create(text)
    except OSError as error:
        raise UnusableFolder(f"{text!r} cannot be used: {error.strerror}") from None
    if not stat.S_ISDIR(status.st_mode):
        raise UnusableFolder(f"{text!r} is not a folder")
    if not _writable(text, status):
        raise UnusableFolder(f"{text!r} is read-only")
    for name in files:
        if _is_folder(Path(text, name)):
            raise UnusableFolder(f"{text!r} holds a folder named {name!r}, where a file goes")
    return Path(text)


def _create(text: str) -> os.stat_result:
    """Make the missing folder `text` (not its parents) and return its status."""
    if os.path.lexists(text):
        raise UnusableFolder(f"{text!r} is a symbolic link to nothing")
    parent = os.path.dirname(text.rstrip(os.sep)) or os.curdir
    try:
        above = os.stat(parent)
    except OSError as error:
        reason = (
            "does not exist" if error.errno == errno.ENOENT else f"cannot be used: {error.strerror}"
        )
        raise UnusableFolder(f"{text!r} cannot be created: {parent!r} {reason}") from None
    if not stat.S_ISDIR(above.st_mode):
        raise UnusableFolder(f"{text!r} cannot be created: {parent!r} is not a folder")
    if not _writable(parent, above):
        raise UnusableFolder(f"{text!r} cannot be created: {parent!r} is read-only")
    try:
        os.mkdir(text)
    except FileExistsError:  # made meanwhile by someone else: judged as it is
        pass
    except OSError as error:
        raise UnusableFolder(f"{text!r} cannot be created: {error.strerror}") from None
    return os.stat(text)
