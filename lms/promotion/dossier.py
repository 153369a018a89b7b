"""A person's dossier as a PDF: record timeline, hours by year and tier with
each ledger row, certificates, annual assessment grades and the competency radar.

The document is rendered by WeasyPrint from ``promotion/dossier_pdf.html``
with the CJK fonts configured for certificates (``CERTIFICATE_FONT_FAMILY``).
It loads no external resource: every URL fetch is rejected, and the radar
chart is inline SVG.
"""

import threading
from datetime import date
from decimal import Decimal

from flask import current_app, render_template
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from lms.accounts.models import User
from lms.competencies import evidence
from lms.compliance.engine import evaluate_all
from lms.promotion import engine, logger
from lms.promotion.evidence import hours_by_year_and_tier
from lms.records import day_cap, events
from lms.records import services as records
from lms.records.models import TrainingTier

_font_config = None
_font_config_lock = threading.Lock()


class NoFetcher(URLFetcher):
    """URL fetcher that rejects every URL, because the dossier embeds nothing."""

    def fetch(self, url, headers=None):
        logger.warning("Blocked a fetch of %r while rendering a dossier", url[:200])
        raise ValueError(f"dossier rendering loads no URL, not {url[:200]!r}")


def _fonts() -> FontConfiguration:
    global _font_config
    with _font_config_lock:
        if _font_config is None:
            _font_config = FontConfiguration()
        return _font_config


def context(person: User, today: date) -> dict:
    """Collect the values the dossier shows, as of ``today``."""
    hours = hours_by_year_and_tier(person, today)
    positions = engine.positions(person)
    timeline = list(reversed(records.timeline(person)))
    return {
        "person": person,
        "today": today,
        "font_family": current_app.config["CERTIFICATE_FONT_FAMILY"],
        "positions": positions,
        # The profile gives the Party facts and post start the rules read.
        # Its cadre rank is among the positions.
        "profile": events.profile_of(person),
        "timeline": timeline,
        # Entries a later correction replaces, struck through as on the record page.
        "corrected_ids": {entry.corrects_id for entry in timeline if entry.corrects_id},
        "ledger": records.ledger(person),
        "capped_days": day_cap.capped_days(person.id),
        "max_hours_per_day": day_cap.max_hours_per_day(),
        "hours": hours,
        "tiers": [tier.value for tier in TrainingTier],
        "year_totals": {
            year: sum((Decimal(value) for value in by_tier.values()), Decimal(0))
            for year, by_tier in hours.items()
        },
        "certificates": engine.certificates_of(person, today),
        "grades": sorted(engine.assessment_grades(person).items()),
        "verdicts": [v for v in evaluate_all(person, today) if v.applies],
        "competency_radar": evidence.radar_for(person) if person.role.is_learner else None,
    }


def render_pdf(person: User, today: date) -> bytes:
    """Render the dossier of ``person`` as PDF bytes."""
    html = render_template("promotion/dossier_pdf.html", **context(person, today))
    document = HTML(string=html, url_fetcher=NoFetcher()).render(font_config=_fonts())
    return document.write_pdf()
