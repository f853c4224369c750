"""Campaign archives: a whole campaign with votes, awards and certificates is exported, verified (hashes,
signature, recount), refused when altered by one byte, and restored into an empty database where its public
pages read exactly as before. Runs on SQLite and PostgreSQL (the restore goes to a new database of each)."""

from __future__ import annotations

import io
import json
import re
import uuid
import zipfile
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy import select

from accounts.models import User
from archives.export import sign, write_archive
from archives.restore import check_integrity, database_is_empty, import_archive
from archives.rows import from_json
from archives.verify import verify_archive
from awards.certificates import issue_batch
from awards.decisions import confirm_awards, confirm_proposed
from awards.models import Certificate
from awards.notice import publish_notice
from awards.ranking import category_ranking
from campaigns.models import Campaign
from cases.models import Case
from pingxuan.clock import today
from pingxuan.db import commit, rollback
from pingxuan.errors import Invalid
from pingxuan.extensions import db
from shell import create_app, demo
from tests.conftest import base_config
from tests.factories import login
from tests.phone import last_code
from voting.ballots import cast_vote, votable_states
from voting.models import Ballot, VoteCount
from voting.voters import request_code, verify_code
from voting.window import close_vote
from workflow.definition import ORGANIZER
from workflow.models import WorkflowEvent

PHONES = ["13800138000", "13912345678", "15011112222"]
ADDRESS = "203.0.113.77"


def _voter(phone: str):
    request_code(phone, ADDRESS)
    commit()
    voter = verify_code(phone, last_code(phone)).voter
    commit()
    return voter


@pytest.fixture
def finished(app):
    """The demo campaign, voted on by three verified voters, two categories awarded, certificates issued."""
    demo.build("pingxuan-demo")
    campaign = db.session.scalar(select(Campaign).order_by(Campaign.id))  # the 2017 edition, not 2016
    finalists = db.session.scalars(
        select(Case).where(Case.campaign_id == campaign.id, Case.state.in_(votable_states())).order_by(Case.id)
    ).all()
    assert len(finalists) >= 4
    for n, phone in enumerate(PHONES):
        voter = _voter(phone)
        for case in finalists[: 2 + n]:
            assert cast_vote(voter.id, case.id, ADDRESS, "Mozilla/5.0 test").ballot_id
        commit()
    organizer = db.session.scalar(select(User).where(User.role == ORGANIZER).order_by(User.id))
    close_vote(campaign, organizer)
    commit()
    categories = []
    for case in finalists:
        if case.category not in categories and category_ranking(campaign, case.category):
            categories.append(case.category)
    for category in categories[:2]:
        confirm_awards(campaign, category, organizer, size=1)
        commit()
    ended = today() - timedelta(days=1)
    for notice in [publish_notice(campaign, organizer, category) for category in categories[:2]]:
        notice.starts_on, notice.ends_on = ended - timedelta(days=7), ended  # the notice is over, no objection
    confirm_proposed(campaign, organizer)
    commit()
    issue_batch(campaign, organizer)
    commit()  # eager Celery: the certificates are rendered now
    assert db.session.scalars(select(Certificate)).all()
    return campaign


def _public_paths(client, campaign: Campaign) -> list[str]:
    paths = ["/results", "/results.csv", "/showcase", "/api/v1/results"]
    for case in db.session.scalars(select(Case).where(Case.campaign_id == campaign.id)):
        paths.append(f"/showcase/cases/{case.id}")
    for certificate in db.session.scalars(select(Certificate)):
        paths.append(f"/verify/{certificate.number}")
    return paths


def _page(response) -> bytes:
    """The body, but for the visitor's own CSRF token (a form's per-session secret, not the page's content)."""
    return re.sub(rb'name="csrf_token" value="[^"]*"', b'name="csrf_token"', response.get_data())


