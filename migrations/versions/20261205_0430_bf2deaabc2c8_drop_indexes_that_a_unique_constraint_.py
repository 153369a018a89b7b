"""drop indexes that a unique constraint covers

Each of these single-column indexes repeats the leading column of a unique
constraint on the same table. PostgreSQL and SQLite both serve a lookup by
that column (and the foreign key's ON DELETE CASCADE) from the constraint's
index, so the extra index only cost a write per inserted row, one per
question at every exam start on the attempt's question rows.

Revision ID: bf2deaabc2c8
Revises: 8561ce3f2931
Create Date: 2026-12-05 04:30:23.810129

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'bf2deaabc2c8'
down_revision = '8561ce3f2931'
branch_labels = None
depends_on = None

#: (table, column) of each dropped index, named ix_<table>_<column>.
COVERED = (
    ('attempt', 'quiz_id'),
    ('attempt_answer', 'attempt_id'),
    ('attempt_question', 'attempt_id'),
    ('certificate_batch_item', 'batch_id'),
    ('certificate_template', 'institution_id'),
    ('certificate_template_version', 'template_id'),
    ('choice', 'question_id'),
    ('class_attendance', 'session_id'),
    ('class_member', 'class_id'),
    ('competency_area_mapping', 'source_area_id'),
    ('competency_evidence', 'user_id'),
    ('competency_framework', 'code'),
    ('compliance_rule', 'institution_id'),
    ('compliance_snapshot', 'snapshot_date'),
    ('contest_entrant', 'contest_id'),
    ('contest_event', 'contest_id'),
    ('course', 'institution_id'),
    ('course_completion', 'user_id'),
    ('course_module', 'course_id'),
    ('course_visit', 'user_id'),
    ('criterion_mark', 'sheet_id'),
    ('department', 'institution_id'),
    ('enrolment', 'user_id'),
    ('enrolment_course', 'enrolment_id'),
    ('hours_entry', 'user_id'),
    ('lesson', 'course_id'),
    ('lesson_progress', 'user_id'),
    ('programme', 'institution_id'),
    ('progression_entry', 'user_id'),
    ('promotion_decision', 'application_id'),
    ('promotion_rule', 'institution_id'),
    ('question', 'quiz_id'),
    ('question_bank', 'institution_id'),
    ('question_category', 'bank_id'),
    ('question_tag', 'question_id'),
    ('quiz_draw', 'quiz_id'),
    ('quiz_grant', 'quiz_id'),
    ('rubric', 'institution_id'),
    ('rubric_criterion', 'rubric_id'),
    ('rubric_level', 'criterion_id'),
    ('score_sheet', 'submission_id'),
    ('task_assessor', 'task_id'),
    ('task_submission', 'task_id'),
    ('training_class', 'institution_id'),
)


def upgrade():
    for table, column in COVERED:
        op.drop_index(f"ix_{table}_{column}", table_name=table)


def downgrade():
    for table, column in COVERED:
        op.create_index(f"ix_{table}_{column}", table, [column])
