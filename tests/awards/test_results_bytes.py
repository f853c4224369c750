"""Published results are rendered once, when published, and served as those bytes: each language's page, CSV
and XLSX, with their SHA-256 as the ETag (304 on a match); they are what a fresh render gives, and a new
publication serves new bytes at once."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from urllib.parse import unquote

from openpyxl import load_workbook
from sqlalchemy import delete

from awards import publication
from awards.models import ResultRendering
from pingxuan.db import commit
from pingxuan.extensions import db
from tests.awards.test_pages import awarded
from voting.models import VoteCount


def urls(year: int) -> list[str]:
    return [f"/results{suffix}?year={year}{lang}" for suffix in ("", ".csv", ".xlsx") for lang in ("", "&lang=en")]


def cells(data: bytes) -> list[list[list[object]]]:
    return [[list(row) for row in sheet.iter_rows(values_only=True)] for sheet in load_workbook(io.BytesIO(data))]


def test_each_language_gets_its_own_stored_bytes_with_their_hash_as_etag(app, make):
    cases, _organizer = awarded(make)
    year = cases["A"].campaign.year
    client = app.test_client()
    bodies = {}
    for url in urls(year):
        first = client.get(url)
        assert first.status_code == 200, url
        assert first.headers["ETag"] == f'"{hashlib.sha256(first.data).hexdigest()}"', url
        assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304, url
        bodies[url] = first.data
    zh, en = bodies[f"/results?year={year}"].decode(), bodies[f"/results?year={year}&lang=en"].decode()
    assert '<html lang="zh-CN">' in zh and '<html lang="en">' in en
    assert cases["B"].title in zh and cases["B"].title in en
    switch = {
        lang: unquote(re.search(r'href="/language/[^"]*next=([^"]*)"', page).group(1))
        for lang, page in (("zh", zh), ("en", en))
    }  # the language link remembers the choice (issue 21)
    assert switch == {"zh": f"/results?year={year}&lang=en", "en": f"/results?year={year}"}
    header_zh, header_en = (next(csv.reader(io.StringIO(bodies[f"/results.csv?year={year}{lang}"].decode("utf-8-sig"))))
                            for lang in ("", "&lang=en"))  # fmt: skip
    assert header_en[0] == "Category" and header_zh[0] != "Category"
    assert cells(bodies[f"/results.xlsx?year={year}&lang=en"])[0][0][0] == "Category"
    stored = {(r.kind, r.lang): r.body for r in db.session.scalars(db.select(ResultRendering))}
    assert stored[("page", "zh")] == bodies[f"/results?year={year}"] and stored[("csv", "en")] == bodies[
        f"/results.csv?year={year}&lang=en"]  # fmt: skip
    assert client.get("/results").data == bodies[f"/results?year={year}"], "the current campaign: the same bytes"
    response = client.get(f"/results.csv?year={year}")
    assert response.headers["Content-Disposition"] == f"attachment; filename=results-{year}.csv"


def test_the_stored_bytes_are_what_a_fresh_render_gives(app, make):
    cases, _organizer = awarded(make)
    year = cases["A"].campaign.year
    app.config["RESULTS_RECHECK_SECONDS"] = 0  # look the stored files up on every request
    client = app.test_client()
    stored = {url: client.get(url) for url in urls(year)}
    db.session.execute(delete(ResultRendering))  # as for a version published before files were stored
    commit()
    for url, before in stored.items():
        fresh = client.get(url)
        assert fresh.status_code == 200 and fresh.mimetype == before.mimetype, url
        if url.startswith("/results.xlsx"):  # a workbook carries the time it was written: compare the cells
            assert cells(fresh.data) == cells(before.data), url
        else:
            assert fresh.data == before.data, url


def test_a_new_publication_serves_new_bytes_at_once(app, make):
    cases, organizer = awarded(make)
    campaign = cases["A"].campaign
    client = app.test_client()
    first = {url: client.get(url) for url in urls(campaign.year)}
    db.session.get(VoteCount, cases["A"].id).valid += 1000  # a recount after publication moves a figure
    commit()
    assert client.get(f"/results?year={campaign.year}").data == first[f"/results?year={campaign.year}"].data
    second = publication.publish(campaign, organizer, "recount")
    commit()
    for url, before in first.items():
        again = client.get(url, headers={"If-None-Match": before.headers["ETag"]})
        assert again.status_code == 200 and again.headers["ETag"] != before.headers["ETag"], url
    page = client.get(f"/results?year={campaign.year}").get_data(as_text=True)
    assert f'data-version="{second.version}"' in page
    assert page.index(f'data-case="{cases["A"].id}"') < page.index(f'data-case="{cases["B"].id}"')
