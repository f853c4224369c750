"""Pictures leave with their pixels only (issue 18): an anonymous objector's photo reaches the unit without its
EXIF GPS position, camera model, XMP or comment, and the public copy of a case photo drops the comment too."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

from PIL import Image

from awards.objections import Upload, forward_objection, lodge_objection
from cases.models import Attachment
from cases.operations import attach_file
from pingxuan.clock import today
from pingxuan.db import commit
from pingxuan.extensions import db
from tests.api.conftest import bearer  # noqa: F401  (fixture)
from tests.awards.test_notice import PHONE, proposed, verified
from tests.factories import login

XMP = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
       b'<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="36,4.2N"/></rdf:RDF>'
       b"</x:xmpmeta>")  # fmt: skip
SECRETS = (b"Exif", b"GPS", b"Pixel 8 Pro", b"adobe:ns:meta", b"36,4.2N", b"GPS 36.07N 120.37E")


def telling_photo() -> bytes:
    """A JPEG as a phone makes it, with where and with what it was taken: EXIF (GPS, camera), XMP, a comment."""
    image = Image.new("RGB", (64, 48), (200, 120, 40))
    exif = Image.Exif()
    exif[0x0110] = "Pixel 8 Pro"  # camera model
    exif[0x8825] = {1: "N", 2: (36.0, 4.0, 12.0), 3: "E", 4: (120.0, 22.0, 12.0)}  # GPS
    out = BytesIO()
    image.save(out, "JPEG", exif=exif, xmp=XMP, comment=b"GPS 36.07N 120.37E")
    data = out.getvalue()
    assert all(secret in data for secret in SECRETS)  # the original tells everything
    return data


def assert_only_pixels(data: bytes) -> None:
    assert data.startswith(b"\xff\xd8")
    with Image.open(BytesIO(data)) as image:
        assert image.size == (64, 48) and "comment" not in image.info and "xmp" not in image.info
        assert not image.getexif()
    for secret in SECRETS:
        assert secret not in data, secret
    assert b"\xff\xfe" not in data[: data.index(b"\xff\xda")]  # no COM segment before the scan


def test_the_unit_gets_an_anonymous_objector_s_photo_without_metadata(app, client, make, bearer):  # noqa: F811
    cases, organizer, _notice = proposed(make)
    a = cases["A"]
    photo = telling_photo()
    objection = lodge_objection(a, verified(), PHONE, "cutoff", "该系统2017年5月才上线，晚于截止日期。", anonymous=True,
                                uploads=[Upload("现场.jpg", photo)])  # fmt: skip
    commit()
    forward_objection(objection, organizer, "请说明上线时间。", today() + timedelta(days=3))
    commit()
    file_id, unit = objection.files[0].id, a.created_by
    url = f"/api/v1/objections/{objection.id}/files/{file_id}"
    served = client.get(url, headers=bearer(unit))
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert_only_pixels(served.get_data())
    login(client, unit)
    page = client.get(f"/objections/{objection.id}/files/{file_id}")
    assert page.status_code == 200
    assert_only_pixels(page.get_data())
    assert client.get(url, headers=bearer(organizer)).get_data() == photo  # the office keeps the evidence as lodged


def test_the_public_copy_of_a_case_photo_has_no_comment_gps_or_camera(app, client, make):
    case = make.case("draft")
    attachment = attach_file(case, case.created_by, "photo", "现场.jpg", telling_photo(), visibility="public")
    commit()
    make.advance(case, "public_vote")
    assert db.session.get(Attachment, attachment.id).display_sha256
    served = client.get(f"/cases/{case.id}/attachments/{attachment.id}")
    assert served.status_code == 200
    assert_only_pixels(served.get_data())
