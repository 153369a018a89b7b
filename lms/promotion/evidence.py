"""The evidence snapshot attached to each (re)submission of an application."""

from datetime import date
from decimal import Decimal
from typing import Optional

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale

from lms.accounts.models import User
from lms.compliance.engine import evaluate_all
from lms.extensions import db
from lms.promotion import engine
from lms.promotion.models import PromotionRule
from lms.records.models import (
    PROGRAMME_COMPLETION_SOURCE_TYPE,
    HoursEntry,
    ProgressionEntry,
)
from lms.stored_text import in_each_language, render_stored, split_text


def snapshot_evidence(
    user: User,
    rule: PromotionRule,
    today: date,
    programme_titles: Optional[dict[int, str]] = None,
) -> dict:
    """Return the record, hours, certificates, grades and verdicts as plain JSON.

    Messages and record headlines are written in the platform's default
    language, and beside them as stored text (``*_data`` keys, see
    ``lms.stored_text``) that ``for_display`` renders in the reader's language.
    """
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        eligibility = engine.evaluate(
            rule, user, today, programme_titles=programme_titles
        )
        return _snapshot(user, eligibility, today)


def _snapshot(user: User, eligibility: engine.Eligibility, today: date) -> dict:
    entries = db.session.scalars(
        sa.select(ProgressionEntry)
        .where(ProgressionEntry.user_id == user.id)
        .order_by(ProgressionEntry.occurred_on, ProgressionEntry.id)
    )
    return {
        "taken_on": today.isoformat(),
        "person": {
            "name": user.full_name,
            "employee_no": user.employee_no,
            "department": user.department.name if user.department else None,
            "post": user.post.value if user.post else None,
        },
        "positions": {
            track.value: {
                "value": position.value,
                "since": position.since.isoformat() if position.since else None,
            }
            for track, position in engine.positions(user).items()
        },
        "conditions": [
            {
                "kind": c.kind,
                "met": c.met,
                "message": c.message,
                "message_data": split_text(c.text, None)[1],
            }
            for c in eligibility.conditions
        ],
        "record": [
            {
                "id": entry.id,
                "kind": entry.kind.value,
                "occurred_on": entry.occurred_on.isoformat(),
                "title": entry.title,
                "title_data": entry.title_data,
                "corrects_id": entry.corrects_id,
            }
            for entry in entries
        ],
        "hours": hours_by_year_and_tier(user, today),
        "certificates": [
            {
                **cert,
                "issued_on": _iso(cert.get("issued_on")),
                "expires_on": _iso(cert.get("expires_on")),
            }
            for cert in engine.certificates_of(user, today)
        ],
        "grades": {
            str(year): grade for year, grade in engine.assessment_grades(user).items()
        },
        "compliance": [
            _verdict_json(verdict)
            for verdict in evaluate_all(user, today)
            if verdict.applies
        ],
    }


def _verdict_json(verdict) -> dict:
    return {
        "code": verdict.rule.code,
        "name": verdict.rule.name,
        "name_data": in_each_language(lambda: verdict.rule.display_name).to_json(),
        "status": verdict.status.value,
        "message": verdict.message,
        "message_data": in_each_language(lambda: verdict.message).to_json(),
    }


def _iso(value) -> Optional[str]:
    return value.isoformat() if isinstance(value, date) else value


def hours_by_year_and_tier(user: User, today: date) -> dict[str, dict[str, str]]:
    """Sum the whole ledger per calendar year and tier, as strings for JSON.

    Every year from the first on the ledger through the year of ``today`` is
    included, and a year without hours maps to an empty dict, because HR
    needs to see a year without training. A person with an empty ledger gets
    the year of ``today`` alone.
    """
    rows = db.session.execute(
        sa.select(HoursEntry.year, HoursEntry.tier, sa.func.sum(HoursEntry.hours))
        .where(
            HoursEntry.user_id == user.id,
            # A programme's row of 0 学时 and its correction credit nothing.
            sa.or_(
                HoursEntry.source_type.is_(None),
                HoursEntry.source_type != PROGRAMME_COMPLETION_SOURCE_TYPE,
            ),
            sa.or_(HoursEntry.corrects_id.is_(None), HoursEntry.hours != 0),
        )
        .group_by(HoursEntry.year, HoursEntry.tier)
        .order_by(HoursEntry.year)
    )
    totals: dict[str, dict[str, str]] = {}
    for year, tier, total in rows:
        totals.setdefault(str(year), {})[tier.value] = str(Decimal(total or 0))
    return with_empty_years(totals, today.year)


def with_empty_years(hours: dict[str, dict[str, str]], last_year: int) -> dict:
    """Add an empty dict for each year missing from ``hours`` up to ``last_year``.

    Keys are years as strings, in ascending order in the result.
    """
    years = [int(year) for year in hours]
    first_year = min(years, default=last_year)
    filled = {str(year): {} for year in range(first_year, last_year + 1)}
    filled.update(hours)
    return dict(sorted(filled.items(), key=lambda item: int(item[0])))


def for_display(stored: dict) -> dict:
    """Return stored evidence ready for a page in the reader's language.

    Messages, rule names and record headlines stored as text data are
    rendered in the current language; snapshots taken before that keep
    their stored text. Every year up to the snapshot's year is in its
    hours, which snapshots taken before empty years were recorded lack.
    """
    shown = {
        **stored,
        "conditions": _rendered(stored.get("conditions"), "message"),
        "compliance": _rendered(
            _rendered(stored.get("compliance"), "message"), "name"
        ),
        "record": _rendered(stored.get("record"), "title"),
    }
    try:
        taken_year = date.fromisoformat(stored["taken_on"]).year
    except (KeyError, TypeError, ValueError):
        return shown
    return {**shown, "hours": with_empty_years(stored.get("hours") or {}, taken_year)}


def _rendered(items, key: str) -> list:
    """Return ``items`` with ``key`` rendered from ``key + "_data"`` where stored."""
    if not isinstance(items, list):
        return []
    shown = []
    for item in items:
        if isinstance(item, dict):
            data = item.get(f"{key}_data")
            item = {**item, key: render_stored(data, str(item.get(key, "")))}
        shown.append(item)
    return shown
