"""Store a code for what went wrong with a certificate batch item

A batch item kept only the English text of the exception behind a failure,
prefixed with "PDF not stored: " when the certificate was issued without
its PDF, and the batch page showed that text as it was. An item now keeps
a code that the page words in the reader's language, and ``error`` keeps
only the exception, for administrators. Existing items get the code that
their text implies.

Revision ID: b9160b43005f
Revises: d7a35b1e90c4
Create Date: 2026-12-06 08:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b9160b43005f'
down_revision = 'd7a35b1e90c4'
branch_labels = None
depends_on = None

CODES = ('issue_failed', 'pdf_not_stored', 'pdf_layout')
PDF_PREFIX = 'PDF not stored: '


def upgrade():
    # batch_alter_table recreates the table on SQLite, which cannot add a
    # CHECK constraint to an existing table.
    with op.batch_alter_table('certificate_batch_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('error_code', sa.Enum(*CODES, name='itemerrorcode', native_enum=False, create_constraint=False, length=32), nullable=True))
        batch_op.create_check_constraint(
            'itemerrorcode', "error_code IN ('issue_failed', 'pdf_not_stored', 'pdf_layout')"
        )

    # The render errors of a template that cannot lay out the certificate.
    for name in ('CertificateRenderError', 'TemplateSourceError'):
        op.execute(
            "UPDATE certificate_batch_item SET error_code = 'pdf_layout'"
            f" WHERE error LIKE '{PDF_PREFIX}{name}:%'"
        )
    op.execute(
        "UPDATE certificate_batch_item SET error_code = 'pdf_not_stored'"
        f" WHERE error LIKE '{PDF_PREFIX}%' AND error_code IS NULL"
    )
    op.execute(
        f"UPDATE certificate_batch_item SET error = substr(error, {len(PDF_PREFIX) + 1})"
        " WHERE error_code IS NOT NULL"
    )
    op.execute(
        "UPDATE certificate_batch_item SET error_code = 'issue_failed'"
        " WHERE status = 'failed' AND error IS NOT NULL AND error_code IS NULL"
    )


def downgrade():
    op.execute(
        f"UPDATE certificate_batch_item SET error = substr('{PDF_PREFIX}' || error, 1, 500)"
        " WHERE error_code IN ('pdf_not_stored', 'pdf_layout') AND error IS NOT NULL"
    )
    with op.batch_alter_table('certificate_batch_item', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_certificate_batch_item_itemerrorcode'), type_='check')
        batch_op.drop_column('error_code')
