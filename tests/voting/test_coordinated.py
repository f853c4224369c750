"""Coordinated voting: honest voters and camouflaged attackers (residential networks, a different /16 each, a
common browser, verified minutes before, the target first and two other finalists of its category as cover)
fed through the vote operation; the integrity page's recommendation for the case that stands out, its preview
and its invalidation, after which the target falls back to its honest rank."""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import select

from campaigns.models import VOTE_OPEN
from pingxuan.db import commit
from pingxuan.extensions import db
from pingxuan.paths import PROJECT_ROOT as ROOT
from tests.api.conftest import bearer  # noqa: F401  (fixture)
from tests.factories import login
from voting import integrity
from voting.ballots import counts, recount
from voting.models import Ballot

spec = importlib.util.spec_from_file_location("bench_vote_integrity", ROOT / "bench" / "vote_integrity.py")
bench = sys.modules.setdefault(spec.name, importlib.util.module_from_spec(spec))
spec.loader.exec_module(bench)


def camouflaged_campaign(make, honest: int = 300, attackers: int = 60):
    campaign = make.campaign()
    campaign.vote_status = VOTE_OPEN
    commit()
    finalists = [[make.case("public_vote", category_index=c).id for _ in range(5)] for c in range(4)]
    day = datetime.combine(datetime.now().date(), datetime.min.time()) - timedelta(hours=8)
    traffic = bench.generate(11, day, finalists, honest, attackers)
    labels = bench.feed(traffic, keep=lambda label: label in ("honest", "camouflage"))
    target = traffic.targets["camouflage"]
    category = next(cases for cases in finalists if target in cases)
    return campaign, category, target, labels


def rank(case_id: int, totals: dict[int, int], category: list[int]) -> int:
    return 1 + sum(totals.get(c, 0) > totals.get(case_id, 0) for c in category)


def honest_totals(labels: dict[int, str]) -> Counter:
    case_of = dict(db.session.execute(select(Ballot.id, Ballot.case_id)).all())
    return Counter(case_of[b] for b, label in labels.items() if label == "honest")


def test_the_recommended_selection_strikes_the_camouflaged_attack_and_the_target_falls_back(app, make):
    campaign, category, target, labels = camouflaged_campaign(make)
    organizer = make.organizer()
    honest_rank = rank(target, honest_totals(labels), category)
    live = counts(category)
    assert rank(target, live, category) < honest_rank  # the attack lifted the case
    # what the README's campaign-wide selection offered before strikes none of it
    old = integrity.preview(
        campaign, organizer, "network_24,network_16,automation,virtual_numbers+fresh_voter,slow_drip"
    )
    attack = {b for b, label in labels.items() if label == "camouflage"}
    assert not attack & set(old.ballots)

    [found] = [r for r in integrity.recommend(campaign, organizer) if r.case.id == target]
    assert "coordinated" in found.selection.split(",")
    struck = set(found.preview.ballots)
    assert len(struck & attack) >= 0.95 * len(attack)  # the target's ballots and the cover votes for the others
    assert len(struck & attack) >= 0.95 * len(struck)
    every = {i for r in integrity.recommend(campaign, organizer) for i in r.preview.ballots}
    honest = {b for b, label in labels.items() if label == "honest"}
    assert len(every & honest) <= 0.005 * len(honest)

    n = integrity.invalidate_recommended(
        campaign, organizer, [r.case.id for r in integrity.recommend(campaign, organizer)], "刷票", len(every)
    )
    commit()
    assert n == len(every)
    assert recount(campaign) == []  # the live counts equal a recount of the valid ballots
    after = counts(category)
    assert rank(target, after, category) == honest_rank
    kept = db.session.get(Ballot, min(attack))
    assert kept.invalidated_at is not None and "刷票" in kept.invalid_reason and "coordinated" in kept.invalid_reason


def test_the_page_recommends_previews_every_ballot_and_invalidates_with_a_reason(app, make, client, bearer):  # noqa: F811
    campaign, category, target, labels = camouflaged_campaign(make)
    base = f"/api/v1/campaigns/{campaign.id}/vote/integrity"
    assert client.get(base + "/recommendations", headers=bearer(make.applicant())).status_code == 403
    found = client.get(base + "/recommendations", headers=bearer(make.organizer())).get_json()["recommendations"]
    [api] = [r for r in found if r["case_id"] == target]
    assert api["selection"] == "coordinated" and len(api["preview"]["ballot_ids"]) == api["preview"]["total"]
    assert api["preview"]["estimated_honest"] is not None
    login(client, make.organizer())
    page = client.get(f"/vote-admin/{campaign.id}/integrity")
    assert page.status_code == 200 and 'id="recommendation-table"' in page.text
    row = page.text.split(f'<tr data-case="{target}"><td>', 1)[1].split("</tr>", 1)[0]
    assert "coordinated" in row and "recommended-preview" in row

    before = counts(category)
    shown = client.get(
        f"/vote-admin/{campaign.id}/integrity/preview", query_string={"selection": "coordinated", "case": target}
    )
    assert shown.status_code == 200 and 'id="estimated-honest"' in shown.text
    total = int(shown.text.split('id="preview-total">', 1)[1].split("<", 1)[0])
    attack = {b for b, label in labels.items() if label == "camouflage"}
    listed = {int(x.split('"', 1)[0]) for x in shown.text.split('data-ballot="')[1:]}
    assert len(listed) == min(total, 200) and len(listed & attack) >= 0.95 * len(listed)
    assert counts(category) == before  # a preview writes nothing
    cover = Counter(db.session.get(Ballot, b).case_id for b in listed) - Counter({target: 10**6})
    assert sum(cover.values()) > 0  # the cover votes for the other finalists go with the target's

    done = client.post(
        f"/vote-admin/{campaign.id}/integrity/invalidate",
        data={"selection": "coordinated", "case": target, "expected": total, "reason": "刷票"},
    )
    assert done.status_code == 302
    assert sum(before.values()) - sum(counts(category).values()) > 0
    invalid = db.session.scalars(select(Ballot).where(Ballot.invalidated_at.is_not(None))).all()
    assert len(invalid) == total and all(b.invalid_reason == "刷票 [coordinated]" for b in invalid)
    assert db.session.scalar(select(db.func.count()).select_from(Ballot)) >= len(labels)  # nothing deleted
