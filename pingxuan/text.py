"""What people type and others read: refused when it holds characters nobody sees.

A NUL or another control character breaks exports and PostgreSQL; a bidi control (U+202E RIGHT-TO-LEFT
OVERRIDE and its kin) makes a title, a name or an address read differently from what it is ("gnp.exe" shows as
"exe.png"). One check for the dossier, names and e-mail addresses, whether they come from a form, the API or a
sheet: the operations call it, so every entry point refuses alike, with the field named.
"""

from __future__ import annotations

import unicodedata

from flask_babel import gettext as _

# Embeddings, overrides, isolates and the implicit marks (LRM, RLM, ALM): they reorder what is shown.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
LINE_BREAKS = frozenset("\n\r\t")


def hidden(char: str, multiline: bool = False) -> bool:
    """A control character (NUL, escape, ...; line breaks and tabs only in ``multiline`` text), an unpaired
    surrogate, a bidi control, or in one-line text a line or paragraph separator (U+2028, U+2029: a mail's
    subject made of a name with one cannot be sent)."""
    if char in BIDI_CONTROLS:
        return True
    if multiline and char in LINE_BREAKS:
        return False
    return unicodedata.category(char) in (("Cc", "Cs") if multiline else ("Cc", "Cs", "Zl", "Zp"))


def hidden_character_error(text: str | None, multiline: bool = False) -> str | None:
    """Why ``text`` cannot be stored as typed, or None."""
    found = next((char for char in text or "" if hidden(char, multiline)), None)
    if found is None:
        return None
    return _(
        "Remove the hidden character U+%(code)04X (a control character or a text direction mark).", code=ord(found)
    )
