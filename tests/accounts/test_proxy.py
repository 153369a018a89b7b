"""Client address and scheme behind a trusted reverse proxy."""

from flask import request

from lms import create_app


def _app(proxy_count: int):
    app = create_app(
        {"TESTING": True, "PROXY_COUNT": proxy_count, "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    )

    @app.get("/probe")
    def probe():
        return f"{request.remote_addr} {request.scheme}"

    return app


HEADERS = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}


def test_forwarded_headers_trusted_behind_proxy():
    client = _app(1).test_client()
    response = client.get("/probe", headers=HEADERS, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert response.get_data(as_text=True) == "203.0.113.9 https"
    assert "Strict-Transport-Security" in response.headers


def test_forwarded_headers_ignored_without_proxy():
    client = _app(0).test_client()
    response = client.get("/probe", headers=HEADERS, environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert response.get_data(as_text=True) == "198.51.100.7 http"
    assert "Strict-Transport-Security" not in response.headers
