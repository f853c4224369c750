"""Test data built through the same operations the pages use, so workflow events are real."""

from __future__ import annotations

import itertools
import random
from datetime import date, timedelta

from stdnum.cn import uscc

from accounts.models import Unit, User
from accounts.operations import create_user
from awards.models import Notice, NoticeEntry
from campaigns.models import VOTE_CLOSED, Campaign
from campaigns.operations import load_campaign, organizations
from cases import dossier as dossier_types
from cases.dossier import form_of as dossier_form
from cases.models import Case
from cases.operations import attach_file, create_case
from pingxuan.clock import today
from pingxuan.db import commit
from pingxuan.extensions import db
from reviewers.models import SUBMITTED, Assignment, Expert
from workflow.definition import (
    ADMIN,
    APPLICANT,
    DUE_DATE,
    EXPERT,
    INITIAL_STATE,
    ORGANIZER,
    OWNER,
    Transition,
    path_to,
)
from workflow.engine import fire

PASSWORD = "correct horse 42"
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
_seq = itertools.count(1)
_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def credit_code(rng: random.Random | None = None) -> str:
    rng = rng or random.Random()
    body = "91370200" + "".join(rng.choice(_ALPHABET) for _ in range(9))
    return body + uscc.calc_check_digit(body)


class Factory:
    def campaign(self, **overrides) -> Campaign:
        existing = db.session.query(Campaign).filter_by(is_current=True).first()
        if existing is not None and not overrides:
            return existing
        start = today()
        settings = {
            "submission_opens": start - timedelta(days=10),
            "submission_closes": start + timedelta(days=30),
            "review_opens": start - timedelta(days=5),
            "review_closes": start + timedelta(days=40),
            "vote_opens": start - timedelta(days=1),
            "vote_closes": start + timedelta(days=50),
            **overrides,
        }
        campaign = load_campaign(overrides=settings)
        commit()
        return campaign

    def unit(self, name: str | None = None, **fields) -> Unit:
        n = next(_seq)
        defaults = {
            "kind": "government",
            "district": "市南区",
            "contact_name": "联系人",
            "contact_phone": "13800000000",
            "credit_code": credit_code(),
        }
        unit = Unit(name=name or f"测试单位{n}", **defaults | fields)
        db.session.add(unit)
        commit()
        return unit

    def user(self, role: str, unit: Unit | None = None, email: str | None = None, name: str | None = None) -> User:
        n = next(_seq)
        user = create_user(email or f"{role}{n}@example.org", name or f"{role.title()} {n}", PASSWORD, role, unit)
        commit()
        return user

    def applicant(self, unit: Unit | None = None, **kw) -> User:
        return self.user(APPLICANT, unit or self.unit(), **kw)

    def organizer(self, **kw) -> User:
        return self.user(ORGANIZER, **kw)

    def expert(self, **kw) -> User:
        return self.user(EXPERT, **kw)

    def admin(self, **kw) -> User:
        return self.user(ADMIN, **kw)

    def pool_expert(
        self, organization: str = "青岛大学", parent_org: str = "", categories=(), domains=(), max_load: int = 20, **kw
    ) -> User:
        """An expert with a profile in the pool (expertise given as Category/Domain objects)."""
        user = self.expert(**kw)
        expert = Expert(user_id=user.id, organization=organization, parent_org=parent_org, max_load=max_load)
        expert.categories = list(categories)
        expert.domains = list(domains)
        db.session.add(expert)
        commit()
        return user

    def dossier(self, campaign: Campaign | None = None, category_index: int = 0) -> dict:
        """A complete dossier for the campaign's declared form, field by field by type (read from the declaration:
        the units it names, the teaser "一句话简介", an amount of 1,250,000.00, a web address; only the first field
        of a "one of" group)."""
        campaign = campaign or self.campaign()
        category = campaign.categories[category_index]
        form = dossier_form(campaign)
        others = {key for group in form.one_of for key in group.keys[1:]}
        units = iter(("青岛某建设单位", "青岛某运营单位"))
        samples = {
            dossier_types.NUMBER: "10", dossier_types.MONEY: "1250000.00", dossier_types.URL: "https://example.org/case",
            dossier_types.PHONE: "0532-12345678", dossier_types.EMAIL: "case@example.org", dossier_types.YES_NO: True,
            dossier_types.PERSON: {"name": "张三", "phone": "0532-12345678", "email": "zhang@example.org"},
        }  # fmt: skip
        data: dict = {}
        for item in form.value_fields:
            if item.key in others or not item.applies_to(category.code):
                continue
            if item.type == dossier_types.CATEGORY:
                data[item.key] = category.id
            elif item.type == dossier_types.DOMAIN:
                data[item.key] = category.domains[0].id
            elif item.type == dossier_types.ORGANIZATION:
                data[item.key] = organizations()[0].id
            elif item.key == dossier_types.TITLE:
                data[item.key] = f"智慧案例 {next(_seq)}"
            elif item.type == dossier_types.DATE:
                data[item.key] = date(2016, 6, 1)
            elif item is form.teaser:
                data[item.key] = "一句话简介"
            elif item.names_applicant:
                data[item.key] = next(units, "青岛某单位")
            elif item.type in (dossier_types.CHOICE, dossier_types.MULTI_CHOICE):
                first = item.choices[0].value
                data[item.key] = first if item.type == dossier_types.CHOICE else [first]
            elif item.type in samples:
                data[item.key] = samples[item.type]
            else:
                data[item.key] = item.label_zh
        return data

    def case(
        self,
        state: str = INITIAL_STATE,
        owner: User | None = None,
        complete: bool = True,
        category_index: int = 0,
        **fields,
    ) -> Case:
        campaign = self.campaign()
        owner = owner or self.applicant()
        draft = {"title": f"草稿 {next(_seq)}"}  # a draft always has a title
        data = {**(self.dossier(campaign, category_index) if complete else draft), **fields}
        case = create_case(owner, data, campaign)
        if complete:
            attach_file(case, owner, "document", "申报书.pdf", PDF)
        commit()
        return self.advance(case, state, owner)

    def advance(self, case: Case, state: str, owner: User | None = None) -> Case:
        """Move a draft on to ``state`` through the declared transitions, its owner and an organizer acting."""
        owner = owner or case.created_by
        organizer = None
        for transition in path_to(state):
            if OWNER in transition.roles:
                actor = owner
            else:
                organizer = organizer or self.organizer()
                actor = organizer
            self.prepare(case, transition)
            due = {DUE_DATE: today() + timedelta(days=14)} if DUE_DATE in transition.required_fields else None
            fire(case, transition.name, actor, comment="test", fields=due)
            commit()
        return case

    def prepare(self, case: Case, transition: Transition) -> None:
        """Meet the preconditions that later issues' pages create (a finished review, a closed vote)."""
        if "reviews_complete" in transition.guards:
            expert = self.expert()
            db.session.add(Assignment(case_id=case.id, expert_id=expert.id, status=SUBMITTED))
        if "vote_closed" in transition.guards:
            case.campaign.vote_status = VOTE_CLOSED
        if "notice_period_over" in transition.guards:
            self.past_notice([case])
        commit()

    def end_notice(self, campaign: Campaign, organizer: User | None = None) -> None:
        """The proposed awards' public notice is over with no objection: confirm them (as the office would)."""
        from awards.decisions import confirm_proposed
        from awards.notice import unnoticed_proposed

        waiting = unnoticed_proposed(campaign)
        if waiting:
            self.past_notice(waiting)
        confirm_proposed(campaign, organizer or self.organizer())
        commit()

    def award(self, case: Case, organizer: User | None = None) -> None:
        """Propose ``case`` (in public_vote, vote closed) and confirm it after a notice that has ended."""
        organizer = organizer or self.organizer()
        fire(case, "propose", organizer)
        self.past_notice([case])
        fire(case, "confirm_award", organizer)
        commit()

    def past_notice(self, cases: list[Case], days_ago: int = 10) -> Notice:
        """A public notice of ``cases`` that ended in the past (so their awards can be confirmed)."""
        notice = Notice(
            campaign_id=cases[0].campaign_id,
            category_id=cases[0].category_id,
            starts_on=today() - timedelta(days=days_ago),
            ends_on=today() - timedelta(days=days_ago - 5),
        )
        db.session.add(notice)
        db.session.flush()
        for case in cases:
            db.session.add(NoticeEntry(notice_id=notice.id, case_id=case.id))
        db.session.flush()
        return notice


def login(client, user: User) -> None:
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True


def value(case: Case, key: str):
    """A case's value of the field ``key`` of its campaign's form, as the declaration reads it."""
    return dossier_types.value(case, dossier_form(case.campaign).by_key[key])
