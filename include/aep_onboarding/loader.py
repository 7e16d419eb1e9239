"""Read and validate onboarding specs, turning every failure into a message a person can act on.

Nothing here touches the network, a Variable or a connection: it runs at
DAG-parse time. YAML is read strictly (``strict_yaml.py``: a key given twice is an
error); which files of the folder are specs is ``spec_folder.py``'s rule.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from aep_onboarding import spec_folder
from aep_onboarding.spec import OnboardingSpec
from aep_onboarding.spec_folder import DEFAULT_SPECS_DIR, SPECS_DIR_ENV, specs_dir
from aep_onboarding.spec_limits import cross_spec_problems
from aep_onboarding.strict_yaml import RepeatedKeysError, load_strict

__all__ = [
    "DEFAULT_SPECS_DIR", "SPECS_DIR_ENV", "LoadedSpec", "SpecError", "SpecErrors", "iter_specs", "load_spec",
    "parse_spec", "read_spec_text", "specs_dir",
]
# A spec is a page of YAML; a file this large is not one (and would stall every parse of the DAG files).
MAX_SPEC_BYTES = 1024 * 1024


class SpecError(ValueError):
    """A spec file that cannot be used, with one line per problem: file, field path, what to do."""

    def __init__(self, path: Path | str, problems: list[str]) -> None:
        self.path = str(path)
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"onboarding spec {self.path} is invalid:\n{lines}")

    @classmethod
    def combine(cls, errors: list[SpecError]) -> SpecErrors:
        return SpecErrors(errors)


class SpecErrors(ValueError):
    """Several broken spec files reported together."""

    def __init__(self, errors: list[SpecError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(error) for error in errors))


def _field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part in {"function-after", "function-before"} or "[" in str(part):
            continue
        else:
            path += f".{part}" if path else str(part)
    return path or "(top level)"


def _fix_for(error: dict[str, Any]) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "add this key"
    if kind == "extra_forbidden":
        return "remove this key or correct its spelling"
    if kind == "literal_error":
        return f"use one of {ctx.get('expected', 'the allowed values')}"
    if kind in {"int_parsing", "int_type", "float_parsing", "float_type", "int_from_float"}:
        return "write a number"
    if kind == "finite_number":
        return "write a finite number (not .inf or .nan)"
    if kind in {"bool_parsing", "bool_type"}:
        return "write true or false"
    if kind in {"string_type"}:
        return "write a text value"
    if kind in {"dict_type", "model_type", "model_attributes_type"}:
        return "write a mapping of keys to values here"
    if kind in {"tuple_type", "list_type"}:
        return "write a list here"
    if kind in {"date_parsing", "date_from_datetime_parsing", "date_type"}:
        return "write a date as YYYY-MM-DD"
    if kind == "too_short":
        return "give at least one item"
    if kind in {"greater_than_equal", "greater_than", "less_than_equal", "less_than"}:
        return "change the value to fit the bound"
    return "correct the value"


# A validator's message that names its own field path ("objects[1]: ...", "tags[0]: ...") more precisely than
# the place pydantic reports it at (the list, or the top level for a check of the whole spec).
_OWN_PATH = re.compile(r"^([A-Za-z_][\w.]*(?:\[\d+\])*(?:\.[\w]+(?:\[\d+\])*)*): ")


def _describe(error: dict[str, Any]) -> list[str]:
    """One problem line per fault: field path, what is wrong, the fix (a validator may report several)."""
    path = _field_path(tuple(error["loc"]))
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "value_error":
        lines = []
        for line in message.split("\n"):
            own = _OWN_PATH.match(line)
            precise = own and (path == "(top level)" or own.group(1).startswith(path))
            lines.append(line if precise else f"{path}: {line}")
        return lines
    if error["type"] == "extra_forbidden":
        return [f"{path}: unknown key; {_fix_for(error)}"]
    return [f"{path}: {message}; {_fix_for(error)}"]


def _knock_on(error: dict[str, Any], errors: list[dict[str, Any]]) -> bool:
    """A list reported too short only because its items were refused (``mapping: [bad rule]``)."""
    loc = tuple(error["loc"])
    return error["type"] == "too_short" and any(
        tuple(other["loc"])[:len(loc)] == loc and len(other["loc"]) > len(loc) for other in errors
    )


def parse_spec(text: str, path: Path | str = "<string>") -> OnboardingSpec:
    """Validate one spec's YAML text; raise :class:`SpecError` naming the file and field."""
    try:
        data = load_strict(text)
    except RepeatedKeysError as repeated:
        raise SpecError(path, repeated.problems) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"
        problem = getattr(exc, "problem", None) or str(exc)
        raise SpecError(path, [f"(YAML) {where}: {problem}; fix the YAML syntax there"]) from exc
    if not isinstance(data, dict):
        raise SpecError(path, ["(top level): the file must be a YAML mapping with `name`, `hubspot` and `objects`"])
    try:
        return OnboardingSpec.model_validate(data)
    except ValidationError as exc:
        errors = [dict(error) for error in exc.errors(include_url=False)]
        problems = [line for error in errors if not _knock_on(error, errors) for line in _describe(error)]
        raise SpecError(path, problems) from exc


