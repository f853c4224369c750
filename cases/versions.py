"""Dossier versions: what the unit submitted each time, and what changed between two submissions.

A version is frozen by the ``freeze_version`` action the declaration gives the submitting transitions (submit,
resubmit), inside the transaction that moves the state: every dossier field and the attachments' names, kinds
and SHA-256 (the bytes stay stored once, under their hash). The diff compares two versions field by field; text
is compared character by character, because Chinese has no spaces between words (runs of ASCII letters and
digits stay whole, so English words and numbers are not chopped), and attachments are matched by content, then
by name, then by kind: added, removed, replaced or unchanged. Pages and the API both render ``diff()``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from difflib import SequenceMatcher
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from campaigns.models import Category, Domain, Organization
from cases import dossier
from cases.models import Case, DossierVersion
from pingxuan.errors import NotFound
from pingxuan.extensions import db
from pingxuan.i18n import pick

_REFERENCES = {"category_id": Category, "domain_id": Domain, "recommending_org_id": Organization}
_TOKEN = re.compile(r"[A-Za-z0-9_]+|.", re.DOTALL)  # an ASCII word or number, else one character
MAX_CELLS = 4_000_000  # tokens × tokens compared character by character in one changed block; beyond: whole

EQUAL, INSERT, DELETE = "equal", "insert", "delete"
ADDED, REMOVED, REPLACED, UNCHANGED = "added", "removed", "replaced", "unchanged"
ATTACHMENT_CHANGES = {ADDED: _l("Added"), REMOVED: _l("Removed"), REPLACED: _l("Replaced"), UNCHANGED: _l("Unchanged")}


# Freezing and reading -----------------------------------------------------------------------------------


def freeze_version(case: Case, event_id: int | None = None) -> DossierVersion:
    """Keep the dossier as it is now as the case's next version (1, 2, …); the caller's transaction commits it.
    Runs inside ``fire()``, after its conditional UPDATE, so two submissions of one case never race here."""
    form = dossier.form_of(case.campaign)
    last = db.session.scalar(select(func.max(DossierVersion.number)).where(DossierVersion.case_id == case.id))
    version = DossierVersion(
        case_id=case.id,
        number=(last or 0) + 1,
        event_id=event_id,
        fields={item.key: dossier.as_json(dossier.value(case, item)) for item in form.value_fields},
        attachments=[
            {"filename": a.filename, "kind": a.kind, "sha256": a.sha256, "size": a.size, "content_type": a.content_type}
            for a in case.attachments
        ],
    )
    db.session.add(version)
    db.session.flush()
    return version


def versions(case: Case) -> list[DossierVersion]:
    """The case's versions, oldest first."""
    query = select(DossierVersion).where(DossierVersion.case_id == case.id).order_by(DossierVersion.number)
    return list(db.session.scalars(query))


def get_version(case: Case, number: int) -> DossierVersion:
    found = db.session.scalar(
        select(DossierVersion).where(DossierVersion.case_id == case.id, DossierVersion.number == number)
    )
    if found is None:
        raise NotFound(_("This case has no version %(n)d.", n=number))
    return found


def current_numbers(case_ids: list[int]) -> dict[int, int]:
    """The newest version number of each case that has one (the dossier experts review, objectors object to)."""
    if not case_ids:
        return {}
    query = (
        select(DossierVersion.case_id, func.max(DossierVersion.number))
        .where(DossierVersion.case_id.in_(case_ids))
        .group_by(DossierVersion.case_id)
    )
    return {case_id: number for case_id, number in db.session.execute(query)}


def current_number(case: Case) -> int | None:
    return current_numbers([case.id]).get(case.id)


def fields_of(case: Case, *frozen: DossierVersion) -> list[tuple[str, str]]:
    """(key, label) of what versions show: the form's fields in its order, then any field a version holds that the
    form no longer declares (named by its key), so nothing frozen is ever hidden."""
    form = dossier.form_of(case.campaign)
    found = [(item.key, item.label) for item in form.value_fields]
    declared = {key for key, _label in found}
    for version in frozen:
        for key in version.fields:
            if key not in declared:
                declared.add(key)
                found.append((key, key))
    return found


def shown(case: Case, name: str, value: Any) -> str:
    """A frozen value as pages show it: names for references (in the page's language), amounts with separators,
    choices by their label."""
    if value is None or value == "":
        return ""
    if name in _REFERENCES:
        found = db.session.get(_REFERENCES[name], value)
        return pick(found, "name") if found is not None else f"#{value}"
    item = dossier.form_of(case.campaign).get(name)
    if item is None:
        return str(value)
    try:
        return dossier.shown(item, date.fromisoformat(value) if item.type == dossier.DATE else value)
    except (TypeError, ValueError, ArithmeticError):  # a value frozen under an older form: as it was kept
        return str(value)


# Comparing ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    op: str  # equal, insert or delete
    text: str


