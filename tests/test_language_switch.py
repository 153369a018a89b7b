"""The language switch returns to a page that a browser can load with GET."""

import pytest

HOST = "http://localhost"


def _switch_from(session, referrer: str):
    return session.post("/language/en", headers={"Referer": HOST + referrer})


def test_switch_keeps_a_page_that_loads(seeded, login):
    """The page the switch was clicked on is shown again, query string and all."""
    session = login("counselor1")

    response = _switch_from(session, "/annual-assessment/mine?year=2025")

    assert response.status_code == 302
    assert response.location == HOST + "/annual-assessment/mine?year=2025"


@pytest.mark.parametrize(
    ("posted_to", "page"),
    [
        # A wrong password shows the two-factor page again at the form's address.
        ("/account/two-factor/disable", "/account/two-factor"),
        # A submission with a problem shows the task page at its submit address.
        ("/tasks/5/submit", "/tasks/5"),
        # The query string names the form's scheme, not anything the page reads.
        ("/annual-assessment/mine/achievements?scheme=1", "/annual-assessment/mine"),
    ],
)
def test_switch_after_failed_post_returns_to_page(seeded, login, posted_to, page):
    """A form shown again at a POST-only address returns to the page above it."""
    session = login("counselor1")

    response = _switch_from(session, posted_to)

    assert response.status_code == 302
    assert response.location == page


def test_switch_after_failed_post_page_loads(seeded, login):
    session = login("counselor1")

    response = _switch_from(session, "/account/two-factor/disable")
    page = session.get(response.location)

    assert page.status_code == 200
    assert "Two-factor login" in page.get_data(as_text=True)


def test_switch_without_get_page_goes_home(seeded, login):
    """No address above ``/account/phone`` but the root loads, so the switch goes home."""
    session = login("counselor1")

    response = _switch_from(session, "/account/phone")

    assert response.status_code == 302
    assert response.location == "/"


def test_switch_from_other_site_goes_home(seeded, login):
    session = login("counselor1")

    response = session.post(
        "/language/en", headers={"Referer": "https://example.invalid/tasks/5"}
    )

    assert response.location == "/"
