"""Sandboxed Jinja rendering of author-written certificate bodies.

A body can use only the placeholder values (strings and numbers), a short list
of filters, no globals and no attribute access. ``check_source`` rejects
anything else when a template is saved, and the environment rejects it
again at render time, so a template stored before a rule existed cannot
slip through. The rendered HTML is then cleaned with nh3, which keeps
layout tags and inline styles and drops scripts, event handlers and every
URL that is not a ``data:`` URI.
"""

import functools
import re

import nh3
from flask_babel import lazy_gettext as _l
from jinja2 import StrictUndefined, Template, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

#: Values a certificate body can use, with what each contains.
PLACEHOLDERS = {
    "holder_name": _l("holder's full name"),
    "holder_font_size": _l("font size in pt that fits the holder's name on one line"),
    "employee_no": _l("employee number, or empty"),
    "institution": _l("institution name"),
    "institution_en": _l("institution name in English, or empty"),
    "programme": _l("programme title, or the title of a training taken elsewhere"),
    "organiser": _l("organiser of a training taken elsewhere, or empty"),
    "training_dates": _l("dates of a training taken elsewhere written out, or empty"),
    "level": _l("level label, e.g. 初级 or Junior"),
    "hours": _l("credited hours, e.g. 40 or 12.5"),
    "grade": _l("result, e.g. 合格 or Pass"),
    "issue_date": _l("issue date, ISO (2026-05-01)"),
    "issue_date_text": _l("issue date written out (2026年5月1日 or 1 May 2026)"),
    "expiry_date": _l("last valid day, ISO, or empty"),
    "expiry_date_text": _l("last valid day written out, or empty"),
    "serial": _l("serial number"),
    "verification_code": _l("verification code, e.g. ABCD-EFGH-JKMN"),
    "verification_url": _l("public verification address"),
    "qr_code": _l("QR code of the verification address as a data: URI (use in img src)"),
    "logo": _l("logo image as a data: URI, or empty"),
    "signature": _l("signature image as a data: URI, or empty"),
    "seal": _l("seal image as a data: URI, or empty"),
}

#: Filters a body may use; every other Jinja filter is removed.
ALLOWED_FILTERS = (
    "capitalize",
    "center",
    "default",
    "d",
    "e",
    "escape",
    "float",
    "int",
    "length",
    "lower",
    "replace",
    "round",
    "string",
    "title",
    "trim",
    "truncate",
    "upper",
)

