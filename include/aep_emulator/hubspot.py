"""Simulated HubSpot source: tables, typed columns and deterministic rows.

Rows are generated from ``(seed, table)`` with ``random.Random`` so a seed always gives
the same data. The Contacts columns Adobe documents (the seed tutorial's mapping and
help/sources/tutorials/api/explore: ``Vid``, ``Portal_Id``, ``Added_At``,
``Properties_Firstname_Value``, ``Properties_Lastname_Value``) are kept; every other column,
and every table but Contacts, is OURS. Every table has ``Added_At`` (documented) and
``Updated_At`` (ours, in no Adobe page), both ISO-8601 UTC date-times: ``Updated_At`` values
are distinct within a table and spread over the year before the data end date,
``Added_At`` lies up to 90 days before ``Updated_At``. Neither is a default delta column: a
flow names its own. A few values are deliberately dirty (e.g. ``Properties_Birthyear_Value``
is ``"unknown"`` for about one contact in ten) so type errors can be exercised.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

DATE_TIME = "date-time"

FIRST = ["Ana", "Luis", "Marta", "John", "Emma", "Noah", "Olivia", "Liam", "Sofia", "Mateo", "Chloe", "Ravi",
         "Aiko", "Kenji", "Fatima", "Omar", "Ingrid", "Lars", "Zoe", "Pablo", "Grace", "Hugo", "Mia", "Ivan"]
LAST = ["Garcia", "Smith", "Nguyen", "Muller", "Rossi", "Kim", "Okafor", "Silva", "Dubois", "Tanaka", "Novak",
        "Jensen", "Lopez", "Brown", "Khan", "Schmidt", "Moreau", "Ivanova", "Costa", "Walsh"]
CITIES = [("Madrid", "MD", "28001", "Spain"), ("Austin", "TX", "73301", "United States"),
          ("Boston", "MA", "02108", "United States"), ("Lyon", "ARA", "69001", "France"),
          ("Berlin", "BE", "10115", "Germany"), ("Toronto", "ON", "M5H", "Canada"),
          ("Osaka", "27", "530-0001", "Japan"), ("Dublin", "D", "D01", "Ireland")]
INDUSTRIES = ["Software", "Retail", "Healthcare", "Finance", "Manufacturing", "Education", "Media"]
STAGES = ["appointmentscheduled", "qualifiedtobuy", "presentationscheduled", "contractsent", "closedwon",
          "closedlost"]
LIFECYCLE = ["subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer"]
PORTAL_ID = 6212345


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # "string", "long", "double", "boolean" or DATE_TIME

    def describe(self) -> dict[str, Any]:
        if self.type == DATE_TIME:
            return {"name": self.name, "type": "string", "meta:xdmType": "date-time",
                    "xdm": {"type": "string", "format": "date-time"}}
        xdm_type = {"long": "integer", "double": "number", "boolean": "boolean"}.get(self.type, "string")
        return {"name": self.name, "type": self.type, "xdm": {"type": xdm_type}}


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    rows: int
    make: Callable[[random.Random, int], dict[str, Any]]  # the values of row ``i`` but its id and portal
    first_id: int  # row ``i``'s id (the first column) is ``first_id + i``; every row has ``Portal_Id``


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: Any) -> float | None:
    """Epoch seconds of an ISO-8601 date-time (``Z`` or offset) or an epoch number."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed.timestamp()


def _place(r: random.Random) -> dict[str, str]:
    city, state, zip_code, country = r.choice(CITIES)
    return {"Properties_City_Value": city, "Properties_State_Value": state, "Properties_Zip_Value": zip_code,
            "Properties_Country_Value": country}


def _contact(r: random.Random, i: int) -> dict[str, Any]:
    first, last = r.choice(FIRST), r.choice(LAST)
    place = _place(r)
    email = f"{first.lower()}.{last.lower()}{i}@example.com"
    birth_year = "unknown" if r.random() < 0.1 else str(r.randint(1950, 2005))
    return {
        "Properties_Firstname_Value": first,
        "Properties_Lastname_Value": last,
        "Properties_Email_Value": email,
        "Properties_Phone_Value": f"+1-555-{r.randint(1000000, 9999999)}",
        "Properties_Mobilephone_Value": f"+34-6{r.randint(10000000, 99999999)}",
        "Properties_Address_Value": f"{r.randint(1, 999)} {r.choice(LAST)} Street",
        **place,
        "Properties_Company_Value": f"{r.choice(LAST)} {r.choice(['Inc', 'GmbH', 'SL', 'Ltd'])}",
        "Properties_Jobtitle_Value": r.choice(["Engineer", "Manager", "Director", "Analyst", "VP Sales"]),
        "Properties_Lifecyclestage_Value": r.choice(LIFECYCLE),
        "Properties_Birthyear_Value": birth_year,
        "Properties_Hs_Email_Optout_Value": r.random() < 0.2,
    }


