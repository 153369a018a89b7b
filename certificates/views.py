"""Certificate pages: learner list, downloads, revocation, public verification."""

import json

import sqlalchemy as sa
from babel.lists import format_list
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
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from certificates import external as external_certificates
from certificates import basis, keys, logger, reissue as reissues, renewal, services
from certificates import template_services
from certificates import hours as certificate_hours
from certificates.credential_messages import result_label, verification_detail
from certificates.forms import (
    CredentialUploadForm,
    IssueExternalForm,
    WITHDRAW_HOURS,
    ReissueForm,
    RevokeForm,
    VerifyForm,
)
from certificates.models import Certificate, CertificateStatus
from certificates.render import CertificateRenderError, plain_hours
from certificates.sandbox import TemplateSourceError
from lms.accounts.access import hr_scope, roles_required
from lms.accounts.models import Role
from lms.extensions import db, limiter
from lms.i18n import format_date, plural_count
from lms.organisations.models import Institution
from lms.records import external

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


#: Maximum number of certificates on the issued list. A search finds the others.
ISSUED_LIST_LIMIT = 200

#: Media type of a VCDM 2.0 credential secured with an embedded proof.
CREDENTIAL_MEDIA_TYPE = "application/vc+ld+json"

#: Verdict shown for each ``VerificationResult.code``.
VERDICT_MESSAGES = {
    "ok": _l(
        "The signature is valid: the issuer below signed this credential and "
        "it has not been changed since."
    ),
    "invalid_signature": _l(
        "The signature does not match: the file was changed after it was "
        "signed, or it was signed with another key."
    ),
    "unknown_key": _l(
        "The signing key is not one of this platform's issuer keys, so the "
        "credential cannot be checked here."
    ),
    "malformed": _l("The credential or its proof is malformed."),
    "unsupported": _l("The proof uses a signature format this page does not check."),
    "context_mismatch": _l("The credential's @context does not match its proof."),
    "issuer_mismatch": _l(
        "The signing key does not belong to the issuer named in the credential."
    ),
    "wrong_type": _l("The credential is not an Open Badges credential."),
    "wrong_purpose": _l("The proof is not an assertion by the issuer."),
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
        "verification_detail": verification_detail,
        "result_label": result_label,
        "revoked_date": services.revoked_on,
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
    """List the institution's newest certificates for HR and admins, with a text search."""
    search = request.args.get("q", "")[:100]
    # One row beyond the limit shows whether older certificates were left out.
    certificates = services.institution_certificates(
        current_user.institution_id,
        search,
        limit=ISSUED_LIST_LIMIT + 1,
        department_id=hr_scope(current_user),
    )
    rows = [
        (cert, services.status_of(cert)) for cert in certificates[:ISSUED_LIST_LIMIT]
    ]
    return render_template(
        "certificates/issued.html",
        rows=rows,
        search=search,
        limit=ISSUED_LIST_LIMIT if len(certificates) > ISSUED_LIST_LIMIT else None,
    )


@bp.route("/certificates/<serial>")
@login_required
def detail(serial: str):
    cert = _viewable_or_404(serial)
    return _render_detail(cert, RevokeForm())


def _render_detail(cert: Certificate, form: RevokeForm, status: int = 200):
    display_status = services.status_of(cert)
    refreshers = []
    if display_status in (services.DisplayStatus.VALID, services.DisplayStatus.EXPIRING_SOON):
        refreshers = renewal.refresher_programmes(cert.programme_id)
    can_manage = services.can_manage(current_user, cert)
    # A revoked certificate that is not replaced yet shows its managers the
    # reissue form, or the reason it cannot be reissued.
    offer_reissue = (
        can_manage
        and display_status is services.DisplayStatus.REVOKED
        and cert.superseded_by_id is None
    )
    reissue_problem = None
    if offer_reissue:
        error = reissues.check(cert)
        reissue_problem = _reissue_message(cert, error) if error is not None else None
    return (
        render_template(
            "certificates/detail.html",
            cert=cert,
            status=display_status,
            revoked_on=services.revoked_on(cert),
            can_manage=can_manage,
            form=form,
            offer_reissue=offer_reissue,
            reissue_problem=reissue_problem,
            reissue_form=ReissueForm(),
            renewal_opens=renewal.window_opens_on(cert) if refreshers else None,
            refreshers=refreshers,
            failed_basis=basis.failed_basis(cert) if can_manage else [],
            withdrawable=(
                certificate_hours.withdrawable(cert)
                if can_manage and display_status is not services.DisplayStatus.REVOKED
                else (None, False)
            ),
            withdrawn=(
                certificate_hours.withdrawn_entries(cert)
                if display_status is services.DisplayStatus.REVOKED
                else []
            ),
        ),
        status,
    )


def _downloadable_or_refused(serial: str, kind: str):
    """Load a certificate whose file the current user may download.

    Returns ``(cert, None)``, or ``(cert, response)`` where the response
    sends the holder of a revoked certificate back to its page with the
    reason. A manager's download of a revoked certificate is audited.
    """
    cert = _viewable_or_404(serial)
    if not services.can_download(current_user, cert):
        flash(_revoked_download_message(cert), "error")
        return cert, redirect(url_for(".detail", serial=cert.serial))
    if cert.status is CertificateStatus.REVOKED:
        services.record_archived_download(cert, current_user, kind)
    return cert, None


def _revoked_download_message(cert: Certificate) -> str:
    return _(
        "Certificate %(serial)s was revoked on %(date)s (reason: %(reason)s), "
        "so it can no longer be downloaded. HR keeps the archived copy.",
        serial=cert.serial,
        date=format_date(services.revoked_on(cert)),
        reason=cert.revoked_reason,
    )


def _download_name(cert: Certificate, extension: str) -> str:
    """Return the download file name, ending in ``-revoked`` for a revoked certificate."""
    if cert.status is CertificateStatus.REVOKED:
        return f"{cert.serial}-revoked.{extension}"
    return f"{cert.serial}.{extension}"


@bp.route("/certificates/<serial>.pdf")
@login_required
def download(serial: str):
    cert, refused = _downloadable_or_refused(serial, "pdf")
    if refused is not None:
        return refused
    try:
        pdf = services.pdf_bytes(cert)
    except (CertificateRenderError, TemplateSourceError):
        # The frozen template version cannot lay out this certificate's values.
        db.session.rollback()
        logger.exception("PDF of certificate %s cannot be rendered", serial)
        flash(
            _(
                "The PDF of certificate %(serial)s cannot be produced, because its "
                "texts do not fit on one page of its template. Please tell HR: a "
                "trainer can adjust the template, and HR can then revoke the "
                "certificate and reissue it.",
                serial=cert.serial,
            ),
            "error",
        )
        return redirect(url_for(".detail", serial=cert.serial))
    # pdf_bytes re-renders a missing file and may record a new hash.
    db.session.commit()
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{_download_name(cert, "pdf")}"'
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
    if cert.status is CertificateStatus.REVOKED:
        flash(_already_revoked_message(cert), "info")
        return redirect(url_for(".detail", serial=cert.serial))
    form = RevokeForm()
    if not form.validate_on_submit():
        return _render_detail(cert, form, 400)
    try:
        services.revoke(cert, form.reason.data, current_user)
        withdrawn = []
        if form.hours.data == WITHDRAW_HOURS:
            withdrawn = certificate_hours.withdraw_hours(
                cert, current_user, form.reason.data
            )
    except services.CertificatePermissionError:
        abort(403)
    except services.CertificateError as exc:
        db.session.rollback()
        form.reason.errors.append(str(exc))
        return _render_detail(cert, form, 400)
    db.session.commit()
    requested = form.hours.data == WITHDRAW_HOURS
    flash(_revoked_message(cert, requested, withdrawn), "success")
    return redirect(url_for(".detail", serial=cert.serial))


def _revoked_message(
    cert: Certificate, withdrawal_requested: bool, withdrawn: list
) -> str:
    """Return the flash message after a revocation, with what became of the hours."""
    revoked = _("Certificate %(serial)s is revoked.", serial=cert.serial)
    if not withdrawal_requested:
        return revoked
    if not withdrawn:
        return " ".join(
            [revoked, _("No hours credited for its training were left to withdraw.")]
        )
    hours = -sum(row.hours for row in withdrawn)
    if not hours:
        # The training's 学时 were credited through another programme.
        return " ".join(
            [
                revoked,
                _(
                    "It no longer counts as a training toward the training "
                    "requirements; its hours stay credited through the other "
                    "programme."
                ),
            ]
        )
    return " ".join(
        [
            revoked,
            ngettext(
                "%(hours)s hour was withdrawn from the hours ledger.",
                "%(hours)s hours were withdrawn from the hours ledger.",
                plural_count(hours),
                hours=plain_hours(hours),
            ),
        ]
    )


def _already_revoked_message(cert: Certificate) -> str:
    """Return the message that ``cert`` was revoked before, naming when and by whom."""
    actor = services.revoked_by(cert)
    if actor is None:
        return _(
            "Certificate %(serial)s was already revoked on %(date)s. Nothing was changed.",
            serial=cert.serial,
            date=format_date(services.revoked_on(cert)),
        )
    return _(
        "Certificate %(serial)s was already revoked on %(date)s by %(name)s. "
        "Nothing was changed.",
        serial=cert.serial,
        date=format_date(services.revoked_on(cert)),
        name=actor.full_name or actor.username,
    )


def _reissue_message(cert: Certificate, error: reissues.ReissueError) -> str:
    """Return the translated reason why ``cert`` cannot be reissued."""
    problem = error.problem
    name = cert.holder_name
    if problem is reissues.Problem.NOT_REVOKED:
        return _(
            "Certificate %(serial)s is not revoked. Only a revoked certificate can be reissued.",
            serial=cert.serial,
        )
    if problem is reissues.Problem.EXTERNAL:
        return _(
            "Certificate %(serial)s is for a training taken elsewhere. Only programme "
            "certificates can be reissued, not external-training certificates.",
            serial=cert.serial,
        )
    if problem is reissues.Problem.OTHER_INSTITUTION:
        return _(
            "%(name)s no longer belongs to this institution, so certificate %(serial)s "
            "cannot be reissued.",
            name=name,
            serial=cert.serial,
        )
    if problem is reissues.Problem.NOT_COMPLETED:
        return _(
            "%(name)s has no completion of the programme on record any more, so "
            "certificate %(serial)s cannot be reissued.",
            name=name,
            serial=cert.serial,
        )
    if problem is reissues.Problem.NEWER_HELD:
        return _(
            "%(name)s already holds certificate %(current)s of this programme, so "
            "certificate %(serial)s cannot be reissued.",
            name=name,
            current=error.current.serial,
            serial=cert.serial,
        )
    if problem is reissues.Problem.NOT_LATEST:
        return _(
            "Certificate %(current)s is the latest certificate of this programme for "
            "%(name)s. Reissue that one instead of %(serial)s.",
            name=name,
            current=error.current.serial,
            serial=cert.serial,
        )
    return _("Certificate %(serial)s could not be reissued.", serial=cert.serial)


@bp.route("/certificates/<serial>/reissue", methods=["POST"])
@login_required
def reissue(serial: str):
    """HR reissues a revoked programme certificate with a new serial; idempotent."""
    cert = _viewable_or_404(serial)
    if not services.can_manage(current_user, cert):
        abort(403)
    if not ReissueForm().validate_on_submit():
        abort(400)
    try:
        new, issued = reissues.reissue(cert, current_user)
    except services.CertificatePermissionError:
        abort(403)
    except reissues.ReissueError as exc:
        db.session.rollback()
        flash(_reissue_message(cert, exc), "error")
        return _render_detail(cert, RevokeForm(), 409)
    db.session.commit()
    if issued:
        flash(
            _(
                "Certificate %(serial)s is reissued as %(new_serial)s.",
                serial=cert.serial,
                new_serial=new.serial,
            ),
            "success",
        )
    else:
        flash(
            _(
                "Certificate %(serial)s was already replaced by %(new_serial)s; "
                "nothing changed.",
                serial=cert.serial,
                new_serial=new.serial,
            ),
            "info",
        )
    return redirect(url_for(".detail", serial=new.serial))


@bp.route("/records/external/<int:training_id>/certificate", methods=["POST"])
@login_required
def issue_external(training_id: int):
    """HR issues the certificate of an approved training taken elsewhere; idempotent."""
    training = external.find(training_id)
    if training is None or not external.can_view(current_user, training):
        abort(404)
    if not external_certificates.can_issue(current_user, training):
        abort(403)
    if not IssueExternalForm().validate_on_submit():
        abort(400)
    try:
        cert, issued = external_certificates.issue_for_training(training, current_user)
    except external_certificates.CertificateLayoutError as exc:
        db.session.rollback()
        logger.warning("Certificate of external training %s not issued: %s", training.id, exc)
        flash(_layout_message(exc), "error")
        return redirect(url_for("records.review_external", training_id=training.id))
    except services.CertificateError:
        flash(_("Only an approved training gets a certificate."), "error")
        return redirect(url_for("records.review_external", training_id=training.id))
    db.session.commit()
    if issued:
        flash(_("Certificate %(serial)s is issued.", serial=cert.serial), "success")
    else:
        flash(
            _("Certificate %(serial)s was already issued; nothing changed.", serial=cert.serial),
            "info",
        )
    return redirect(url_for(".detail", serial=cert.serial))


def _layout_message(exc) -> str:
    """Return why a training's certificate was not issued because its layout fails."""
    if not exc.hidden:
        return _(
            "The certificate was not issued: with this training's name and organiser, "
            "the template %(template)s needs more than one page. Ask a trainer or an "
            "administrator to reduce sizes in that template under “Certificate "
            "templates”, then issue the certificate again.",
            template=exc.template_name,
        )
    return _(
        "The certificate was not issued: with this training's name and organiser, "
        "the template %(template)s cuts off %(values)s. Ask a trainer or an "
        "administrator to reduce sizes in that template under “Certificate "
        "templates”, then issue the certificate again.",
        template=exc.template_name,
        values=format_list(
            [str(template_services.HIDDEN_VALUE_LABELS[name]) for name in exc.hidden],
            locale=get_locale(),
        ),
    )


@bp.app_template_global()
def external_training_certificate(training):
    """Return the certificate issued for an external training, or None."""
    return external_certificates.certificate_of(training)


@bp.app_template_global()
def issue_external_form():
    return IssueExternalForm()


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
            code = services.code_from_input(form.code.data)
            if code is None and services.looks_like_serial(form.code.data):
                form.code.errors.append(
                    _(
                        "A code has 12 letters and digits, for example ABCD-EFGH-JKMN, "
                        "and never contains 0, 1, I, L or O. If you typed the "
                        "certificate's serial number, type the verification code "
                        "printed on the certificate instead, or scan its QR code."
                    )
                )
                status = 400
            elif code is None:
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


# --- signed credentials -----------------------------------------------------


def _credential_or_503(cert: Certificate) -> str:
    """Return the certificate's credential JSON, building it on first request."""
    text = services.try_ensure_credential(cert)
    if text is None:
        # Signing failed and was logged, e.g. SECRET_KEY changed since the
        # institution's key was created and the key has not been rotated.
        abort(503)
    return text


@bp.route("/credentials/<code>")
@limiter.limit(_verify_rate_limit)
def credential(code: str):
    """Serve the signed credential at its ``id`` URL; ``?format=json`` for plain JSON.

    The URL carries the verification code, which cannot be guessed, rather
    than the sequential serial. A revoked certificate still serves its
    credential: the signature stays valid, and the verification pages show
    the revocation.
    """
    output_format = request.args.get("format", "")
    if output_format not in ("", "json"):
        abort(400)
    cert = services.find_by_code(code)
    if cert is None:
        abort(404)
    text = _credential_or_503(cert)
    db.session.commit()
    media_type = "application/json" if output_format == "json" else CREDENTIAL_MEDIA_TYPE
    response = make_response(text)
    response.headers["Content-Type"] = f"{media_type}; charset=utf-8"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return _public(response)


@bp.route("/certificates/<serial>/credential.json")
@login_required
def credential_download(serial: str):
    cert, refused = _downloadable_or_refused(serial, "credential")
    if refused is not None:
        return refused
    text = _credential_or_503(cert)
    db.session.commit()
    response = make_response(text)
    response.headers["Content-Type"] = "application/json; charset=utf-8"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{services.credential_filename(cert)}"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/issuers/<institution_code>")
def issuer(institution_code: str):
    """Serve the issuer's controller document with its active and retired keys."""
    institution = db.session.scalar(
        sa.select(Institution).filter_by(code=institution_code)
    )
    if institution is None:
        abort(404)
    document = keys.controller_document(institution)
    response = make_response(json.dumps(document, ensure_ascii=False, indent=2))
    response.headers["Content-Type"] = "application/json; charset=utf-8"
    response.headers["Access-Control-Allow-Origin"] = "*"
    # A rotation adds a key; five minutes of caching delays only new credentials.
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.route("/verify/credential", methods=["GET", "POST"])
@limiter.limit(_verify_rate_limit)
def verify_credential():
    """Check an uploaded credential file: its signature and its certificate's status."""
    form = CredentialUploadForm()
    check = None
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            check = services.check_credential(form.credential, form.employee_no.data)
        else:
            status = 400
    html = render_template(
        "certificates/verify_credential.html",
        form=form,
        check=check,
        verdicts=VERDICT_MESSAGES,
        revoked_on=(
            services.revoked_on(check.certificate)
            if check is not None and check.certificate is not None
            else None
        ),
    )
    return _public(make_response(html, status))
