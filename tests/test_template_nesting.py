"""Templates put no form inside a paragraph.

HTML ends a <p> at the start of a <form>, so a browser shows the form
below the paragraph's text instead of in its row; a row of links and
inline forms goes in a <div class="action-row"> instead.
"""

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
PARAGRAPH = re.compile(r"<p\b[^>]*>(.*?)</p>", re.S)
#: Macros of the templates that render a <form>.
FORM_MACROS = ("post_button(",)


def _paragraphs_with_forms() -> list[str]:
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for match in PARAGRAPH.finditer(text):
            body = match.group(1)
            if "<form" in body or any(macro in body for macro in FORM_MACROS):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(TEMPLATES)}:{line}")
    return found


def test_no_form_inside_paragraph():
    assert _paragraphs_with_forms() == []
