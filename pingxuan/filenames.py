"""Names of files that leave or enter the system (ZIP entries, downloads, uploads): safe on every platform.

A name built from what people typed (a unit's name, an upload's own name) may hold ``../``, characters Windows
refuses (``<>:"/\\|?*``), control characters, invisible bidi controls that make ``gnp.exe`` read as ``exe.png``,
trailing dots or spaces, or a reserved device name such as ``CON``. ``safe_filename`` turns it into one plain
name without any of these; ``UniqueNames`` keeps the names inside one archive distinct, as Windows compares them
(ignoring case).
"""

from __future__ import annotations

import re
import unicodedata

WINDOWS_FORBIDDEN = '<>:"/\\|?*'
# Device names Windows reserves, whatever the extension ("CON.pdf" opens the console).
RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{kind}{n}" for kind in ("COM", "LPT") for n in (*"123456789", "¹", "²", "³")}
)
MAX_LENGTH = 120  # characters; a ZIP entry or a download name, far from every file system's limit


def invisible(char: str) -> bool:
    """Control characters (NUL, escapes, line breaks) and format characters (bidi overrides, zero-width)."""
    return unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn") and char not in "\t"


def safe_filename(name: str, fallback: str = "file") -> str:
    """One file name, no folder: without control or bidi characters, ``<>:"/\\|?*``, leading or trailing dots and
    spaces, nor a reserved device name; its extension kept when it has to be shortened."""
    text = unicodedata.normalize("NFC", name or "")
    text = "".join("_" if char in WINDOWS_FORBIDDEN else " " if char == "\t" else char
                   for char in text if not invisible(char))  # fmt: skip
    text = re.sub(r"\s+", " ", text).strip(" .")
    if not text:
        text = fallback
    stem, dot, extension = text.rpartition(".")
    if not dot or len(extension) > 10 or " " in extension:
        stem, extension = text, ""
    if len(text) > MAX_LENGTH:
        keep = MAX_LENGTH - (len(extension) + 1 if extension else 0)
        stem = stem[:keep].rstrip(" .") or fallback
        text = f"{stem}.{extension}" if extension else stem
    if text.split(".", 1)[0].strip().upper() in RESERVED:
        text = "_" + text
    return text


class UniqueNames:
    """Safe names that never repeat within one archive (compared as Windows does, ignoring case)."""

    def __init__(self) -> None:
        self._used: set[str] = set()

    def __call__(self, name: str, fallback: str = "file") -> str:
        candidate = safe_filename(name, fallback)
        stem, dot, extension = candidate.rpartition(".")
        if not dot:
            stem, extension = candidate, ""
        n = 1
        while candidate.casefold() in self._used:
            n += 1
            candidate = f"{stem} ({n}).{extension}" if extension else f"{stem} ({n})"
        self._used.add(candidate.casefold())
        return candidate
