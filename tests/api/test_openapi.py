"""The OpenAPI document: valid OpenAPI 3 in structure, and complete: every /api/v1 route is documented."""

from __future__ import annotations

import re

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "options", "head", "trace"}


def _resolve(spec: dict, ref: str) -> object:
    assert ref.startswith("#/"), ref
    node: object = spec
    for part in ref[2:].split("/"):
        assert isinstance(node, dict) and part in node, f"unresolvable $ref {ref}"
        node = node[part]
    return node


def _refs(node: object):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _check_structure(spec: dict) -> list[str]:
    """The parts of the OpenAPI 3.0 schema that a hand-written check can cover without a validator package."""
    problems: list[str] = []
    if not re.fullmatch(r"3\.\d+\.\d+", spec.get("openapi", "")):
        problems.append("openapi version is not 3.x.y")
    if not spec.get("info", {}).get("title") or not spec.get("info", {}).get("version"):
        problems.append("info.title and info.version are required")
    operation_ids: set[str] = set()
    for path, item in spec.get("paths", {}).items():
        if not path.startswith("/"):
            problems.append(f"{path}: paths start with /")
        templated = set(re.findall(r"{([^}]+)}", path))
        shared = item.get("parameters", [])
        for method, operation in item.items():
            if method == "parameters":
                continue
            if method not in HTTP_METHODS:
                problems.append(f"{path}: unknown key {method}")
                continue
            if not operation.get("responses"):
                problems.append(f"{method} {path}: no responses")
            for code in operation.get("responses", {}):
                if code != "default" and not re.fullmatch(r"[1-5]\d\d", str(code)):
                    problems.append(f"{method} {path}: bad response code {code}")
            params = [*shared, *operation.get("parameters", [])]
            params = [_resolve(spec, p["$ref"]) if "$ref" in p else p for p in params]
            for param in params:
                if param.get("in") not in {"path", "query", "header", "cookie"}:
                    problems.append(f"{method} {path}: parameter {param.get('name')} in {param.get('in')}")
                if param.get("in") == "path" and param.get("required") is not True:
                    problems.append(f"{method} {path}: path parameter {param.get('name')} must be required")
            declared = {p["name"] for p in params if p.get("in") == "path"}
            if declared != templated:
                problems.append(f"{method} {path}: path parameters {sorted(declared)} != {sorted(templated)}")
            if "requestBody" in operation and not operation["requestBody"].get("content"):
                problems.append(f"{method} {path}: requestBody without content")
            op_id = operation.get("operationId")
            if op_id:
                if op_id in operation_ids:
                    problems.append(f"duplicate operationId {op_id}")
                operation_ids.add(op_id)
            for requirement in operation.get("security", spec.get("security", [])):
                for scheme in requirement:
                    if scheme not in spec.get("components", {}).get("securitySchemes", {}):
                        problems.append(f"{method} {path}: unknown security scheme {scheme}")
    for ref in _refs(spec):
        try:
            _resolve(spec, ref)
        except AssertionError as exc:
            problems.append(str(exc))
    return problems


def test_openapi_document_is_valid_and_complete(app, client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert _check_structure(spec) == []
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": spec["components"]["securitySchemes"]["bearerAuth"]["description"],
    }

    documented = {
        (path, method.upper()) for path, item in spec["paths"].items() for method in item if method in HTTP_METHODS
    }
    routed = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint.startswith("api-docs."):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        routed |= {(path, method) for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routed, "no API routes registered"
    assert routed - documented == set(), "routes missing from the OpenAPI document"
    assert documented - routed == set(), "documented operations without a route"

    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            assert operation.get("summary"), f"{method} {path} has no summary"
            assert operation.get("security"), f"{method} {path} has no security requirement"
            assert "401" in operation["responses"], f"{method} {path} does not document 401"
            success = [c for c in operation["responses"] if c.startswith("2")]
            assert success, f"{method} {path} documents no success response"
            error = _resolve(spec, operation["responses"]["default"]["$ref"])
            schema = _resolve(spec, error["content"]["application/json"]["schema"]["$ref"])
            assert {"message", "errors", "reasons"} <= set(schema["properties"])


def test_openapi_documents_multipart_upload(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    body = spec["paths"]["/api/v1/cases/{case_id}/attachments"]["post"]["requestBody"]
    schema = _resolve(spec, body["content"]["multipart/form-data"]["schema"]["$ref"])
    assert schema["properties"]["file"] == {"type": "string", "format": "binary"}
    assert set(schema["required"]) == {"kind", "file"}
