"""Chinese fonts cut down for PDFs: a certificate of about 70 KB instead of 420 KB, looking the same.

Why: WeasyPrint embeds a subset of each face a PDF uses, but its subsetter (HarfBuzz) keeps the glyph ids,
because the PDF's text refers to the font's own ids. A Noto CJK face has 65,000 glyphs, and the digits and
punctuation of simplified Chinese sit near the end, so each embedded subset still carries an empty entry for
about 63,000 glyphs: 120-150 KB per face, and a certificate embeds three faces (serif, serif bold, sans).

What: once per instance folder, each face is cut down to GB2312 (its 6,763 hanzi and its symbols) with ASCII,
Latin-1 and the usual punctuation, about 7,700 glyphs numbered from 0, and kept in ``folder`` (the instance's
cache) under the SHA-256 of the source font and of this recipe, so an upgraded font or a changed recipe builds
again. The templates name these faces first ("Pingxuan Serif", "Pingxuan Sans") and the full system face
next, so a character outside GB2312 (a rare character in a unit's name) still prints, from the full face;
that PDF is then bigger (about 180 KB).

How, in well under a second per face: fontconfig finds the face the templates used so far (Noto Serif / Sans
CJK SC, regular and bold); its layout rules for Japanese, Korean and traditional Chinese are pointed at the
simplified Chinese ones (else their variant glyphs stay: 13,000 glyphs instead of 7,700); HarfBuzz cuts the
face (0.2 s, where fontTools' own subsetter takes 25 s); fontTools then numbers the CFF's CIDs like the new
glyph ids (a PDF reader such as MuPDF or Acrobat finds a glyph through its CID) and renames the family. The
alternatives measured are in the README ("Certificates: size and fonts"). When anything is missing (no
fontconfig match, no libharfbuzz-subset, a read-only folder) the faces are left out with a warning, and PDFs
embed the system fonts as before.
"""

from __future__ import annotations

import ctypes.util
import hashlib
import io
import logging
import os
import struct
import tempfile
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

log = logging.getLogger(__name__)

RECIPE = "1"  # change when the repertoire or the steps below change: the cached faces are built again


@dataclass(frozen=True)
class Face:
    family: str  # the family the templates' CSS names
    weight: str  # its CSS font-weight
    source: str  # the fontconfig pattern of the system face it is cut from


FACES = (
    Face("Pingxuan Serif", "normal", "Noto Serif CJK SC:weight=80"),
    Face("Pingxuan Serif", "bold", "Noto Serif CJK SC:weight=200"),
    Face("Pingxuan Sans", "normal", "Noto Sans CJK SC:weight=80"),
    Face("Pingxuan Sans", "bold", "Noto Sans CJK SC:weight=200"),
)
# What HarfBuzz applies to horizontal text by default: the rules kept in the cut-down face.
LAYOUT_FEATURES = ("abvm", "blwm", "ccmp", "locl", "mark", "mkmk", "rlig", "calt", "clig", "curs", "dist", "kern",
                   "liga", "rclt")  # fmt: skip
LANGUAGE = b"ZHS "  # OpenType's simplified Chinese
NAME_IDS = (0, 1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 13, 14)  # copyright, names, version, trademark, vendor, licence


def repertoire() -> str:
    """The characters the cut-down faces hold: GB2312 and the ASCII, Latin-1 and punctuation around it."""
    chars = {chr(c) for c in range(0x20, 0x7F)} | {chr(c) for c in range(0xA0, 0x100)}
    chars |= {chr(c) for c in range(0x2010, 0x2040)}  # dashes, quotes, ellipsis, per mille, ※
    chars |= {chr(c) for c in range(0x3000, 0x3040)}  # CJK symbols and punctuation
    chars |= {chr(c) for c in range(0xFF01, 0xFF5F)} | {chr(c) for c in range(0xFFE0, 0xFFE7)}  # full width
    for high in range(0xA1, 0xF8):  # GB2312's rows: symbols, then the hanzi of levels 1 and 2
        chars.update(bytes((high, low)).decode("gb2312", errors="ignore") for low in range(0xA1, 0xFF))
    return "".join(sorted(chars))


