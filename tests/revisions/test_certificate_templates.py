"""Lost-update protection of the certificate template editor."""

import sqlalchemy as sa

from certificates.template_models import CertificateTemplate
from lms.extensions import db
from lms.organisations.models import Institution


def test_stale_template_save_rejected(app, race):
    with app.app_context():
        template = db.session.scalar(
            sa.select(CertificateTemplate)
            .join(Institution, Institution.id == CertificateTemplate.institution_id)
            .where(Institution.code == "demo-univ")
            .order_by(CertificateTemplate.id)
        )
        template_id, number = template.id, template.current_version.number

    edit = race(f"/certificates/templates/{template_id}", "trainer", "admin")
    edit.first_saves(name="甲改过的模板名称")
    edit.second_saves(validity_months="24")

    with app.app_context():
        template = db.session.get(CertificateTemplate, template_id)
        assert template.name == "甲改过的模板名称"
        assert template.current_version.number == number + 1
        assert template.current_version.validity_months != 24
