"""Where the contract remembers failures: one key per store in a Hypothesis example database,
and the databases a user names on the command line.

Every store runs the same state-machine class, so Hypothesis's own key (a digest of the
test) is the same for all of them: one store's saved failures would replay on the next,
which would see them pass and delete them. `StoreKeyed` files every entry under a key of
the store's own instead (`store_key`), and `open_database` turns `--store-database` values
into databases.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from hypothesis.database import (
    DirectoryBasedExampleDatabase,
    ExampleDatabase,
    GitHubArtifactDatabase,
    MultiplexedDatabase,
    ReadOnlyDatabase,
)

__all__ = [
    "KEY_PREFIX",
    "READ_ONLY_PREFIX",
    "DatabaseUnavailable",
    "StoreKeyed",
    "open_database",
    "open_databases",
    "primary_only",
    "store_key",
]

KEY_PREFIX = b"ownership-contract:"
"""How every key the contract files entries under begins."""
READ_ONLY_PREFIX = "ro:"
"""Before a `--store-database` value: use that database read-only."""
_SUB_KEYS = (b".secondary", b".pareto")
"""The ends of the keys Hypothesis derives from a test's key (`ConjectureRunner.sub_key`):
the earlier, longer forms of a failure, and the pareto front."""
_GITHUB = re.compile(r"github:(?P<owner>[A-Za-z0-9][A-Za-z0-9-]*)/(?P<repo>[A-Za-z0-9._-]+)")


def store_key(spec: str, mode: str, names: int) -> bytes:
    """The key a store's failures are filed under: what identifies the run (the factory's
    import spec, store or API, the number of names), never the machine class, which
    every store shares. Readable, e.g. `ownership-contract:pkg.mod:make store names=8`."""
    return KEY_PREFIX + f"{spec} {mode} names={names}".encode()


_T = TypeVar("_T")


class DatabaseUnavailable(UserWarning):
    """The example database failed (a Redis server gone, a folder the file system refuses):
    the run went on without it, and its verdict is whole; what it found is not saved."""


class StoreKeyed(ExampleDatabase):
    """`database`, with every key Hypothesis asks for replaced by `key` (keeping the
    sub-key it ends with, `.secondary` or `.pareto`): what any run of the contract saves,
    moves or deletes is this store's alone.

    The first error from `database` is a `DatabaseUnavailable` warning, after which it is
    used no more (nothing saved, nothing replayed): a database is a memory of failures, and
    losing it must not lose the verdict of the run under way."""

    def __init__(self, database: ExampleDatabase, key: bytes) -> None:
        super().__init__()
        self.database = database
        self.key = key
        self.failed: Exception | None = None

    def _safely(self, call: Callable[[], _T], otherwise: _T) -> _T:
        if self.failed is not None:
            return otherwise
        try:
            return call()
        except Exception as error:
            self.failed = error
            warnings.warn(
                f"the example database {self.database!r} failed ({type(error).__name__}: "
                f"{error}): this run goes on without it and saves nothing",
                DatabaseUnavailable,
                stacklevel=3,
            )
            return otherwise

    def __repr__(self) -> str:
        return f"StoreKeyed({self.database!r}, {self.key!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StoreKeyed) and (self.database, self.key) == (
            other.database,
            other.key,
        )

    def __hash__(self) -> int:
        return hash((StoreKeyed, self.key))

    def _mapped(self, key: bytes) -> bytes:
        ending = next((end for end in _SUB_KEYS if key.endswith(end)), b"")
        return self.key + ending

    def fetch(self, key: bytes) -> Iterable[bytes]:
        nothing: list[bytes] = []
        yield from self._safely(lambda: list(self.database.fetch(self._mapped(key))), nothing)

    def save(self, key: bytes, value: bytes) -> None:
        self._safely(lambda: self.database.save(self._mapped(key), value), None)

    def delete(self, key: bytes, value: bytes) -> None:
        self._safely(lambda: self.database.delete(self._mapped(key), value), None)

    def move(self, src: bytes, dest: bytes, value: bytes) -> None:
        mapped = (self._mapped(src), self._mapped(dest))
        self._safely(lambda: self.database.move(*mapped, value), None)


class _PrimaryOnly(ReadOnlyDatabase):
    """Read-only, and showing only each key's own entries (the shortest failures), not the
    earlier forms Hypothesis keeps under `.secondary` and `.pareto`."""

    def fetch(self, key: bytes) -> Iterable[bytes]:
        if key.endswith(_SUB_KEYS):
            return
        yield from super().fetch(key)


def primary_only(database: ExampleDatabase) -> ExampleDatabase:
    """`database` read-only, its saved failures alone (see `_PrimaryOnly`): for a replay
    that must neither change the database nor spend examples on a failure's longer forms."""
    return _PrimaryOnly(database)


def open_database(spec: str) -> ExampleDatabase:
    """The database `spec` names: a folder (made when missing), `redis://host:port/db`
    (Hypothesis's `RedisExampleDatabase`; needs the `redis` package), or
    `github:owner/repo` (the GitHub-artifact database Hypothesis's CI workflow uploads;
    always read-only). `ro:` before any of them makes it read-only.

    Raises `ValueError` saying what is wrong: an empty value, a path that is not a
    folder, a Redis server that cannot be reached, a missing `redis` package."""
    if spec.startswith(READ_ONLY_PREFIX):
        inner = spec[len(READ_ONLY_PREFIX) :]
        if _is_folder_spec(inner) and inner.strip() and not os.path.isdir(inner):
            raise ValueError(f"{spec!r}: no folder {inner!r} to read (a typo?)")
        return ReadOnlyDatabase(open_database(inner))
    if not spec.strip():
        raise ValueError("an example database needs a folder, redis://... or github:owner/repo")
    if spec.startswith("redis://"):
        return _redis(spec)
    if spec.startswith("github:"):
        found = _GITHUB.fullmatch(spec)
        if found is None:
            raise ValueError(f"{spec!r} is not of the form github:owner/repo")
        return ReadOnlyDatabase(GitHubArtifactDatabase(found["owner"], found["repo"]))
    if os.path.lexists(spec) and not os.path.isdir(spec):
        raise ValueError(f"{spec!r} exists and is not a folder")
    return DirectoryBasedExampleDatabase(spec)


def _is_folder_spec(spec: str) -> bool:
    return not spec.startswith(("redis://", "github:", READ_ONLY_PREFIX))


def open_databases(specs: Sequence[str]) -> ExampleDatabase | None:
    """The database `specs` name together: `None` for none, the one, or all of them
    multiplexed (saved to each, fetched from all)."""
    databases = [open_database(spec) for spec in specs]
    if not databases:
        return None
    return databases[0] if len(databases) == 1 else MultiplexedDatabase(*databases)


def _redis(spec: str) -> ExampleDatabase:
    try:
        import redis
        from hypothesis.extra.redis import RedisExampleDatabase
    except ImportError:
        raise ValueError(
            f"{spec}: a Redis database needs the redis package: "
            "pip install 'plugin-context-ownership[redis]'"
        ) from None
    try:
        client = redis.Redis.from_url(spec)
        client.ping()
    except (ValueError, redis.RedisError) as error:
        raise ValueError(f"{spec}: {error}") from None
    return RedisExampleDatabase(client)