def _company(r: random.Random, i: int) -> dict[str, Any]:
    place = _place(r)
    name = f"{r.choice(LAST)} {r.choice(['Labs', 'Systems', 'Foods', 'Health', 'Capital'])} {i}"
    employees = "n/a" if r.random() < 0.05 else str(r.randint(5, 20000))
    return {
        "Properties_Name_Value": name,
        "Properties_Domain_Value": name.lower().replace(" ", "") + ".example.com",
        "Properties_Industry_Value": r.choice(INDUSTRIES),
        "Properties_Numberofemployees_Value": employees,
        "Properties_Annualrevenue_Value": round(r.uniform(1e5, 5e8), 2),
        "Properties_Phone_Value": f"+1-555-{r.randint(1000000, 9999999)}",
        **place,
    }


def _deal(r: random.Random, i: int) -> dict[str, Any]:
    stage = r.choice(STAGES)
    return {
        "Properties_Dealname_Value": f"Deal {i} - {r.choice(INDUSTRIES)}",
        "Properties_Amount_Value": str(r.randint(1, 500) * 100),
        "Properties_Dealstage_Value": stage,
        "Properties_Pipeline_Value": "default",
        "Properties_Closedate_Value": None,  # filled from the timestamps below
        "Properties_Hs_Is_Closed_Value": stage.startswith("closed"),
        "Associated_Company_Id": 500000 + r.randint(0, 399),
        "Associated_Vid": 100000 + r.randint(0, 2999),
    }


def _ticket(r: random.Random, i: int) -> dict[str, Any]:
    return {
        "Properties_Subject_Value": f"Ticket {i}: {r.choice(['Login', 'Billing', 'Bug', 'Feature'])} issue",
        "Properties_Content_Value": "Customer reported a problem.",
        "Properties_Hs_Pipeline_Stage_Value": r.choice(["new", "waiting", "closed"]),
        "Properties_Hs_Ticket_Priority_Value": r.choice(["LOW", "MEDIUM", "HIGH"]),
        "Associated_Vid": 100000 + r.randint(0, 2999),
    }


def _owner(r: random.Random, i: int) -> dict[str, Any]:
    first, last = r.choice(FIRST), r.choice(LAST)
    return {
        "First_Name": first,
        "Last_Name": last,
        "Email": f"{first.lower()}.{last.lower()}.{i}@sales.example.com",
        "Type": "PERSON",
        "Is_Active": r.random() < 0.9,
    }


def _blog_comment(r: random.Random, i: int) -> dict[str, Any]:
    first, last = r.choice(FIRST), r.choice(LAST)
    return {
        "Content_Id": 8000 + r.randint(0, 49),
        "User_Name": f"{first} {last}",
        "User_Email": f"{first.lower()}{i}@readers.example.com",
        "Comment": r.choice(["Great post!", "Thanks for sharing.", "I disagree.", "Very useful."]),
        "State": r.choice(["APPROVED", "PENDING_MODERATION", "REJECTED"]),
    }


def _blog_author(r: random.Random, i: int) -> dict[str, Any]:
    first, last = r.choice(FIRST), r.choice(LAST)
    return {
        "Full_Name": f"{first} {last}",
        "Email": f"{first.lower()}.{last.lower()}@blog.example.com",
        "Bio": "Writes about marketing automation.",
    }


def _cols(spec: dict[str, str]) -> tuple[Column, ...]:
    return (*(Column(n, t) for n, t in spec.items()), Column("Added_At", DATE_TIME), Column("Updated_At", DATE_TIME))


