"""The workflow diagram, drawn by `transitions` from the declaration, labelled in the page's language."""

from __future__ import annotations

import re

from flask_babel import gettext as _
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


def svg(counts: dict[str, int] | None = None) -> str:
    """The diagram as inline SVG, rendered server-side with Graphviz (no script, no network)."""
    machine, subject = _graph_machine("graphviz")
    graph = subject.get_graph()
    for state in STATE_NAMES:
        graph.get_node(state).attr["label"] = _label(state, counts)
    for edge in graph.edges():
        label = edge.attr.get("label")
        if label in TRANSITION_BY_NAME:
            edge.attr["label"] = pick(TRANSITION_BY_NAME[label], "title")
    return graph.draw(None, format="svg", prog="dot").decode("utf-8")
