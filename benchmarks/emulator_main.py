"""``aep-emulator serve`` with extra synthetic HubSpot tables, for onboarding more than seven objects.

    python -m benchmarks.emulator_main serve --port N --latency-ms MS --synthetic-tables 60

The emulator simulates seven HubSpot tables and (like AEP) rejects a source
connection whose ``params.path`` is not one of them, while an onboarding spec
may onboard each table only once: so a 50-object benchmark needs 50 tables.
Benchmark-only, in this process only: before starting the emulator's own CLI,
this adds ``Hubspot.Contacts_<i>`` tables (the Contacts columns, 100 rows each)
to ``aep_emulator.hubspot.TABLES``. Nothing else of the emulator changes.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys


def add_synthetic_tables(count: int, first_index: int = 7, rows: int = 100) -> list[str]:
    from aep_emulator import hubspot

    base = hubspot.TABLES["Hubspot.Contacts"]
    names = [f"Hubspot.Contacts_{i:03d}" for i in range(first_index, first_index + count)]
    for name in names:
        hubspot.TABLES[name] = dataclasses.replace(base, name=name, rows=rows)
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--synthetic-tables", type=int, default=0)
    ours, rest = parser.parse_known_args(argv)
    add_synthetic_tables(ours.synthetic_tables)
    from aep_emulator.cli import main as emulator_main

    return int(emulator_main(rest))


if __name__ == "__main__":
    sys.exit(main())
