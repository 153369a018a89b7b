"""Cheaper embedding of font subsets in WeasyPrint's PDFs.

A certificate uses two faces of Noto Sans CJK (regular and bold), whose
collection files are about 20 MB each. WeasyPrint 70 spends most of a
certificate's render on them, not on layout (cProfile, 2-vCPU VM, about
100 ms of CPU per page):

* each ``weasyprint.pdf.fonts.Font`` copies the whole font file into a
  Python ``bytes`` when it is created, about 12 ms per face and page. Every
  font that gets subset replaces that copy without reading it;
* ``Font._harfbuzz_subset`` runs HarfBuzz's subsetter twice. The first pass
  keeps the glyph ids, and the second drops the hinting and the empty glyphs
  after the last used one. The second pass takes about 16 ms of the 25 ms
  per face.

``install`` changes both: the file is copied only when something reads
``Font.file_content`` before it is replaced, and the subset is made in one
pass with the flags of both. One pass with ``RETAIN_GIDS`` already ends at
the last used glyph, so the PDF comes out byte for byte the same as
WeasyPrint's own (``tests/certificates/test_font_embedding.py`` compares
them for Chinese, English and rare or missing characters). A page then
takes about 65 ms instead of 107 ms.

The change patches private parts of WeasyPrint, so it is installed only for
the versions it was checked against (``TESTED_MAJOR_VERSIONS``) and only
when HarfBuzz's subsetter is loaded. Otherwise WeasyPrint keeps its own
code.
"""

import logging
import threading
from typing import Optional

import weasyprint
from weasyprint.pdf import fonts as pdf_fonts
from weasyprint.text import ffi as weasyprint_ffi

logger = logging.getLogger("certificates.font_embedding")

#: WeasyPrint major versions whose ``Font`` internals this module was checked against.
TESTED_MAJOR_VERSIONS = ("70",)
#: Tables WeasyPrint 70 drops from embedded subsets, on top of HarfBuzz's defaults.
DROPPED_TABLES = (
    b"BASE", b"DSIG", b"EBDT", b"EBLC", b"EBSC", b"GPOS", b"GSUB", b"JSTF",
    b"LTSH", b"PCLT", b"SVG ",
)

_original_init = pdf_fonts.Font.__init__
_original_subset = getattr(pdf_fonts.Font, "_harfbuzz_subset", None)
_original_face_data = pdf_fonts.get_hb_object_data
_creating_font = threading.local()
_installed = False


class _DeferredFaceData:
    """A font file that ``Font.file_content`` copies out of its HarfBuzz face on first read."""

    __slots__ = ("face",)

    def __init__(self, face):
        self.face = face


def _face_data(hb_object, *args, **kwargs):
    """Stand in for WeasyPrint's ``get_hb_object_data`` inside ``weasyprint.pdf.fonts``.

    While a ``Font`` is being created, its whole face is deferred instead of
    copied. Every other call (subset results, colour glyphs) goes through.
    """
    if not args and not kwargs and getattr(_creating_font, "active", False):
        return _DeferredFaceData(hb_object)
    return _original_face_data(hb_object, *args, **kwargs)


def _create_font(self, *args, **kwargs) -> None:
    _creating_font.active = True
    try:
        _original_init(self, *args, **kwargs)
    finally:
        _creating_font.active = False


def _read_file_content(font) -> bytes:
    value = font.__dict__["_file_content"]
    if type(value) is _DeferredFaceData:
        # The face belongs to the Pango font, which outlives this Font.
        value = font.__dict__["_file_content"] = _original_face_data(value.face)
    return value


def _write_file_content(font, value) -> None:
    font.__dict__["_file_content"] = value


