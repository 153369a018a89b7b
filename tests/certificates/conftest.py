"""Fixtures shared by the certificate tests."""

import pytest
from babel.support import NullTranslations
from flask_babel import Domain

_UNSET = object()


class _MarkedTranslations(NullTranslations):
    """Catalogue that returns each message id wrapped in ⟦ ⟧."""

    def ugettext(self, message):
        return f"⟦{message}⟧"

    gettext = ugettext


@pytest.fixture
def marked_gettext(monkeypatch):
    """Wrap every message that goes through gettext in ⟦ ⟧.

    A test can then check that a message is translatable without a compiled
    catalogue: the English text appears inside the brackets.
    """
    monkeypatch.setattr(Domain, "get_translations", lambda self: _MarkedTranslations())


@pytest.fixture(autouse=True)
def config_unchanged(app):
    """Fail a test that leaves a setting of the shared app changed.

    The app lives for the whole session, so a changed setting leaks into the
    tests that run later. A test changes settings with ``monkeypatch.setitem``,
    which puts them back before this check runs.
    """
    before = dict(app.config)
    yield
    changed = sorted(
        key
        for key in before.keys() | app.config.keys()
        if before.get(key, _UNSET) != app.config.get(key, _UNSET)
    )
    assert changed == [], f"settings left changed: {changed}"
