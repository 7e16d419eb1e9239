"""When a name can be looked up with a ``property=`` filter, and when only a wider query is safe.

Flow Service reads a comma in a filter value as OR (help/dataflows/api/sort-and-filter.md:
``property=id==736873,9485095``), so ``property=name==a,b`` finds the objects named ``a`` or ``b``
and never the one named ``a,b``; a value wrapped in quotes loses them (``name=="CRMToAEP"``). No
escape is documented. The same characters are not documented as safe in Catalog and Schema
Registry filters either.

The choice of this provider: a name holding a comma or wrapped in quotes is looked up with a wider
query (the same list without the name filter, every page) and compared exactly on this side. It
costs more pages for such names only; it never misses the resource, so create-or-reuse never makes
a second one. Every look-up compares names exactly, whatever the query.
"""

from __future__ import annotations

_QUOTES = "\"'"


def filter_safe(value: str) -> bool:
    """True when ``property=<field>==<value>`` matches exactly the objects whose field is ``value``."""
    if not value or "," in value:
        return False
    return not (value[0] in _QUOTES or value[-1] in _QUOTES)


def catalog_name_value(name: str) -> str:
    """``name`` as a Catalog ``property=name==`` value that matches it literally: help/catalog/api/filter-data.md,
    "The `name` property supports the use of a wildcard `*` ... Asterisks are escaped by doubling them (`**`)".
    Without the escape ``a*b`` would also find ``axyb`` (the exact compare after the look-up drops such names,
    but a page limit could hide the one wanted)."""
    return name.replace("*", "**")
