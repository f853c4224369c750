"""The whole OpenAPI document under schemathesis (issue 12 item 5, issue 14): no 5xx and responses that match
the schema, as an organizer, as an applicant and anonymously, on PostgreSQL; then every operation that takes a
body gets deeply nested JSON and integers beyond 64 bits, which schemathesis does not generate by itself.

Bounded: a few examples per operation, a fixed seed, no stateful phase (it would revoke its own token through
``DELETE /me/tokens/{id}``; those paths and ``/me/password`` are excluded for the same reason).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from accounts.operations import create_api_token
from pingxuan.db import commit

SEED = 20171
EXAMPLES = 2


@pytest.fixture
def server(app):
    """The app served over HTTP in a thread (schemathesis's CLI runs in its own process)."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(10)


def _schemathesis(base: str, token: str | None, tmp_path: Path) -> subprocess.CompletedProcess:
    binary = shutil.which("schemathesis", path=str(Path(sys.executable).parent)) or "schemathesis"
    command = [
        binary, "run", f"{base}/api/v1/openapi.json",
        "--checks", "not_a_server_error,response_schema_conformance",
        "--max-examples", str(EXAMPLES), "--seed", str(SEED), "--phases", "examples,coverage,fuzzing",
        "--exclude-path-regex", r"/me/(tokens/\{[^}]+\}|password)$",
        "--request-timeout", "60", "--no-color", "--suppress-health-check", "all",
        "--generation-deterministic",
    ]  # fmt: skip
    if token:
        command += ["-H", f"Authorization: Bearer {token}"]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path)


@pytest.mark.postgresql_only
def test_schemathesis_finds_no_server_error_and_no_undocumented_response(app, make, server, tmp_path):
    make.case("public_vote")
    applicant = make.applicant()
    make.case("draft", owner=applicant)
    organizer_token, _ = create_api_token(make.organizer(), "schemathesis")
    applicant_token, _ = create_api_token(applicant, "schemathesis")
    commit()
    failures = []
    for who, token in (("organizer", organizer_token), ("applicant", applicant_token), ("anonymous", None)):
        run = _schemathesis(server, token, tmp_path)
        if run.returncode != 0:
            found = run.stdout.split("=== WARNINGS ===")[0].split("=== FAILURES ===")[-1]
            failures.append(f"--- as {who} ---\n{found[:8000]}\n{run.stderr[-2000:]}")
    assert not failures, "\n".join(failures)


@pytest.mark.postgresql_only
def test_every_body_taking_operation_survives_deep_nesting_and_huge_integers(app, make, client):
    organizer = make.organizer()
    applicant = make.applicant()
    make.case("draft", owner=applicant)
    tokens = [create_api_token(organizer, "probe")[0], create_api_token(applicant, "probe")[0], None]
    commit()
    document = client.get("/api/v1/openapi.json").get_json()
    deep = "[" * 5000 + "]" * 5000
    bodies = [deep, '{"a": ' + deep + "}", '{"id": 18446744073709551617, "version": 99999999999999999999999}']
    probed = 0
    for template, operations in document["paths"].items():
        path = template.replace("{", "").replace("}", "")
        for name in [n for n in ("post", "put", "patch") if n in operations]:
            concrete = path
            for parameter in operations[name].get("parameters", []) + operations.get("parameters", []):
                if parameter.get("in") == "path":
                    concrete = concrete.replace(parameter["name"], "1", 1)
            for token in tokens:
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                for body in bodies:
                    response = client.open(
                        concrete, method=name.upper(), data=body, content_type="application/json", headers=headers
                    )
                    assert response.status_code < 500, (name, concrete, body[:40], response.get_data(as_text=True))
                    probed += response.status_code != 404
    assert probed > 100  # the operations were reached, not missed
