"""Issue 23: the migration that moves the 2017 form's values from their columns into ``cases.dossier`` loses
nothing. Cases (and their versions) made before it read the same after it, on SQLite and PostgreSQL; a version
frozen after it compares equal with one frozen before; the downgrade puts every value back in its column."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from cases import dossier
from cases.models import Case
from cases.operations import attach_file
from cases.versions import compare, versions
from pingxuan.db import commit
from pingxuan.extensions import db
from tests.factories import PDF
from workflow.engine import fire

PREVIOUS, THIS = "d21a0b7c3e55", "d5a8f3c2e1b7"
# The columns the migration moves (named here on purpose: this test is about them).
TEXTS = ("construction_unit", "operating_unit", "summary", "description", "innovation", "effects", "beneficiaries",
         "public_url", "app_name")  # fmt: skip
MONEY = "investment"
ODD = "第一段，含“引号”与 emoji 🚀。\n\n=1+1 第二段  "


def _values(case: Case) -> dict:
    return {key: dossier.as_json(found) for key, found in dossier.values(case).items()}


def _versions(case: Case) -> list:
    return [(v.number, v.fields, v.attachments) for v in versions(case)]


def _old_columns() -> sa.Table:
    return sa.table("cases", sa.column("id", sa.Integer), *(sa.column(name, sa.Text) for name in TEXTS),
                    sa.column(MONEY, sa.Numeric(16, 2)))  # fmt: skip


def _migrate(to: str) -> None:
    db.session.commit()
    db.session.remove()
    (downgrade if to == PREVIOUS else upgrade)(revision=to)
    db.engine.dispose()


def test_every_value_and_version_is_the_same_after_the_move_and_back(app, make):
    full = make.case("submitted", investment="9876543210.99", description=ODD)
    returned = make.case("returned", app_name="掌上办", public_url="", investment="0.10")
    draft = make.case(complete=False)  # empty texts and no investment
    cases = (full, returned, draft)
    ids = {"full": full.id, "returned": returned.id}
    before = {c.id: _values(c) for c in cases}
    frozen = {c.id: _versions(c) for c in cases}
    assert before[draft.id][MONEY] is None and before[draft.id]["summary"] == ""
    assert before[full.id][MONEY] == "9876543210.99" and before[full.id]["description"] == ODD.strip()

    # Down: each value back in its column, exactly; nothing of them left in the JSON.
    _migrate(PREVIOUS)
    with db.engine.connect() as conn:
        rows = {r["id"]: r for r in conn.execute(sa.select(_old_columns())).mappings()}
        kept = dict(conn.execute(sa.text("SELECT id, dossier FROM cases")).all())
    for case_id, values in before.items():
        assert {name: rows[case_id][name] for name in TEXTS} == {name: values[name] for name in TEXTS}
        money = rows[case_id][MONEY]
        assert (None if money is None else f"{Decimal(money).quantize(Decimal('0.01'))}") == values[MONEY]
        assert not set(TEXTS + (MONEY,)) & set(kept[case_id] if isinstance(kept[case_id], dict) else {})

    # A case made at the revision before, by the old code's columns, with its frozen version 1.
    with db.engine.begin() as conn:
        old = {name: f"旧{name}" for name in TEXTS} | {
            "app_name": "",
            "summary": ODD,
            "public_url": "https://old.example",
        }
        base = (
            conn.execute(
                sa.text(
                    "SELECT campaign_id, unit_id, created_by_id, category_id, domain_id, "
                    "recommending_org_id FROM cases WHERE id = :id"
                ),
                {"id": ids["full"]},
            )
            .mappings()
            .one()
        )
        now = datetime.now(UTC).replace(tzinfo=None)
        names = ", ".join(TEXTS)
        made = conn.execute(sa.text(
            f"INSERT INTO cases (campaign_id, unit_id, created_by_id, number, state, version, title, category_id, "
            f"domain_id, recommending_org_id, in_operation_since, {names}, {MONEY}, created_at, updated_at) VALUES "
            f"(:campaign_id, :unit_id, :created_by_id, 'OLD-1', 'returned', 3, '旧案例', :category_id, :domain_id, "
            f":recommending_org_id, :since, {', '.join(':' + n for n in TEXTS)}, :money, :now, :now) RETURNING id"
        ).bindparams(sa.bindparam("money", type_=sa.Numeric(16, 2))),
        {**base, **old, "since": date(2015, 3, 1), "money": Decimal("1234567.80"),
            "now": now}).scalar_one()  # fmt: skip
        old_fields = {"title": "旧案例", "category_id": base["category_id"], "domain_id": base["domain_id"],
                      "recommending_org_id": base["recommending_org_id"], "in_operation_since": "2015-03-01",
                      **old, MONEY: "1234567.80"}  # fmt: skip
        conn.execute(
            sa.table("dossier_versions", sa.column("case_id"), sa.column("number"), sa.column("fields", sa.JSON),
                     sa.column("attachments", sa.JSON), sa.column("created_at")).insert(),
            {"case_id": made, "number": 1, "fields": old_fields, "attachments": [], "created_at": now},
        )  # fmt: skip

    # Up again: every case reads as before, its versions untouched; the old case reads as its columns did.
    _migrate(THIS)
    cases = [db.session.get(Case, case_id) for case_id in before]
    assert {c.id: _values(c) for c in cases} == before
    assert {c.id: _versions(c) for c in cases} == frozen
    old_case = db.session.get(Case, made)
    assert _values(old_case) == old_fields
    stored = {key for key in old_case.dossier}
    assert stored == set(TEXTS + (MONEY,)) - {"app_name"}, "an empty text is not stored, as the form stores it"

    # A version frozen now compares equal, field by field, with the one frozen before the move.
    for case in (db.session.get(Case, ids["returned"]), old_case):
        case_owner = case.created_by
        if not case.attachments:
            attach_file(case, case_owner, "document", "申报书.pdf", PDF)
        fire(case, "resubmit", case_owner)
        commit()
        last = versions(case)[-1].number
        assert compare(case, last - 1, last).changed_fields == (), case.number
