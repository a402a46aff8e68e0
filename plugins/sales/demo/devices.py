"""The demo-only devices: ``demo_clock`` (the services' ``utcnow`` answers a settable clock) and
``seeded_barcodes`` (barcode bases from a seeded generator; see the package docstring)."""
from __future__ import annotations

import random
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Iterator

from coulisses import db as cdb


@dataclass
class DemoClock:
    """The moment the services believe it is (``None``: the time of the clock the demo was loaded under,
    so a test that sets "today" loads a demo of that day; else the real time)."""

    now: datetime | None = None
    outer: Callable[[], datetime] | None = None

    def __call__(self) -> datetime:
        if self.now is not None:
            return self.now
        return self.outer() if self.outer is not None else datetime.now(timezone.utc)


@contextmanager
def demo_clock() -> Iterator[DemoClock]:
    """``utcnow`` answers a settable clock while the demo makes its (past) orders."""
    with cdb.clock(DemoClock(outer=cdb.current_clock())) as demo:
        yield demo


class _SeededRandom:
    """What ``barcodes`` needs of ``secrets``, from a seeded generator; ``force`` queues bases."""

    def __init__(self, seed: int) -> None:
        self.rnd = random.Random(seed)
        self.forced: list[int] = []

    def randbelow(self, n: int) -> int:
        return self.forced.pop(0) if self.forced else self.rnd.randrange(n)


@contextmanager
def seeded_barcodes(seed: int) -> Iterator[_SeededRandom]:
    from plugins.sales.services import barcodes

    with barcodes.random_source(_SeededRandom(seed)) as source:
        yield source
