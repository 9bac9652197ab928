"""``/docs`` works offline: Swagger UI's files come from the package, not a CDN; and the
browser's ``/favicon.ico`` is served instead of a 404."""

from __future__ import annotations

import re
from typing import Any

from tests.monitor.dashboard.test_browser import ARGS, ARTIFACTS, _require_chromium

PNG = b"\x89PNG\r\n\x1a\n"


def test_docs_page_loads_swagger_ui_from_this_server_only(make_client: Any) -> None:
    client = make_client()
    page = client.get("/docs")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    assert urls, page.text
    assert all(url.startswith("/") for url in urls), urls
    assert "http://" not in page.text and "https://" not in page.text
    assert '"validatorUrl": null' in page.text
    script = client.get("/static/swagger-ui/swagger-ui-bundle.js")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.text
    assert "javascript" in script.headers["content-type"]
    style = client.get("/static/swagger-ui/swagger-ui.css")
    assert style.status_code == 200 and "text/css" in style.headers["content-type"]
    for url in urls:
        assert client.get(url).status_code == 200, url
    assert client.get("/redoc").status_code == 404  # it would load from a CDN


def test_favicon_is_an_icon_not_a_404(make_client: Any) -> None:
    response = make_client().get("/favicon.ico")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/x-icon"
    icon = response.content
    assert icon[:4] == b"\x00\x00\x01\x00"  # an ICO header, one image
    assert icon[22:30] == PNG  # holding a PNG, as ICO allows


def test_docs_render_in_a_browser_without_internet(make_client: Any) -> None:
    _require_chromium()
    from playwright.sync_api import expect, sync_playwright

    from tests.monitor.dashboard.test_browser import CHROMIUM

    client = make_client()
    base = str(client.base_url)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            elsewhere: list[str] = []

            def serve(route: Any) -> None:
                # The test client is the server: relay the request to it, refuse any other host.
                url = route.request.url
                if not url.startswith(base):
                    elsewhere.append(url)
                    route.abort()
                    return
                answer = client.request(route.request.method, url[len(base) :])
                route.fulfill(
                    status=answer.status_code, headers=dict(answer.headers), body=answer.content
                )

            page.route("**/*", serve)
            errors: list[str] = []
            page.on("console", lambda m: m.type == "error" and errors.append(m.text))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(base + "/docs")
            expect(page.locator(".opblock").first).to_be_visible()
            expect(
                page.locator(".opblock-summary-path", has_text="/api/alerts/{alert_id}").first
            ).to_be_visible()
            assert elsewhere == []
            assert errors == []
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "docs.png"))
        finally:
            browser.close()
