"""What must be unique, or short enough, for one spec's DAG to build and mean what the spec says.

Airflow refuses, while the DAG is built, an id over its limits (``validate_key``: 250 characters for a DAG or
task id; ``validate_group_key``: 200 for a task group; ``TAG_MAX_LEN``: 100 for a tag) and a task group named
like a task (``DuplicateTaskIdFound``). Those would surface as a traceback of the DAG file that names no spec,
so they are checked here first, naming the field and the fix.

Within a spec, the objects' resources must not collide: the operators look resources up by name before
creating them, so two objects naming one dataset, flow, mapping set, source or target connection would share
it in silence (the second reusing the first's), and two datasets with one Airflow asset URI would mix their
asset events. A target schema, an ad-hoc class or an ad-hoc schema MAY be shared, when the objects sharing it
describe it alike (the same class and field groups; the same table and fields).
"""

from __future__ import annotations

import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aep_onboarding.spec import OnboardingSpec

DAG_ID_PREFIX = "aep_onboard_"
MAX_KEY = 250  # airflow.sdk.definitions._internal.node.validate_key
MAX_GROUP_KEY = 200  # airflow.sdk.definitions._internal.node.validate_group_key
MAX_TAG = 100  # airflow.sdk.definitions.dag.TAG_MAX_LEN
MAX_ASSET_URI = 1500  # airflow.sdk.definitions.asset._validate_identifier
#: The tags every onboarding DAG has (factory.py) besides the spec's own.
FACTORY_TAGS = ("aep", "hubspot")
#: The ids of the DAG's tasks and task groups outside the objects' groups (factory.py, report.py, plan_rows.py):
#: an object of that name would collide with them (tests/aep_onboarding/test_spec_limits.py keeps this list true).
RESERVED_IDS = frozenset({
    "select_objects", "plan", "apply", "hubspot_base_connection", "dataset_base_connection", "flow_spec",
    "run_summary", "release_write_lease", "discover_tables", "pick_tables", "discovered",
})
#: The longest step id inside an object's group (``<object>.<step>``; kept true by the same test).
LONGEST_STEP = "target_connection"
MAX_SPEC_NAME = MAX_KEY - len(DAG_ID_PREFIX)
MAX_OBJECT_NAME = min(MAX_GROUP_KEY, MAX_KEY - len(LONGEST_STEP) - 1)
#: Resources one object owns: two objects naming one of them would share it in silence.
OWNED = ("source_connection", "dataset", "target_connection", "mapping_set", "flow")
#: A share above this means most records may fail and the run still passes.
HIGH_TOLERANCE = 0.5


def spec_name_problem(name: str) -> str | None:
    if len(name) > MAX_SPEC_NAME:
        return (
            f"`{name[:40]}...` is {len(name)} characters; the DAG id `{DAG_ID_PREFIX}<name>` may have at most "
            f"{MAX_KEY} (Airflow's limit): shorten `name` to {MAX_SPEC_NAME} characters or fewer"
        )
    return None


def object_name_problem(slug: str, given: bool) -> str | None:
    what = "`name`" if given else "the name derived from `source` (give a shorter `name`)"
    if slug in RESERVED_IDS:
        return (
            f"`{slug}` is the id of one of the DAG's own tasks ({', '.join(sorted(RESERVED_IDS))}), and an "
            f"object's task group may not take it: give the object another `name`"
        )
    if len(slug) > MAX_OBJECT_NAME:
        return (
            f"`{slug[:40]}...` is {len(slug)} characters; it is the object's task-group id, which Airflow limits to "
            f"{MAX_OBJECT_NAME} here ({MAX_GROUP_KEY} for a group, {MAX_KEY} for `<name>.{LONGEST_STEP}`): shorten {what}"
        )
    return None


def tag_problems(tags: tuple[str, ...]) -> list[str]:
    problems = []
    for index, tag in enumerate(tags):
        if len(tag) > MAX_TAG:
            problems.append(f"tags[{index}]: {len(tag)} characters; Airflow takes tags of at most {MAX_TAG}: shorten it")
        elif not tag.strip():
            problems.append(f"tags[{index}]: an empty tag; write a word or remove it")
    return problems


def airflow_asset_uri(uri: str) -> str:
    """``uri`` as Airflow keeps it (``Asset.uri``): scheme lower-cased, query sorted, fragment and trailing
    ``/`` dropped (airflow.sdk.definitions.asset._sanitize_uri; no normalizer is registered for ``aep``)."""
    parts = urllib.parse.urlsplit(uri)
    query = urllib.parse.urlencode(sorted(urllib.parse.parse_qsl(parts.query))) if parts.query else ""
    return urllib.parse.urlunsplit(parts._replace(
        scheme=parts.scheme.lower(), path=parts.path.rstrip("/") or "/", query=query, fragment=""
    ))


