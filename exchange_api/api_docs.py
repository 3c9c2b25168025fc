"""The interactive API documentation (``/docs``), served from the package's own assets.

Swagger UI comes from the ``swagger-ui-bundle`` package, mounted under ``/docs/assets``: the page
loads nothing from a CDN, so it works offline and behind a strict egress policy, and what it runs
is the version the lockfile pins. Its *Authorize* button takes an access token (the ``bearer``
scheme of :mod:`exchange_api.auth.scopes`). ReDoc ships no such package and is not served.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

__all__ = ["DOCS_PATH", "install_api_docs"]

DOCS_PATH = "/docs"
_ASSETS_PATH = DOCS_PATH + "/assets"


def install_api_docs(app: FastAPI) -> None:
    """Serve Swagger UI at ``/docs`` with local assets (the app is built with ``docs_url=None``)."""
    app.mount(_ASSETS_PATH, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    async def swagger_ui(_request: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} - API documentation",
            swagger_js_url=f"{_ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{_ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{_ASSETS_PATH}/favicon-32x32.png",
            swagger_ui_parameters={"persistAuthorization": False},
        )

    app.add_route(DOCS_PATH, swagger_ui, methods=["GET"], include_in_schema=False)
