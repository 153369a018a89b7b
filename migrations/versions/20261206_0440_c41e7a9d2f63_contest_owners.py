"""Record the owner of each contest

The owner of a contest and the administrators of its institution manage
it. Contests created before this revision get as owner the actor of the
oldest ``contest.saved`` audit entry about them, which is written in the
transaction that creates the contest, when that user belongs to the
contest's institution. The others keep no owner, so only administrators
manage them until one sets an owner.

NOTE: ``contest.saved`` is also written on every later edit, so when the
creation entry was deleted from the audit log the oldest remaining entry
names the first remaining editor instead of the creator.

Revision ID: c41e7a9d2f63
Revises: b6d2e8f41a07
Create Date: 2026-12-06 04:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c41e7a9d2f63'
down_revision = 'b6d2e8f41a07'
branch_labels = None
depends_on = None

#: The owner of each contest: the actor of the oldest ``contest.saved``
#: entry about it, if that user is of its institution.
BACKFILL_OWNERS = """
UPDATE contest SET owner_id = (
    SELECT "user".id FROM "user"
    WHERE "user".institution_id = contest.institution_id
      AND "user".id = (
        SELECT audit_entry.actor_id FROM audit_entry
        WHERE audit_entry.action = 'contest.saved'
          AND audit_entry.subject_type = 'contest'
          AND audit_entry.subject_id = contest.id
        ORDER BY audit_entry.id
        LIMIT 1
      )
)
"""


def upgrade():
    with op.batch_alter_table('contest', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_contest_owner_id'), ['owner_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_contest_owner_id_user'), 'user', ['owner_id'], ['id'], ondelete='SET NULL')

    op.execute(sa.text(BACKFILL_OWNERS))


def downgrade():
    with op.batch_alter_table('contest', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_contest_owner_id_user'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_contest_owner_id'))
        batch_op.drop_column('owner_id')
