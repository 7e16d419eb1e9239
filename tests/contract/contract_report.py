"""Lines the contract tests want printed in the session summary (see ``pytest_terminal_summary``)."""

from __future__ import annotations

COVERAGE: list[str] = []
