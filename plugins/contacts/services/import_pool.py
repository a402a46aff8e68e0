"""Checking the rows of an import, on every core when the file is large (``services.importing``).

    plan = RowPlan.of(headers, resolved_mapping, validator)
    for line, raw, outcome in checked(plan, rows, processes=2):
        ...   # outcome: a rejection reason (str), or (row, duplicate key) of a good row

- ``check_rows`` is the whole per-row work that needs no database: the line's own checks (a line that
  could not be read, a repeated header, unreadable characters, too many columns), the cleaning
  (``RowValidator.clean``), the search columns and the duplicates detection's key. The serial path and
  the parallel path run this same function, so a file gives the same report either way.
- ``checked`` yields the rows in the file's order with their outcome. Small files (fewer than
  ``PARALLEL_MIN_ROWS`` rows), ``processes=1`` and processes that may not start children (a daemonic
  process) are checked here, in this process. Otherwise chunks of ``CHECK_CHUNK`` rows go to a pool of
  ``processes`` processes, at most ``2 × processes`` chunks in flight (the memory stays bounded however
  large the file), and the results are taken back in order.
- The pool's processes are started with ``forkserver`` (``spawn`` where there is none), never by
  forking this process: they inherit no database connection, no thread, no lock of a web worker or a
  ``coulisses worker``. They get plain data (the plan, the rows) and send plain data back; they never
  open a database connection.
- A pool that breaks (a process killed) is not an error of the file: the chunks it did not answer, and
  the rest of the file, are checked here.

``CONTACTS_IMPORT_PROCESSES`` (configuration; ``COULISSES_CONTACTS_IMPORT_PROCESSES``): how many
processes check the rows of a large file; ``0`` (the default) one per core, ``1`` never more than the
importing process itself.
"""
from __future__ import annotations

import itertools
import multiprocessing
import os
import re
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

from coulisses.i18n import _, current_locale, use_locale

from plugins.contacts.services.import_reading import BadLine
from plugins.contacts.services.normalize import normalize

PARALLEL_MIN_ROWS = 20_000  # below, starting processes costs more than it saves
CHECK_CHUNK = 2000  # rows sent to a process at a time
_UNREADABLE = re.compile("[\udc80-\udcff]")  # bytes a lenient decoding could not read


@dataclass(frozen=True)
class RowPlan:
    """What a row is checked against, as plain data a process can receive."""
    headers: tuple[str, ...]
    columns: tuple[tuple[int, str], ...]  # (index in the line, field)
    header_key: tuple[str, ...] | None  # the normalised headers (a repeated header line is refused)
    default_country: str | None
    types: tuple[dict, dict]  # RowValidator.type_table()
    locale: str
    token: str = field(default_factory=lambda: uuid.uuid4().hex)

    @classmethod
    def of(cls, headers: list[str], resolved: dict[str, str], validator) -> "RowPlan":
        return cls(tuple(headers), tuple((i, f) for i, f in enumerate(resolved[h] for h in headers) if f),
                   tuple(normalize(h) for h in headers) if any(headers) else None, validator.default_country,
                   validator.type_table(), current_locale())

    def validator(self):
        from plugins.contacts.services.import_cleaning import RowValidator

        validator = RowValidator(types=self.types)
        validator.default_country = self.default_country
        return validator


def check_rows(plan: RowPlan, validator, rows: list[tuple[int, list[str]]]) -> list[Any]:
    """The outcome of each row: a rejection reason (``str``) or ``(row, duplicate key)``."""
    from plugins.contacts.services.bulk import search_values
    from plugins.contacts.services.duplicates import duplicate_key

    headers, columns, header_key = plan.headers, plan.columns, plan.header_key
    count = len(headers)
    out: list[Any] = []
    for _line, raw in rows:
        values = {}
        for i, fld in columns:
            value = raw[i].strip() if i < len(raw) else ""
            if value:
                values[fld] = value
        try:
            if isinstance(raw, BadLine):
                raise ValueError(raw.reason)
            if header_key and len(raw) >= count and normalize(raw[0]) == header_key[0] \
                    and tuple(normalize(x) for x in raw[:count]) == header_key:
                raise ValueError(_("en-tête répété : cette ligne reprend la ligne d'en-tête"))
            if _UNREADABLE.search("".join(values.values())):
                raise ValueError(_("caractères illisibles : le fichier n'est pas dans l'encodage indiqué"))
            if len(raw) > count and any(x.strip() for x in raw[count:]):
                raise ValueError(_("%(columns)s colonnes pour %(headers)s en-têtes", columns=len(raw), headers=count))
            row = validator.clean(values)
        except ValueError as exc:
            out.append(str(exc))
            continue
        sv = search_values(row["kind"], row.get("last_name", ""), row.get("first_name", ""),
                           row.get("structure_name", ""), row.get("email"))
        row["search"] = sv
        address = row.get("address") or {}
        out.append((row, duplicate_key("public", sv["phonetic_name"], sv["search_first"], address.get("line1"),
                                       address.get("postal_code"), address.get("country"), sv["search_email"])))
    return out


