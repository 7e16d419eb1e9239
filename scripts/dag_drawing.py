"""Draw an Airflow DAG as SVG from its structure: every task, every edge, one lane per top-level task group.

Columns are the longest path from a root (a task sits right of everything it waits for); each top-level task
group gets a horizontal lane and the tasks outside any group share one, placed among the groups. Tasks keep the
colours Airflow's graph view gives them (``ui_color`` / ``ui_fgcolor``). The drawing depends only on the DAG's
task ids, groups, edges and colours, so the same DAG always gives the same SVG (no font metrics: the labels are
monospace). ``make docs`` turns it into the README's PNG (``scripts/doc_pictures.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from html import escape
from typing import Any

FONT = 13
CHAR = 7.9  # width of one monospace character at FONT px (DejaVu Sans Mono / Liberation Mono: 0.6 em)
NODE_H = 30
ROW_GAP = 12
COL_GAP = 46
LANE_PAD = 12
LANE_LABEL_W = 110
MARGIN = 16
TITLE_H = 56
SHARED = ""  # the lane of the tasks outside any task group


@dataclass(frozen=True)
class Node:
    task_id: str
    label: str
    lane: str
    column: int
    fill: str
    text: str


@dataclass(frozen=True)
class Faint:
    """Edges drawn light: those leaving ``sources`` or entering ``targets`` (bookkeeping, not data flow), but
    not the ``solid`` ones."""

    sources: frozenset[str] = frozenset()
    targets: frozenset[str] = frozenset()
    solid: frozenset[tuple[str, str]] = frozenset()

    def __contains__(self, edge: object) -> bool:
        upstream, downstream = edge  # type: ignore[misc]
        return (upstream in self.sources or downstream in self.targets) and edge not in self.solid


def _lane_of(task: Any) -> str:
    group = task.task_group
    while group is not None and group.parent_group is not None and group.parent_group.group_id is not None:
        group = group.parent_group
    return group.group_id if group is not None and group.group_id else SHARED


def _columns(tasks: dict[str, Any]) -> dict[str, int]:
    column: dict[str, int] = {}

    def place(task_id: str) -> int:
        if task_id not in column:
            ups = tasks[task_id].upstream_task_ids
            column[task_id] = 1 + max((place(u) for u in sorted(ups)), default=-1)
        return column[task_id]

    for task_id in tasks:
        place(task_id)
    return column


def _colour(value: Any, default: str) -> str:
    text = str(value or default)
    return text if text.startswith("#") and len(text) in (4, 7) else default


def nodes_of(dag: Any) -> list[Node]:
    """Every task of ``dag`` with its lane, column and colours, in the DAG's task order."""
    tasks = {task.task_id: task for task in dag.tasks}
    columns = _columns(tasks)
    nodes = []
    for task_id, task in tasks.items():
        lane = _lane_of(task)
        label = task_id[len(lane) + 1:] if lane and task_id.startswith(lane + ".") else task_id
        nodes.append(Node(task_id, label, lane, columns[task_id], _colour(task.ui_color, "#ffffff"),
                          _colour(task.ui_fgcolor, "#000000")))
    return nodes


def edges_of(dag: Any) -> list[tuple[str, str]]:
    return sorted((task.task_id, down) for task in dag.tasks for down in task.downstream_task_ids)


def _lane_order(nodes: Iterable[Node]) -> list[str]:
    groups = list(dict.fromkeys(n.lane for n in nodes if n.lane != SHARED))
    shared = [SHARED] if any(n.lane == SHARED for n in nodes) else []
    middle = (len(groups) + 1) // 2 if len(groups) > 2 else 0
    return groups[:middle] + shared + groups[middle:]


def _width(label: str) -> float:
    return round(len(label) * CHAR + 20, 1)


