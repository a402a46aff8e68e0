"""Run the benchmarks: ``python -m bench --quick`` (minutes) or ``--full`` (full size, committed).

    python -m bench --quick                      # every benchmark, small sizes, both databases
    python -m bench --full contacts_search       # one benchmark at full size
    python -m bench --quick --database sqlite    # one database only
    python -m bench --full --contacts 10000000 contacts_search   # one point of the scale curve
                                                 # (bench/results/contacts_search-scale.json)
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import tempfile
from pathlib import Path

from bench.common import Context, database, write_results

HERE = Path(__file__).resolve().parent


def available() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules([str(HERE)]) if m.name not in ("common", "__main__"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    size = parser.add_mutually_exclusive_group(required=True)
    size.add_argument("--quick", action="store_true")
    size.add_argument("--full", action="store_true")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], action="append")
    parser.add_argument("--contacts", type=_positive, metavar="N",
                        help="the number of contacts the contacts benchmarks generate (the scale curve: 100000, "
                             "1000000, 10000000); results go to <name>-scale.json, one set per database and size")
    parser.add_argument("names", nargs="*", help=f"benchmarks (default: all of {available()})")
    args = parser.parse_args(argv)
    names = args.names or available()
    databases = args.database or ["sqlite", "postgresql"]
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        if args.contacts and not getattr(module, "SCALES_WITH_CONTACTS", False):
            print(f"== {name}: skipped (--contacts is for the benchmarks that generate contacts)", flush=True)
            continue
        records = []
        with tempfile.TemporaryDirectory(prefix="coulisses-bench-") as tmp:
            for kind in databases:
                with database(kind, Path(tmp)) as url:
                    size = f"{args.contacts} contacts" if args.contacts else "quick" if args.quick else "full"
                    print(f"== {name} on {kind} ({size})", flush=True)
                    records += module.run(Context(kind, url, args.quick, Path(tmp), args.contacts))
        for rec in records:
            target = rec.get("target")
            verdict = "" if target is None else (" OK" if _meets(rec) else " MISSES TARGET")
            print(f"   {rec['benchmark']:28} {rec['database']:10} {rec['metric']:12} {rec['value']:>12}"
                  f" (target {target}){verdict}")
        print(f"   → {write_results(name, records, args.quick, scale=bool(args.contacts))}")
    return 0


def _positive(value: str) -> int:
    number = int(value.replace("_", "").replace(",", ""))
    if number < 100:
        raise argparse.ArgumentTypeError("at least 100")
    return number


def _meets(rec) -> bool:
    higher_is_better = rec["metric"] in ("rows_per_s", "orders_per_s")
    return rec["value"] >= rec["target"] if higher_is_better else rec["value"] <= rec["target"]


if __name__ == "__main__":
    sys.exit(main())