_VALIDATORS: dict[str, Any] = {}  # in a pool's process: plan token → its validator (memoises across chunks)


def _check_chunk(plan: RowPlan, rows: list[tuple[int, list[str]]]) -> list[Any]:
    """Run in a pool's process (or here, when the pool broke)."""
    validator = _VALIDATORS.get(plan.token)
    if validator is None:
        _VALIDATORS.clear()
        validator = _VALIDATORS[plan.token] = plan.validator()
    with use_locale(plan.locale):
        return check_rows(plan, validator, rows)


def refuse_while_bootstrapping() -> None:
    """A pool's process imports the main module of the process that started it: a script that imports
    a file at its top level, without ``if __name__ == "__main__":``, would import it again in every
    process of the pool. Refused, as ``multiprocessing`` refuses to start processes then."""
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        raise RuntimeError("contacts import started while a pool process imports its parent's main module: "
                           "guard the script's code with `if __name__ == \"__main__\":`")


def processes_wanted(config: dict | None = None) -> int:
    """``CONTACTS_IMPORT_PROCESSES`` (0: one per core)."""
    try:
        wanted = int((config or {}).get("CONTACTS_IMPORT_PROCESSES") or 0)
    except (TypeError, ValueError):
        wanted = 0
    return wanted if wanted > 0 else (os.cpu_count() or 1)


def _chunks(rows: Iterable[tuple[int, list[str]]], size: int) -> Iterator[list[tuple[int, list[str]]]]:
    source = iter(rows)
    while True:
        chunk = list(itertools.islice(source, size))
        if not chunk:
            return
        yield chunk


def _start_pool(processes: int):
    """A pool of fresh processes (not forks of this one), or None where none may be started."""
    from concurrent.futures import ProcessPoolExecutor

    if multiprocessing.current_process().daemon:
        return None  # a daemonic process may not have children
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    try:
        return ProcessPoolExecutor(max_workers=processes, mp_context=context)
    except (OSError, ValueError, NotImplementedError, AssertionError):
        return None


class Helpers:
    """The pool of an import (none until ``start``): ``submit(fn, *args)`` runs ``fn`` in one of its
    processes, or here when there is no pool or it broke; ``result()`` of what it returns is ``fn``'s
    result either way."""

    def __init__(self, processes: int):
        self.processes = processes
        self.executor = None

    def start(self) -> bool:
        if self.executor is None and self.processes > 1:
            self.executor = _start_pool(self.processes)
        return self.executor is not None

    def submit(self, fn, *args) -> "_Task":
        future = None
        if self.executor is not None:
            try:
                future = self.executor.submit(fn, *args)
            except RuntimeError:  # a broken pool (BrokenProcessPool is one), or one shut down
                self.executor = None
        return _Task(self, fn, args, future)

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
            self.executor = None


class _Task:
    def __init__(self, helpers: Helpers, fn, args, future):
        self.helpers, self.fn, self.args, self.future = helpers, fn, args, future

    def result(self):
        if self.future is not None:
            from concurrent.futures.process import BrokenProcessPool

            try:
                return self.future.result()
            except BrokenProcessPool:  # a process was killed: not the file's fault, done here
                self.helpers.executor = None
        return self.fn(*self.args)


def checked(plan: RowPlan, rows: Iterable[tuple[int, list[str]]], helpers: Helpers, *,
            min_rows: int = PARALLEL_MIN_ROWS, size: int | None = None,
            validator=None) -> Iterator[tuple[int, list[str], Any]]:
    """``(line, values, outcome)`` of each row, in the file's order (see the module docstring).
    Starts ``helpers``' pool when the file has at least ``min_rows`` rows; the caller closes it."""
    chunks = _chunks(rows, size or CHECK_CHUNK)
    head: list[list[tuple[int, list[str]]]] = []
    read = 0
    if helpers.processes > 1:
        for chunk in chunks:  # read ahead: is the file large enough to pay for the processes?
            head.append(chunk)
            read += len(chunk)
            if read >= min_rows:
                break
    source = itertools.chain(head, chunks)
    local = validator

    def here(chunk):
        nonlocal local
        if local is None:
            local = plan.validator()
        return check_rows(plan, local, chunk)

    if read < min_rows or not helpers.start():
        for chunk in source:
            yield from ((line, raw, outcome) for (line, raw), outcome in zip(chunk, here(chunk)))
        return
    pending: deque = deque()
    while True:
        while len(pending) < 2 * helpers.processes:
            chunk = next(source, None)
            if chunk is None:
                break
            pending.append((chunk, helpers.submit(_check_chunk, plan, chunk)))
        if not pending:
            return
        chunk, task = pending.popleft()
        outcomes = task.result()
        yield from ((line, raw, outcome) for (line, raw), outcome in zip(chunk, outcomes))