def draw(dag: Any, title: str, faint: Faint = Faint(), legend: str = "") -> str:
    """The SVG of ``dag``: a title line, the lanes, the edges (``faint`` ones light) and the tasks."""
    nodes = nodes_of(dag)
    edges = edges_of(dag)
    lanes = _lane_order(nodes)
    columns = max(n.column for n in nodes) + 1
    col_w = [max((_width(n.label) for n in nodes if n.column == c), default=0.0) for c in range(columns)]
    label_w = LANE_LABEL_W if len(lanes) > 1 else LANE_PAD
    col_x = [MARGIN + label_w + sum(col_w[:c]) + COL_GAP * c for c in range(columns)]
    stacks: dict[tuple[str, int], list[Node]] = {}
    for node in nodes:
        stacks.setdefault((node.lane, node.column), []).append(node)
    lane_rows = {lane: max(len(v) for (ln, _), v in stacks.items() if ln == lane) for lane in lanes}
    lane_y: dict[str, float] = {}
    y = float(MARGIN + TITLE_H)
    for lane in lanes:
        lane_y[lane] = y
        y += lane_rows[lane] * (NODE_H + ROW_GAP) - ROW_GAP + 2 * LANE_PAD + ROW_GAP
    width = round(col_x[-1] + col_w[-1] + LANE_PAD + MARGIN)
    height = round(y - ROW_GAP + MARGIN)
    box: dict[str, tuple[float, float, float]] = {}  # task id -> (x, y, width)
    for (lane, column), stack in stacks.items():
        rows = lane_rows[lane]
        top = lane_y[lane] + LANE_PAD + (rows - len(stack)) * (NODE_H + ROW_GAP) / 2
        for i, node in enumerate(stack):
            w = _width(node.label)
            box[node.task_id] = (col_x[column] + (col_w[column] - w) / 2, top + i * (NODE_H + ROW_GAP), w)

    # Each edge leaves its task and enters the next at its own height, in the order of the tasks at the other end.
    leave: dict[tuple[str, str], float] = {}
    enter: dict[tuple[str, str], float] = {}
    for ends, port, other in ((leave, 0, 1), (enter, 1, 0)):
        by_task: dict[str, list[tuple[str, str]]] = {}
        for edge in edges:
            by_task.setdefault(edge[port], []).append(edge)
        for task_id, its in by_task.items():
            its.sort(key=lambda e: (box[e[other]][1], box[e[other]][0]))
            for i, edge in enumerate(its):
                ends[edge] = box[task_id][1] + NODE_H * (i + 1) / (len(its) + 1)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'font-family="DejaVu Sans Mono, Liberation Mono, Menlo, monospace" font-size="{FONT}">',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{MARGIN}" y="{MARGIN + 18}" font-size="16" font-weight="bold">{escape(title)}</text>',
    ]
    if legend:
        out.append(f'<text x="{MARGIN}" y="{MARGIN + 40}" fill="#555555">{escape(legend)}</text>')
    for lane in lanes:
        h = lane_rows[lane] * (NODE_H + ROW_GAP) - ROW_GAP + 2 * LANE_PAD
        fill = "#f4f4f4" if lane == SHARED else "#eaf1fb"
        out.append(f'<rect x="{MARGIN}" y="{lane_y[lane]:.1f}" width="{width - 2 * MARGIN}" height="{h:.1f}" '
                   f'rx="8" fill="{fill}" stroke="#c8c8c8"/>')
        name = lane or ("shared steps" if len(lanes) > 1 else "")
        out.append(f'<text x="{MARGIN + 10}" y="{lane_y[lane] + LANE_PAD + NODE_H / 2 + 4:.1f}" '
                   f'font-weight="bold" fill="#333333">{escape(name)}</text>')
    for faint_pass in (True, False):  # faint edges first, under the others
        for up, down in edges:
            if ((up, down) in faint) != faint_pass:
                continue
            ux, _, uw = box[up]
            x1, y1, x2, y2 = ux + uw, leave[(up, down)], box[down][0], enter[(up, down)]
            bend = max(24.0, (x2 - x1) / 2)
            style = 'stroke="#c9c9c9" stroke-width="1"' if faint_pass else 'stroke="#555555" stroke-width="1.4"'
            out.append(f'<path d="M{x1:.1f},{y1:.1f} C{x1 + bend:.1f},{y1:.1f} {x2 - bend:.1f},{y2:.1f} '
                       f'{x2:.1f},{y2:.1f}" fill="none" {style}/>')
            if not faint_pass:
                out.append(f'<path d="M{x2:.1f},{y2:.1f} l-6,-3.5 v7 z" fill="#555555"/>')
    for node in nodes:
        x, y0, w = box[node.task_id]
        out.append(f'<rect x="{x:.1f}" y="{y0:.1f}" width="{w:.1f}" height="{NODE_H}" rx="5" '
                   f'fill="{node.fill}" stroke="#444444"/>')
        out.append(f'<text x="{x + w / 2:.1f}" y="{y0 + NODE_H / 2 + 4.5:.1f}" text-anchor="middle" '
                   f'fill="{node.text}">{escape(node.label)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
