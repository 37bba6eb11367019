"""What each API view declares for the OpenAPI document (portal/api/openapi.py).

Every API view says, beside itself, what it takes and what it answers:

    @bp.get("/assets/<int:asset_id>/versions")
    @allow(*EVERYONE)
    @api_doc(query=PAGING, responses={200: listing_of(VERSION)})
    def list_versions(asset_id): ...

- `query`: {name: schema}; wrap a schema in `required(...)` when the parameter must be sent.
- `json`: the JSON request body's schema; `form`: a multipart body's (use `FILE` for a file field).
- `responses`: {status: schema} for JSON answers, `binary("image/png")` for bytes,
  `redirect()` for a 3xx with a Location header, `None` for no body (204).
Every operation also answers a JSON error (`ERROR`) for 4xx, so views list only successes
and other statuses with a body of their own. Path parameters come from the route.
tests/portal/test_openapi.py fails naming any API route without a declaration.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Schema = dict[str, Any]

STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
NUMBER: Schema = {"type": "number"}
BOOLEAN: Schema = {"type": "boolean"}
DATE: Schema = {"type": "string", "format": "date"}
DATETIME: Schema = {"type": "string", "format": "date-time"}
FILE: Schema = {"type": "string", "format": "binary"}
ID: Schema = {"type": "integer", "minimum": 1, "maximum": 2147483647}


def nullable(schema: Schema) -> Schema:
    return {**schema, "nullable": True}


def enum(*values: str) -> Schema:
    return {"type": "string", "enum": list(values)}


def array(items: Schema, **extra: Any) -> Schema:
    return {"type": "array", "items": items, **extra}


def obj(properties: dict[str, Schema], *, required: list[str] | None = None,
        additional: bool | Schema = True) -> Schema:
    """An object; by default every listed property is required (answers always carry them)."""
    return {"type": "object", "properties": properties,
            "required": list(properties) if required is None else required,
            "additionalProperties": additional}


def mapping(values: Schema) -> Schema:
    """An object with any keys, each holding `values`."""
    return {"type": "object", "additionalProperties": values}


def listing_of(item: Schema, **extra: Schema) -> Schema:
    """The shape of portal.api.listing: {items, total, page, per_page, ...extra}."""
    return obj({"items": array(item), "total": INTEGER, "page": INTEGER, "per_page": INTEGER, **extra})


ERROR: Schema = obj({"error": obj({"code": STRING, "message": STRING, "fields": mapping(STRING)},
                                  required=["code", "message"])})

PAGING: dict[str, Schema] = {
    "page": {"type": "integer", "minimum": 1, "maximum": 10_000},
    "per_page": {"type": "integer", "minimum": 1, "maximum": 100},
}


@dataclass(frozen=True)
class Required:
    schema: Schema


def required(schema: Schema) -> Required:
    return Required(schema)


@dataclass(frozen=True)
class Binary:
    mime: str


def binary(mime: str = "application/octet-stream") -> Binary:
    return Binary(mime)


@dataclass(frozen=True)
class Redirect:
    pass


def redirect() -> Redirect:
    return Redirect()


@dataclass
class Operation:
    responses: dict[int, Any]
    query: dict[str, Any] = field(default_factory=dict)
    json: Schema | None = None
    form: Schema | None = None

    def to_openapi(self) -> dict[str, Any]:
        """parameters, requestBody and responses of the operation's OpenAPI object."""
        out: dict[str, Any] = {"parameters": [
            {"name": name, "in": "query", "required": isinstance(schema, Required),
             "schema": schema.schema if isinstance(schema, Required) else schema}
            for name, schema in self.query.items()
        ]}
        if self.json is not None:
            out["requestBody"] = {"required": True, "content": {"application/json": {"schema": self.json}}}
        if self.form is not None:
            out["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": self.form}}}
        responses: dict[str, Any] = {}
        for status, answer in sorted(self.responses.items()):
            description = {200: "OK", 201: "Created", 202: "Accepted", 204: "No content"}.get(status, str(status))
            if answer is None:
                responses[str(status)] = {"description": description}
            elif isinstance(answer, Binary):
                responses[str(status)] = {"description": description,
                                          "content": {answer.mime: {"schema": FILE}}}
            elif isinstance(answer, Redirect):
                responses[str(status)] = {"description": "Redirect", "headers": {
                    "Location": {"required": True, "schema": STRING}}}
            else:
                responses[str(status)] = {"description": description,
                                          "content": {"application/json": {"schema": answer}}}
        responses["4XX"] = {"description": "JSON error", "content": {"application/json": {"schema": ERROR}}}
        out["responses"] = responses
        return out


def api_doc(*, responses: dict[int, Any], query: dict[str, Any] | None = None,
            json: Schema | None = None, form: Schema | None = None) -> Callable:
    """Declare a view's query parameters, request body and responses (see the module docstring)."""
    if not responses:
        raise ValueError("api_doc needs at least one response")

    def decorate(view: Callable) -> Callable:
        view.openapi = Operation(dict(responses), dict(query or {}), json, form)
        return view

    return decorate
