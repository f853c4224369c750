"""The acceptance's end-to-end run through the API with a service token only (no page, no session): a campaign
from a YAML file, 50 units from a spreadsheet, members invited, experts imported, submissions opened; then the
clone into next year has the taxonomy, the rubric and the experts, and nothing else. Every request is in the
token's audit trail."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import yaml

from accounts.models import ApiTokenRequest, Invitation, User
from accounts.service_tokens import create_service_token
from cases.models import Case
from pingxuan.clock import today
from pingxuan.db import commit
from pingxuan.extensions import db
from reviewers.models import Expert
from tests.api.test_people_api import unit_rows, units_sheet

TAXONOMY = Path(__file__).resolve().parents[2] / "campaigns" / "data" / "taxonomy-2017.yaml"
RUBRIC = [
    {"name_zh": "创新性", "name_en": "Innovation", "weight": 40, "max_score": 40},
    {"name_zh": "应用成效", "name_en": "Results", "weight": 60, "max_score": 60},
]


def test_a_whole_campaign_set_up_by_an_integration(app, client, make):
    plain, token = create_service_token(
        make.admin(), "政务外网集成", ["campaign:write", "people:write", "review:write", "cases:read"]
    )
    commit()
    auth = {"Authorization": f"Bearer {plain}", "Accept-Language": "en"}
    requests = 0

    def call(method: str, url: str, **kwargs):
        nonlocal requests
        requests += 1
        return getattr(client, method)(url, headers=auth, **kwargs)

    # A campaign from a YAML file: dry run first, then for real.
    text = TAXONOMY.read_text(encoding="utf-8")
    dry = call("post", "/api/v1/campaigns/import", json={"yaml": text, "dry_run": True})
    assert dry.status_code == 200, dry.get_json()
    assert dry.get_json()["created"] and dry.get_json()["campaign_id"] is None
    made = call("post", "/api/v1/campaigns/import", json={"yaml": text, "make_current": True})
    assert made.status_code == 200, made.get_json()
    campaign_id = made.get_json()["campaign_id"]
    rubric = call("put", f"/api/v1/campaigns/{campaign_id}/rubric", json={"criteria": RUBRIC})
    assert rubric.status_code == 200, rubric.get_json()
    categories = call("get", "/api/v1/campaigns/current").get_json()["categories"]
    assert len(categories) == 7

    # 50 units from a spreadsheet, members invited into three of them.
    units = call("post", "/api/v1/units/import", data={"file": (io.BytesIO(units_sheet(unit_rows(50))), "units.xlsx")},
                 content_type="multipart/form-data")  # fmt: skip
    assert units.status_code == 201, units.get_json()
    created = units.get_json()["created"]
    assert len(created) == 50
    for i, unit in enumerate(created[:3]):
        invited = call("post", f"/api/v1/units/{unit['id']}/invitations", json={"email": f"member{i}@example.org"})
        assert invited.status_code == 201, invited.get_json()

    # Experts imported: a welcome link each, no password.
    sheet = "email,name,organization,categories\n" + "".join(
        f"expert{i}@example.org,专家{i},青岛大学,{categories[i % 7]['name']}\n" for i in range(10)
    )
    experts = call("post", "/api/v1/experts/import", data={"file": (io.BytesIO(sheet.encode()), "experts.csv")},
                   content_type="multipart/form-data")  # fmt: skip
    assert experts.status_code == 200, experts.get_json()
    assert len(experts.get_json()["created"]) == 10

    # Submissions open from today.
    opens = today()
    days = [(today() + timedelta(days=n)).isoformat() for n in (0, 30, 31, 60, 61, 90)]
    windows = dict(zip(("submission_opens", "submission_closes", "review_opens", "review_closes", "vote_opens",
                        "vote_closes"), days, strict=True))  # fmt: skip
    window = call("patch", f"/api/v1/campaigns/{campaign_id}/settings", json=windows)
    assert window.status_code == 200, window.get_json()
    current = call("get", "/api/v1/campaigns/current").get_json()
    assert current["id"] == campaign_id and current["submission_opens"] == opens.isoformat()

    # Next year's edition: the taxonomy, the rubric and the experts, nothing else.
    cloned = call("post", f"/api/v1/campaigns/{campaign_id}/clone", json={})
    assert cloned.status_code == 201, cloned.get_json()
    clone = cloned.get_json()
    assert clone["year"] == 2018
    assert [c["code"] for c in clone["categories"]] == [c["code"] for c in categories]
    assert clone["submission_opens"] == opens.replace(year=opens.year + 1).isoformat()
    clone_rubric = call("get", f"/api/v1/campaigns/{clone['id']}/rubric").get_json()
    assert [(c["name_zh"], c["weight"]) for c in clone_rubric["criteria"]] == [("创新性", 40), ("应用成效", 60)]
    db.session.expire_all()
    pool = db.session.query(Expert).all()
    assert len(pool) == 10 and all(clone["id"] in {c.campaign_id for c in e.categories} for e in pool)
    assert db.session.query(Case).filter_by(campaign_id=clone["id"]).count() == 0
    exported = yaml.safe_load(call("get", f"/api/v1/campaigns/{clone['id']}/export").get_data(as_text=True))
    assert exported["campaign"]["year"] == 2018 and len(exported["categories"]) == 7

    # People were invited, never given a password; the token's audit trail holds every request.
    assert Invitation.query.count() == 3
    assert all(
        not u.password_hash.startswith(("scrypt", "pbkdf2")) for u in User.query.filter(User.email.like("expert%"))
    )
    trail = ApiTokenRequest.query.filter_by(token_id=token.id).all()
    assert len(trail) == requests and all(r.allowed for r in trail)
