from cases.models import Case
from workflow.definition import STATE_NAMES, TRANSITIONS, check_declaration, path_to
from workflow.engine import ACTIONS, EFFECTS, FIELDS
from workflow.guards import GUARDS
from workflow.models import WorkflowEvent


def test_declaration_is_consistent():
    assert check_declaration() == []
    for t in TRANSITIONS:
        assert set(t.guards) <= set(GUARDS), t.name
        assert set(t.actions) <= set(ACTIONS), t.name
        assert set(t.effects) <= set(EFFECTS), t.name
        assert set(t.required_fields) <= set(FIELDS), t.name


def test_every_state_is_reachable_through_fire(app, make):
    for state in STATE_NAMES:
        case = make.case(state)
        assert case.state == state
        assert WorkflowEvent.query.filter_by(case_id=case.id).count() == len(path_to(state))
    assert Case.query.count() == len(STATE_NAMES)
