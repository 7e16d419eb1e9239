"""What must be unique, or short enough, for one spec's DAG to build and mean what the spec says.

Airflow refuses, while the DAG is built, an id over its limits (``validate_key``: 250 characters for a DAG or
task id; ``validate_group_key``: 200 for a task group; ``TAG_MAX_LEN``: 100 for a tag) and a task group named
like a task (``DuplicateTaskIdFound``). Those would surface as a traceback of the DAG file that names no spec,
so they are checked here first, naming the field and the fix.

Within a spec, the objects' resources must not collide: the operators look resources up by name before
creating them, so two objects naming one dataset, flow, mapping set, source or target connection would share
it in silence (the second reusing the first's). A resource the registry (``steps.py``) lets objects share - a
target schema, an ad-hoc class or an ad-hoc schema - MAY be shared, when the objects sharing it describe it alike
(the same class and field groups; the same table and fields). A dataset's Airflow asset is named by its id
(``aep_provider/lineage.py``), so two datasets never share one.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from aep_onboarding.steps import STEPS, object_resources

if TYPE_CHECKING:
    from aep_onboarding.spec import OnboardingSpec

DAG_ID_PREFIX = "aep_onboard_"
MAX_KEY = 250  # airflow.sdk.definitions._internal.node.validate_key
MAX_GROUP_KEY = 200  # airflow.sdk.definitions._internal.node.validate_group_key
MAX_TAG = 100  # airflow.sdk.definitions.dag.TAG_MAX_LEN
#: The tags every onboarding DAG has (factory.py) besides the spec's own.
FACTORY_TAGS = ("aep", "hubspot")
#: The ids of the DAG's tasks and task groups outside the objects' groups (factory.py, report.py, planning/task.py,
#: and the registry's shared steps): an object of that name would collide with them
#: (tests/aep_onboarding/test_dag_build.py keeps this list true).
RESERVED_IDS = frozenset({
    "select_objects", "plan", "apply", "run_summary", "release_write_lease", "discover_tables", "pick_tables",
    "discovered", *(step.id for step in STEPS if step.shared),
})
#: The longest step id inside an object's group (``<object>.<step>``).
LONGEST_STEP = max((step.id for step in STEPS if not step.shared), key=len)
MAX_SPEC_NAME = MAX_KEY - len(DAG_ID_PREFIX)
MAX_OBJECT_NAME = min(MAX_GROUP_KEY, MAX_KEY - len(LONGEST_STEP) - 1)
#: Resources one object owns (the registry's without ``alike``): two objects naming one would share it in silence.
OWNED_LABELS = {step_id: resource.label for step_id, resource in object_resources() if resource.alike is None}
OWNED = tuple(OWNED_LABELS)
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


def resource_problems(spec: OnboardingSpec) -> list[str]:
    """Every collision of the objects' resource names, one line each (field path first)."""
    from aep_onboarding.names import object_names

    problems: list[str] = []
    named = [(index, obj, object_names(spec, obj)) for index, obj in enumerate(spec.objects)]
    for step_id, resource in object_resources():
        what, field = resource.label, resource.field_name(step_id)
        first: dict[str, tuple[int, object]] = {}
        for index, obj, names in named:
            name = names[step_id]
            shape = resource.alike(obj) if resource.alike is not None else None
            if name in first and resource.alike is None:
                problems.append(
                    f"objects[{index}]: its {what} is named `{name}`, as objects[{first[name][0]}]'s; each object "
                    f"owns its {what}, and the second would silently reuse the first's: give one of them another "
                    f"`names.{field}`"
                )
            elif name in first and first[name][1] != shape:
                problems.append(
                    f"objects[{index}]: its {what} `{name}` is also objects[{first[name][0]}]'s, described otherwise (a "
                    f"shared one is made once, as the first describes it): describe it alike in both, or give one of "
                    f"them another `names.{field}`"
                )
            first.setdefault(name, (index, shape))
    return problems


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
    sandbox, a resource an object owns. Each clash is reported in BOTH files: which file would win depends only on
    how they sort, so neither is loaded until one is renamed."""
    from aep_onboarding.names import object_names

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
            names = object_names(spec, obj)
            for step_id, label in OWNED_LABELS.items():
                owners.setdefault((*place, step_id, names[step_id]), []).append(
                    (file, f"objects[{index}]: its {label} `{names[step_id]}`"))
    for _, file, where, others in _clashes(owners):
        problems[file].append(
            f"{where} is also {others}'s, in the same connection and sandbox; the two specs would share it in "
            "silence, so neither is loaded: give one of them another name (`names.*`)"
        )
    return problems
