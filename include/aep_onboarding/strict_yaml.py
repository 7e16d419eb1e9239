"""Read a spec's YAML strictly: a key given twice in one mapping is refused instead of the last one winning.

PyYAML (like most YAML readers) keeps the last of two equal keys without a word, so a spec with ``mapping:``
twice in an object, or ``name:`` twice at the top, would silently lose rules or change its DAG id. The text is
composed into nodes first, every mapping is checked for repeated keys (naming the key, both lines and where it
is), and only then built into Python values. Anchors, aliases and merge keys (``<<: *base``) keep working: a
key written next to a merge key overrides the merged one, as YAML's merge-key type says, and is not a repeat.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

# libyaml's safe loader when PyYAML was built with it: the same documents, parsed several times faster.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MERGE_TAG = "tag:yaml.org,2002:merge"


class RepeatedKeysError(ValueError):
    """Keys given twice in one mapping: one problem line per repeat (field path, key, lines, fix)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def _key_value(node: Node) -> Any:
    """What a key means (``yes`` and ``true`` are the same key; ``1`` and ``"1"`` are not)."""
    if isinstance(node, ScalarNode):
        value = yaml.constructor.SafeConstructor().construct_object(node, deep=True)
        return (type(value).__name__, value) if _hashable(value) else ("text", node.value)
    return ("node", id(node))  # a mapping or list used as a key: never equal to another


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _where(path: str, key: Any) -> str:
    shown = key if isinstance(key, str) else repr(key)
    return f"{path}.{shown}" if path else str(shown)


def _repeats(root: Node) -> list[str]:
    """A problem line for every key repeated in a mapping of ``root`` (each node visited once: aliases share)."""
    problems: list[str] = []
    seen_nodes: set[int] = set()
    stack: list[tuple[Node, str]] = [(root, "")]
    while stack:
        node, path = stack.pop()
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        if isinstance(node, SequenceNode):
            stack += [(item, f"{path}[{index}]") for index, item in reversed(list(enumerate(node.value)))]
            continue
        if not isinstance(node, MappingNode):
            continue
        first_line: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                stack.append((value_node, path))
                continue
            key = _key_value(key_node)
            line = key_node.start_mark.line + 1
            shown = key_node.value if isinstance(key_node, ScalarNode) else "(a mapping or list)"
            if key in first_line:
                problems.append(
                    f"{_where(path, shown)}: the key `{shown}` is given twice in one mapping (lines "
                    f"{first_line[key]} and {line}); YAML would keep only the last one and silently drop the "
                    f"first: keep one `{shown}` (merge their contents into it) and delete the other"
                )
                continue
            first_line[key] = line
            stack.append((value_node, _where(path, shown)))
    return problems


def load_strict(text: str) -> Any:
    """The YAML document of ``text`` as Python values.

    :raises yaml.YAMLError: the text is not YAML (with its ``problem_mark``).
    :raises RepeatedKeysError: a mapping repeats a key.
    """
    loader = _YAML_LOADER(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        problems = _repeats(node)
        if problems:
            raise RepeatedKeysError(problems)
        return loader.construct_document(node)
    finally:
        loader.dispose()
