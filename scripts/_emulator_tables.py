"""``aep-emulator`` with extra HubSpot tables, so one spec can onboard more than seven objects.

    python scripts/_emulator_tables.py --synthetic-tables 19 serve --host 127.0.0.1 --port 8765

The emulator simulates seven HubSpot tables and a spec onboards each table at most once.
For measurements only, in this process only: adds ``Hubspot.Contacts_<NNN>`` tables (the
Contacts columns, 100 rows each) before handing over to the emulator's own CLI.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys


def synthetic_table_names(count: int) -> list[str]:
    return [f"Hubspot.Contacts_{i:03d}" for i in range(7, 7 + count)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--synthetic-tables", type=int, default=0)
    ours, rest = parser.parse_known_args(argv)
    from aep_emulator import hubspot
    from aep_emulator.cli import main as emulator_main

    base = hubspot.TABLES["Hubspot.Contacts"]
    for name in synthetic_table_names(ours.synthetic_tables):
        hubspot.TABLES[name] = dataclasses.replace(base, name=name, rows=100)
    return int(emulator_main(rest))


if __name__ == "__main__":
    sys.exit(main())
