"""File storage: the local folder and S3-compatible object storage (a real SeaweedFS), behind one interface."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest
from sqlalchemy import select

from awards import certificates
from awards.models import Certificate
from cases.models import Attachment
from pingxuan import storage
from pingxuan.db import commit
from pingxuan.extensions import db
from tests import services
from tests.awards.test_certificates import awarded_case
from tests.factories import PDF, login


@pytest.fixture(params=["local", "s3"])
def app_config(request, tmp_path, database_url) -> dict:
    from tests.conftest import base_config

    config = base_config(tmp_path, database_url)
    if request.param == "s3":
        endpoint = request.getfixturevalue("s3_endpoint")
        config.update(STORAGE_URL=request.getfixturevalue("s3_storage_url"), S3_ENDPOINT=endpoint)
    return config


def objects(app) -> set[str]:
    """What the backend holds, looked at from outside the application."""
    url = app.config["STORAGE_URL"]
    if not url:
        from pathlib import Path

        return {p.name for p in Path(app.config["STORAGE_DIR"]).rglob("*") if p.is_file()}
    bucket, prefix = url.removeprefix("s3://").split("/", 1)
    listing = services.s3_client(app.config["S3_ENDPOINT"]).list_objects_v2(Bucket=bucket, Prefix=prefix + "/")
    return {item["Key"].rsplit("/", 1)[-1] for item in listing.get("Contents", [])}


def test_store_once_read_back_and_stream_with_etag(app, client):
    data = "证书 certificate ".encode() * 100_000  # 1.7 MB: more than one chunk, spooled to disk
    digest = storage.store(data)
    assert storage.store(data) == digest == hashlib.sha256(data).hexdigest()
    assert storage.read(digest) == data and digest in objects(app)
    sha, size = storage.store_stream(io.BytesIO(data))
    assert (sha, size) == (digest, len(data))
    with app.test_request_context():
        response = storage.send(digest, "application/pdf", "证书.pdf")
        assert response.is_streamed and response.content_length == len(data)
        assert b"".join(response.response) == data
        assert "filename*=UTF-8''%E8%AF%81%E4%B9%A6.pdf" in response.headers["Content-Disposition"]
    with app.test_request_context(headers={"If-None-Match": f'"{digest}"'}):
        assert storage.send(digest, "application/pdf").status_code == 304
    with pytest.raises(FileNotFoundError):
        storage.read("0" * 64)
    storage.check()


def test_uploads_certificates_and_the_zip_go_to_the_backend(app, client, make):
    me = make.applicant()
    case = make.case(owner=me, complete=False)
    login(client, me)
    response = client.post(
        f"/cases/{case.id}/attachments",
        data={"kind": "document", "file": (io.BytesIO(PDF), "申报书.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    attachment = db.session.scalars(select(Attachment).where(Attachment.case_id == case.id)).one()
    assert attachment.sha256 in objects(app)
    download = client.get(f"/cases/{case.id}/attachments/{attachment.id}?download=1")
    assert download.status_code == 200 and download.data == PDF

    awarded = awarded_case(make)
    batch = certificates.issue_batch(awarded.campaign, make.organizer())
    commit()
    certificate = db.session.scalar(select(Certificate).where(Certificate.case_id == awarded.id))
    assert certificate.sha256 in objects(app)
    login(client, make.organizer())
    response = client.get(f"/admin/awards/certificates/batches/{batch.id}/zip")
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert [archive.read(name) for name in archive.namelist()] == [certificates.pdf_of(certificate)]
    assert hashlib.sha256(response.data).hexdigest() in objects(app)  # the ZIP was written to storage
    again = client.get(f"/admin/awards/certificates/batches/{batch.id}/zip")
    assert again.data == response.data  # the same batch gives the same ZIP, stored once
