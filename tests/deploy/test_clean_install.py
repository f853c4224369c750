"""A checkout installed with a plain ``pip install .`` (no dev.sh, no compiled catalogue in the tree) serves
Chinese: setup.py compiles the catalogues into the build. The app runs from the installed package in a
temporary venv, away from the checkout, and its Chinese pages hold no English message."""

from __future__ import annotations

import json
import os
import re
import shutil
import site
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from pingxuan.paths import PROJECT_ROOT

PAGES = ("/", "/login", "/register", "/forgot")
SCRIPT = """
import json, sys
import pingxuan
from pingxuan.extensions import db
from shell import create_app
app = create_app()
with app.app_context():
    db.create_all()
client = app.test_client()
pages = {path: client.get(path).get_data(as_text=True) for path in sys.argv[1:]}
print(json.dumps({"package": pingxuan.__file__, "pages": pages}))
"""


def english_messages() -> list[str]:
    """The catalogue's msgids that are sentences or phrases (a single word may be a name, such as "English")."""
    with (PROJECT_ROOT / "pingxuan/translations/zh_Hans_CN/LC_MESSAGES/messages.po").open("rb") as handle:
        catalog = read_po(handle)
    return [m.id for m in catalog if isinstance(m.id, str) and " " in m.id.strip() and "%(" not in m.id and m.string]


def test_plain_pip_install_serves_chinese(tmp_path):
    source = tmp_path / "checkout"
    left_out = (".git", ".venv", "instance", "node_modules", "*.mo", "__pycache__", "*.egg-info", "build")
    shutil.copytree(PROJECT_ROOT, source, ignore=shutil.ignore_patterns(*left_out, "test-artifacts"))
    assert not list(source.rglob("*.mo"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    packages = subprocess.run([str(python), "-c", "import site; print(site.getsitepackages()[0])"], check=True,
                              capture_output=True, text=True).stdout.strip()  # fmt: skip
    # The dependencies come from the shared venv (appended to sys.path, after the new venv's own packages).
    Path(packages, "dependencies.pth").write_text(site.getsitepackages()[0] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", str(source)],
                   check=True, timeout=300)  # fmt: skip
    assert list(Path(packages, "pingxuan", "translations").rglob("messages.mo")), "compiled at build"

    run = tmp_path / "run"
    run.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PINGXUAN_")}
    env.pop("PYTHONPATH", None)
    env["PINGXUAN_INSTANCE_PATH"] = str(run / "instance")
    out = subprocess.run([str(python), "-c", SCRIPT, *PAGES], cwd=run, env=env, check=True, capture_output=True,
                         text=True, timeout=120).stdout  # fmt: skip
    result = json.loads(out.strip().splitlines()[-1])
    assert result["package"].startswith(packages), "the installed package, not the checkout"
    english = english_messages()
    for path, page in result["pages"].items():
        text = re.sub(r"<[^>]+>", " ", page)
        assert "评选" in text, path
        found = [message for message in english if message in text]
        assert not found, f"{path} shows English messages: {found}"