def _asset_problems(spec: OnboardingSpec) -> list[str]:
    from aep_onboarding.names import asset_uri

    problems: list[str] = []
    owner: dict[str, int] = {}
    for index, obj in enumerate(spec.objects):
        raw = asset_uri(spec, obj)
        kept = airflow_asset_uri(raw)
        where = f"objects[{index}]: the Airflow asset URI of its dataset, `{raw[:80]}`,"
        if len(raw) > MAX_ASSET_URI:
            problems.append(f"{where} has {len(raw)} characters, more than Airflow's {MAX_ASSET_URI}: shorten `names.dataset`")
        elif kept != raw:  # names.asset_uri percent-encodes what Airflow would change: a guard, not a rule
            problems.append(f"{where} is read by Airflow as `{kept}`: change `names.dataset`")
        elif kept in owner:
            problems.append(
                f"{where} is also objects[{owner[kept]}]'s (dataset names differing only by spaces and underscores "
                "make one URI): give one of them another `names.dataset`"
            )
        owner.setdefault(kept, index)
    return problems


def resource_problems(spec: OnboardingSpec) -> list[str]:
    """Every collision of the objects' resource names and asset URIs, one line each (field path first)."""
    from aep_onboarding.names import object_names

    problems: list[str] = []
    named = [(index, obj, vars(object_names(spec, obj))) for index, obj in enumerate(spec.objects)]
    for resource in OWNED:
        first: dict[str, int] = {}
        for index, _, names in named:
            name = names[resource]
            if name in first:
                problems.append(
                    f"objects[{index}]: its {resource.replace('_', ' ')} is named `{name}`, as objects[{first[name]}]'s; "
                    f"each object owns its {resource.replace('_', ' ')}, and the second would silently reuse the "
                    f"first's: give one of them another `names.{resource}`"
                )
            first.setdefault(name, index)
    shared = {
        "target_schema": lambda o: (o.target_schema.class_ref, tuple(o.target_schema.field_groups)),
        "adhoc_class": lambda o: (o.source, o.fields if isinstance(o.fields, str) else tuple(sorted(o.fields.items()))),
        "adhoc_schema": lambda o: (o.source, o.fields if isinstance(o.fields, str) else tuple(sorted(o.fields.items()))),
    }
    for resource, shape in shared.items():
        first_obj: dict[str, tuple[int, object]] = {}
        for index, obj, names in named:
            name = names[resource]
            if name in first_obj and first_obj[name][1] != shape(obj):
                problems.append(
                    f"objects[{index}]: its {resource.replace('_', ' ')} `{name}` is also objects[{first_obj[name][0]}]'s, "
                    f"described otherwise (a shared one is made once, as the first describes it): describe it alike "
                    f"in both, or give one of them another `names.{resource}`"
                )
            first_obj.setdefault(name, (index, shape(obj)))
    return problems + _asset_problems(spec)


def _clashes(users: dict[tuple[str, ...], list[tuple[str, str]]]) -> list[tuple[tuple[str, ...], str, str, str]]:
    """(key, file, where, the other files) for every key held by two files or more."""
    found = []
    for key, holders in users.items():
        files = sorted({file for file, _ in holders})
        for file, where in holders if len(files) > 1 else []:
            found.append((key, file, where, ", ".join(Path(other).name for other in files if other != file)))
    return found


def cross_spec_problems(specs: dict[str, OnboardingSpec]) -> dict[str, list[str]]:
    """Per spec file, what it shares with another file: its ``name`` (one DAG id), or, in the same connection and
    sandbox, a resource an object owns or a dataset's asset URI. Each clash is reported in BOTH files: which file
    would win depends only on how they sort, so neither is loaded until one is renamed."""
    from aep_onboarding.names import asset_uri, object_names

    problems: dict[str, list[str]] = {file: [] for file in specs}
    by_name: dict[tuple[str, ...], list[tuple[str, str]]] = {}
    for file, spec in specs.items():
        by_name.setdefault((spec.name,), []).append((file, "name"))
    for (name,), file, _, others in _clashes(by_name):
        problems[file].append(
            f"name: `{name}` is also the name of {others}; both would build the DAG `{DAG_ID_PREFIX}{name}`, so "
            "neither is loaded: give one of them another `name`"
        )
    owners: dict[tuple[str, ...], list[tuple[str, str]]] = {}
    for file, spec in specs.items():
        if problems[file]:
            continue  # same name: its resources clash too, by derivation; the name is the fix
        place = (spec.aep_conn_id, spec.sandbox or "")
        for index, obj in enumerate(spec.objects):
            names = vars(object_names(spec, obj))
            for resource in OWNED:
                owners.setdefault((*place, resource, names[resource]), []).append(
                    (file, f"objects[{index}]: its {resource.replace('_', ' ')} `{names[resource]}`"))
            uri = asset_uri(spec, obj)
            owners.setdefault(("asset", airflow_asset_uri(uri)), []).append(
                (file, f"objects[{index}]: its dataset's asset URI `{uri}`"))
    for _, file, where, others in _clashes(owners):
        problems[file].append(
            f"{where} is also {others}'s, in the same connection and sandbox; the two specs would share it in "
            "silence, so neither is loaded: give one of them another name (`names.*`)"
        )
    return problems
