"""The foundation's behaviour over HTTP: problem+json for every error, request ids, health."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict

from exchange_api.errors import PROBLEM_MEDIA_TYPE, ServiceUnavailable
from exchange_api.logs import JsonFormatter


class Probe(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    count: int


@pytest.fixture
def probe_app(app: FastAPI) -> FastAPI:
    """The real app with two throw-away routes: one that takes a body, one that crashes."""

    @app.post("/probe")
    def probe(body: Probe) -> dict[str, int]:
        return {"count": body.count}

    @app.get("/crash")
    def crash() -> None:
        raise RuntimeError("secret internals /srv/app.py line 42")

    return app


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body = response.json()
    assert body["type"] == f"urn:exchange-api:problem:{slug}"
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    assert response.headers["x-request-id"]
    return dict(body)


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_when_migrated(client: httpx.AsyncClient, app: FastAPI) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json()["schema"] == app.state.migration_head


async def test_readyz_refuses_a_database_behind_head(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    app.state.migration_head = "a-revision-that-does-not-exist"
    body = assert_problem(await client.get("/readyz"), 503, "not-ready")
    assert "not at head" in str(body["detail"])


async def test_unknown_route_is_a_problem(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/no/such/route"), 404, "not-found")


async def test_wrong_method_is_a_problem(client: httpx.AsyncClient) -> None:
    response = await client.delete("/healthz")
    assert_problem(response, 405, "method-not-allowed")
    assert "GET" in response.headers["allow"]


async def test_malformed_json_is_400(client: httpx.AsyncClient, probe_app: FastAPI) -> None:
    response = await client.post(
        "/probe", content=b'{"name": "x", "count": ', headers={"content-type": "application/json"}
    )
    assert_problem(response, 400, "malformed-json")


async def test_validation_errors_list_loc_and_msg_without_values(
    client: httpx.AsyncClient, probe_app: FastAPI
) -> None:
    response = await client.post(
        "/probe", json={"name": "Sensitive Person Name", "count": "many", "role": "admin"}
    )
    body = assert_problem(response, 422, "validation-error")
    errors = body["errors"]
    assert isinstance(errors, list)
    locations = {tuple(error["loc"]) for error in errors}
    assert ("body", "count") in locations
    assert ("body", "role") in locations  # unknown field refused: no mass assignment
    assert all(set(error) == {"loc", "msg"} for error in errors)
    assert "Sensitive Person Name" not in response.text
    assert "many" not in response.text


async def test_body_over_limit_by_content_length(
    client: httpx.AsyncClient, probe_app: FastAPI
) -> None:
    big = json.dumps({"name": "x" * (1024 * 1024), "count": 1}).encode()
    assert_problem(await client.post("/probe", content=big), 413, "payload-too-large")


async def test_body_over_limit_while_streaming(
    client: httpx.AsyncClient, probe_app: FastAPI
) -> None:
    """A chunked body has no Content-Length: the limit is enforced as it is read."""

    async def chunks():  # type: ignore[no-untyped-def]
        yield b'{"name": "'
        for _ in range(20):
            yield b"x" * 65536
        yield b'", "count": 1}'

    response = await client.post(
        "/probe", content=chunks(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert_problem(response, 413, "payload-too-large")


async def test_unhandled_exception_is_a_bare_500(probe_app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=probe_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.get("/crash")
    assert_problem(response, 500, "internal-error")
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text


async def test_request_id_kept_when_sane_and_replaced_otherwise(
    client: httpx.AsyncClient,
) -> None:
    kept = await client.get("/healthz", headers={"X-Request-ID": "nl-police:abc-123"})
    assert kept.headers["x-request-id"] == "nl-police:abc-123"
    evil = "<script>alert(1)</script>"
    replaced = await client.get("/healthz", headers={"X-Request-ID": evil})
    assert replaced.headers["x-request-id"] != evil
    fresh = await client.get("/healthz")
    assert len(fresh.headers["x-request-id"]) == 36


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def test_one_access_log_line_without_query_values(client: httpx.AsyncClient) -> None:
    collect = _Collect()
    logger = logging.getLogger("exchange_api.access")
    logger.addHandler(collect)
    try:
        await client.get("/healthz?party=Example+Chemical+Trading", headers={"X-Request-ID": "r-1"})
    finally:
        logger.removeHandler(collect)
    records = [r for r in collect.records if r.__dict__.get("request_id") == "r-1"]
    assert len(records) == 1
    record = records[0]
    assert record.__dict__["http"]["path"] == "/healthz"
    assert record.__dict__["http"]["status"] == 200
    line = json.loads(JsonFormatter().format(record))
    assert line["http"] == record.__dict__["http"]
    assert line["request_id"] == "r-1"
    assert "Example" not in json.dumps(line)


async def test_unhandled_exception_logs_code_paths_not_its_message(app: FastAPI) -> None:
    """The exception's message may quote request data: only its type and stack are logged."""

    @app.get("/crash-quoting/{value}")
    def crash_quoting(value: str) -> None:
        raise ValueError(f"could not handle {value}")

    collect = _Collect()
    logger = logging.getLogger("exchange_api.access")
    logger.addHandler(collect)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            response = await http.get("/crash-quoting/Jan-Jansen-1980")
    finally:
        logger.removeHandler(collect)
    assert response.status_code == 500
    crashes = [r for r in collect.records if r.getMessage() == "unhandled exception"]
    assert len(crashes) == 1
    line = json.loads(JsonFormatter().format(crashes[0]))
    assert line["event"]["error"] == "ValueError"
    assert "crash_quoting" in line["event"]["stack"]
    assert "Jan-Jansen-1980" not in json.dumps(line)


async def test_a_5xx_answer_is_logged_at_error_level_and_others_at_info(app: FastAPI) -> None:
    """Whoever renders a 5xx (an unhandled exception, or a handler answering 503), the request's
    access line is an error: an operator filtering by level finds every failure."""

    @app.get("/crash-plain")
    def crash_plain() -> None:
        raise RuntimeError("boom")

    @app.get("/refuse-plain")
    def refuse_plain() -> None:
        raise ServiceUnavailable("Try later.")

    collect = _Collect()
    logger = logging.getLogger("exchange_api.access")
    logger.addHandler(collect)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            statuses = [
                (await http.get(path)).status_code
                for path in ("/crash-plain", "/refuse-plain", "/healthz")
            ]
    finally:
        logger.removeHandler(collect)
    assert statuses == [500, 503, 200]
    levels = {
        r.__dict__["http"]["path"]: r.levelname
        for r in collect.records
        if r.getMessage() == "request"
    }
    assert levels == {"/crash-plain": "ERROR", "/refuse-plain": "ERROR", "/healthz": "INFO"}