def read_spec_text(file: Path) -> str:
    """The UTF-8 text of a spec file; :class:`SpecError` for anything that is not a readable spec file.

    Opened without blocking (a FIFO named ``*.yaml`` must not hang the DAG processor); a directory, a
    device, an oversized or non-UTF-8 file, or one that vanished since the folder was listed is reported
    like any other broken spec.
    """
    try:
        fd = os.open(file, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise SpecError(file, [f"(file): cannot be read ({exc.strerror}); check the path and permissions"]) from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SpecError(file, ["(file): not a regular file; a spec must be a YAML file: remove or rename it"])
        if info.st_size > MAX_SPEC_BYTES:
            raise SpecError(
                file, [f"(file): {info.st_size} bytes, more than {MAX_SPEC_BYTES}; this is not a spec, move it away"]
            )
        with os.fdopen(os.dup(fd), "rb") as fh:
            raw = fh.read(MAX_SPEC_BYTES + 1)
    except OSError as exc:
        raise SpecError(file, [f"(file): cannot be read ({exc.strerror}); check the path and permissions"]) from exc
    finally:
        os.close(fd)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(
            file, [f"(file): not UTF-8 text (byte {exc.start}: {raw[exc.start:exc.start + 1]!r}); save it as UTF-8"]
        ) from None


def load_spec(path: Path | str) -> OnboardingSpec:
    file = Path(path)
    return parse_spec(read_spec_text(file), file)


@dataclass(frozen=True)
class LoadedSpec:
    path: Path
    spec: OnboardingSpec | None
    error: SpecError | None


def _load_one(file: Path) -> LoadedSpec:
    try:
        return LoadedSpec(file, load_spec(file), None)
    except SpecError as invalid:
        return LoadedSpec(file, None, invalid)
    except Exception as exc:  # one odd file must never hide the valid specs (e.g. YAML nested too deep)
        problem = f"(file): could not be read as a spec ({type(exc).__name__}); check that it is a spec file"
        return LoadedSpec(file, None, SpecError(file, [problem]))


def iter_specs(folder: Path | None = None) -> Iterator[LoadedSpec]:
    """Every spec of the folder (``spec_folder.py`` says which files), valid or not, in name order; first a
    :class:`LoadedSpec` of the folder itself when it has a problem (missing, a file, empty, a misspelt setting).

    What two valid specs share - their ``name`` (one DAG id), or a resource or asset URI in the same sandbox -
    refuses BOTH, each naming the other file: loading one would depend on how the files sort.
    """
    found = spec_folder.scan(folder)
    if found.problems:
        yield LoadedSpec(found.root, None, SpecError(found.root, found.problems))
    loaded = [_load_one(file) for file in found.files]
    valid = {str(item.path): item.spec for item in loaded if item.spec is not None}
    clashes = cross_spec_problems(valid)
    for item in loaded:
        problems = clashes.get(str(item.path))
        yield LoadedSpec(item.path, None, SpecError(item.path, problems)) if problems else item
