"""`--store-database redis://...` against a real Redis server: a failure one machine (a CI
job) finds and saves replays at once on another (a laptop) that only reads the database,
another store's run does not delete it, and a server that cannot be reached is a one-line
usage error.

The server is `redis-server`, started on 127.0.0.1 for each test. Where it or the `redis`
client package is missing, the tests say so and skip; with REQUIRE_REDIS=1 (as in .ci/run,
wherever redis-server is installed) they fail instead: they never vanish in CI."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis.database import choices_from_bytes

from refimpl.contract.pytest_plugin import FAILURE_MESSAGE

REQUIRED = "REQUIRE_REDIS"
"""The variable that, set to 1, turns a missing redis-server or client into a failure."""
SERVER = "redis-server"
START_SECONDS = 10.0
"""How long a started server has to answer PING."""
CHECKOUT = Path(__file__).resolve().parents[3]
BROKEN = "broken_variant.deep:make_third"
"""A store that loses the others' contexts at every third removal: a search takes hundreds
of examples to find it (the `ci` profile about 1400, ~10 s), a replay of its saved failure
a few."""
FIXED = "refimpl:ContextStore"
SURVIVAL = FAILURE_MESSAGE.format(spec=BROKEN, property="survival")
REPLAY_EXAMPLES = 3
"""The most examples a replay of the one saved failure may take."""
UNREADABLE = b"\xff"
"""Not a choice sequence Hypothesis can decode: a run that reads it deletes it."""
SECTION = re.compile(r"hypothesis profile 'dev' \(.*\): (?P<examples>\d+) examples in ")
"""The line of the contract item's report section, on the `dev` profile."""


def redis_missing() -> str | None:
    """Why the Redis tests cannot run here, in one line, or None when they can."""
    if shutil.which(SERVER) is None:
        return (
            f"redis: no {SERVER} was found (`apt-get install redis-server` installs it), "
            "so the Redis database tests did not run"
        )
    if importlib.util.find_spec("redis") is None:
        return (
            "redis: the redis package is not installed (`pip install -e '.[dev]'` installs "
            "it), so the Redis database tests did not run"
        )
    return None


def unused_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listened on a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def answers(port: int) -> bool:
    """Whether a Redis server on 127.0.0.1:`port` answers PING now."""
    import redis

    client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.5)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def stop(server: subprocess.Popen[bytes]) -> None:
    """End `server` (the process this module started, and no other): SIGTERM, then SIGKILL
    if it has not exited within 10 s."""
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def start_server(folder: Path) -> tuple[subprocess.Popen[bytes], int]:
    """A `redis-server` answering PING on 127.0.0.1 (only), on a free port, keeping nothing
    on disk but its log, in `folder`; and its port. Fails the test when none starts."""
    folder.mkdir()
    log = folder / "redis.log"
    for _attempt in range(3):  # the free port may be taken before the server binds it
        port = unused_port()
        command = [
            SERVER, "--bind", "127.0.0.1", "--port", str(port), "--save", "",
            "--appendonly", "no", "--dir", str(folder), "--daemonize", "no",
        ]  # fmt: skip
        with log.open("ab") as output:
            server = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_SECONDS
        while server.poll() is None and time.monotonic() < deadline:
            if answers(port):
                return server, port
            time.sleep(0.05)
        stop(server)
    pytest.fail(f"{SERVER} did not answer PING within {START_SECONDS:g} s:\n{log.read_text()}")


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """`redis://127.0.0.1:PORT/0` of a Redis server of this test's own, stopped after it."""
    missing = redis_missing()
    if missing is not None:
        if os.environ.get(REQUIRED) == "1":
            pytest.fail(f"{missing} ({REQUIRED}=1)")
        pytest.skip(missing)
    server, port = start_server(tmp_path / "redis")
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop(server)


def contents(url: str) -> dict[bytes, frozenset[bytes]]:
    """Every key of the Redis database at `url`, with its members (Hypothesis's
    `RedisExampleDatabase` keeps each key's examples as a set)."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        return {key: frozenset(client.sscan_iter(key)) for key in client.scan_iter()}
    finally:
        client.close()


def add(url: str, key: bytes, value: bytes) -> None:
    """Add `value` to the set `key` of the Redis database at `url`."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.sadd(key, value)
    finally:
        client.close()


