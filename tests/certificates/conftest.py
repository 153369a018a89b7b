"""Fixtures shared by the certificate tests."""

import pytest
from babel.support import NullTranslations
from flask_babel import Domain


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