def _subset_in_one_pass(self, to_unicode, hinting) -> None:
    """Replace ``self.file_content`` by the subset of the glyphs in ``to_unicode``.

    The glyph ids stay those of the full font, because the page's content
    streams refer to them. Falls back to WeasyPrint's two passes when
    HarfBuzz returns no subset.
    """
    subset_lib, harfbuzz, ffi = (
        weasyprint_ffi.harfbuzz_subset, weasyprint_ffi.harfbuzz, weasyprint_ffi.ffi
    )
    subset_input = subset_lib.hb_subset_input_create_or_fail()
    if subset_input == ffi.NULL:
        _original_subset(self, to_unicode, hinting)
        return
    subset_input = ffi.gc(subset_input, subset_lib.hb_subset_input_destroy)

    glyph_ids = sorted(to_unicode)
    glyph_set = subset_lib.hb_subset_input_glyph_set(subset_input)
    harfbuzz.hb_set_add_sorted_array(
        glyph_set, ffi.new(f"hb_codepoint_t[{len(glyph_ids)}]", glyph_ids), len(glyph_ids)
    )
    tags = [harfbuzz.hb_tag_from_string(name, -1) for name in DROPPED_TABLES]
    drop_set = subset_lib.hb_subset_input_set(
        subset_input, subset_lib.HB_SUBSET_SETS_DROP_TABLE_TAG
    )
    harfbuzz.hb_set_add_sorted_array(
        drop_set, ffi.new(f"hb_codepoint_t[{len(tags)}]", sorted(tags)), len(tags)
    )

    flags = (
        subset_lib.HB_SUBSET_FLAGS_RETAIN_GIDS
        | subset_lib.HB_SUBSET_FLAGS_PASSTHROUGH_UNRECOGNIZED
        | subset_lib.HB_SUBSET_FLAGS_DESUBROUTINIZE
    )
    if not hinting:
        flags |= subset_lib.HB_SUBSET_FLAGS_NO_HINTING
    if self.missing:
        flags |= subset_lib.HB_SUBSET_FLAGS_NOTDEF_OUTLINE
    subset_lib.hb_subset_input_set_flags(subset_input, flags)

    subset_face = subset_lib.hb_subset_or_fail(self.hb_face, subset_input)
    if subset_face != ffi.NULL:
        subset_face = ffi.gc(subset_face, harfbuzz.hb_face_destroy)
        data = _original_face_data(subset_face)
        if data:
            self.file_content = data
            return
    _original_subset(self, to_unicode, hinting)


def unsupported_reason() -> Optional[str]:
    """Return why ``install`` would leave WeasyPrint unchanged, or None when it can patch."""
    major = weasyprint.__version__.partition(".")[0]
    if major not in TESTED_MAJOR_VERSIONS:
        return f"WeasyPrint {weasyprint.__version__} is not a version this module was checked against"
    if _original_subset is None or (
        not _installed and "file_content" in vars(pdf_fonts.Font)
    ):
        return "weasyprint.pdf.fonts.Font does not have the expected attributes"
    harfbuzz = weasyprint_ffi.harfbuzz
    if weasyprint_ffi.harfbuzz_subset is None or not harfbuzz.hb_version_atleast(4, 1, 0):
        return "libharfbuzz-subset 4.1 or newer is not loaded"
    return None


def install() -> bool:
    """Patch WeasyPrint's font embedding in this process; return whether it is patched.

    Installing twice does nothing more. It patches every WeasyPrint render of
    the process: in Shuren, certificates and promotion dossiers.
    """
    global _installed
    if _installed:
        return True
    reason = unsupported_reason()
    if reason is not None:
        logger.info("WeasyPrint's own font embedding is kept: %s", reason)
        return False
    pdf_fonts.Font.__init__ = _create_font
    pdf_fonts.Font.file_content = property(_read_file_content, _write_file_content)
    pdf_fonts.Font._harfbuzz_subset = _subset_in_one_pass
    pdf_fonts.get_hb_object_data = _face_data
    _installed = True
    return True


def uninstall() -> None:
    """Restore WeasyPrint's own font embedding, as for a comparison run."""
    global _installed
    if not _installed:
        return
    pdf_fonts.Font.__init__ = _original_init
    del pdf_fonts.Font.file_content
    pdf_fonts.Font._harfbuzz_subset = _original_subset
    pdf_fonts.get_hb_object_data = _original_face_data
    _installed = False


def installed() -> bool:
    return _installed
