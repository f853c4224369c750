"""The `transitions` state machine, built once per process from the declaration.

The machine holds no model: each fire() hands it a small token carrying the case's state, so that rows
loaded by the ORM are never added to it (transitions would reset them to the initial state and keep a
reference to each). It answers one question: where does this trigger lead from this state.
"""

from __future__ import annotations

from functools import cache

from transitions import Machine, MachineError

from workflow.definition import INITIAL_STATE, STATE_NAMES, TRANSITIONS


class _Token:
    __slots__ = ("state",)

    def __init__(self, state: str):
        self.state = state


@cache
def machine() -> Machine:
    return Machine(
        model=None,
        states=list(STATE_NAMES),
        initial=INITIAL_STATE,
        transitions=[{"trigger": t.name, "source": list(t.sources), "dest": t.dest} for t in TRANSITIONS],
        auto_transitions=False,
        ignore_invalid_triggers=False,
    )


def destination(state: str, trigger: str) -> str | None:
    """The state ``trigger`` leads to from ``state``, or None when the declaration has no such path."""
    token = _Token(state)
    try:
        if not machine().events[trigger].trigger(token):
            return None
    except (MachineError, KeyError):
        return None
    return token.state
