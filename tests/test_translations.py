"""Every user-facing string ships in Simplified Chinese: the catalogue covers everything the code says."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from pingxuan.paths import PROJECT_ROOT

SOURCES = tuple(sorted(p.parent.name for p in PROJECT_ROOT.glob("*/__init__.py") if p.parent.name != "tests"))
CATALOGUE = PROJECT_ROOT / "pingxuan" / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w*\}")


def messages_in_code() -> dict[str, str]:
    found: dict[str, str] = {}
    for source in SOURCES:
        for filename, _lineno, message, _comments, _context in extract_from_dir(
            PROJECT_ROOT / source, METHODS, keywords=KEYWORDS
        ):
            msgid = message[0] if isinstance(message, tuple) else message
            found.setdefault(msgid, f"{source}/{filename}")
    return found


def test_every_message_has_a_chinese_translation():
    with Path(CATALOGUE).open("rb") as handle:
        catalogue = read_po(handle)
    missing, fuzzy, broken = [], [], []
    for msgid, where in sorted(messages_in_code().items()):
        entry = catalogue.get(msgid)
        text = entry.string if entry is not None else ""
        text = text[0] if isinstance(text, tuple) else text
        if not text:
            missing.append(f"{where}: {msgid!r}")
        elif entry.fuzzy:
            fuzzy.append(msgid)
        elif sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(text)):
            broken.append(f"{msgid!r} → {text!r}")
    assert not missing, f"{len(missing)} messages have no Chinese (./dev.sh i18n, then translate):\n" + "\n".join(
        missing[:40]
    )
    assert not fuzzy, f"fuzzy translations: {fuzzy[:20]}"
    assert not broken, "placeholders differ:\n" + "\n".join(broken)
