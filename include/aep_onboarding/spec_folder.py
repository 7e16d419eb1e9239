"""Which files of the specs folder are specs, and what about the folder the user must be told.

Loaded: every file directly in the folder whose name ends in ``.yaml`` or ``.yml``, in any letter case
(``contacts.YAML`` is a spec), unless its name starts with ``.`` (hidden files: macOS ``._x.yaml``
AppleDouble files, Emacs ``.#x.yaml`` locks). Not loaded, and named in a warning
(:class:`SpecFolderWarning`): those hidden files, editor and backup copies of a spec (``x.yaml~``,
``x.yaml.bak``, ``x.yaml.swp``, ``x.yaml.orig``, ``#x.yaml#`` ...: a name holding ``.yaml``/``.yml`` that does
not end with it) and subfolders holding such files (specs are not read from subfolders). Refused, as an import
error: a specs folder that is missing, is a file, cannot be listed or holds no spec, and an environment
variable that looks like a misspelt ``AEP_SPECS_DIR`` (the default folder would be read instead, in silence).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

SPECS_DIR_ENV = "AEP_SPECS_DIR"
DEFAULT_SPECS_DIR = Path(__file__).resolve().parents[1] / "onboarding"
SPEC_SUFFIXES = (".yaml", ".yml")


class SpecFolderWarning(UserWarning):
    """A file of the specs folder that looks like a spec and is not loaded."""


@dataclass
class FolderScan:
    root: Path
    files: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # folder-level errors
    ignored: list[str] = field(default_factory=list)  # look-alikes not loaded, for the warning


def specs_dir(env: Mapping[str, str] | None = None) -> Path:
    """The folder of spec files: ``$AEP_SPECS_DIR`` or ``include/onboarding``."""
    env = os.environ if env is None else env
    return Path(env.get(SPECS_DIR_ENV) or DEFAULT_SPECS_DIR)


def is_spec_name(name: str) -> bool:
    return name.lower().endswith(SPEC_SUFFIXES) and not name.startswith(".")


def looks_like_spec(name: str) -> bool:
    """A name holding ``.yaml``/``.yml`` that is not loaded: hidden, or an editor or backup copy."""
    lowered = name.lower()
    return any(suffix in lowered for suffix in SPEC_SUFFIXES) and not is_spec_name(name)


def _misspelt_env(env: Mapping[str, str]) -> list[str]:
    if env.get(SPECS_DIR_ENV):
        return []
    close = [
        name for name in env
        if name != SPECS_DIR_ENV and name.upper().startswith("AEP_")
        and difflib.SequenceMatcher(None, name.upper(), SPECS_DIR_ENV).ratio() >= 0.8
    ]
    return [
        f"(folder): the environment variable {name} is set but the setting is {SPECS_DIR_ENV}, so the default "
        f"folder {DEFAULT_SPECS_DIR} is read instead of {env[name]!r}: rename {name} to {SPECS_DIR_ENV}"
        for name in sorted(close)
    ]


def _subfolder_specs(folder: Path) -> list[str]:
    try:
        return sorted(f"{folder.name}/{p.name}" for p in folder.iterdir() if p.name.lower().endswith(SPEC_SUFFIXES))
    except OSError:
        return []


def scan(root: Path | None = None, env: Mapping[str, str] | None = None) -> FolderScan:
    """The spec files of the folder (name order), its problems and the look-alikes it does not load."""
    env = os.environ if env is None else env
    result = FolderScan(root or specs_dir(env))
    if root is None:
        result.problems += _misspelt_env(env)
    where = f" ({SPECS_DIR_ENV}={env[SPECS_DIR_ENV]!r})" if root is None and env.get(SPECS_DIR_ENV) else ""
    fix = f"point {SPECS_DIR_ENV} at the folder that holds the spec files, or unset it to use {DEFAULT_SPECS_DIR}"
    if not result.root.exists():
        result.problems.append(f"(folder): the specs folder does not exist{where}; check its spelling: {fix}")
        return result
    if not result.root.is_dir():
        result.problems.append(f"(folder): the specs folder is a file, not a folder{where}: {fix}")
        return result
    try:
        entries = sorted(result.root.iterdir(), key=lambda p: p.name)
    except OSError as exc:
        result.problems.append(f"(folder): cannot be listed ({exc.strerror}){where}; check its permissions, or {fix}")
        return result
    for entry in entries:
        if is_spec_name(entry.name):
            result.files.append(entry)
        elif looks_like_spec(entry.name):
            result.ignored.append(entry.name)
        elif entry.is_dir() and not entry.name.startswith("."):
            result.ignored += _subfolder_specs(entry)
    if not result.files:
        result.problems.append(
            f"(folder): no spec file (*.yaml or *.yml) in the specs folder{where}, so no onboarding DAG is built: "
            f"add a spec (README, \"Spec reference\"), or {fix}"
        )
    return result


def ignored_warning(found: FolderScan) -> str | None:
    """The warning naming the files that look like specs and are not loaded."""
    if not found.ignored:
        return None
    return (
        f"onboarding specs folder {found.root}: not loaded: {', '.join(found.ignored)}. Specs are the files directly "
        "in the folder whose names end in .yaml or .yml and do not start with '.'; hidden files, editor and backup "
        "copies and subfolders are skipped: rename or move a file there to load it, or delete it"
    )
