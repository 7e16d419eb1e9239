"""Values from the sandbox or a spec, made safe to print: one line, no terminal escapes, no extra column.

Names, ids, statuses and mapping rules read back from the Platform are written by whoever can edit the
sandbox; printed as they are, a newline and an ANSI escape can forge a line of a task log ("Plan: 0 to
create ...") or hide one, and a ``|`` can add a column to a table. Every such value goes through
:func:`printable` (or :func:`cell` inside a ``|`` table) where it is printed - the plan table, the run
summary, the DAG docs - while the data itself stays as it was read.

Escaped: control characters (C0, DEL, C1: newline, carriage return, tab, ESC...), format characters (bidi
overrides and isolates, zero-width characters: they reorder or hide text) and the line and paragraph
separators, each as Python writes it in a string literal (``\\n``, ``\\x1b``, ``\\u202e``).
"""

from __future__ import annotations

import unicodedata

#: Unicode categories escaped: control, format, line separator, paragraph separator, surrogate.
ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(value: object) -> str:
    """``str(value)`` with every control, format and separator character escaped: one line, no escape codes."""
    text = "" if value is None else str(value)
    if text.isprintable():  # the common case: nothing to escape (isprintable is False for all of the above)
        return text
    return "".join(_escape(c) if unicodedata.category(c) in ESCAPED_CATEGORIES else c for c in text)


def cell(value: object) -> str:
    """:func:`printable`, with ``|`` escaped as ``\\|``: the value stays in its own cell of a ``|`` table."""
    return printable(value).replace("|", "\\|")
