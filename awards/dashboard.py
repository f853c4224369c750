"""Figures of the back-office dashboard, computed from the database (the charts only draw them).

The funnel's stages and the states counted in each are derived from the workflow declaration, never listed:
a case has "reached" a stage when its state is the stage's state or any state after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import yaml
from sqlalchemy import Numeric, cast, func, literal, select

from awards.organizations import reached
from campaigns.models import Campaign, Category
from campaigns.operations import DEFAULT_TAXONOMY
from cases.dossier import form_of
from cases.models import Case
from pingxuan.extensions import db
from reviewers import progress as review_progress
from voting.models import Ballot
from workflow.definition import STATE_NAMES, TRANSITION_BY_NAME

YI = Decimal(100_000_000)  # 1 亿元 = 10^8 CNY

# Stages of the funnel: (key, transition whose destination starts the stage). "started" is every case,
# "submission" every case that got a number (submitted at least once, whatever happened next).
FUNNEL_STAGES: tuple[tuple[str, str | None], ...] = (
    ("started", None),
    ("submission", "submit"),
    ("eligibility", "approve"),
    ("shortlist", "shortlist"),
    ("award", "confirm_award"),
)


def yi(amount: Decimal | float | int | None) -> str:
    """An amount in CNY written in 亿元 with two decimals (the unit the article uses)."""
    value = Decimal(str(amount or 0)) / YI
    return f"{value.quantize(Decimal('0.01'))}"


def cases_by_category_and_state(campaign: Campaign) -> list[tuple[Category, dict[str, int]]]:
    """How many cases of each category are in each state now (every state listed, zeros included)."""
    rows = db.session.execute(
        select(Case.category_id, Case.state, func.count())
        .where(Case.campaign_id == campaign.id)
        .group_by(Case.category_id, Case.state)
    ).all()
    table = {c.id: dict.fromkeys(STATE_NAMES, 0) for c in campaign.categories}
    for category_id, state, n in rows:
        if category_id in table:
            table[category_id][state] = n
    return [(c, table[c.id]) for c in campaign.categories]


@dataclass
class CategoryFigures:
    category: Category
    count: int
    amount: Decimal  # the total of the form's money field (``DossierForm.totalled``; the 2017 form's investment)

    @property
    def amount_yi(self) -> str:
        return yi(self.amount)


def figures_by_category(campaign: Campaign) -> list[CategoryFigures]:
    """Count and total amount (the investment of the 2017 form) of the submitted cases (those that got a number)
    per category."""
    totalled = form_of(campaign).totalled
    amount = (
        func.coalesce(func.sum(cast(Case.dossier[totalled.key].as_string(), Numeric(16, 2))), 0)
        if totalled is not None
        else literal(0)
    )
    rows = {
        category_id: (n, total)
        for category_id, n, total in db.session.execute(
            select(Case.category_id, func.count(), amount)
            .where(Case.campaign_id == campaign.id, Case.number.is_not(None))
            .group_by(Case.category_id)
        ).all()
    }
    return [
        CategoryFigures(c, rows.get(c.id, (0, 0))[0], Decimal(str(rows.get(c.id, (0, 0))[1])))
        for c in campaign.categories
    ]


def article_figures(path=DEFAULT_TAXONOMY) -> dict[str, Any]:
    """The figures the seed article quotes for the city's programme (for comparison on the dashboard)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data.get("programme_figures_from_article") or {}


def votes_per_day(campaign: Campaign) -> list[tuple[date, int]]:
    """Valid ballots per voting day."""
    rows = db.session.execute(
        select(Ballot.vote_date, func.count())
        .where(Ballot.campaign_id == campaign.id, Ballot.invalidated_at.is_(None))
        .group_by(Ballot.vote_date)
        .order_by(Ballot.vote_date)
    ).all()
    return [(day, n) for day, n in rows]


def funnel(campaign: Campaign) -> list[tuple[str, int]]:
    """Cases that reached each stage: started (draft), submitted, eligible, shortlisted, awarded."""
    rows = db.session.execute(
        select(Case.state, Case.number.is_not(None), func.count())
        .where(Case.campaign_id == campaign.id)
        .group_by(Case.state, Case.number.is_not(None))
    ).all()
    result = []
    for key, transition in FUNNEL_STAGES:
        if transition is None:
            result.append((key, sum(n for _state, _numbered, n in rows)))
        elif transition == "submit":
            result.append((key, sum(n for _state, numbered, n in rows if numbered)))
        else:
            states = reached(TRANSITION_BY_NAME[transition].dest)
            result.append((key, sum(n for state, _numbered, n in rows if state in states)))
    return result


def review_by_category(campaign: Campaign) -> list[review_progress.Progress]:
    return review_progress.by_category(campaign)