@dataclass(frozen=True)
class FontFaces:
    folder: Path  # where the faces are: a PDF renderer's URL fetcher must let it read there
    css: str  # the @font-face rules of the faces that could be built ("" when none)


_lock = threading.Lock()


@cache
def _font_faces(folder: Path) -> FontFaces:
    rules = []
    for face in FACES:
        try:
            path = _cut_down(face, folder)
        except Exception as error:  # never fail a render for this: the system fonts still print everything
            log.warning("no cut-down %s %s for PDFs (%s); the system font is embedded whole", face.family,
                        face.weight, error)  # fmt: skip
            continue
        rules.append(f'@font-face {{ font-family: "{face.family}"; font-weight: {face.weight}; '
                     f'src: url("{path.as_uri()}"); }}')  # fmt: skip
    return FontFaces(folder, "\n".join(rules))


def font_faces(folder: Path) -> FontFaces:
    """The cut-down faces, built into ``folder`` the first time (a few seconds), then read from there."""
    with _lock:
        return _font_faces(folder.resolve())


def _cut_down(face: Face, folder: Path) -> Path:
    source, index = _locate(face.source)
    data = Path(source).read_bytes()
    chars = repertoire()
    key = hashlib.sha256(f"{RECIPE}\0{index}\0{face.family}\0{face.weight}\0{chars}\0".encode())
    key.update(data)
    target = folder / f"{face.family.replace(' ', '')}-{face.weight}-{key.hexdigest()[:16]}.otf"
    if target.is_file():
        return target
    font = _number_and_name(_subset(_simplified_chinese_rules(data, index), index, chars), face)
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder, suffix=".part", delete=False) as out:
        out.write(font)
    os.chmod(out.name, 0o644)  # readable by the other processes of the installation (web, worker)
    os.replace(out.name, target)  # whole or absent, even with several workers building at once
    log.info("cut down %s[%s] to %s (%d KB)", source, index, target.name, len(font) // 1024)
    return target


# fontconfig and HarfBuzz, through cffi (a WeasyPrint dependency) --------------------------------------------


@cache
def _libraries():
    import cffi

    ffi = cffi.FFI()
    ffi.cdef("""
        typedef struct _FcConfig FcConfig; typedef struct _FcPattern FcPattern; typedef unsigned char FcChar8;
        FcConfig *FcInitLoadConfigAndFonts(void);
        void FcConfigDestroy(FcConfig *config);
        FcPattern *FcNameParse(const FcChar8 *name);
        int FcConfigSubstitute(FcConfig *config, FcPattern *pattern, int kind);
        void FcDefaultSubstitute(FcPattern *pattern);
        FcPattern *FcFontMatch(FcConfig *config, FcPattern *pattern, int *result);
        int FcPatternGetString(const FcPattern *pattern, const char *object, int n, FcChar8 **value);
        int FcPatternGetInteger(const FcPattern *pattern, const char *object, int n, int *value);
        void FcPatternDestroy(FcPattern *pattern);

        typedef struct hb_blob_t hb_blob_t; typedef struct hb_face_t hb_face_t; typedef struct hb_set_t hb_set_t;
        typedef struct hb_subset_input_t hb_subset_input_t;
        hb_blob_t *hb_blob_create(const char *data, unsigned int length, int mode, void *user_data, void *destroy);
        const char *hb_blob_get_data(hb_blob_t *blob, unsigned int *length);
        void hb_blob_destroy(hb_blob_t *blob);
        hb_face_t *hb_face_create(hb_blob_t *blob, unsigned int index);
        hb_blob_t *hb_face_reference_blob(hb_face_t *face);
        void hb_face_destroy(hb_face_t *face);
        void hb_set_add(hb_set_t *set, uint32_t codepoint);
        void hb_set_clear(hb_set_t *set);
        uint32_t hb_tag_from_string(const char *tag, int length);
        hb_subset_input_t *hb_subset_input_create_or_fail(void);
        hb_set_t *hb_subset_input_set(hb_subset_input_t *input, int set_type);
        void hb_subset_input_destroy(hb_subset_input_t *input);
        hb_face_t *hb_subset_or_fail(hb_face_t *source, const hb_subset_input_t *input);
    """)

    def load(name: str, soname: str):
        return ffi.dlopen(ctypes.util.find_library(name) or soname)

    return ffi, load("fontconfig", "libfontconfig.so.1"), load("harfbuzz", "libharfbuzz.so.0"), load(
        "harfbuzz-subset", "libharfbuzz-subset.so.0")  # fmt: skip


def system_font(pattern: str) -> tuple[str, int]:
    """The file and face index of the installed face ``pattern`` names (e.g. for Pillow); LookupError if absent."""
    return _locate(pattern)


def _locate(pattern: str) -> tuple[str, int]:
    """The file and face index fontconfig gives for ``pattern``, refused unless family and weight are those asked
    (fontconfig answers with some other font rather than nothing)."""
    ffi, fc, _hb, _subset = _libraries()
    family, _, weight = pattern.partition(":weight=")
    config = fc.FcInitLoadConfigAndFonts()
    query = fc.FcNameParse(pattern.encode())
    try:
        fc.FcConfigSubstitute(config, query, 0)  # FcMatchPattern
        fc.FcDefaultSubstitute(query)
        match = fc.FcFontMatch(config, query, ffi.new("int *"))
        if match == ffi.NULL:
            raise LookupError(f"fontconfig has no font for {pattern}")
        try:
            value, number = ffi.new("FcChar8 **"), ffi.new("int *")
            families, n = [], 0
            while fc.FcPatternGetString(match, b"family", n, value) == 0:
                families.append(ffi.string(value[0]).decode())
                n += 1
            fc.FcPatternGetInteger(match, b"weight", 0, number)
            found_weight = number[0]
            if family not in families or found_weight != int(weight):
                raise LookupError(f"{pattern} is not installed (fontconfig offers {families} weight {found_weight})")
            fc.FcPatternGetString(match, b"file", 0, value)
            path = ffi.string(value[0]).decode()
            fc.FcPatternGetInteger(match, b"index", 0, number)
            return path, number[0]
        finally:
            fc.FcPatternDestroy(match)
    finally:
        fc.FcPatternDestroy(query)
        fc.FcConfigDestroy(config)


def _subset(data: bytes, index: int, chars: str) -> bytes:
    """HarfBuzz's subset of face ``index`` of ``data``: ``chars`` and what the kept layout rules reach from them,
    glyphs numbered anew."""
    ffi, _fc, hb, subset = _libraries()
    blob = hb.hb_blob_create(data, len(data), 0, ffi.NULL, ffi.NULL)  # HB_MEMORY_MODE_DUPLICATE
    face = hb.hb_face_create(blob, index)
    plan = subset.hb_subset_input_create_or_fail()
    try:
        unicodes = subset.hb_subset_input_set(plan, 1)  # HB_SUBSET_SETS_UNICODE
        for char in chars:
            hb.hb_set_add(unicodes, ord(char))
        for set_type, values in ((4, NAME_IDS), (6, [hb.hb_tag_from_string(f.encode(), 4) for f in LAYOUT_FEATURES])):
            chosen = subset.hb_subset_input_set(plan, set_type)  # HB_SUBSET_SETS_NAME_ID, _LAYOUT_FEATURE_TAG
            hb.hb_set_clear(chosen)
            for value in values:
                hb.hb_set_add(chosen, value)
        result = subset.hb_subset_or_fail(face, plan)
        if result == ffi.NULL:
            raise ValueError("HarfBuzz could not subset the face")
        out = hb.hb_face_reference_blob(result)
        length = ffi.new("unsigned int *")
        font = ffi.buffer(hb.hb_blob_get_data(out, length), length[0])[:]
        hb.hb_blob_destroy(out)
        hb.hb_face_destroy(result)
        return font
    finally:
        subset.hb_subset_input_destroy(plan)
        hb.hb_face_destroy(face)
        hb.hb_blob_destroy(blob)


# Steps on the font's bytes -----------------------------------------------------------------------------------


def _simplified_chinese_rules(data: bytes, index: int) -> bytes:
    """``data`` with face ``index``'s GSUB and GPOS language systems all pointing at simplified Chinese's (or at
    the script's default), so that subsetting keeps no Japanese, Korean or traditional variant.

    Done in place on the offsets (a record's offset is replaced by its sibling's), which takes milliseconds
    where decompiling and rewriting the tables with fontTools takes over a second per face.
    """
    font = bytearray(data)
    start = struct.unpack_from(">I", font, 12 + 4 * index)[0] if font[:4] == b"ttcf" else 0
    (tables,) = struct.unpack_from(">H", font, start + 4)
    for n in range(tables):
        tag, _checksum, offset, _length = struct.unpack_from(">4sIII", font, start + 12 + 16 * n)
        if tag not in (b"GSUB", b"GPOS"):
            continue
        script_list = offset + struct.unpack_from(">H", font, offset + 4)[0]
        (scripts,) = struct.unpack_from(">H", font, script_list)
        for s in range(scripts):
            script = script_list + struct.unpack_from(">H", font, script_list + 2 + 6 * s + 4)[0]
            default, languages = struct.unpack_from(">HH", font, script)
            records = [script + 4 + 6 * r for r in range(languages)]
            chosen = [struct.unpack_from(">H", font, r + 4)[0] for r in records if font[r : r + 4] == LANGUAGE]
            target = chosen[0] if chosen else default
            if not target:
                continue  # no default either: the script's rules stay as they are
            for record in records:
                struct.pack_into(">H", font, record + 4, target)
    return bytes(font)


def _number_and_name(font: bytes, face: Face) -> bytes:
    """Give glyph n the CID n, and the face the family name ``face.family``.

    HarfBuzz keeps each glyph's original CID, and a PDF reader looks a glyph up by CID (WeasyPrint writes the
    glyph id as the CID): left so, the PDF would show other glyphs. Renamed, the face is never what fontconfig
    offers for the system family's name.
    """
    from fontTools.ttLib import TTFont

    ttfont = TTFont(io.BytesIO(font), recalcBBoxes=False, recalcTimestamp=False)
    top = ttfont["CFF "].cff.topDictIndex[0]
    if hasattr(top, "ROS"):  # CID-keyed (a name-keyed CFF's glyphs are found by glyph id)
        old = top.charset
        new = [".notdef"] + [f"cid{gid:05d}" for gid in range(1, len(old))]
        charstrings = top.CharStrings.charStrings
        top.CharStrings.charStrings = {name: charstrings[was] for was, name in zip(old, new, strict=True)}
        top.charset = new
        ttfont.setGlyphOrder(new)
    style = "Bold" if face.weight == "bold" else "Regular"
    postscript = f"{face.family.replace(' ', '')}-{style}"
    names = ttfont["name"]
    names.names = [record for record in names.names if record.nameID not in (1, 2, 3, 4, 6, 16, 17)]
    for name_id, value in ((1, face.family), (2, style), (3, f"{postscript};{RECIPE}"),
                           (4, f"{face.family} {style}"), (6, postscript)):  # fmt: skip
        names.setName(value, name_id, 3, 1, 0x409)
    out = io.BytesIO()
    ttfont.save(out)
    return out.getvalue()