S, L, D, B = "string", "long", "double", "boolean"
TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table("Hubspot.Contacts", _cols({
            "Vid": L, "Portal_Id": L, "Properties_Firstname_Value": S, "Properties_Lastname_Value": S,
            "Properties_Email_Value": S, "Properties_Phone_Value": S, "Properties_Mobilephone_Value": S,
            "Properties_Address_Value": S, "Properties_City_Value": S, "Properties_State_Value": S,
            "Properties_Zip_Value": S, "Properties_Country_Value": S, "Properties_Company_Value": S,
            "Properties_Jobtitle_Value": S, "Properties_Lifecyclestage_Value": S, "Properties_Birthyear_Value": S,
            "Properties_Hs_Email_Optout_Value": B}), 3000, _contact, 100000),
        Table("Hubspot.Companies", _cols({
            "Company_Id": L, "Portal_Id": L, "Properties_Name_Value": S, "Properties_Domain_Value": S,
            "Properties_Industry_Value": S, "Properties_Numberofemployees_Value": S,
            "Properties_Annualrevenue_Value": D, "Properties_Phone_Value": S, "Properties_City_Value": S,
            "Properties_State_Value": S, "Properties_Zip_Value": S, "Properties_Country_Value": S}), 400, _company, 500000),
        Table("Hubspot.All_Deals", _cols({
            "Deal_Id": L, "Portal_Id": L, "Properties_Dealname_Value": S, "Properties_Amount_Value": S,
            "Properties_Dealstage_Value": S, "Properties_Pipeline_Value": S, "Properties_Closedate_Value": DATE_TIME,
            "Properties_Hs_Is_Closed_Value": B, "Associated_Company_Id": L, "Associated_Vid": L}), 600, _deal, 900000),
        Table("Hubspot.Tickets", _cols({
            "Ticket_Id": L, "Portal_Id": L, "Properties_Subject_Value": S, "Properties_Content_Value": S,
            "Properties_Hs_Pipeline_Stage_Value": S, "Properties_Hs_Ticket_Priority_Value": S,
            "Associated_Vid": L}), 300, _ticket, 700000),
        Table("Hubspot.Owners", _cols({
            "Owner_Id": L, "Portal_Id": L, "First_Name": S, "Last_Name": S, "Email": S, "Type": S,
            "Is_Active": B}), 120, _owner, 300),
        Table("Hubspot.Blog_Comments", _cols({
            "Id": L, "Portal_Id": L, "Content_Id": L, "User_Name": S, "User_Email": S, "Comment": S,
            "State": S}), 250, _blog_comment, 40000),
        Table("Hubspot.Blog_Authors", _cols({
            "Id": L, "Portal_Id": L, "Full_Name": S, "Email": S, "Bio": S}), 100, _blog_author, 60000),
    )
}


def table(name: str) -> Table | None:
    return TABLES.get(name)


@lru_cache(maxsize=32)
def _rows(name: str, seed: int, data_end: str) -> tuple[dict[str, Any], ...]:
    spec = TABLES[name]
    rng = random.Random(f"{seed}:{name}")
    end = parse_time(data_end)
    if end is None:
        raise ValueError(f"invalid data end date {data_end!r}")
    year = 365 * 86400
    # distinct update times, spread over [end - 1 year, end)
    offsets = sorted(rng.sample(range(1, year), spec.rows))
    rows: list[dict[str, Any]] = []
    for i in range(spec.rows):
        row = {spec.columns[0].name: spec.first_id + i, "Portal_Id": PORTAL_ID, **spec.make(rng, i)}
        updated = end - year + offsets[(i * 7919) % spec.rows]
        added = updated - rng.randint(0, 90 * 86400)
        row["Added_At"] = _iso(added)
        row["Updated_At"] = _iso(updated)
        if "Properties_Closedate_Value" in row:
            row["Properties_Closedate_Value"] = _iso(updated + rng.randint(0, 60) * 86400)
        rows.append({c.name: row.get(c.name) for c in spec.columns})
    return tuple(rows)


def rows(name: str, seed: int, data_end: str) -> list[dict[str, Any]]:
    """All rows of a table (fresh copies)."""
    return [dict(r) for r in _rows(name, seed, data_end)]


def root_listing() -> list[dict[str, Any]]:
    return [
        {"type": "table", "name": n, "path": n, "canPreview": True, "canFetchSchema": True} for n in TABLES
    ]


def describe_table(name: str, seed: int, data_end: str, preview: bool, preview_rows: int = 10) -> dict[str, Any]:
    spec = TABLES[name]
    out: dict[str, Any] = {"format": "flat", "schema": {"columns": [c.describe() for c in spec.columns]}}
    if preview:
        out["data"] = rows(name, seed, data_end)[:preview_rows]
    return out
