"""Choice feedback and true/false choices stored as data

A choice gets the feedback shown in the review to a learner who picked it,
which GIFT and Moodle XML files carry per answer. True/false choices were
stored as the Chinese words 正确 and 错误, so an English reader saw them in
Chinese; they are now stored as "true" and "false" and labelled in the
reader's language.

Revision ID: c4e7b2a9f16d
Revises: 0eaf0b009332
Create Date: 2026-12-05 14:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4e7b2a9f16d'
down_revision = '0eaf0b009332'
branch_labels = None
depends_on = None

#: Words earlier versions stored for each side of a true/false question.
_STORED_WORDS = {
    'true': ('正确', '对', 'True', 'TRUE'),
    'false': ('错误', '错', 'False', 'FALSE'),
}
_TRUE_FALSE_QUESTIONS = "SELECT id FROM question WHERE kind = 'true_false'"


def upgrade():
    with op.batch_alter_table('choice', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('feedback', sa.Text(), server_default='', nullable=False)
        )
    for value, words in _STORED_WORDS.items():
        op.execute(
            sa.text(
                "UPDATE choice SET text = :value WHERE text IN :words"
                f" AND question_id IN ({_TRUE_FALSE_QUESTIONS})"
            ).bindparams(
                sa.bindparam('words', expanding=True), value=value, words=list(words)
            )
        )


def downgrade():
    for value, words in _STORED_WORDS.items():
        op.execute(
            sa.text(
                "UPDATE choice SET text = :word WHERE text = :value"
                f" AND question_id IN ({_TRUE_FALSE_QUESTIONS})"
            ).bindparams(value=value, word=words[0])
        )
    with op.batch_alter_table('choice', schema=None) as batch_op:
        batch_op.drop_column('feedback')
