"""The workflow page: the declared diagram, rendered server-side, with the number of cases in each state."""

from __future__ import annotations

import re

from tests.backoffice.helpers import text
from tests.factories import login
from workflow import diagram
from workflow.definition import STATES, TRANSITIONS


def counts_on(page: str) -> dict[str, int]:
    rows = re.findall(r'<tr data-state="(\w+)">.*?class="text-right count">(\d+)<', page, flags=re.S)
    return {state: int(count) for state, count in rows}


def test_workflow_page_shows_every_state_with_its_count(client, make):
    make.case("submitted")
    make.case("submitted")
    make.case("eligibility_check")
    make.case("draft")
    login(client, make.organizer())
    page = text(client.get("/admin/workflow/"))
    for state in STATES:
        assert state.title_zh in page  # the default locale is Chinese
    expected = {state.name: 0 for state in STATES} | {"submitted": 2, "eligibility_check": 1, "draft": 1}
    assert counts_on(page) == expected
    assert "<svg" in page and "已提交 (2)" in page  # the inline diagram carries the counts too
    # no key shows, not even in the diagram's tooltips (issue 20: plain words)
    titles = re.findall(r"<title>([^<]*)</title>", page.split("<svg", 1)[1])
    assert titles and not [t for t in titles if any(re.search(rf"\b{s.name}\b", t) for s in STATES)]
    assert "草稿 → 已提交" in page  # an edge, by its states' titles


def test_workflow_page_in_english(client, make):
    login(client, make.organizer())
    with client.session_transaction() as session:
        session["locale"] = "en"
    page = text(client.get("/admin/workflow/"))
    for state in STATES:
        assert state.title_en in page


def test_svg_is_the_declared_graph_with_localized_labels(app):
    with app.test_request_context():
        svg = diagram.svg({"draft": 3})
        machine, subject = diagram._graph_machine("graphviz")
        edges = {(s, d, tuple(t)) for s, d, t in diagram._edges(subject.get_graph())}
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert "草稿 (3)" in svg and "已提交 (0)" in svg
    for transition in TRANSITIONS:
        assert transition.title_zh in svg
        for source in transition.sources:
            assert any(s == source and d == transition.dest and transition.name in t for s, d, t in edges)
