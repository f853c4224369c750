"""The organizers' integrity pages: the report, a preview for one case and its invalidation."""

from __future__ import annotations

from datetime import timedelta

from pingxuan.db import commit
from tests.api.conftest import bearer  # noqa: F401  (fixture)
from tests.factories import login
from tests.voting.test_integrity import T0, setup, stuffed_campaign  # noqa: F401  (fixture)
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


def test_the_integrity_page_sees_new_ballots_and_each_reader_language(setup, client, make, bearer):  # noqa: F811
    """The evaluation is kept between the page, its previews and the invalidation (seconds at campaign scale),
    but a ballot cast since, or a reader in another language, gets a new one."""
    campaign, votes, a, b, c = setup
    campaign, a, b, c, _background, _stuffers, _honest = stuffed_campaign(setup)
    login(client, make.organizer())
    url = f"/vote-admin/{campaign.id}/integrity"

    def automated(page) -> str:
        row = page.text.split(f'data-case="{c.id}">', 1)[1].split("</tr>", 1)[0]
        return row.split('class="rule-automation">', 1)[1].split("<", 1)[0]

    assert automated(client.get(url)) == "0"
    for i in range(3):
        votes.add(c, T0 + timedelta(minutes=30, seconds=i), automated=True)
    commit()
    assert automated(client.get(url)) == "3"
    token = bearer(make.organizer())
    ballots = f"/api/v1/cases/{a.id}/ballots"
    chinese = client.get(ballots, headers={**token, "Accept-Language": "zh-CN"}).get_json()["items"]
    english = client.get(ballots, headers={**token, "Accept-Language": "en"}).get_json()["items"]
    said = [" ".join(r for x in items for r in x["flags"].values()) for items in (chinese, english)]
    assert "分钟内" in said[0] and "minutes" in said[1] and not any("\u4e00" <= ch <= "\u9fff" for ch in said[1])
