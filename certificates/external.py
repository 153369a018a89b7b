"""Certificates for trainings taken elsewhere, issued by HR once the training is approved."""

from datetime import date
from typing import Optional

from babel.dates import format_date
from flask_babel import gettext as _

from certificates import logger, services, template_services
from certificates.designs import hidden_values
from certificates.models import Certificate, CertificateStatus
from certificates.render import CertificateRenderError, plain_hours
from lms.accounts.models import User
from lms.extensions import db
from lms.records import external
from lms.records.models import ExternalTraining, ExternalTrainingStatus


#: Running number of the layout check's serial, the widest with six digits.
MAX_SEQUENCE = 999_999
#: Verification code of the layout check, as wide as a real one.
LAYOUT_CHECK_CODE = "WWWWWWWWWWWW"


def achievement_key(training: ExternalTraining) -> str:
    return f"external:{training.id}"


def certificate_of(training: ExternalTraining) -> Optional[Certificate]:
    """Return the certificate issued for ``training``, or None."""
    return services.find_by_achievement(achievement_key(training))


def withdrawal_hold(training: ExternalTraining) -> Optional[str]:
    """Return why the approval stays: a valid certificate must be revoked first."""
    certificate = certificate_of(training)
    if certificate is None or certificate.status is not CertificateStatus.VALID:
        return None
    return _(
        "Revoke certificate %(serial)s before withdrawing the approval.",
        serial=certificate.serial,
    )


def can_issue(actor: User, training: ExternalTraining) -> bool:
    """Return whether ``actor`` is HR or admin with the training's person in reach."""
    return external.can_review(actor, training)


def _criteria(training: ExternalTraining, hours: str) -> str:
    """Return the certificate's criteria, a Chinese sentence like the templates'."""
    start = format_date(training.start_date, "long", locale="zh_CN")
    end = format_date(training.end_date, "long", locale="zh_CN")
    return (
        f"由{training.organiser}举办的校外培训（{start}至{end}），"
        f"经所在单位人事部门审核认定{hours}学时。"
    )


class CertificateLayoutError(services.CertificateError):
    """Error raised when the template would cut off values of a training's certificate.

    ``hidden`` names the placeholders cut off, as ``designs.hidden_values``
    returns them, and is empty when the layout needs more than one page.
    """

    def __init__(self, template_name: str, hidden: list[str]):
        super().__init__(f"template {template_name!r} cuts off {hidden or 'a page'}")
        self.template_name = template_name
        self.hidden = hidden


def _check_layout(training: ExternalTraining, issued_on: date, version) -> None:
    """Raise CertificateLayoutError if ``version`` cannot show this training's certificate.

    The check runs before a serial is taken, with a serial of the running
    number MAX_SEQUENCE and a made-up code, so that the certificate is
    not issued without a readable serial and verification code.
    """
    institution = training.user.institution
    serial = services.format_serial(institution, issued_on.year, MAX_SEQUENCE)
    data = _render_data(
        training, serial, LAYOUT_CHECK_CODE, issued_on,
        services.expiry_date(issued_on, version.validity_months),
    )
    try:
        hidden = hidden_values(template_services.spec_of(version), data)
    except CertificateRenderError:
        raise CertificateLayoutError(version.template.name, []) from None
    if hidden:
        raise CertificateLayoutError(version.template.name, hidden)


def _new_certificate(
    training: ExternalTraining, serial: str, issued_on: date, version
) -> Certificate:
    person = training.user
    institution = person.institution
    code = services.new_verification_code()
    expires_on = services.expiry_date(issued_on, version.validity_months)
    hours = training.hours
    return Certificate(
        serial=serial,
        verification_code=code,
        achievement_key=achievement_key(training),
        holder_id=person.id,
        institution_id=institution.id,
        programme_id=None,
        holder_name=person.full_name,
        title=training.title,
        hours=hours,
        issued_on=issued_on,
        expires_on=expires_on,
        status=CertificateStatus.VALID,
        template_version_id=version.id,
        render_data=_render_data(training, serial, code, issued_on, expires_on),
    )


def _render_data(
    training: ExternalTraining,
    serial: str,
    code: str,
    issued_on: date,
    expires_on: Optional[date],
) -> dict:
    person = training.user
    institution = person.institution
    hours = training.hours
    return {
        "holder_name": person.full_name,
        "employee_no": person.employee_no or "",
        "institution_name": institution.name,
        "institution_name_en": institution.name_en or "",
        "programme_title": training.title,
        "organiser": training.organiser,
        "training_start": training.start_date.isoformat(),
        "training_end": training.end_date.isoformat(),
        "external_training_id": training.id,
        "level": "",
        "hours": str(hours),
        "grade": "",
        "criteria": _criteria(training, plain_hours(hours)),
        "issued_on": issued_on.isoformat(),
        "expires_on": expires_on.isoformat() if expires_on else None,
        "serial": serial,
        "verification_code": services.format_code(code),
        "verification_url": services.verification_url(code),
    }


def issue_for_training(
    training: ExternalTraining, actor: User
) -> tuple[Certificate, bool]:
    """Issue the certificate of an approved external training; flush only.

    Returns (certificate, True) when this call issued it and (certificate,
    False) when it existed: one training never yields two certificates.
    Raises CertificatePermissionError unless ``actor`` is HR or admin with
    the person in reach, CertificateError unless the training is approved, and
    CertificateLayoutError when the template would cut off the certificate's
    serial, verification code or holder's name.
    """
    if not can_issue(actor, training):
        raise services.CertificatePermissionError(
            "only HR or an admin of the person's institution may issue this certificate"
        )
    if training.status is not ExternalTrainingStatus.APPROVED:
        raise services.CertificateError("only an approved training gets a certificate")
    existing = certificate_of(training)
    if existing is not None:
        return existing, False

    institution = training.user.institution
    issued_on = services.institution_today(institution)
    version = template_services.version_for_external(institution)
    _check_layout(training, issued_on, version)

    def build(serial: str) -> Certificate:
        cert = _new_certificate(training, serial, issued_on, version)
        db.session.add(cert)
        db.session.flush()
        return cert

    cert, inserted = services.insert_with_serial(
        achievement_key(training), institution, issued_on.year, build
    )
    if inserted:
        logger.info(
            "Certificate %s for external training %s issued by user %s",
            cert.serial,
            training.id,
            actor.id,
        )
        services.after_issue(cert, actor)
    return cert, inserted
