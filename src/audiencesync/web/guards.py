"""Input no route should ever see, refused once for every route with a 422.

Request models check shapes and lengths; some values pass them and then fail
deep down, as a 500: a NUL character (PostgreSQL refuses it in text), a lone
surrogate (it cannot be encoded as UTF-8, neither into the database nor back
out in a JSON answer), an integer beyond 64 bits (no database column holds it).
:func:`screen_input` is a dependency of the whole app: it looks at the path
and query parameters and at a JSON body before any route does, and refuses
such a value as invalid input that names its field. It also refuses a query
parameter the operation does not take (``?limt=5`` is a typo, not a default
limit), as bodies refuse fields they do not know.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import UnionType
from typing import Any, Union, get_args, get_origin

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel

LARGEST = 2**63 - 1
"""The largest integer a request may carry: a signed 64-bit column's."""

_JSON_TYPES = ("application/json",)


async def screen_input(request: Request) -> None:
    """Refuse NUL, lone surrogates, over-64-bit integers and unknown query names."""
    problems = [
        *_parameters(request, "path", request.path_params.items()),
        *_parameters(request, "query", request.query_params.multi_items()),
        *await _body(request),
    ]
    if problems:
        raise RequestValidationError(problems)


def _parameters(request: Request, place: str, items: Any) -> Iterator[dict[str, Any]]:
    declared = _declared(request, place)
    for name, value in items:
        problem = _text_problem(name) or _text_problem(value)
        if problem is None and declared is not None:
            if name not in declared:
                problem = _unknown(declared) if place == "query" else None
            elif _is_integer(declared[name]):
                problem = _integer_text_problem(value)
        if problem is not None:
            yield _error((place, name), problem)


def _unknown(declared: dict[str, Any]) -> str:
    if not declared:
        return "This operation takes no query parameters"
    return f"Unknown query parameter; this operation takes {', '.join(declared)}"


async def _body(request: Request) -> list[dict[str, Any]]:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in _JSON_TYPES and not kind.endswith("+json"):
        return []
    raw = await request.body()
    try:
        value = json.loads(raw) if raw else None
    except ValueError:
        return []  # FastAPI reports it, as unreadable JSON
    try:
        return [_error(("body", *at), problem) for at, problem in _walk(value, ())]
    except RecursionError:
        return [_error(("body",), "Input nests too deeply")]


Where = tuple[str | int, ...]
"""Where a value is: its location and the keys or indexes down to it."""


def _walk(value: Any, at: Where) -> Iterator[tuple[Where, str]]:
    if isinstance(value, str):
        problem = _text_problem(value)
        if problem is not None:
            yield at, problem
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        if abs(value) > LARGEST:
            yield at, _TOO_LARGE
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, (*at, index))
    elif isinstance(value, dict):
        for key, item in value.items():
            problem = _text_problem(key)
            if problem is not None:
                yield (*at, key), problem
            yield from _walk(item, (*at, key))


_TOO_LARGE = f"Input should be between -{LARGEST} and {LARGEST}"


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "Input should not contain a NUL character"
    if any("\ud800" <= char <= "\udfff" for char in text):
        return "Input should be valid Unicode (it has a lone surrogate)"
    return None


def _integer_text_problem(text: str) -> str | None:
    digits = text.strip().lstrip("+-").lstrip("0")
    if not (digits.isascii() and digits.isdecimal()):
        return None  # not an integer: the route's own validation says so
    if len(digits) > len(str(LARGEST)) or int(digits) > LARGEST:
        return _TOO_LARGE
    return None


def _error(where: Where, message: str) -> dict[str, Any]:
    return {"type": "value_error", "loc": where, "msg": message, "input": None}


def _declared(request: Request, place: str) -> dict[str, Any] | None:
    """The route's ``place`` parameters, name to annotation (None: no route)."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if not isinstance(dependant, Dependant):
        return None
    declared: dict[str, Any] = {}
    for field in _fields(dependant, place):
        annotation = field.field_info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            for name, inner in annotation.model_fields.items():
                declared[inner.alias or name] = inner.annotation
        else:
            declared[field.alias] = annotation
    return declared


def _fields(dependant: Dependant, place: str) -> Iterator[Any]:
    yield from getattr(dependant, f"{place}_params")
    for inner in dependant.dependencies:
        yield from _fields(inner, place)


def _is_integer(annotation: Any) -> bool:
    if annotation is int:
        return True
    if get_origin(annotation) in (Union, UnionType):
        return any(_is_integer(arg) for arg in get_args(annotation))
    return False
