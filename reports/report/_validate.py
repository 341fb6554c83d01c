"""bench.json and native.json checked by hand before the report shows them: each field
the report reads is there and of its type, or `ValueError` says which is not."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["bench_from_json", "cell_fields", "native_from_json", "texts"]


def _present(data: Mapping[str, Any], key: str, *kinds: type) -> Any:
    """`data[key]`, which must be there (null included when `kinds` has `type(None)`) and of
    one of `kinds` (an int counts as a float, a bool as neither); `ValueError` otherwise."""
    if key not in data:
        raise ValueError(f"{key} is missing")
    value = data[key]
    if type(value) in kinds or (float in kinds and type(value) is int):
        return value
    said = " or ".join("null" if kind is type(None) else kind.__name__ for kind in kinds)
    raise ValueError(f"{key} is a {type(value).__name__}, not a {said}")


def texts(data: Mapping[str, Any], key: str, *, required: bool = True) -> list[str]:
    """`data[key]`, a list of texts (absent or null: empty, when not `required`)."""
    if not required and data.get(key) is None:
        return []
    value = _present(data, key, list)
    if not all(isinstance(item, str) for item in value):
        raise ValueError(f"{key} is not all text")
    return list(value)


def _objects(data: Mapping[str, Any], key: str, what: str) -> list[Mapping[str, Any]]:
    """`data[key]`, a list of JSON objects; `ValueError` naming the first that is not."""
    rows = _present(data, key, list)
    for number, row in enumerate(rows):
        if not isinstance(row, dict):
            raise ValueError(f"{what} {number} is not an object")
    return list(rows)


def bench_from_json(data: Mapping[str, Any]) -> dict[str, Any]:
    """`data` (bench.json, as `reports.bench` writes it) when it has every field the report
    shows: `date`, `machine.cpu` and `machine.python`, each operation's `operation`,
    `implementation`, `median_ns` and `ratio_to_floor`, each target's `target`, `value`
    (null: not measured), `limit` and `met`. Raises `ValueError` saying what is wrong."""
    _present(data, "date", str)
    machine = _present(data, "machine", dict)
    try:
        _present(machine, "cpu", str)
        _present(machine, "python", str)
    except ValueError as error:
        raise ValueError(f"machine: {error}") from None
    for key, what, fields in (
        ("operations", "operation", (("operation", (str,)), ("implementation", (str,)),
                                     ("median_ns", (float,)), ("ratio_to_floor", (float,)))),
        ("targets", "target", (("target", (str,)), ("value", (float, type(None))),
                               ("limit", (float,)), ("met", (bool,)))),
    ):  # fmt: skip
        for number, row in enumerate(_objects(data, key, what)):
            try:
                for name, kinds in fields:
                    _present(row, name, *kinds)
            except ValueError as error:
                raise ValueError(f"{what} {number}: {error}") from None
    return dict(data)


def native_from_json(data: Mapping[str, Any]) -> dict[str, Any]:
    """`data` (native.json, as `reports.native` writes it) when it has every field the
    report shows: `frames`, and each cell's `host`, `mm`, `checker`, `exit_status`,
    `signal`, `frame_line` and `report` (null, or its `kind`, `access` and `freed`), with
    `compiler`, `abort` (its `message` and `kind`), `defect` and `not_run` when there.
    Raises `ValueError` saying what is wrong."""
    _present(data, "frames", int)
    for number, cell in enumerate(_objects(data, "cells", "cell")):
        try:
            cell_fields(cell)
        except ValueError as error:
            raise ValueError(f"cell {number}: {error}") from None
    return dict(data)


def cell_fields(cell: Mapping[str, Any]) -> None:
    """Check one native.json cell (see `native_from_json`)."""
    for name in ("host", "mm", "checker"):
        _present(cell, name, str)
    _present(cell, "exit_status", int, type(None))
    for name in ("signal", "frame_line"):
        _present(cell, name, str, type(None))
    for name in ("compiler", "defect", "not_run"):
        if cell.get(name) is not None:
            _present(cell, name, str)
    report = _present(cell, "report", dict, type(None))
    abort = cell.get("abort")
    try:
        if report is not None:
            _present(report, "kind", str)
            texts(report, "access")
            texts(report, "freed")
            texts(report, "allocated", required=False)
    except ValueError as error:
        raise ValueError(f"report: {error}") from None
    try:
        if abort is not None:
            _present(cell, "abort", dict)
            _present(abort, "message", str)
            _present(abort, "kind", str)
            texts(abort, "where", required=False)
    except ValueError as error:
        raise ValueError(f"abort: {error}") from None
