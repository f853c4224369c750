"""Every datetime of the API is RFC 3339 with its offset, as the OpenAPI document's ``date-time`` promises.

The test walks the document: it calls every GET path it can fill with real ids, as each kind of caller, and
checks every value its response schema declares ``date-time``; a second check makes sure no schema of the API
uses a datetime field that could print a naive value.
"""

from __future__ import annotations

import re

from marshmallow import class_registry, fields

from api.fields import UtcDateTime
from pingxuan.db import commit
from pingxuan.extensions import db
from reviewers.models import ACCEPTED, Assignment

RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")
BINARY = ("/pdf", "/zip", "/attachments/")


def _deref(spec: dict, node: dict) -> tuple[str | None, dict]:
    name = None
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = spec["components"]["schemas"][name]
    return name, node


def _datetimes(spec: dict, schema: dict, value: object, where: str, found: list[tuple[str, object]]) -> None:
    """Collect (schema.field, value) for every value the schema declares date-time."""
    name, schema = _deref(spec, schema)
    where = name or where
    if schema.get("format") == "date-time":
        found.append((where, value))
    elif isinstance(value, list) and "items" in schema:
        for item in value:
            _datetimes(spec, schema["items"], item, where, found)
    elif isinstance(value, dict):
        for key, prop in schema.get("properties", {}).items():
            if key in value and value[key] is not None:
                _datetimes(spec, prop, value[key], f"{where}.{key}", found)


def test_every_listed_datetime_carries_an_offset(app, client, make, bearer):
    owner, organizer, expert = make.applicant(), make.organizer(), make.expert()
    case = make.case("expert_review", owner=owner)
    db.session.add(Assignment(case_id=case.id, expert_id=expert.id, status=ACCEPTED))
    commit()
    client.post(f"/api/v1/cases/{make.case('draft', owner=owner).id}/transitions/submit", headers=bearer(owner))
    client.post("/api/v1/unit/invitations", json={"email": "colleague@example.org"}, headers=bearer(owner))
    spec = client.get("/api/v1/openapi.json").get_json()
    ids = {"case_id": case.id, "category_id": case.category_id, "campaign_id": case.campaign_id, "name": "to_check"}

    found: list[tuple[str, object]] = []
    for path, item in spec["paths"].items():
        if "get" not in item or any(part in path for part in BINARY):
            continue
        try:
            url = path.format(**ids)
        except KeyError:
            continue  # an id this data set does not have (batches, proposals, books)
        response = item["get"]["responses"].get("200", {}).get("content", {}).get("application/json")
        if response is None:
            continue
        for user in (owner, organizer, expert):
            answer = client.get(url, headers=bearer(user))
            if answer.status_code == 200:
                _datetimes(spec, response["schema"], answer.get_json(), path, found)

    wrong = [(where, value) for where, value in found if not isinstance(value, str) or not RFC3339.fullmatch(value)]
    assert not wrong
    seen = {where.split(".")[0] for where, _value in found}
    assert {"Token", "Case", "CaseSummary", "Event", "Notification"} <= seen, seen


def test_no_schema_of_the_api_prints_a_naive_datetime(app):
    """A datetime field that is not UtcDateTime would print what the database holds: UTC without an offset."""
    naive = []
    for name, classes in class_registry._registry.items():
        for schema in classes:
            if not schema.__module__.startswith("api.") or "." not in name:
                continue
            for field_name, field in schema._declared_fields.items():
                if isinstance(field, fields.DateTime) and not isinstance(field, UtcDateTime):
                    naive.append(f"{name}.{field_name}")
    assert not naive
