"""Import of a CSV file of contacts: rows per second and peak memory.

Writes a realistic CSV (French headers, ``;`` separated, UTF-8; names, e-mails, mobiles, birth
dates, addresses from the demo generator; 0.5 % of the rows broken on purpose: bad e-mail, bad
postal code, missing name) of ``FULL`` (1,000,000) or ``QUICK`` (50,000) rows, then imports it with
``plugins.contacts.services.importing.import_file`` in a subprocess (as ``coulisses contacts import``
does: streamed, committed per chunk) and records

- ``contacts.import`` ``rows_per_s`` (target 20,000) — rows read and validated per second, the
  good ones inserted;
- ``contacts.import`` ``peak_mb`` (target 500) — the peak memory of the importing subprocess and of
  the processes that check the rows with it (``import_pool``: the forkserver and its pool), summed:
  their proportional set sizes (shared pages counted once) sampled from ``/proc`` every 0.1 s, and
  never below the subprocess's own ``ru_maxrss``.

The import uses ``CONTACTS_IMPORT_PROCESSES`` (default: one process per core);
``COULISSES_CONTACTS_IMPORT_PROCESSES=1 python -m bench --quick contacts_import`` measures the serial path.
"""
from __future__ import annotations

import csv
import json
import random
import subprocess
import sys
from pathlib import Path

from bench.common import Context, record

QUICK = 50_000
FULL = 1_000_000
SCALES_WITH_CONTACTS = True  # ``--contacts N`` sets the number of contacts
HEADERS = ["Civilité", "Nom", "Prénom", "Date de naissance", "Mél", "Téléphone portable", "Adresse",
           "Code postal", "Ville", "Pays"]


def write_csv(path: Path, size: int, seed: int = 7) -> int:
    from plugins.contacts.demo import generate

    rnd = random.Random(seed)
    broken = 0
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter=";")
        writer.writerow(HEADERS)
        for rows, _links in generate(size, seed=seed, batch=20_000):
            for r in rows:
                a = r.get("address") or {}
                if r["kind"] == "structure":
                    last, first, civ = r["structure_name"], "", ""
                else:
                    last, first, civ = r["last_name"], r["first_name"], {"M": "Monsieur", "MME": "Madame"}[r["civility"]]
                birth = r.get("birth_date")
                mobile = r.get("mobile_phone") or ""
                line = [civ, last, first, birth.strftime("%d.%m.%Y") if birth else "", r.get("email") or "",
                        ("0" + mobile[3:4] + " " + " ".join(mobile[i:i + 2] for i in range(4, 12, 2))) if mobile else "",
                        a.get("line1", ""), a.get("postal_code", ""), a.get("city", ""),
                        "FRANCE" if a else ""]
                if rnd.random() < 0.005:
                    broken += 1
                    which = rnd.randrange(3)
                    if which == 0:
                        line[4] = "pas-une-adresse@"
                    elif which == 1:
                        line[7] = "7501"[:rnd.randint(2, 3)]
                    else:
                        line[1] = ""
                writer.writerow(line)
    return broken


def worker(url: str, path: str) -> None:
    """Run in a subprocess: import ``path`` into ``url``; print a JSON line with the figures."""
    import resource
    import time

    from sqlalchemy.orm import Session

    from coulisses import db as cdb
    from plugins.contacts.services.importing import import_file

    engine = cdb.make_engine(url)
    sampler = TreeMemory()
    sampler.start()
    started = time.perf_counter()
    with Session(engine) as session:
        report = import_file(session, path, commit=True, chunk=5000)
        session.commit()
    seconds = time.perf_counter() - started
    sampler.stop()
    peak_kb = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, sampler.peak_kb)
    print(json.dumps({"total": report.total, "imported": report.imported, "rejected": report.rejected,
                      "seconds": seconds, "peak_mb": peak_kb / 1024, "processes": sampler.most}))


class TreeMemory:
    """The peak of the summed resident memory of this process and its descendants (Linux ``/proc``)."""

    def __init__(self, every: float = 0.1):
        import os
        import threading

        self.every, self.peak_kb, self.most = every, 0, 1
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._root = os.getpid()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            pids = self._tree()
            total = sum(self._rss_kb(pid) for pid in pids)
            self.peak_kb, self.most = max(self.peak_kb, total), max(self.most, len(pids))

    def _tree(self) -> list[int]:
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
                children.setdefault(ppid, []).append(int(entry.name))
        found, todo = [], [self._root]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo += children.get(pid, [])
        return found

    @staticmethod
    def _rss_kb(pid: int) -> int:
        """The process's proportional set size (its shared pages counted once across the tree), else
        its resident set size."""
        for name, field in ((f"/proc/{pid}/smaps_rollup", "Pss:"), (f"/proc/{pid}/status", "VmRSS:")):
            try:
                for line in Path(name).read_text().splitlines():
                    if line.startswith(field):
                        return int(line.split()[1])
            except OSError:
                continue
        return 0


def run(ctx: Context) -> list[dict]:
    from coulisses.testing import create_schema

    size = ctx.size(QUICK, FULL)
    path = ctx.workdir / f"contacts-{size}.csv"
    if not path.exists():
        broken = write_csv(path, size)
        print(f"   wrote {path.name} ({path.stat().st_size / 1e6:.0f} MB, {broken} broken rows)", flush=True)
    create_schema(ctx.url, ["contacts"])
    out = subprocess.run([sys.executable, "-m", "bench.contacts_import", ctx.url, str(path)],
                         capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"   {figures}", flush=True)
    rows_per_s = figures["total"] / figures["seconds"]
    extra = {"imported": figures["imported"], "rejected": figures["rejected"], "seconds": round(figures["seconds"], 1),
             "processes": figures.get("processes", 1)}
    return [record("contacts.import", ctx.database, size, "rows_per_s", rows_per_s, 20_000, **extra),
            record("contacts.import", ctx.database, size, "peak_mb", figures["peak_mb"], 500, **extra)]


if __name__ == "__main__":
    worker(sys.argv[1], sys.argv[2])