@dataclass(frozen=True)
class FieldDiff:
    field: str
    label: str
    old: str
    new: str
    segments: tuple[Segment, ...]

    @property
    def changed(self) -> bool:
        return any(s.op != EQUAL for s in self.segments)


@dataclass(frozen=True)
class AttachmentChange:
    status: str  # added, removed, replaced or unchanged
    old: dict[str, Any] | None
    new: dict[str, Any] | None


@dataclass(frozen=True)
class Diff:
    old: DossierVersion
    new: DossierVersion
    fields: tuple[FieldDiff, ...]
    attachments: tuple[AttachmentChange, ...]

    @property
    def changed_fields(self) -> tuple[FieldDiff, ...]:
        return tuple(f for f in self.fields if f.changed)


def _merged(segments: list[Segment]) -> tuple[Segment, ...]:
    out: list[Segment] = []
    for segment in segments:
        if not segment.text:
            continue
        if out and out[-1].op == segment.op:
            out[-1] = Segment(segment.op, out[-1].text + segment.text)
        else:
            out.append(segment)
    return tuple(out)


def _replaced(old: str, new: str) -> list[Segment]:
    return [Segment(DELETE, old), Segment(INSERT, new)]


def _by_tokens(old: str, new: str) -> list[Segment]:
    a, b = _TOKEN.findall(old), _TOKEN.findall(new)
    head = 0  # the common start and end are equal without comparing: one edit in a long paragraph stays cheap
    while head < min(len(a), len(b)) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < min(len(a), len(b)) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    middle_a, middle_b = a[head : len(a) - tail], b[head : len(b) - tail]
    segments = [Segment(EQUAL, "".join(a[:head]))]
    if len(middle_a) * len(middle_b) > MAX_CELLS:
        segments += _replaced("".join(middle_a), "".join(middle_b))
    else:
        matcher = SequenceMatcher(None, middle_a, middle_b, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                segments.append(Segment(EQUAL, "".join(middle_a[i1:i2])))
            else:
                segments += [Segment(DELETE, "".join(middle_a[i1:i2])), Segment(INSERT, "".join(middle_b[j1:j2]))]
    return [*segments, Segment(EQUAL, "".join(a[len(a) - tail :]))]


def text_segments(old: str, new: str) -> tuple[Segment, ...]:
    """The changed characters of a text: paragraphs first (cheap, and keeps a moved paragraph whole), then the
    characters inside the paragraphs that changed."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    segments: list[Segment] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        before, after = "".join(a[i1:i2]), "".join(b[j1:j2])
        if tag == "equal":
            segments.append(Segment(EQUAL, before))
        elif tag == "replace":
            segments += _by_tokens(before, after)
        else:
            segments += [Segment(DELETE, before), Segment(INSERT, after)]
    return _merged(segments)


def _field(case: Case, name: str, label: str, old_value: Any, new_value: Any) -> FieldDiff:
    old, new = shown(case, name, old_value), shown(case, name, new_value)
    item = dossier.form_of(case.campaign).get(name)
    if item is None or item.type in dossier.STRING_TYPES:
        segments = text_segments(old, new)
    elif old == new:
        segments = _merged([Segment(EQUAL, old)])
    else:  # a category, a date, an amount: one value for another
        segments = _merged(_replaced(old, new))
    return FieldDiff(name, label, old, new, segments)


def _attachment_changes(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[AttachmentChange]:
    """Same bytes: unchanged; else same name, then same kind, with other bytes: replaced; the rest added or
    removed. Each attachment is matched once, in the order of the dossier."""
    left, right = list(old), list(new)
    pairs: list[AttachmentChange] = []

    def match(same: Any, status: str) -> None:
        for item in list(right):
            partner = next((o for o in left if same(o, item)), None)
            if partner is not None:
                left.remove(partner)
                right.remove(item)
                pairs.append(AttachmentChange(status, partner, item))

    match(lambda o, n: o["sha256"] == n["sha256"] and o["kind"] == n["kind"], UNCHANGED)
    match(lambda o, n: o["filename"] == n["filename"] and o["kind"] == n["kind"], REPLACED)
    match(lambda o, n: o["kind"] == n["kind"], REPLACED)
    order = {id(item): i for i, item in enumerate(new)}
    pairs.sort(key=lambda change: order[id(change.new)])
    added = [AttachmentChange(ADDED, None, item) for item in right]
    return [*pairs, *added, *(AttachmentChange(REMOVED, item, None) for item in left)]


def diff(old: DossierVersion, new: DossierVersion) -> Diff:
    """Field by field and attachment by attachment, what changed from ``old`` to ``new``."""
    case = new.case
    fields = tuple(
        _field(case, name, label, old.fields.get(name), new.fields.get(name))
        for name, label in fields_of(case, old, new)
    )
    return Diff(old, new, fields, tuple(_attachment_changes(old.attachments, new.attachments)))


def compare(case: Case, old_number: int, new_number: int) -> Diff:
    """The diff between two of the case's versions by number (pages and API)."""
    return diff(get_version(case, old_number), get_version(case, new_number))
