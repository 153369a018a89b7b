"""Correcting a scheme's components, bands and sample share after scores exist.

Scores entered under a scheme are kept when it is corrected, so components
are changed in place. A stored component matches the row of the same name.
Failing that, it matches the row at its position when that row has a new
name, which is a rename. A component with scores keeps its kind, because a
bonus score and a 0-100 score are not interchangeable, and it cannot be
removed.

Totals, bands and record grades are computed when an assessment is
finalised, so a correction is allowed only while no assessment under the
scheme is finalised. The assessments reopened for it take the corrected
scheme when they are finalised again, and their new grade entries correct
the old ones on the record.
"""

from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import ngettext

from lms.accounts.models import Role, User
from lms.annual_assessment import scoring
from lms.annual_assessment.models import (
    AnnualAssessment,
    AssessmentComponent,
    AssessmentScheme,
    AssessmentStatus,
    ComponentKind,
    ComponentScore,
)
from lms.extensions import db
from lms.i18n import join_names

MAX_REASON = 500


def locked_message() -> str:
    return _(
        "Scores were already entered under this scheme, so only an administrator "
        "can change its components, bands and sample share, after reopening its "
        "finalised assessments and with a reason."
    )


def scored_component_ids(scheme: AssessmentScheme) -> set[int]:
    """Return the ids of the scheme's components that have at least one score."""
    return set(
        db.session.scalars(
            sa.select(ComponentScore.component_id)
            .join(AssessmentComponent, AssessmentComponent.id == ComponentScore.component_id)
            .where(AssessmentComponent.scheme_id == scheme.id)
            .distinct()
        )
    )


def finalised_count(scheme: AssessmentScheme) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(AnnualAssessment.id)).where(
            AnnualAssessment.scheme_id == scheme.id,
            AnnualAssessment.status == AssessmentStatus.FINALISED,
        )
    )


def check(
    scheme: AssessmentScheme,
    actor: User,
    reason: str,
    components: list[scoring.ComponentSpec],
    min_sample_share: Decimal,
) -> list[scoring.Problem]:
    """Return why the correction of a scheme with scores is not allowed; empty when it is."""
    if actor.role is not Role.ADMIN:
        return [scoring.Problem("locked", locked_message())]
    finalised = finalised_count(scheme)
    if finalised:
        return [
            scoring.Problem(
                "locked",
                ngettext(
                    "%(num)d assessment under this scheme is finalised. Reopen it "
                    "first, so that it is finalised again with the corrected scheme.",
                    "%(num)d assessments under this scheme are finalised. Reopen them "
                    "first, so that they are finalised again with the corrected scheme.",
                    finalised,
                ),
            )
        ]
    problems = []
    if not reason.strip() or len(reason.strip()) > MAX_REASON:
        problems.append(
            scoring.Problem(
                "correction_reason",
                _(
                    "Reason for the correction: say in 1 to %(max)s characters why "
                    "the scheme changes after scores were entered.",
                    max=MAX_REASON,
                ),
            )
        )
    problems += _component_problems(scheme, components)
    problems += _sample_problems(scheme, min_sample_share)
    return problems


def _match(
    stored: list[AssessmentComponent], components: list[scoring.ComponentSpec]
) -> dict[int, int]:
    """Map the index of each stored component to the index of the row that replaces it."""
    rows = {spec.name: index for index, spec in enumerate(components)}
    stored_names = {component.name for component in stored}
    matched = {}
    for index, component in enumerate(stored):
        if component.name in rows:
            matched[index] = rows[component.name]
    for index in range(len(stored)):
        renamed = (
            index not in matched
            and index < len(components)
            and index not in matched.values()
            and components[index].name not in stored_names
        )
        if renamed:
            matched[index] = index
    return matched


def _component_problems(
    scheme: AssessmentScheme, components: list[scoring.ComponentSpec]
) -> list[scoring.Problem]:
    scored = scored_component_ids(scheme)
    stored = list(scheme.components)
    matched = _match(stored, components)
    problems = []
    for index, component in enumerate(stored):
        if component.id not in scored:
            continue
        if index not in matched:
            problems.append(
                scoring.Problem(
                    "components",
                    _(
                        "Component “%(name)s” has scores, so it cannot be removed; "
                        "keep its row.",
                        name=component.name,
                    ),
                )
            )
        elif components[matched[index]].kind is not component.kind:
            problems.append(
                scoring.Problem(
                    "components",
                    _(
                        "Scored by of “%(name)s”: the component has scores, so it "
                        "keeps the kind %(kind)s.",
                        name=component.name,
                        kind=scoring.kind_label(component.kind),
                    ),
                )
            )
    return problems


def _sample_problems(scheme: AssessmentScheme, share: Decimal) -> list[scoring.Problem]:
    """Return a problem per stored student evaluation that a new minimum share rejects."""
    if Decimal(scheme.min_sample_share) == share:
        return []
    rows = db.session.execute(
        sa.select(ComponentScore, User.full_name)
        .join(AssessmentComponent, AssessmentComponent.id == ComponentScore.component_id)
        .join(AnnualAssessment, AnnualAssessment.id == ComponentScore.assessment_id)
        .join(User, User.id == AnnualAssessment.user_id)
        .where(
            AssessmentComponent.scheme_id == scheme.id,
            AssessmentComponent.kind == ComponentKind.STUDENTS,
        )
        .order_by(User.full_name)
    )
    names = []
    for score, name in rows:
        if score.sample_size is None or score.student_count is None:
            continue
        if score.sample_size < scoring.min_sample(score.student_count, share):
            names.append(name)
    if not names:
        return []
    return [
        scoring.Problem(
            "min_sample_share",
            _(
                "Minimum student sample: the stored student evaluations of %(names)s "
                "drew fewer students than %(share)s%% of their students. Keep the "
                "share, or correct their student evaluation scores first.",
                names=join_names(names[:10]),
                share=scoring.percent(share),
            ),
        )
    ]


def apply_components(
    scheme: AssessmentScheme, components: list[scoring.ComponentSpec]
) -> None:
    """Update the matched components in place, add the new rows and drop the rest.

    Updating in place keeps the component ids, and with them the scores.
    """
    stored = list(scheme.components)
    matched = _match(stored, components)
    for index, component in enumerate(stored):
        if index not in matched:
            scheme.components.remove(component)
        else:
            # Out of the way of the unique (scheme, position) while rows move.
            component.position = len(stored) + len(components) + index + 1
    db.session.flush()
    by_row = {row: stored[index] for index, row in matched.items()}
    for row, spec in enumerate(components):
        component = by_row.get(row)
        if component is None:
            component = AssessmentComponent()
            scheme.components.append(component)
        bonus = spec.kind is ComponentKind.BONUS
        component.position = row + 1
        component.name = spec.name
        component.kind = spec.kind
        component.weight = Decimal(0) if bonus else spec.weight
        component.bonus_cap = spec.bonus_cap if bonus else None
    db.session.flush()
    db.session.expire(scheme, ["components"])
