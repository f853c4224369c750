"""The case list, the dossier page, and bulk transitions that are loops over fire()."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from sqlalchemy import func, select

from cases.models import Case
from pingxuan.extensions import db
from tests.backoffice.helpers import case_view, in_english, outcome_rows, text
from tests.factories import login, value
from workflow.definition import TRANSITIONS
from workflow.models import WorkflowEvent


def events_of(case: Case) -> list[WorkflowEvent]:
    return list(db.session.scalars(select(WorkflowEvent).where(WorkflowEvent.case_id == case.id)))


def reload(case: Case) -> Case:
    db.session.expire_all()
    return db.session.get(Case, case.id)


def bulk(client, transition: str, cases: list[Case], comment: str = "", **fields):
    """Choose the bulk action in the list, land on the confirmation page, confirm."""
    ids = [str(c.id) for c in cases]
    response = client.post("/admin/cases/action/", data={"action": transition, "rowid": ids})
    assert response.status_code == 302
    confirm = client.get(response.headers["Location"])
    assert confirm.status_code == 200
    for case in cases:
        assert case.title in text(confirm)
    data = {"ids": ids, "comment": comment, **fields, **{f"version-{c.id}": str(c.version) for c in cases}}
    return client.post(f"/admin/cases/transition/{transition}/", data=data)


def test_list_filtered_by_state(app, client, make):
    submitted, draft = make.case("submitted"), make.case("draft")
    login(client, make.organizer())
    everything = text(client.get("/admin/cases/"))
    assert submitted.title in everything and draft.title in everything
    with app.test_request_context():
        url = case_view(app).state_url("submitted")
    filtered = text(client.get(url))
    assert submitted.title in filtered
    assert draft.title not in filtered


def test_search_by_number_title_and_unit(client, make):
    # Distinct titles: a factory title such as "智慧案例 17" would also match every number "2017-…" by its "17".
    one, other = make.case("submitted", title="城市大脑交通信号"), make.case("submitted", title="智慧养老服务平台")
    login(client, make.organizer())
    for term in (one.number, one.title, one.unit.name):
        page = text(client.get("/admin/cases/", query_string={"search": term}))
        assert one.title in page and other.title not in page, term


def test_bulk_actions_are_the_declared_transitions(client, make):
    make.case("submitted")
    login(client, make.organizer())
    page = text(client.get("/admin/cases/"))
    staff_transitions = [t for t in TRANSITIONS if "organizer" in t.roles]
    for transition in staff_transitions:
        assert f"modelActions.execute('{transition.name}')" in page
        assert transition.title_zh in page
    assert "modelActions.execute('submit')" not in page  # an owner's transition is no bulk action for staff


def test_edit_form_has_no_state_and_a_crafted_state_is_ignored(client, make):
    case = make.case("submitted")
    login(client, make.organizer())
    form = text(client.get(f"/admin/cases/edit/?id={case.id}"))
    assert 'name="state"' not in form
    assert 'name="category"' in form
    before = len(events_of(case))
    response = client.post(
        f"/admin/cases/edit/?id={case.id}",
        data={
            "state": "awarded",
            "category": str(case.category_id),
            "domain": str(case.domain_id),
            "recommending_org": str(case.recommending_org_id),
            "version": str(case.version),
        },
    )
    assert response.status_code == 302
    case = reload(case)
    assert case.state == "submitted"
    assert len(events_of(case)) == before
    # Nor through the list's inline-edit endpoint.
    client.post("/admin/cases/ajax/update/", data={"list_form_pk": str(case.id), "state": "awarded"})
    assert reload(case).state == "submitted"


def test_bulk_start_check_moves_three_cases_each_with_its_event(client, make):
    cases = [make.case("submitted") for _ in range(3)]
    organizer = make.organizer()
    login(client, organizer)
    response = bulk(client, "start_check", cases)
    assert response.status_code == 200
    assert outcome_rows(text(response)) == {c.id: True for c in cases}
    for case in cases:
        case = reload(case)
        assert case.state == "eligibility_check"
        moves = [e for e in events_of(case) if e.transition == "start_check"]
        assert len(moves) == 1
        assert moves[0].actor_id == organizer.id
        assert (moves[0].from_state, moves[0].to_state) == ("submitted", "eligibility_check")


def test_return_for_revision_needs_a_comment(client, make):
    cases = [make.case("submitted") for _ in range(2)]
    login(client, make.organizer())
    in_english(client)
    counts = {c.id: len(events_of(c)) for c in cases}
    due = (date.today() + timedelta(days=7)).isoformat()
    refused = text(bulk(client, "return_for_revision", cases, due_date=due))
    assert "needs a comment" in refused
    assert "A comment is required." in refused
    assert outcome_rows(refused) == {c.id: False for c in cases}
    for case in cases:
        case = reload(case)
        assert case.state == "submitted"
        assert len(events_of(case)) == counts[case.id]

    done = text(bulk(client, "return_for_revision", cases, comment="请补充应用成效数据", due_date=due))
    assert outcome_rows(done) == {c.id: True for c in cases}
    for case in cases:
        case = reload(case)
        assert case.state == "returned"
        assert events_of(case)[-1].comment == "请补充应用成效数据"


def test_one_case_in_the_wrong_state_does_not_stop_the_others(client, make):
    good = [make.case("submitted"), make.case("submitted")]
    wrong = make.case("draft")
    login(client, make.organizer())
    in_english(client)
    page = text(bulk(client, "start_check", [good[0], wrong, good[1]]))
    assert outcome_rows(page) == {good[0].id: True, wrong.id: False, good[1].id: True}
    assert "is not possible while the case is in this state" in page
    assert reload(wrong).state == "draft"
    assert [reload(c).state for c in good] == ["eligibility_check", "eligibility_check"]
    assert db.session.scalar(select(func.count()).where(WorkflowEvent.case_id == wrong.id)) == 0


def test_a_stale_confirmation_is_refused_for_that_case(client, make):
    case = make.case("submitted")
    login(client, make.organizer())
    data = {"ids": [str(case.id)], "comment": "", f"version-{case.id}": str(case.version - 1)}
    page = text(client.post("/admin/cases/transition/start_check/", data=data))
    assert outcome_rows(page) == {case.id: False}
    assert reload(case).state == "submitted"


def test_dossier_page_shows_everything_and_one_button_per_option(client, make):
    late = make.case("eligibility_check", in_operation_since=date(2018, 1, 1))
    login(client, make.organizer())
    in_english(client)
    page = text(client.get(f"/admin/cases/details/?id={late.id}"))
    assert late.title in page and value(late, "summary") in page and late.unit.name in page
    assert "申报书.pdf" in page  # the attachment
    assert page.count("<tr", page.index("timeline")) >= 3  # header, submit, start_check
    for name in ("return_for_revision", "approve", "reject"):
        assert f'data-transition="{name}"' in page
    assert 'data-transition="submit"' not in page
    approve = page[page.index('data-transition="approve"') :]
    approve = approve[: approve.index("</div>")]
    assert "disabled" in approve
    assert "must have been in operation on or before" in approve
    link = page[page.index('data-transition="return_for_revision"') :]
    assert f"/admin/cases/transition/return_for_revision/?ids={late.id}" in link[:600].replace("&amp;", "&")


def test_attachment_download(client, make):
    case = make.case("submitted")
    login(client, make.organizer())
    attachment = case.attachments[0]
    response = client.get(f"/admin/cases/attachment/{case.id}/{attachment.id}/")
    assert response.status_code == 200
    assert response.data.startswith(b"%PDF")


def test_case_csv_export_has_every_row_and_no_formulas(client, make):
    """The streamed export used to stop after its header (the rows were detached by the request's rollback)."""
    plain = make.case("submitted", title="智慧停车")
    formula = make.case("submitted", title='=HYPERLINK("http://evil.example","x")')
    expected = {plain.title, "'" + formula.title}
    login(client, make.organizer())
    in_english(client)
    db.session.expunge_all()  # as in a real request, nothing is loaded before the export reads the rows
    response = client.get("/admin/cases/export/csv/")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][:2] == ["Number", "Title"]
    titles = {row[1] for row in rows[1:]}
    assert titles == expected
