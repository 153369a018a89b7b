"""Two people edit the same row: the later save from a stale page is rejected."""

import pytest

from tests.revisions.forms import edit_form, text_of


class Race:
    """Two logged-in clients that open the same edit page before either saves."""

    def __init__(
        self, login, url: str, first: str, second: str, post_url=None, form_action=None
    ):
        self.url = post_url or url
        self.page_url = url
        #: The address the edit form posts to, for a page with several forms.
        self.form_action = form_action
        self.first = login(first)
        self.second = login(second)
        self.first_page = self._open(self.first)
        self.second_page = self._open(self.second)

    def _open(self, client) -> dict:
        response = client.get(self.page_url)
        assert response.status_code == 200, response.status_code
        return edit_form(response.get_data(as_text=True), self.form_action)

    def first_saves(self, **changes):
        """Save the first page with ``changes``; it must go through."""
        data = {**self.first_page, **changes}
        response = self.first.post(self.url, data=data)
        assert response.status_code == 302, text_of(response.get_data(as_text=True))
        return response

    def second_saves(self, **changes) -> str:
        """Save the stale second page with ``changes``; it must be rejected.

        Returns the refusal page after checking that it keeps every typed value.
        """
        data = {**self.second_page, **changes}
        response = self.second.post(self.url, data=data)
        html = response.get_data(as_text=True)
        assert response.status_code == 409, text_of(html)
        assert "Your changes were not saved" in text_of(html)
        kept = edit_form(html, self.form_action)
        for name, value in changes.items():
            assert kept[name] == value, (name, kept.get(name), value)
        assert kept["lock_version"] != self.second_page["lock_version"]
        self.rejected_page = kept
        return html

    def second_saves_again(self):
        """Save the refusal page as it is; the typed values now go through."""
        response = self.second.post(self.url, data=self.rejected_page)
        assert response.status_code == 302, text_of(response.get_data(as_text=True))
        return response

    def second_reloads_and_saves(self, **changes):
        """Open the page afresh and save it with ``changes``; it must go through."""
        data = {**self._open(self.second), **changes}
        response = self.second.post(self.url, data=data)
        assert response.status_code == 302, text_of(response.get_data(as_text=True))
        return response


@pytest.fixture
def race(login, seeded, english):
    """Return a function that starts a race on an edit page."""

    def _race(
        url: str, first: str, second: str, post_url=None, form_action=None
    ) -> Race:
        return Race(login, url, first, second, post_url, form_action)

    return _race
