"""Lesson 7: asyncio keeps only weak references to tasks."""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import weakref
from collections.abc import Callable, Coroutine
from typing import Any

from reports.lessons._lesson import Lesson, Outcome

Spawn = Callable[[Coroutine[Any, Any, None]], None]


def fire_and_forget(coroutine: Coroutine[Any, Any, None]) -> None:
    """Start a task and keep no reference to it (the pitfall)."""
    asyncio.get_running_loop().create_task(coroutine)


_background: set[asyncio.Task[None]] = set()


def keep_until_done(coroutine: Coroutine[Any, Any, None]) -> None:
    """Start a task and hold it in a set until it is done (the fix the asyncio docs give)."""
    task = asyncio.get_running_loop().create_task(coroutine)
    _background.add(task)
    task.add_done_callback(_background.discard)


async def _scenario(spawn: Spawn) -> list[str]:
    """A worker awaits a reply that a weakly-held mailbox will deliver; collect in between."""
    loop = asyncio.get_running_loop()
    mailbox: weakref.WeakValueDictionary[str, asyncio.Future[str]] = weakref.WeakValueDictionary()
    finished: list[str] = []

    async def worker() -> None:
        reply = loop.create_future()
        mailbox["reply"] = reply  # only the worker holds it strongly
        finished.append(await reply)

    spawn(worker())
    await asyncio.sleep(0)  # the worker starts and waits
    gc.collect()  # a collection happens at some point: here, deterministically
    if (reply := mailbox.get("reply")) is not None:
        reply.set_result("done")
        await asyncio.sleep(0)
    return finished


def run(spawn: Spawn) -> list[str]:
    """Run the scenario on a fresh loop, with asyncio's 'destroyed but pending' log muted;
    in a thread of its own when this thread already runs a loop (a notebook's kernel)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # none running here: the usual case
        return _on_a_fresh_loop(spawn)
    with concurrent.futures.ThreadPoolExecutor(1) as thread:
        return thread.submit(_on_a_fresh_loop, spawn).result()


def _on_a_fresh_loop(spawn: Spawn) -> list[str]:
    loop = asyncio.new_event_loop()
    loop.set_exception_handler(lambda loop, context: None)
    try:
        return loop.run_until_complete(_scenario(spawn))
    finally:
        loop.close()


def broken() -> Outcome:
    finished = run(fire_and_forget)
    return Outcome(
        not finished,
        "the task finished its work"
        if finished
        else "the task was collected while it waited: its work never happened, silently",
    )


def fixed() -> Outcome:
    finished = run(keep_until_done)
    return Outcome(not finished, f"the task finished: {bool(finished)}")


LESSON = Lesson(
    name="asyncio-tasks",
    title="A standard-library case: asyncio holds tasks weakly",
    pitfall=(
        "The event loop keeps only weak references to tasks. A task that nobody else "
        "references, waiting on something only it references, is garbage: the collector "
        "destroys it mid-wait and its work never happens. Keep tasks in a set until done."
    ),
    run_broken=broken,
    run_fixed=fixed,
    broken_code=(fire_and_forget,),
    fixed_code=(keep_until_done,),
    python="asyncio.create_task(work())   # 'Save a reference to the result of this function'",
)
