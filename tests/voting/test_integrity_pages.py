"""The organizers' integrity pages: the report, a preview for one case and its invalidation."""

from __future__ import annotations

from tests.factories import login
from tests.voting.test_integrity import setup, stuffed_campaign  # noqa: F401  (fixture)
from voting.ballots import counts


def test_report_preview_and_invalidate_by_rule(setup, client, make):  # noqa: F811
    campaign, a, b, c, background, stuffers, honest_in_burst = stuffed_campaign(setup)
    login(client, make.organizer())
    report = client.get(f"/vote-admin/{campaign.id}/integrity")
    assert report.status_code == 200 and "集中的 /24 网段" in report.text  # the organizer's language: Chinese
    assert f'data-case="{a.id}"' in report.text.split("<tr", 3)[2]  # the stuffed case ranks first
    preview = client.get(
        f"/vote-admin/{campaign.id}/integrity/preview",
        query_string={"rule": ["network_24", "single_purpose"], "combine": "all", "case": a.id},
    )
    assert preview.status_code == 200 and 'id="preview-total">30<' in preview.text
    before = counts([a.id])[a.id]
    done = client.post(
        f"/vote-admin/{campaign.id}/integrity/invalidate",
        data={"selection": "network_24+single_purpose", "case": a.id, "expected": 30, "reason": "刷票"},
    )
    assert done.status_code == 302 and counts([a.id])[a.id] == before - 30
    bare = client.post(
        f"/vote-admin/{campaign.id}/integrity/invalidate",
        data={"selection": "network_24", "case": a.id, "reason": " "},
        follow_redirects=True,
    )  # fmt: skip
    assert counts([a.id])[a.id] == before - 30 and "请说明选票无效的原因" in bare.text


def test_others_may_not_open_the_integrity_pages(setup, client, make):  # noqa: F811
    campaign = setup[0]
    login(client, make.applicant())
    assert client.get(f"/vote-admin/{campaign.id}/integrity").status_code == 403
