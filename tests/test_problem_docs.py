"""The OpenAPI document states the problems as they are sent (exchange_api/problem_docs.py).

The document checked is the committed one; tests/test_cli.py fails when it drifts from the code.
What the server answers against it is tests/test_schemathesis.py's part.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from exchange_api.errors import PROBLEM_MEDIA_TYPE

DOCUMENT: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parent.parent / "openapi" / "openapi.json").read_text("utf-8")
)
OPERATIONS = [
    (method.upper(), path, operation)
    for path, item in DOCUMENT["paths"].items()
    for method, operation in item.items()
]
V1 = [(method, path, operation) for method, path, operation in OPERATIONS if path[:4] == "/v1/"]
PROBLEM_SCHEMA = {"$ref": "#/components/schemas/Problem"}


def _label(operation: tuple[str, str, Any]) -> str:
    return f"{operation[0]} {operation[1]}"


@pytest.mark.parametrize("operation", V1, ids=_label)
def test_every_problem_of_the_api_is_problem_json_with_its_schema(
    operation: tuple[str, str, dict[str, Any]],
) -> None:
    answers = operation[2]["responses"]
    errors = {status: answers[status] for status in answers if status >= "400"}
    assert errors, "an API operation documents its problems"
    for status, answer in errors.items():
        assert answer["content"] == {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_SCHEMA}}, status


@pytest.mark.parametrize("operation", V1, ids=_label)
def test_a_bad_parameter_is_a_documented_400_and_only_a_bad_body_a_422(
    operation: tuple[str, str, dict[str, Any]],
) -> None:
    answers = operation[2]["responses"]
    assert "400" in answers
    assert ("422" in answers) == ("requestBody" in operation[2])


def test_fastapis_own_validation_answer_is_not_documented() -> None:
    assert "HTTPValidationError" not in json.dumps(DOCUMENT)
    assert "ValidationError" not in DOCUMENT["components"]["schemas"]


def test_an_unlisted_substance_is_a_documented_404() -> None:
    # tests/reference/test_endpoints.py: a well-formed CAS number the catalogue lacks is 404.
    answers = DOCUMENT["paths"]["/v1/substances/{cas}"]["get"]["responses"]
    assert "404" in answers
