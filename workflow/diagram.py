"""The workflow diagram, drawn by `transitions` from the declaration, labelled in the page's language."""

from __future__ import annotations

import re

import graphviz
from flask_babel import gettext as _
from markupsafe import escape
from transitions.extensions import GraphMachine

from pingxuan.i18n import pick
from workflow.definition import INITIAL_STATE, STATE_BY_NAME, STATE_NAMES, TRANSITION_BY_NAME, TRANSITIONS


class _Subject:
    """GraphMachine draws for a model; this one stands in for 'a case'."""


def _graph_machine(engine: str) -> tuple[GraphMachine, _Subject]:
    subject = _Subject()
    machine = GraphMachine(
        model=subject,
        states=list(STATE_NAMES),
        initial=INITIAL_STATE,
        transitions=[{"trigger": t.name, "source": list(t.sources), "dest": t.dest} for t in TRANSITIONS],
        auto_transitions=False,
        graph_engine=engine,
        show_state_attributes=False,
        title=_("Case workflow"),
    )
    return machine, subject


def _label(state: str, counts: dict[str, int] | None) -> str:
    label = pick(STATE_BY_NAME[state], "title")
    if counts is not None:
        label += f" ({counts.get(state, 0)})"
    return label


def mermaid(counts: dict[str, int] | None = None) -> str:
    """Mermaid source with localized state labels and, when given, the number of cases in each state."""
    _machine, subject = _graph_machine("mermaid")
    text = subject.get_graph().draw(None)
    text = re.sub(r'state "(\w+)" as (\w+)', lambda m: f'state "{_label(m.group(2), counts)}" as {m.group(2)}', text)
    text = re.sub(
        r"(\w+) --> (\w+): (\w+)",
        lambda m: f"{m.group(1)} --> {m.group(2)}: {pick(TRANSITION_BY_NAME[m.group(3)], 'title')}",
        text,
    )
    return re.sub(r"\n\s*Class \w+ s_\w+", "", text)


# An edge line of the DOT source transitions writes: ``draft -> submitted [label=submit]``; several triggers
# between the same two states may share one edge, separated by `` | ``.
_EDGE = re.compile(r'^\s*(\w+) -> (\w+) \[label="?([\w| ]+?)"?[\],]')
_FONT = "Noto Sans CJK SC"


def _edges(graph: graphviz.Digraph) -> list[tuple[str, str, list[str]]]:
    """The (source, dest, triggers) edges of the graph transitions drew."""
    edges = []
    for line in graph.body:
        match = _EDGE.match(line)
        if match:
            source, dest, triggers = match.groups()
            edges.append((source, dest, [t for t in re.split(r"\s*\|\s*", triggers) if t]))
    return edges


def svg(counts: dict[str, int] | None = None) -> str:
    """The diagram as inline SVG, rendered server-side with Graphviz (no script, no network).

    transitions' graphviz engine hands back a ``graphviz.Digraph`` whose nodes and edges are DOT lines in
    ``body``: the edges are read back from those lines, then the body is rewritten with localized labels
    (and without the "current state" highlight, which means nothing for a diagram of all cases).
    """
    _machine, subject = _graph_machine("graphviz")
    graph = subject.get_graph()
    edges = _edges(graph)
    graph.body.clear()
    graph.graph_attr.update(fontname=_FONT, label=_("Case workflow"), labelloc="t")
    graph.node_attr.update(fontname=_FONT)
    graph.edge_attr.update(fontname=_FONT, fontsize="10")
    for state in STATE_NAMES:
        busy = counts is not None and counts.get(state, 0) > 0
        graph.node(
            state,
            label=_label(state, counts),
            peripheries="2" if STATE_BY_NAME[state].final else "1",
            fillcolor="#dbeafe" if busy else "white",
        )
    for source, dest, triggers in edges:
        label = " / ".join(pick(TRANSITION_BY_NAME[t], "title") if t in TRANSITION_BY_NAME else t for t in triggers)
        graph.edge(source, dest, label=label)
    text = graph.pipe(format="svg", encoding="utf-8")
    return _titled(text[text.index("<svg") :])


def _titled(text: str) -> str:
    """Graphviz names each node and edge by its key in a ``<title>`` (a tooltip, read by screen readers): the
    states' titles instead, so the diagram shows no key."""

    def title(match: re.Match) -> str:
        names = [n for n in re.split(r"&#45;&gt;|->", match.group(1)) if n in STATE_BY_NAME]
        if not names:
            return match.group(0)
        return "<title>" + escape(" → ".join(pick(STATE_BY_NAME[n], "title") for n in names)) + "</title>"

    return re.sub(r"<title>([^<]*)</title>", title, text)
