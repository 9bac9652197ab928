"""``/docs`` (Swagger UI) and ``/favicon.ico`` served from the package: no CDN.

FastAPI's default docs page loads Swagger UI's JavaScript and CSS from a CDN, so on a machine
without internet it stays blank. This is FastAPI's documented self-hosting recipe ("Custom Docs
UI Static Assets"): the automatic docs are turned off and the same page is built with
``get_swagger_ui_html`` pointing at the vendored ``static/swagger-ui`` files (version and
licence in ``static/swagger-ui/VENDORED.md``). ReDoc is not served: it would need a CDN too.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import FileResponse, HTMLResponse

ASSETS = "/static/swagger-ui"
FAVICON = "/favicon.ico"


def mount_docs(app: FastAPI, *, static_dir: str) -> None:
    """Add ``/docs``, its OAuth2 redirect page and ``/favicon.ico`` to ``app``.

    ``app`` must be created with ``docs_url=None`` and serve ``static_dir`` at ``/static``.
    """
    openapi_url = app.openapi_url or "/openapi.json"
    redirect_url = app.swagger_ui_oauth2_redirect_url or "/docs/oauth2-redirect"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} - API docs",
            oauth2_redirect_url=redirect_url,
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=FAVICON,
            # Swagger UI would otherwise send the schema to validator.swagger.io.
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get(redirect_url, include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(FAVICON, include_in_schema=False)
    def favicon() -> FileResponse:
        return FileResponse(f"{static_dir}/favicon.ico", media_type="image/x-icon")
