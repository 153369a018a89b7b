"""Store every employee number half-width and upper case

The browser form, roster imports and ``flask lms create-account`` store
employee numbers through ``normalise_employee_no`` (half-width, upper case,
no spaces), but accounts created from the command line before it did may
keep lower-case or full-width numbers, which roster rows never match. This
revision rewrites each such number with the same function. A number whose
normal form another account of the same institution already has, or that
an earlier account (by id) of the institution takes in this revision, is
left as it is and logged with both account ids, because roster imports find
a person by number and two accounts with one number would make an import
pick either. A number longer than the column once normalised is left as
well. The downgrade keeps the normal forms: the spelling as typed is not
kept anywhere.

Revision ID: c4f2a8d61e95
Revises: 7b3e5a91c2d4
Create Date: 2026-12-06 16:10:00.000000

"""
import logging

import sqlalchemy as sa
from alembic import op

from lms.onboarding import EMPLOYEE_NO_MAX, normalise_employee_no


# revision identifiers, used by Alembic.
revision = 'c4f2a8d61e95'
down_revision = '7b3e5a91c2d4'
branch_labels = None
depends_on = None

logger = logging.getLogger("alembic.runtime.migration")

USER = sa.table(
    "user",
    sa.column("id", sa.Integer),
    sa.column("institution_id", sa.Integer),
    sa.column("employee_no", sa.String),
)


def upgrade():
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(USER.c.id, USER.c.institution_id, USER.c.employee_no)
        .where(USER.c.employee_no.is_not(None))
        .order_by(USER.c.id)
    ).all()
    # The number each account of each institution ends up with, and its holder.
    holders: dict[tuple[int, str], int] = {
        (institution_id, number): user_id
        for user_id, institution_id, number in rows
        if normalise_employee_no(number) == number
    }
    for user_id, institution_id, number in rows:
        normal = normalise_employee_no(number) or None
        if normal == number:
            continue
        if normal is not None and len(normal) > EMPLOYEE_NO_MAX:
            logger.warning(
                "Employee number %r of user %s kept: its normal form %r is longer "
                "than %s characters",
                number, user_id, normal, EMPLOYEE_NO_MAX,
            )
            continue
        holder = holders.get((institution_id, normal)) if normal else None
        if holder is not None:
            logger.warning(
                "Employee number %r of user %s kept: user %s of the same "
                "institution has %r",
                number, user_id, holder, normal,
            )
            continue
        connection.execute(
            USER.update().where(USER.c.id == user_id).values(employee_no=normal)
        )
        if normal is not None:
            holders[(institution_id, normal)] = user_id


def downgrade():
    pass
