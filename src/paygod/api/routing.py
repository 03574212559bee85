"""Every JSON request body is I-JSON (RFC 7493) before a route sees it.

FastAPI decodes bodies with Python's `json`, which keeps the last of duplicate member
names and accepts NaN and Infinity. A decision or payment is sealed and hashed: a body
that means two things (`{"subject": "a", "subject": "b"}`) must be refused, not decided
on whichever value the parser kept. Routers are built with `StrictJsonRoute`, which parses
the body strictly first (`kernel.jsonio.parse_json`: 422 with the reason, nothing recorded)
and then hands the same request, body already read, to FastAPI.

The same route class refuses a repeated `Idempotency-Key` header on the routes that read
it: FastAPI hands a `str` parameter one of the values and drops the other, so a request
carrying `z1` and `z2` was decided under one key and would be replayed, or not, depending
on which one a retry (or a proxy) happened to keep.

A proxy may also merge the two lines into one, `Idempotency-Key: z1, z2`, as RFC 9110
(section 5.3) lets any recipient do with a repeated field. The IETF Idempotency-Key draft
(draft-ietf-httpapi-idempotency-key-header) makes the field a single Item (an sf-string),
never a list, so a comma outside a quoted string can only be such a merge: refused the same
way, instead of taken as the literal key "z1, z2" that neither of the client's retries sends.
A quoted key (`"a,b"`) is one Item and is kept, quotes and all, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from paygod.kernel.errors import FieldError, InvalidInput
from paygod.kernel.jsonio import parse_json
from paygod.kernel.written import written_problems


def is_json(content_type: str | None) -> bool:
    """JSON as FastAPI would decode it: no content type, or application/json or +json."""
    if not content_type:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


ABSENT: Any = object()  # no JSON body: empty, blank, or another content type


def require_ijson(body: bytes, content_type: str | None) -> Any:
    """The parsed JSON body (`ABSENT` when blank or not JSON); `InvalidInput` for a body
    with duplicate names, NaN/Infinity or bad UTF-8."""
    if body.strip() and is_json(content_type):
        return parse_json(body, source="request body")
    return ABSENT


def refuse_other_media(body: bytes, content_type: str | None) -> None:
    """Every body this API reads is JSON: a body declared as something else is refused with
    the header's pointer. Before, FastAPI answered "Input should be a valid dictionary" for
    the body, and a route that parses its own body (POST /v1/transfers) decided and
    recorded a text/plain one."""
    if body.strip() and not is_json(content_type):
        raise InvalidInput(
            f"the request body is {content_type}, not JSON; nothing was recorded",
            errors=[FieldError("#header/content-type", "expected application/json")],
        )


async def json_body(request: Request, *, required: bool = False) -> Any:
    """The body parsed strictly (once, by `StrictJsonRoute`, which refuses other content
    types); a blank body is `ABSENT`, or `InvalidInput` if `required`."""
    parsed = getattr(request.state, "ijson", ABSENT)
    if parsed is ABSENT:
        body = await request.body()
        if body.strip() or required:
            return parse_json(body, source="request body")
    return parsed


IDEMPOTENCY_KEY = "idempotency-key"


def reads_header(dependant: Dependant, name: str) -> bool:
    """Whether the route (or one of its dependencies) takes header `name` as a parameter;
    `idempotency_key: str = Header()` reads `idempotency-key` (FastAPI turns `_` into `-`)."""
    if any(param.alias.replace("_", "-").lower() == name for param in dependant.header_params):
        return True
    return any(reads_header(sub, name) for sub in dependant.dependencies)


def is_key_list(value: str | bytes) -> bool:
    """Whether an Idempotency-Key value is a comma-separated list (two keys merged into one
    line), not one key: a comma that is not inside one quoted string."""
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    if len(text) >= 2 and text[0] == text[-1] == '"' and '"' not in text[1:-1].replace('\\"', ""):
        return False
    return "," in text


def refuse_repeated_key(request: Request) -> None:
    values = request.headers.getlist(IDEMPOTENCY_KEY)
    if len(values) > 1 or any(is_key_list(v) for v in values):
        raise InvalidInput(
            "the Idempotency-Key header holds more than one key (sent twice, or merged into "
            "a comma-separated list); send one key; nothing was recorded",
            errors=[FieldError(f"#header/{IDEMPOTENCY_KEY}", "expected one Idempotency-Key")],
        )


def body_members(
    *, vaulted: tuple[str, ...] = (), identifiers: tuple[str, ...] = ()
) -> Callable[[Any], Any]:
    """For a route that parses its own body: what its model would declare
    (`StrictModel.vaulted`, `StrictModel.identifiers`)."""

    def mark(endpoint: Any) -> Any:
        endpoint.vaulted, endpoint.identifiers = vaulted, identifiers
        return endpoint

    return mark


def declared_members(route: APIRoute, name: str) -> tuple[str, ...]:
    """Pointers the route's body model (or its endpoint, see `body_members`) declares
    under `name`."""
    own = getattr(route.endpoint, name, None)
    if isinstance(own, tuple):
        return own
    field = route.body_field
    annotation = getattr(getattr(field, "field_info", None), "annotation", None)
    for candidate in (annotation, *getattr(annotation, "__args__", ())):
        members = getattr(candidate, name, None)
        if isinstance(members, tuple):
            return members
    return ()


def refuse_unwritable(
    parsed: Any,
    vaulted: tuple[str, ...] = (),
    identifiers: tuple[str, ...] = (),
    credentials: tuple[str, ...] = (),
) -> None:
    """The one rule for every field of every write (`kernel.written`), before any route
    code runs: 422 with each offending field's pointer, nothing recorded."""
    if parsed is ABSENT:
        return
    errors = written_problems(
        parsed, vaulted=vaulted, identifiers=identifiers, credentials=credentials
    )
    if errors:
        raise InvalidInput(
            "the request body holds a value no write may record; nothing was recorded",
            errors=errors,
        )


class StrictJsonRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        keyed = reads_header(self.dependant, IDEMPOTENCY_KEY)
        vaulted = declared_members(self, "vaulted")
        identifiers = declared_members(self, "identifiers")
        credentials = declared_members(self, "credentials")

        async def strict(request: Request) -> Response:
            if keyed:
                refuse_repeated_key(request)
            request.state.ijson = ABSENT
            if request.method in {"POST", "PUT", "PATCH", "DELETE"}:
                body, content_type = await request.body(), request.headers.get("content-type")
                refuse_other_media(body, content_type)
                request.state.ijson = require_ijson(body, content_type)
                refuse_unwritable(request.state.ijson, vaulted, identifiers, credentials)
            return await handler(request)

        return strict


def router(**options: Any) -> APIRouter:
    """An `APIRouter` whose routes refuse bodies that are not I-JSON."""
    return APIRouter(route_class=StrictJsonRoute, **options)
