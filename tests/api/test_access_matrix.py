"""The access matrix, derived from the workflow declaration and checked through HTTP.

For every declared state × every kind of person × (view, edit, every declared transition), the expected answer
is computed from ``workflow.definition`` data alone (the roles each kind of person holds on a case, the
state's permission map, the transitions' sources and roles), never by asking the code under test. Guards may
still refuse a transition the role is allowed to take: that must be a 422 with reasons, never a 403.
"""

from __future__ import annotations

from dataclasses import dataclass

from cases.models import Case
from pingxuan.db import commit
from pingxuan.extensions import db
from reviewers.models import ACCEPTED, Assignment
from workflow.definition import (
    ADMIN,
    ANONYMOUS,
    APPLICANT,
    EDIT,
    EXPERT,
    ORGANIZER,
    OWNER,
    REVIEWER,
    STATES,
    TRANSITIONS,
    VIEW,
    State,
    Transition,
)

# The roles each kind of person holds on the case under test (DESIGN.md §2: global role plus local roles).
ACTOR_ROLES: dict[str, frozenset[str]] = {
    "anonymous": frozenset({ANONYMOUS}),
    "owner": frozenset({ANONYMOUS, APPLICANT, OWNER}),
    "other_applicant": frozenset({ANONYMOUS, APPLICANT}),
    "assigned_expert": frozenset({ANONYMOUS, EXPERT, REVIEWER}),
    "unassigned_expert": frozenset({ANONYMOUS, EXPERT}),
    "organizer": frozenset({ANONYMOUS, ORGANIZER}),
    "admin": frozenset({ANONYMOUS, ADMIN}),
}
SUCCESS, GUARDED = "success", "success or guard refusal"


@dataclass(frozen=True)
class Expectation:
    statuses: frozenset[int]  # acceptable answers
    outcome: str  # what the declaration says


def expect_view(state: State, roles: frozenset[str]) -> Expectation:
    if state.roles_for(VIEW) & roles:
        return Expectation(frozenset({200}), SUCCESS)
    return Expectation(frozenset({404}), "hidden")


def expect_edit(state: State, roles: frozenset[str]) -> Expectation:
    if roles == ACTOR_ROLES["anonymous"]:
        return Expectation(frozenset({401}), "anonymous writes need a token")
    if not state.roles_for(VIEW) & roles:
        return Expectation(frozenset({404}), "hidden")
    if state.roles_for(EDIT) & roles:
        return Expectation(frozenset({200}), SUCCESS)
    return Expectation(frozenset({403}), "may not edit in this state")


def expect_transition(state: State, transition: Transition, roles: frozenset[str]) -> Expectation:
    if roles == ACTOR_ROLES["anonymous"]:
        return Expectation(frozenset({401}), "anonymous writes need a token")
    if not state.roles_for(VIEW) & roles:
        return Expectation(frozenset({404}), "hidden")
    if state.name not in transition.sources:
        return Expectation(frozenset({409}), "not available from this state")
    if not transition.roles & roles:
        return Expectation(frozenset({403}), "role may not")
    return Expectation(frozenset({200, 422}), GUARDED)


def test_no_transition_is_open_to_anonymous_callers():
    """The matrix expects 401 for anonymous writes; that is only right while the declaration agrees."""
    assert not any(ANONYMOUS in t.roles for t in TRANSITIONS)
    assert not any(ANONYMOUS in s.roles_for(EDIT) for s in STATES)


def test_access_matrix(app, client, make, bearer):
    owner = make.applicant()
    people = {
        "anonymous": None,
        "owner": owner,
        "other_applicant": make.applicant(),
        "assigned_expert": make.expert(),
        "unassigned_expert": make.expert(),
        "organizer": make.organizer(),
        "admin": make.admin(),
    }
    headers = {kind: bearer(user) for kind, user in people.items()}

    def fresh_case(state: str) -> int:
        case = make.case(state, owner=owner)
        db.session.add(Assignment(case_id=case.id, expert_id=people["assigned_expert"].id, status=ACCEPTED))
        commit()
        return case.id

    def current(case_id: int) -> Case:
        db.session.expire_all()
        return db.session.get(Case, case_id)

    mismatches: list[str] = []
    checked = 0

    def check(label: str, response, expectation: Expectation) -> None:
        nonlocal checked
        checked += 1
        body = response.get_json(silent=True)
        if response.status_code not in expectation.statuses:
            mismatches.append(
                f"{label}: expected {sorted(expectation.statuses)} ({expectation.outcome}), "
                f"got {response.status_code} {body}"
            )
            return
        if not isinstance(body, dict | list):
            mismatches.append(f"{label}: answer is not JSON")
        elif response.status_code >= 400 and not body.get("message"):
            mismatches.append(f"{label}: error without a message: {body}")
        elif response.status_code == 422 and not body.get("reasons"):
            mismatches.append(f"{label}: guard refusal without reasons: {body}")

    for state in STATES:
        case_id = fresh_case(state.name)
        for kind, roles in ACTOR_ROLES.items():
            auth = headers[kind]
            where = f"{state.name} × {kind}"

            view = expect_view(state, roles)
            response = client.get(f"/api/v1/cases/{case_id}", headers=auth)
            check(f"{where} × view", response, view)
            if response.status_code == 200:
                offered = {a["name"] for a in response.get_json()["actions"]}
                declared = {t.name for t in TRANSITIONS if state.name in t.sources and t.roles & roles}
                if offered != declared:
                    mismatches.append(f"{where}: actions {sorted(offered)}, declaration {sorted(declared)}")
            listed = client.get(f"/api/v1/cases?state={state.name}&per_page=100", headers=auth)
            ids = {item["id"] for item in listed.get_json()["items"]}
            if (case_id in ids) != (view.outcome == SUCCESS):
                mismatches.append(f"{where}: listed={case_id in ids}, declaration view={view.outcome}")

            response = client.patch(f"/api/v1/cases/{case_id}", json={"summary": f"edited by {kind}"}, headers=auth)
            check(f"{where} × edit", response, expect_edit(state, roles))

            for transition in TRANSITIONS:
                version = current(case_id).version
                response = client.post(
                    f"/api/v1/cases/{case_id}/transitions/{transition.name}",
                    json={"comment": "matrix", "version": version, "due_date": "2099-12-31"},
                    headers=auth,
                )
                expectation = expect_transition(state, transition, roles)
                check(f"{where} × {transition.name}", response, expectation)
                moved = current(case_id)
                if response.status_code == 200:
                    if moved.state != transition.dest:
                        mismatches.append(f"{where} × {transition.name}: 200 but state is {moved.state}")
                    case_id = fresh_case(state.name)  # the old one moved on
                elif moved.state != state.name or moved.version != version:
                    mismatches.append(f"{where} × {transition.name}: refused but the case changed")

    assert not mismatches, f"{len(mismatches)} of {checked} cells differ:\n" + "\n".join(mismatches)
    assert checked == len(STATES) * len(ACTOR_ROLES) * (2 + len(TRANSITIONS))
