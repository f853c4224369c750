"""Issue 23: the dossier's fields are declared once (cases/dossier.py), like the workflow's states. No module,
template or YAML file outside the declaration reads or writes a field of the 2017 form by its key (``case.summary``,
``{"app_name": ...}``): pages, API, books, exports, archives, demo data and the test factories read values through
the declaration (``dossier.value``, ``dossier.values``, ``public_values``), so a campaign may drop or reshape any of
them. The benchmark's fixed-form baseline (bench/dossier_form*.*) keeps them on purpose."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from cases.dossier import default_form
from tests.test_architecture import PROJECT_ROOT, TEMPLATE_SUFFIXES, project_files

DECLARATION = PROJECT_ROOT / "cases" / "dossier.py"
ALLOWED = {DECLARATION, PROJECT_ROOT / "bench" / "dossier_form.py", PROJECT_ROOT / "bench" / "dossier_form_fixed.html"}
SCANNED_TESTS = (PROJECT_ROOT / "tests" / "factories.py",)  # the factories every test builds cases with
# The keys of the fields the rules do not use (title, category, … keep their columns and may be named).
KEYS = frozenset(item.key for item in default_form().value_fields if not item.core)


def _function_names() -> set[str]:
    found: set[str] = set()
    for path in project_files(".py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found |= {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    return found


# Keys that are also ordinary words of other things (an OpenAPI operation's summary and description, a
# transition's effects, a function of the same name such as pingxuan.links.public_url): named alone they are
# not a field; named on a case or beside another key they are.
COMMON = (frozenset({"summary", "description", "effects"}) | _function_names()) & KEYS
DISTINCT = KEYS - COMMON


def _on_a_case(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and "case" in node.id.lower()


def python_listing(text: str) -> set[str]:
    """The dossier keys a Python source names as identifiers: an attribute or string of a distinctive key, any
    key read on a case, or an ordinary word named beside a distinctive key (one dict, call or class)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Attribute) and (
            node.attr in DISTINCT or (node.attr in COMMON and _on_a_case(node.value))
        ):
            found.add(node.attr)
        elif isinstance(node, ast.Constant) and node.value in DISTINCT:
            found.add(node.value)
        group: set[str] = set()
        if isinstance(node, ast.Dict):
            group = {k.value for k in node.keys if isinstance(k, ast.Constant) and k.value in KEYS}
        elif isinstance(node, ast.Call):
            group = {k.arg for k in node.keywords if k.arg in KEYS}
        elif isinstance(node, ast.ClassDef):
            group = {t.id for s in node.body if isinstance(s, ast.Assign) for t in s.targets if isinstance(t, ast.Name)}
            group |= {s.target.id for s in node.body if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)}
            group &= KEYS
        if group & DISTINCT:
            found |= group
    return found


_ON_A_CASE = re.compile(r"\b\w*case\w*\.(" + "|".join(sorted(KEYS)) + r")\b", re.IGNORECASE)
_NAMED = re.compile(r"""(?:\.|\[["']|["'])(""" + "|".join(sorted(DISTINCT)) + r")\b")


def template_listing(text: str) -> set[str]:
    return {m.group(1) for m in _ON_A_CASE.finditer(text)} | {m.group(1) for m in _NAMED.finditer(text)}


def listing(path: Path) -> set[str]:
    text = path.read_text(encoding="utf-8", errors="replace")
    return python_listing(text) if path.suffix == ".py" else template_listing(text)


def test_the_dossier_fields_are_named_only_in_the_declaration():
    assert {"summary", "app_name", "construction_unit", "investment"} <= KEYS and "title" not in KEYS
    offenders = {}
    for path in [*project_files(".py", ".yaml", ".yml", *TEMPLATE_SUFFIXES), *SCANNED_TESTS]:
        if path in ALLOWED:
            continue
        if found := listing(path):
            offenders[str(path.relative_to(PROJECT_ROOT))] = sorted(found)
    assert not offenders, f"dossier fields named outside cases/dossier.py: {offenders}"
    assert listing(DECLARATION) >= DISTINCT


def test_the_check_sees_a_field_read_by_name():
    """What the check above exists for: each way a page or module could name a field is seen; other uses of the
    ordinary words are not."""
    assert python_listing("x = case.app_name") == {"app_name"}
    assert python_listing("row = {'summary': s, 'innovation': i}") == {"summary", "innovation"}
    assert python_listing("class S(Schema):\n    summary = f()\n    effects = f()\n    investment = f()\n") >= {
        "summary", "investment"}  # fmt: skip
    assert python_listing("c = case.summary") == {"summary"}
    assert python_listing("@doc(summary='Lists', description='All')\ndef f(): t.effects") == set()
    assert template_listing("<p>{{ case.effects }}</p>") == {"effects"}
    assert template_listing("{% if name == 'app_name' %}") == {"app_name"}
    assert template_listing('<meta name="description" content="{{ teaser }}">') == set()