@pytest.fixture
def new_database(app, backend: str, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """An empty database to restore into, dropped after the test (each CI run left one behind on the server)."""
    made: list[str] = []
    server = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"], isolation_level="AUTOCOMMIT")

    def new() -> str:
        if backend == "sqlite":
            return f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        name = f"restored_{uuid.uuid4().hex[:10]}"
        with server.connect() as conn:
            conn.execute(sa.text(f"CREATE DATABASE {name}"))
        made.append(name)
        return app.config["SQLALCHEMY_DATABASE_URI"].rsplit("/", 1)[0] + "/" + name

    yield new
    with server.connect() as conn:
        for name in made:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    server.dispose()


def test_round_trip_verifies_and_restores_every_public_page(app, finished, new_database, tmp_path):
    archive = tmp_path / "campaign.zip"
    written = write_archive(finished, archive)
    rollback()
    assert written.tables["ballots"] == 2 + 3 + 4 and written.files >= 3  # attachments and certificate PDFs
    report = verify_archive(archive)
    assert report.valid, (report.integrity.problems, report.differences)
    assert report.checked["ballots"] == 9

    client = app.test_client()
    paths = _public_paths(client, finished)
    before = {path: client.get(path) for path in paths}
    public = [p for p, r in before.items() if r.status_code == 200]
    assert {"/results", "/results.csv", "/showcase", "/api/v1/results"} <= set(public)
    assert (
        sum(p.startswith("/showcase/cases/") for p in public) >= 4
        and sum(p.startswith("/verify/") for p in public) >= 2
    )

    target_url = new_database()
    restored = create_app(base_config(tmp_path / "restored", target_url))
    with restored.app_context():
        upgrade()
        loaded = import_archive(archive)
        commit()
        assert loaded == written.tables
        target = restored.test_client()
        for path in paths:
            after = target.get(path)
            assert after.status_code == before[path].status_code, path
            assert _page(after) == _page(before[path]), f"{path} differs after the restore"
        # the restored database carries on: new rows get new ids, not the archived ones
        campaign = db.session.scalar(select(Campaign))
        assert verify_archive(archive).valid
        assert campaign.year == finished.year
        db.session.remove()
        db.engine.dispose()


def test_the_archive_holds_no_phone_number_or_address_in_clear(app, finished, tmp_path):
    archive = tmp_path / "campaign.zip"
    write_archive(finished, archive)
    with zipfile.ZipFile(archive) as opened:
        everything = b"".join(opened.read(name) for name in opened.namelist() if not name.startswith("files/"))
        assert "tables/ballots.jsonl" in opened.namelist() and "tables/voters.jsonl" in opened.namelist()
        assert "tables/otp_challenges.jsonl" not in opened.namelist()
        assert "tables/sms_messages.jsonl" not in opened.namelist()
        assert "tables/api_tokens.jsonl" not in opened.namelist()
    for secret in [*PHONES, *(p[:3] + "****" + p[-4:] for p in PHONES), ADDRESS]:
        assert secret.encode() not in everything
    assert b"pbkdf2:" not in everything and b"scrypt:" not in everything  # no password hash


def test_an_archive_altered_by_one_byte_fails_and_imports_nothing(app, finished, new_database, tmp_path):
    archive = tmp_path / "campaign.zip"
    write_archive(finished, archive)
    rollback()

    # 1. one byte of an archived row changed, the ZIP rebuilt so that it is still a valid ZIP file
    edited = tmp_path / "edited.zip"
    with zipfile.ZipFile(archive) as source, zipfile.ZipFile(edited, "w") as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "tables/vote_counts.jsonl":
                data = re.sub(rb'"valid": (\d)', lambda m: b'"valid": %d' % (int(m.group(1)) + 1), data, count=1)
            target.writestr(info, data)
    # 2. one byte flipped in the raw file, inside a stored file's data
    flipped = tmp_path / "flipped.zip"
    raw = bytearray(archive.read_bytes())
    with zipfile.ZipFile(archive) as source:
        info = next(i for i in source.infolist() if i.filename.startswith("files/"))
    raw[info.header_offset + 30 + len(info.filename) + 10] ^= 0x01
    flipped.write_bytes(bytes(raw))

    target_url = new_database()
    restored = create_app(base_config(tmp_path / "restored", target_url))
    for bad, wanted in ((edited, "vote_counts.jsonl"), (flipped, info.filename)):
        integrity = check_integrity(bad)
        assert not integrity.intact and any(wanted in problem for problem in integrity.problems)
        assert not verify_archive(bad).valid
        with restored.app_context():
            upgrade()
            with pytest.raises(Invalid):
                import_archive(bad)
            rollback()
            assert database_is_empty()
            db.session.remove()
            db.engine.dispose()


ZONED = re.compile(rb'"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?)\+00:00"')
NAIVE = re.compile(rb'"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?"')


def _as_format_1(source: Path, target: Path) -> None:
    """The archive as this installation wrote it before times carried their zone: every time naive UTC, format
    version 1, the manifest's hashes and signature made for that content (as they were then)."""
    import hashlib

    with zipfile.ZipFile(source) as original:
        entries = {name: original.read(name) for name in original.namelist()}
    manifest = json.loads(entries["manifest.json"])
    for name in [n for n in entries if n.startswith("tables/")]:
        entries[name] = ZONED.sub(rb'"\1"', entries[name])
        manifest["tables"][name.removeprefix("tables/").removesuffix(".jsonl")]["sha256"] = hashlib.sha256(
            entries[name]
        ).hexdigest()
    manifest["format_version"], manifest["created_at"] = 1, manifest["created_at"].removesuffix("+00:00")
    body = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode()
    entries["manifest.json"], entries["manifest.sig"] = body, sign(body).encode()
    with zipfile.ZipFile(target, "w") as old:
        for entry, data in entries.items():
            old.writestr(entry, data)


def _times(campaign_id: int) -> dict[str, list]:
    """The campaign's ballots' and its cases' workflow events' times, as the database holds them (naive UTC)."""
    events = select(WorkflowEvent.id, WorkflowEvent.created_at).join(Case, Case.id == WorkflowEvent.case_id)
    return {"ballots": db.session.execute(select(Ballot.id, Ballot.created_at)
                                          .where(Ballot.campaign_id == campaign_id).order_by(Ballot.id)).all(),
            "events": db.session.execute(events.where(Case.campaign_id == campaign_id)
                                         .order_by(WorkflowEvent.id)).all()}  # fmt: skip


@pytest.mark.parametrize("written_as", ["format 2", "format 1"])
def test_times_state_their_zone_and_archives_from_before_still_verify_and_restore(app, finished, new_database, tmp_path,
                                                                                 written_as):  # fmt: skip
    """A new archive writes every time with its offset (+00:00), the manifest's too; an archive written before
    (naive UTC times, format 1, signed then) still verifies, and both restore the very same instants."""
    archive = tmp_path / "campaign.zip"
    write_archive(finished, archive)
    rollback()
    before = _times(finished.id)
    assert before["ballots"] and before["events"]
    with zipfile.ZipFile(archive) as opened:
        rows = b"".join(opened.read(n) for n in opened.namelist() if n.startswith("tables/"))
        manifest = json.loads(opened.read("manifest.json"))
    assert manifest["format_version"] == 2 and manifest["created_at"].endswith("+00:00")
    assert ZONED.search(rows) and not NAIVE.search(rows), "every archived time names its zone"
    if written_as == "format 1":
        _as_format_1(archive, tmp_path / "old.zip")
        archive = tmp_path / "old.zip"
        with zipfile.ZipFile(archive) as opened:
            assert not ZONED.search(b"".join(opened.read(n) for n in opened.namelist() if n.startswith("tables/")))
    report = verify_archive(archive)
    assert report.valid, (report.integrity.problems, report.differences)

    restored = create_app(base_config(tmp_path / "restored", new_database()))
    with restored.app_context():
        upgrade()
        import_archive(archive)
        commit()
        assert _times(manifest["campaign"]["id"]) == before
        db.session.remove()
        db.engine.dispose()


def test_a_time_with_another_offset_is_read_as_the_same_instant_in_utc():
    column = Ballot.__table__.c.created_at
    assert from_json(column, "2017-05-20T14:30:00+08:00") == datetime(2017, 5, 20, 6, 30)
    assert from_json(column, "2017-05-20T06:30:00") == datetime(2017, 5, 20, 6, 30)  # format 1: naive UTC


def test_verify_reports_counts_that_do_not_follow_from_the_ballots(app, finished, tmp_path):
    row = db.session.scalars(select(VoteCount).join(Case, Case.id == VoteCount.case_id)).first()
    row.valid += 5
    commit()
    archive = tmp_path / "campaign.zip"
    write_archive(finished, archive)
    rollback()
    report = verify_archive(archive)
    assert report.integrity.intact and report.integrity.signature_valid and not report.valid
    assert any(re.search(rf"\b{row.case_id}\b", d) for d in report.differences), report.differences


def test_an_archive_of_a_newer_format_is_refused_with_why(app, finished, tmp_path):
    """A format this installation does not know may mean other things: it is neither verified nor restored."""
    archive = tmp_path / "campaign.zip"
    write_archive(finished, archive)
    rollback()
    with zipfile.ZipFile(archive) as original:
        entries = {name: original.read(name) for name in original.namelist()}
    manifest = json.loads(entries["manifest.json"])
    manifest["format_version"] = 3
    body = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode()
    entries["manifest.json"], entries["manifest.sig"] = body, sign(body).encode()  # signed: only the format is new
    newer = tmp_path / "newer.zip"
    with zipfile.ZipFile(newer, "w") as written:
        for entry, data in entries.items():
            written.writestr(entry, data)
    for action in (verify_archive, import_archive):
        with pytest.raises(Invalid, match="格式版本为 3，本系统可读取的格式版本为 1 至 2"):
            action(newer)
    assert database_is_empty() is False and verify_archive(archive).valid


def test_without_the_key_the_published_manifest_hash_stands_in(app, finished, tmp_path):
    archive = tmp_path / "campaign.zip"
    written = write_archive(finished, archive)
    rollback()
    other = create_app({**base_config(tmp_path / "other", f"sqlite:///{tmp_path / 'other.sqlite3'}"),
                        "SECRET_KEY": "another installation"})  # fmt: skip
    with other.app_context():  # another office's installation: its own key, none of this campaign
        upgrade()
        assert not verify_archive(archive).valid
        assert verify_archive(archive, manifest_sha256=written.manifest_sha256).valid
        with pytest.raises(Invalid):
            import_archive(archive)  # restoring needs the key the certificates and hashes were made with
        rollback()
        db.session.remove()
        db.engine.dispose()


def test_cli_export_verify_import(app, finished, tmp_path):
    target = tmp_path / "cli.zip"
    runner = app.test_cli_runner()
    done = runner.invoke(args=["pingxuan", "archive", "export", str(finished.year), "-o", str(target)])
    assert done.exit_code == 0, done.output
    published = re.search(r"publish it\): ([0-9a-f]{64})", done.output).group(1)
    done = runner.invoke(args=["pingxuan", "archive", "verify", str(target)])
    assert done.exit_code == 0 and published in done.output and "Verified" in done.output, done.output
    done = runner.invoke(args=["pingxuan", "archive", "import", str(target)])
    assert done.exit_code == 1 and "Not imported" in done.output and "Imported" not in done.output


def test_back_office_makes_the_archive_in_the_background(app, finished, client):
    organizer = db.session.scalar(select(User).where(User.role == ORGANIZER))
    login(client, organizer)
    client.get("/language/en")
    page = client.post("/admin/archives/start", data={"campaign": finished.id}, follow_redirects=True)
    html = page.get_data(as_text=True)
    digest = re.search(r'class="manifest-sha256">([0-9a-f]{64})<', html).group(1)
    link = re.search(r'href="(/admin/archives/\d+/download)"', html).group(1)
    download = client.get(link)
    assert download.status_code == 200 and download.mimetype == "application/zip"
    path = Path(app.config["STORAGE_DIR"]) / "downloaded.zip"
    path.write_bytes(download.data)
    assert check_integrity(path).manifest_sha256 == digest
    assert zipfile.ZipFile(io.BytesIO(download.data)).testzip() is None


def _forge(source: Path, target: Path, drop_key: bool = False, key: str | None = None) -> str:
    """The forger's archive: one more vote for a case, the table's hash rewritten in the manifest, signed with the
    forger's own key; returns the forger's manifest SHA-256 (what they would publish alongside)."""
    import hashlib
    import hmac
    import json

    with zipfile.ZipFile(source) as original:
        entries = {name: original.read(name) for name in original.namelist()}
    manifest = json.loads(entries["manifest.json"])
    name = "tables/vote_counts.jsonl"
    lines = entries[name].decode().splitlines()
    first = json.loads(lines[0])
    first["valid"] += 1000
    lines[0] = json.dumps(first, ensure_ascii=False, sort_keys=True)
    entries[name] = ("\n".join(lines) + "\n").encode()
    manifest["tables"]["vote_counts"]["sha256"] = hashlib.sha256(entries[name]).hexdigest()
    if drop_key:
        manifest.pop("key", None)
    if key:
        manifest["key"] = key  # the forger's own key's fingerprint
    body = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode()
    entries["manifest.json"] = body
    entries["manifest.sig"] = hmac.new(b"the forger's key", body, hashlib.sha256).hexdigest().encode()
    with zipfile.ZipFile(target, "w") as forged:
        for entry, data in entries.items():
            forged.writestr(entry, data)
    return hashlib.sha256(body).hexdigest()


def test_with_the_key_a_forger_s_manifest_hash_does_not_stand_in_for_the_signature(app, finished, tmp_path):
    genuine, forged, stripped = tmp_path / "genuine.zip", tmp_path / "forged.zip", tmp_path / "stripped.zip"
    written = write_archive(finished, genuine)
    rollback()
    forger_hash = _forge(genuine, forged)
    report = verify_archive(forged, manifest_sha256=forger_hash)
    assert not report.integrity.signature_valid and not report.valid
    stripped_hash = _forge(genuine, stripped, drop_key=True)  # no fingerprint: the campaign here says whose it is
    assert not verify_archive(stripped, manifest_sha256=stripped_hash).integrity.signature_valid
    # the forger names their own key's fingerprint: this installation's campaign is still judged by this key
    foreign = tmp_path / "foreign.zip"
    foreign_hash = _forge(genuine, foreign, key="0f0f0f0f0f0f0f0f")
    assert not verify_archive(foreign, manifest_sha256=foreign_hash).integrity.signature_valid
    # the genuine archive's signature holds with its published hash; with another hash, the extra check fails
    assert verify_archive(genuine, manifest_sha256=written.manifest_sha256).integrity.signature_valid
    assert not verify_archive(genuine, manifest_sha256=forger_hash).integrity.signature_valid
    done = app.test_cli_runner().invoke(
        args=["pingxuan", "archive", "verify", str(forged), "--manifest-sha256", forger_hash]
    )
    assert done.exit_code == 1 and "NOT verified" in done.output and "Signature: valid" not in done.output
    done = app.test_cli_runner().invoke(
        args=["pingxuan", "archive", "verify", str(foreign), "--manifest-sha256", foreign_hash]
    )
    assert done.exit_code == 1 and "NOT verified" in done.output and "Signature: valid" not in done.output


def test_a_campaign_with_an_upheld_objection_and_a_move_up_verifies(app, make, tmp_path):
    """The notice's decisions are replayed by the recount: a proposed award is revoked by an upheld objection, the
    next case moves up with its own notice, the awards are confirmed; the archive of that campaign verifies."""
    from awards.models import Notice, Objection
    from awards.objections import decide_objection, lodge_objection
    from tests.awards.test_notice import PHONE, verified
    from tests.awards.test_pages import close_vote as close
    from tests.awards.test_pages import finalists

    cases = finalists(make, spec={"B": (90, 0), "A": (80, 0), "C": (70, 0)})  # ranked by the experts: B, A, C
    campaign, organizer = cases["A"].campaign, make.organizer()
    close(campaign)
    confirm_awards(campaign, cases["A"].category, organizer, size=2)  # B and A proposed, C not awarded
    notice = publish_notice(campaign, organizer, cases["A"].category)
    notice.starts_on, notice.ends_on = today(), today() + timedelta(days=7)  # running today, whatever the weekday
    commit()
    top = decided_ranking_ids(campaign, cases["A"].category)
    objection = lodge_objection(cases["B"], verified(), PHONE, "copied", "申报材料抄袭了另一城市的案例，证据见附件。")
    commit()
    decide_objection(objection, organizer, upheld=True, reason="抄袭属实。", move_up=True)
    commit()
    assert db.session.get(Objection, objection.id).moved_up_case_id == cases["C"].id
    ended = today() - timedelta(days=1)
    for each in db.session.scalars(select(Notice).where(Notice.campaign_id == campaign.id)):
        each.starts_on, each.ends_on = ended - timedelta(days=7), ended
    commit()
    confirm_proposed(campaign, organizer)
    commit()
    assert {cases["A"].state, cases["C"].state, cases["B"].state} == {"awarded", "not_awarded"}
    assert cases["B"].state == "not_awarded" and top[0] == cases["B"].id

    archive = tmp_path / "campaign.zip"
    write_archive(campaign, archive)
    rollback()
    report = verify_archive(archive)
    assert report.integrity.intact, report.integrity.problems
    assert not report.differences and report.valid, report.differences
    done = app.test_cli_runner().invoke(args=["pingxuan", "archive", "verify", str(archive)])
    assert done.exit_code == 0 and "difference" not in done.output, done.output


def decided_ranking_ids(campaign, category) -> list[int]:
    from awards.ranking import decided_ranking

    return [r.case.id for r in decided_ranking(campaign, category)]
