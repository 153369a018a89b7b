"""Browsers get an icon at /favicon.ico and from the link in every page."""


def test_favicon_redirects_to_svg(app):
    client = app.test_client()

    response = client.get("/favicon.ico")
    with client.get(response.headers["Location"]) as icon:
        status, mimetype = icon.status_code, icon.mimetype

    assert response.status_code == 301
    assert status == 200
    assert mimetype == "image/svg+xml"


def test_login_page_links_icon(app):
    page = app.test_client().get("/login").get_data(as_text=True)

    assert 'rel="icon" type="image/svg+xml" href="data:image/svg+xml,' in page