def run_pytest(machine: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m pytest *args` run in the folder `machine` (made when missing), as a
    separate machine would: no profile chosen by the environment, Hypothesis's own files
    in the test's temporary folder, never in the repository."""
    machine.mkdir(exist_ok=True)
    hidden = {"HYPOTHESIS_PROFILE", "HYPOTHESIS_STORAGE_DIRECTORY", "PYTHONPATH"}
    env = {key: value for key, value in os.environ.items() if key not in hidden}
    env["HYPOTHESIS_STORAGE_DIRECTORY"] = str(machine.parent / "hypothesis")
    # The code under test is this checkout's, the one this process imported, whichever
    # checkout the venv's .pth file names.
    env["PYTHONPATH"] = str(CHECKOUT)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=machine, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def story(lines: list[str]) -> list[str]:
    """The printed steps of a failing contract item after the `replay(` line that sets the
    run up (which may name the properties the search judged; the steps never do)."""
    start = lines.index("Steps:") + 1
    replay = next(i for i in range(start, len(lines)) if "replay(" in lines[i])
    steps: list[str] = []
    for line in lines[replay + 1 :]:
        if not line.startswith("    "):
            break
        steps.append(line.strip())
    return steps


def replay_examples(lines: list[str]) -> int:
    """How many examples the item's report section says a `dev` run took."""
    found = [match for line in lines if (match := SECTION.match(line))]
    assert len(found) == 1, "\n".join(lines)
    return int(found[0]["examples"])


def fill(tmp_path: Path, url: str) -> list[str]:
    """Run the broken store on the `ci` profile against `url` from the folder `ci`, assert
    that it fails with `survival` and saves the failure; return its story."""
    ci = run_pytest(tmp_path / "ci", "--store", BROKEN, "--store-database", url,
                    "--hypothesis-profile", "ci")  # fmt: skip
    assert ci.returncode == 1, ci.stdout + ci.stderr
    lines = ci.stdout.splitlines()
    assert SURVIVAL in lines, ci.stdout
    assert contents(url), "the failure was saved"
    steps = story(lines)
    assert steps, ci.stdout
    return steps


def replay_on_laptop(tmp_path: Path, url: str) -> subprocess.CompletedProcess[str]:
    """Run the broken store on the `dev` profile from the folder `laptop`, reading `url`
    only; assert that it fails with `survival` at once, from the saved failure."""
    laptop = run_pytest(tmp_path / "laptop", "--store", BROKEN, "--store-database",
                        f"ro:{url}", "--hypothesis-profile", "dev", "-rA")  # fmt: skip
    assert laptop.returncode == 1, laptop.stdout + laptop.stderr
    lines = laptop.stdout.splitlines()
    assert SURVIVAL in lines, laptop.stdout
    assert replay_examples(lines) <= REPLAY_EXAMPLES, laptop.stdout
    return laptop


@pytest.mark.slow
def test_a_failure_saved_by_ci_replays_at_once_on_a_laptop_that_only_reads(
    tmp_path: Path, redis_url: str
) -> None:
    found = fill(tmp_path, redis_url)
    # Beside the failure, an entry this Hypothesis cannot read (as one from another version
    # may be): a run that can write deletes it, so a read-only one has something to leave.
    (key,) = contents(redis_url)
    assert choices_from_bytes(UNREADABLE) is None
    add(redis_url, key, UNREADABLE)
    before = contents(redis_url)
    laptop = replay_on_laptop(tmp_path, redis_url)
    assert story(laptop.stdout.splitlines()) == found
    assert contents(redis_url) == before, "a read-only run changes nothing"


@pytest.mark.slow
def test_another_stores_run_leaves_the_saved_failure(tmp_path: Path, redis_url: str) -> None:
    fill(tmp_path, redis_url)
    before = contents(redis_url)
    fixed = run_pytest(tmp_path / "ci", "--store", FIXED, "--store-database", redis_url,
                       "--hypothesis-profile", "dev")  # fmt: skip
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert contents(redis_url) == before
    replay_on_laptop(tmp_path, redis_url)


@pytest.mark.slow
def test_a_redis_server_that_cannot_be_reached_is_one_usage_error_line(tmp_path: Path) -> None:
    # Bound but not listening: connecting is refused, and no other process can take the
    # port while the test runs.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        url = f"redis://127.0.0.1:{taken.getsockname()[1]}/0"
        done = run_pytest(tmp_path / "laptop", "--store", FIXED, "--store-database", url)
    assert done.returncode == 4, done.stdout + done.stderr
    said = done.stderr.strip().splitlines()
    assert len(said) == 1, done.stderr
    assert said[0].startswith(f"ERROR: --store-database: {url}: "), done.stderr
    assert "Traceback" not in done.stdout + done.stderr
