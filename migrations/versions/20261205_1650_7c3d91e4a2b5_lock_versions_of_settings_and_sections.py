"""Lock versions of course modules, bank categories and settings pages

Course modules, question bank categories, the certificate settings of
programmes and of institutions get ``lock_version``, ``changed_by_id`` and
``changed_at``, like the rows of the other edit pages, so that a save from
a page opened before someone else's save is refused. Existing rows start at
version 1 with no known last change.

``email_settings`` holds the version of a user's e-mail settings page, whose
values are spread over ``email_preference`` rows. A user gets a row at the
first save of the page.

Revision ID: 7c3d91e4a2b5
Revises: 57b722159ffa
Create Date: 2026-12-05 16:50:00.000000

"""
from alembic import op
import sqlalchemy as sa

import lms.db


# revision identifiers, used by Alembic.
revision = '7c3d91e4a2b5'
down_revision = '57b722159ffa'
branch_labels = None
depends_on = None

TABLES = (
    'certificate_institution_settings',
    'certificate_programme_settings',
    'course_module',
    'question_category',
)


def _version_columns():
    return [
        sa.Column(
            'lock_version', sa.Integer(), server_default=sa.text('1'), nullable=False
        ),
        sa.Column('changed_by_id', sa.Integer(), nullable=True),
        sa.Column('changed_at', lms.db.UTCDateTime(), nullable=True),
    ]


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in _version_columns():
                batch_op.add_column(column)
            batch_op.create_foreign_key(
                batch_op.f(f'fk_{table}_changed_by_id_user'),
                'user',
                ['changed_by_id'],
                ['id'],
                ondelete='SET NULL',
            )

    op.create_table(
        'email_settings',
        sa.Column('user_id', sa.Integer(), nullable=False),
        *_version_columns(),
        sa.ForeignKeyConstraint(
            ['changed_by_id'],
            ['user.id'],
            name=op.f('fk_email_settings_changed_by_id_user'),
            ondelete='SET NULL',
        ),
        sa.ForeignKeyConstraint(
            ['user_id'],
            ['user.id'],
            name=op.f('fk_email_settings_user_id_user'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_email_settings')),
    )


def downgrade():
    op.drop_table('email_settings')
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(
                batch_op.f(f'fk_{table}_changed_by_id_user'), type_='foreignkey'
            )
            batch_op.drop_column('changed_at')
            batch_op.drop_column('changed_by_id')
            batch_op.drop_column('lock_version')
