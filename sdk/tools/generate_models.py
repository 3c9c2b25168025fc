"""Write ``exchange_client/models.py`` from the server's ``openapi/openapi.json``.

    python sdk/tools/generate_models.py openapi/openapi.json > sdk/exchange_client/models.py

Every component schema becomes a ``TypedDict`` (objects) or a ``Literal`` alias (string enums);
members the schema does not require are ``NotRequired``. ``tests/sdk/test_models.py`` runs this
again and fails when the committed models differ, so the SDK cannot drift from the API.
"""

from __future__ import annotations

import json
import keyword
import sys
import textwrap
from typing import Any

_HEADER = '''"""Typed results and bodies of the exchange API, generated from openapi/openapi.json.

Do not edit: ``python sdk/tools/generate_models.py openapi/openapi.json`` writes this file, and a
test fails when it no longer matches the API.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

'''

_SCALARS = {"string": "str", "integer": "int", "number": "float", "boolean": "bool", "null": "None"}


def python_type(schema: dict[str, Any]) -> str:
    """The annotation for a JSON Schema (the subset FastAPI's OpenAPI export uses)."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    for combinator in ("anyOf", "oneOf"):
        if combinator in schema:
            options = dict.fromkeys(python_type(option) for option in schema[combinator])
            return " | ".join(options)
    if "const" in schema:
        return f"Literal[{json.dumps(schema['const'])}]"
    if "enum" in schema:
        return f"Literal[{', '.join(json.dumps(value) for value in schema['enum'])}]"
    kind = schema.get("type")
    if kind == "array":
        return f"list[{python_type(schema.get('items', {}))}]"
    if kind == "object":
        values = schema.get("additionalProperties")
        value_type = python_type(values) if isinstance(values, dict) else "Any"
        return f"dict[str, {value_type}]"
    if isinstance(kind, str) and kind in _SCALARS:
        return _SCALARS[kind]
    return "Any"


def _docstring(schema: dict[str, Any]) -> str | None:
    text = " ".join(str(schema.get("description", "")).split())
    return text.replace("\\", "\\\\").replace('"""', "'''") or None


def render(openapi: dict[str, Any]) -> str:
    schemas: dict[str, dict[str, Any]] = openapi["components"]["schemas"]
    out = [_HEADER]
    names = sorted(schemas)
    for name in names:
        schema = schemas[name]
        if schema.get("type") != "object":
            out.append(f"{name} = {python_type(schema)}\n\n")
    for name in names:
        schema = schemas[name]
        if schema.get("type") != "object":
            continue
        required = set(schema.get("required", []))
        members = []
        for member, member_schema in schema.get("properties", {}).items():
            annotation = python_type(member_schema)
            if member not in required:
                annotation = f"NotRequired[{annotation}]"
            members.append((member, annotation))
        doc = _docstring(schema)
        if any(not m.isidentifier() or keyword.iskeyword(m) for m, _ in members):
            fields = ", ".join(f"{m!r}: {a}" for m, a in members)
            out.append(f"{name} = TypedDict({name!r}, {{{fields}}})\n\n\n")
            continue
        out.append(f"class {name}(TypedDict):\n")
        if doc:
            lines = textwrap.wrap(doc, 92)
            text = "\n    ".join(lines) + ("\n    " if len(lines) > 1 else "")
            out.append(f'    """{text}"""\n\n' if members else f'    """{text}"""\n')
        for member, annotation in members:
            out.append(f"    {member}: {annotation}\n")
        if not members and not doc:
            out.append("    pass\n")
        out.append("\n\n")
    names_list = "".join(f'    "{name}",\n' for name in names)
    out.append(f"__all__ = [\n{names_list}]\n")
    return "".join(out).replace("\n\n\n__all__", "\n\n__all__")


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as source:
        sys.stdout.write(render(json.load(source)))
