"""Certificate pages: learner list, downloads, revocation, public verification."""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from certificates import services
from certificates.forms import RevokeForm, VerifyForm
from certificates.models import Certificate
from certificates.render import plain_hours
from lms.accounts.access import roles_required
from lms.accounts.models import Role
from lms.extensions import db, limiter

bp = Blueprint("certificates", __name__)

STATUS_LABELS = {
    services.DisplayStatus.VALID: _l("Valid"),
    services.DisplayStatus.EXPIRING_SOON: _l("Expiring soon"),
    services.DisplayStatus.EXPIRED: _l("Expired"),
    services.DisplayStatus.REVOKED: _l("Revoked"),
    services.DisplayStatus.SUPERSEDED: _l("Superseded"),
}

#: CSS class of each status badge (static/css/app.css).
STATUS_CLASSES = {
    services.DisplayStatus.VALID: "status-valid",
    services.DisplayStatus.EXPIRING_SOON: "badge-warn",
    services.DisplayStatus.EXPIRED: "status-expired",
    services.DisplayStatus.REVOKED: "status-revoked",
    services.DisplayStatus.SUPERSEDED: "status-superseded",
}


def _verify_rate_limit() -> str:
    return current_app.config.get("VERIFY_RATE_LIMIT", "60 per minute")


@bp.context_processor
def _certificate_helpers():
    return {
        "status_labels": STATUS_LABELS,
        "status_classes": STATUS_CLASSES,
        "plain_hours": plain_hours,
        "format_code": services.format_code,
    }


def _viewable_or_404(serial: str) -> Certificate:
    """Load a certificate the current user may see, else 404 so serials never leak."""
    cert = services.find_by_serial(serial)
    if cert is None or not services.can_view(current_user, cert):
        abort(404)
    return cert


@bp.route("/certificates")
@login_required
def mine():
    certificates = services.certificates_of(current_user)
    rows = [(cert, services.status_of(cert)) for cert in certificates]
    return render_template("certificates/mine.html", rows=rows)


@bp.route("/certificates/issued")
@roles_required(Role.HR, Role.ADMIN)
def issued():
    """List the institution's certificates for HR and admins, with a text search."""
    search = request.args.get("q", "")[:100]
    certificates = services.institution_certificates(
        current_user.institution_id, search
    )
    rows = [(cert, services.status_of(cert)) for cert in certificates]
    return render_template("certificates/issued.html", rows=rows, search=search)


@bp.route("/certificates/<serial>")
@login_required
def detail(serial: str):
    cert = _viewable_or_404(serial)
    return _render_detail(cert, RevokeForm())


def _render_detail(cert: Certificate, form: RevokeForm, status: int = 200):
    return (
        render_template(
            "certificates/detail.html",
            cert=cert,
            status=services.status_of(cert),
            revoked_on=services.revoked_on(cert),
            can_manage=services.can_manage(current_user, cert),
            form=form,
        ),
        status,
    )


@bp.route("/certificates/<serial>.pdf")
@login_required
def download(serial: str):
    cert = _viewable_or_404(serial)
    pdf = services.pdf_bytes(cert)
    # pdf_bytes re-renders a missing file and may record a new hash.
    db.session.commit()
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{cert.serial}.pdf"'
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/certificates/<serial>/revoke", methods=["POST"])
@login_required
def revoke(serial: str):
    cert = _viewable_or_404(serial)
    if not services.can_manage(current_user, cert):
        abort(403)
    form = RevokeForm()
    if not form.validate_on_submit():
        return _render_detail(cert, form, 400)
    try:
        services.revoke(cert, form.reason.data, current_user)
    except services.CertificatePermissionError:
        abort(403)
    except services.CertificateError as exc:
        form.reason.errors.append(str(exc))
        return _render_detail(cert, form, 400)
    db.session.commit()
    flash(_("Certificate %(serial)s is revoked.", serial=cert.serial), "success")
    return redirect(url_for(".detail", serial=cert.serial))


def _public(response):
    """Keep public verification pages out of caches and search engines."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/verify")
@limiter.limit(_verify_rate_limit)
def verify_lookup():
    """Form to type a verification code; a known code redirects to its page."""
    form = VerifyForm(formdata=request.args if "code" in request.args else None)
    status = 200
    if "code" in request.args:
        if not form.validate():
            status = 400
        else:
            code = services.normalise_code(form.code.data)
            if code is None:
                form.code.errors.append(
                    _(
                        "A code has 12 letters and digits, for example ABCD-EFGH-JKMN. "
                        "Check the code printed on the certificate."
                    )
                )
                status = 400
            elif services.find_by_code(code) is None:
                form.code.errors.append(
                    _(
                        "No certificate has this code. "
                        "Check the code printed on the certificate."
                    )
                )
                status = 404
            else:
                return redirect(url_for(".verify", code=services.format_code(code)))
    html = render_template("certificates/verify_lookup.html", form=form)
    return _public(make_response(html, status))


@bp.route("/verify/<code>")
@limiter.limit(_verify_rate_limit)
def verify(code: str):
    """Public page that confirms a certificate and shows its status.

    Any spelling that normalises to the code is accepted (grouped or not,
    any case), so a code typed into the address bar works too.
    """
    cert = services.find_by_code(code)
    if cert is None:
        html = render_template("certificates/verify_unknown.html", code=code[:64])
        return _public(make_response(html, 404))
    html = render_template(
        "certificates/verify.html",
        cert=cert,
        status=services.status_of(cert),
        revoked_on=services.revoked_on(cert),
    )
    return _public(make_response(html))