#: Tags and attributes that survive cleaning of the rendered body.
ALLOWED_TAGS = {
    "div", "section", "header", "footer", "main", "article", "aside",
    "p", "span", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6",
    "strong", "b", "em", "i", "u", "small", "sup", "sub",
    "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption",
    "colgroup", "col", "ul", "ol", "li", "dl", "dt", "dd", "img", "figure",
    "figcaption", "blockquote",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "*": {"class", "id", "style", "lang", "dir", "title"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "col": {"span"},
}

MAX_BODY_LENGTH = 50_000
MAX_CSS_LENGTH = 50_000

_SCRIPT_RE = re.compile(r"<\s*script|javascript\s*:|\son[a-z]+\s*=", re.IGNORECASE)
_CSS_FORBIDDEN_RE = re.compile(r"</|<!--|@import", re.IGNORECASE)


class TemplateSourceError(ValueError):
    """A template body or style sheet was rejected.

    The message names the problem in the reader's language, and ``field`` is
    the form field at fault: "body_html" or "css".
    """

    def __init__(self, message, field: str = "body_html"):
        super().__init__(message)
        self.field = field


class _CertificateSandbox(ImmutableSandboxedEnvironment):
    """Sandbox that also rejects every attribute access and every call."""

    def is_safe_attribute(self, obj, attr, value) -> bool:
        return False

    def is_safe_callable(self, obj) -> bool:
        return False


def _make_environment() -> _CertificateSandbox:
    env = _CertificateSandbox(autoescape=True, undefined=StrictUndefined)
    env.globals.clear()
    env.tests.clear()
    env.filters = {name: env.filters[name] for name in ALLOWED_FILTERS}
    return env


_environment = _make_environment()


def _check_node(node: nodes.Node, assigned: set[str]) -> None:
    # The parser gives every node the line it starts on.
    line = getattr(node, "lineno", None) or 1
    if isinstance(node, (nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)):
        raise TemplateSourceError(
            _l(
                "line %(line)d: extends, include and import are not allowed. "
                "Write the whole certificate in this template.",
                line=line,
            )
        )
    if isinstance(node, (nodes.Getattr, nodes.Getitem)):
        raise TemplateSourceError(
            _l(
                "line %(line)d: attribute and item access (x.y, x['y']) is not "
                "allowed. Use the placeholders as they are.",
                line=line,
            )
        )
    if isinstance(node, nodes.Call):
        raise TemplateSourceError(
            _l(
                "line %(line)d: calls are not allowed. Use placeholders and filters.",
                line=line,
            )
        )
    if isinstance(node, nodes.Filter) and node.name not in ALLOWED_FILTERS:
        raise TemplateSourceError(
            _l(
                "line %(line)d: the filter '%(name)s' is not available. "
                "Use one of: %(filters)s.",
                line=line,
                name=node.name,
                filters=", ".join(ALLOWED_FILTERS),
            )
        )
    if isinstance(node, (nodes.Mul, nodes.Pow)):
        # "x" * 10 ** 9 would build a gigabyte string inside the web process.
        raise TemplateSourceError(
            _l(
                "line %(line)d: * and ** are not allowed in certificate templates.",
                line=line,
            )
        )
    if isinstance(node, nodes.Test):
        raise TemplateSourceError(
            _l(
                "line %(line)d: tests (is ...) are not allowed. "
                "Compare with == or use {%% if placeholder %%}.",
                line=line,
            )
        )
    if isinstance(node, nodes.Name) and node.ctx == "load":
        if node.name not in PLACEHOLDERS and node.name not in assigned:
            raise TemplateSourceError(
                _l(
                    "line %(line)d: '%(name)s' is not available in certificate "
                    "templates, which see only the placeholder values: %(names)s.",
                    line=line,
                    name=node.name,
                    names=", ".join(PLACEHOLDERS),
                )
            )


def check_source(body_html: str, css: str = "") -> None:
    """Reject a body or style sheet that the sandbox would not render safely.

    Raises TemplateSourceError naming the line and the fix: unknown names
    (``config``, ``self``, ``request`` ...), attribute access, calls,
    unlisted filters, includes, scripts and event handlers, and CSS that
    could close the style element or import another sheet.
    """
    if len(body_html) > MAX_BODY_LENGTH:
        raise TemplateSourceError(
            _l("the body is longer than %(max)d characters.", max=MAX_BODY_LENGTH)
        )
    if len(css) > MAX_CSS_LENGTH:
        raise TemplateSourceError(
            _l("the CSS is longer than %(max)d characters.", max=MAX_CSS_LENGTH),
            field="css",
        )
    if _SCRIPT_RE.search(body_html):
        raise TemplateSourceError(
            _l(
                "scripts, javascript: URLs and event handler attributes (onclick=...) "
                "are not allowed in a certificate."
            )
        )
    match = _CSS_FORBIDDEN_RE.search(css)
    if match:
        raise TemplateSourceError(
            _l(
                "the CSS contains '%(text)s', which is not allowed. "
                "Write plain rules and embed images by uploading them.",
                text=match.group(0),
            ),
            field="css",
        )
    try:
        tree = _environment.parse(body_html)
    except TemplateSyntaxError as exc:
        # Jinja's reason stays in English, quoted, inside a translated sentence.
        raise TemplateSourceError(
            _l(
                "line %(line)d: the template syntax is invalid. "
                "Jinja reports: \"%(detail)s\"",
                line=exc.lineno or 1,
                detail=exc.message or "",
            )
        ) from None

    assigned = {
        name.name
        for name in tree.find_all(nodes.Name)
        if name.ctx in ("store", "param")
    }
    for node in tree.find_all(nodes.Node):
        _check_node(node, assigned)


def clean_html(html: str) -> str:
    """Remove scripts, handlers and non-data: URLs from rendered HTML."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"data"},
        link_rel=None,
        strip_comments=True,
    )


def clean_css(css: str) -> str:
    """Drop anything in ``css`` that could end the style element."""
    return _CSS_FORBIDDEN_RE.sub("", css)


@functools.lru_cache(maxsize=32)
def _compiled(body_html: str) -> Template:
    """Check ``body_html`` and compile it, once per process for each body.

    A batch renders the same body for every certificate. A body that fails
    the check raises each time, because lru_cache keeps only results.
    """
    check_source(body_html)
    return _environment.from_string(body_html)


# NOTE: render time is not limited. Nested loops over long literals can keep a
# worker busy for a while, but only trainers and admins can save a body.
def render_body(body_html: str, values: dict) -> str:
    """Render a certificate body with plain values, then clean the result.

    Raises TemplateSourceError when the body breaks a sandbox rule or names
    a placeholder that ``values`` lacks.
    """
    template = _compiled(body_html)
    plain = {key: value for key, value in values.items() if key in PLACEHOLDERS}
    for key, value in plain.items():
        if value is not None and not isinstance(value, (str, int, float)):
            raise TypeError(f"placeholder {key!r} must be plain, got {type(value)}")
    try:
        html = template.render(plain)
    except SecurityError as exc:
        raise TemplateSourceError(
            _l("the template broke a sandbox rule: %(detail)s", detail=str(exc))
        ) from None
    except UndefinedError as exc:
        raise TemplateSourceError(
            _l("the template uses a missing value: %(detail)s", detail=str(exc))
        ) from None
    return clean_html(html)
