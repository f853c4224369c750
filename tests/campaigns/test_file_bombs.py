"""A campaign file cannot hold a worker (issue 18): a few hundred bytes of YAML aliases (a "billion laughs") or a
file of many megabytes are refused at once with the reason, by the API, the back office and the CLI."""

from __future__ import annotations

import io
import time

from accounts.operations import create_api_token
from pingxuan.db import commit
from tests.factories import login

BOMB = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]" for i in range(8)]
    + ["campaign:", "  year: 2030", "  title_zh: *i"]
)
HUGE = "campaign:\n  year: 2030\n" + "# padding\n" * 1_400_000  # 14 MB


def test_the_api_refuses_an_alias_bomb_and_a_huge_file(app, client, make):
    assert len(BOMB) < 600
    token, _record = create_api_token(make.organizer(), "import")
    commit()
    for text, reason in ((BOMB, "aliases"), (HUGE, "At most 1024 KB")):
        started = time.monotonic()
        answer = client.post("/api/v1/campaigns/import", json={"yaml": text, "dry_run": True},
                             headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"})  # fmt: skip
        assert answer.status_code == 422 and reason in answer.get_json()["errors"]["file"]
        assert time.monotonic() - started < 10


def test_the_back_office_and_the_cli_refuse_them_too(app, client, make, tmp_path):
    make.campaign()
    login(client, make.organizer())
    client.get("/language/en")
    page = client.post("/admin/campaign-file/import", data={"file": (io.BytesIO(BOMB.encode()), "c.yaml"),
                                                             "dry_run": "1"})  # fmt: skip
    assert page.status_code < 500 and "aliases" in page.get_data(as_text=True)
    target = tmp_path / "bomb.yaml"
    target.write_text(BOMB)
    make.admin()
    refused = app.test_cli_runner().invoke(args=["pingxuan", "campaign", "import", str(target), "--dry-run"])
    assert refused.exit_code == 1 and "*name" in refused.output
