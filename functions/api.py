"""The guest-list HTTP API: the route table, the query routes, and the resolvers of both API functions.

No `from __future__ import annotations`: Powertools reads the route signatures at run time.
"""

from functools import cache
from typing import Annotated
from uuid import UUID

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel

from domain.guest_list import GUEST_LIST_KEY, GuestList, GuestListProjector, InvitationProjector, InvitationView
from domain.invitation import GUESTS, HOSTS
from functions.composition import container
from functions.routes import COMMAND_METHOD, COMMAND_PATH
from horizon.authorization import Admission, Audience, admit, public
from horizon.consistency import read_at_least
from horizon.errors import AggregateNotFound
from horizon.generations import live_collection, read_live
from horizon.http.command_routes import add_command_routes
from horizon.http.contract import AUTHENTICATED, READS, answers, cursor_query, security_schemes
from horizon.http.event_routes import add_event_routes
from horizon.http.principal import principal_of
from horizon.http.resolver import Route, build_resolver, route_of

ROUTES: list[Route] = [
    (COMMAND_METHOD, COMMAND_PATH),
    ("GET", "/invitations"),
    ("GET", "/invitations/{id}"),
    ("GET", "/guestlist"),
    ("GET", "/aggregates/{aggregate_type}/{id}"),
    ("GET", "/aggregates/{aggregate_type}/{id}/events"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/"),
    ("GET", "/health"),
]
"""Every route of the API; `functions.routes` says which function answers which."""

OPEN_ROUTES: list[Route] = [("GET", "/openapi.json"), ("GET", "/docs"), ("GET", "/"), ("GET", "/health")]
"""The only routes that need no token, on AWS (infra/api.py) and locally (the front door)."""

MAX_CURSOR = 1024
"""The longest `cursor` /invitations takes: far more than the cursor of any invitation id it hands out."""

READERS = public(HOSTS)
"""Who may query: hosts read everything."""
INVITATION_READERS = public(HOSTS, owners=[GUESTS])
"""Who may read one invitation: hosts, and the guest who owns it (`Invitation.owned_by`)."""
AUDIENCES: dict[Route, Audience] = {("GET", "/invitations/{id}"): INVITATION_READERS}
"""Routes open to more than READERS; each of them checks ownership itself, after loading the aggregate."""


class InvitationPage(BaseModel):
    """A page of invitations in id order; pass `next_cursor` back as `cursor` for the next page."""

    items: list[InvitationView]
    next_cursor: str | None


class Health(BaseModel):
    status: str


def add_query_routes(app: BaseRouter) -> None:
    """The read side: invitations, the guest list, event histories, health and the OpenAPI document."""

    @app.get(
        "/invitations",
        summary="List invitations",
        tags=["queries"],
        operation_id="ListInvitations",
        responses=answers("A page of invitations", (*READS, 400), {400: "A cursor this API did not hand out"}),
        security=AUTHENTICATED,
    )
    def list_invitations(
        limit: Annotated[int, Query(ge=1, le=100, description="Page size, 1 to 100")] = 20,
        cursor: Annotated[str | None, cursor_query(max_length=MAX_CURSOR)] = None,
    ) -> InvitationPage:
        reads = container().read_store
        page = reads.list(live_collection(reads, InvitationProjector.name), limit, cursor)
        items = [InvitationView.model_validate(doc.body) for doc in page.items]
        return InvitationPage(items=items, next_cursor=page.cursor)

    @app.get(
        "/invitations/<invitation_id>",
        summary="One invitation",
        tags=["queries"],
        operation_id="GetInvitation",
        responses=answers(
            "The invitation's read model",
            (*READS, 404),
            {
                403: "Neither a host nor the guest whose verified e-mail the invitation has",
                404: "No such invitation (yet)",
            },
        ),
        security=AUTHENTICATED,
    )
    def get_invitation(
        invitation_id: UUID,
        min_version: Annotated[
            int | None,
            Query(
                ge=1,
                description="Wait (up to READ_WAIT_SECONDS, 2 s by default) until the view reaches this version, "
                "e.g. the `version` a command answered. The answer's own `version` says whether it did.",
            ),
        ] = None,
    ) -> InvitationView:
        built = container()
        # Before any wait or read: a guest who does not own it learns nothing, not even whether it exists.
        principal = principal_of(app.current_event.raw_event)
        operation = f"GetInvitation {invitation_id}"
        if admit(principal, operation, INVITATION_READERS) is Admission.IF_OWNER:
            # Only a would-be owner is judged on the aggregate: a host's read builds no event store, no KMS client.
            built.command_handler.authorize_read(principal, operation, INVITATION_READERS, "Invitation", invitation_id)
        reads, key = built.read_store, str(invitation_id)
        if min_version is None:
            doc = read_live(reads, InvitationProjector.name, key)
        else:
            doc = read_at_least(
                reads,
                live_collection(reads, InvitationProjector.name),
                key,
                min_version,
                version_of=lambda d: int(d.body["version"]),
                timeout=built.settings.read_wait_seconds,
            )
        if doc is None:
            raise AggregateNotFound("Invitation", invitation_id, "GetInvitation")
        return InvitationView.model_validate(doc.body)

    @app.get(
        "/guestlist",
        summary="The guest-list counters",
        tags=["queries"],
        operation_id="GetGuestList",
        responses=answers("The counters", READS),
        security=AUTHENTICATED,
    )
    def guest_list() -> GuestList:
        built = container()
        doc = read_live(built.read_store, GuestListProjector.name, GUEST_LIST_KEY)
        counters = GuestList.model_validate(doc.body) if doc else GuestList()
        return counters.model_copy(update={"guest_limit": built.settings.guest_limit})

    # Open routes name no security; API Gateway may still throttle them (429).
    @app.get("/health", summary="Liveness", tags=["meta"], operation_id="Health", responses=answers("Up", (429,)))
    def health() -> Health:
        return Health(status="ok")

    @app.get(
        "/openapi.json",
        summary="This document",
        tags=["meta"],
        operation_id="OpenAPI",
        responses=answers("The OpenAPI 3.1 document", (429,), body={"type": "object"}),
    )
    def openapi() -> Response[str]:
        return Response(200, "application/json", _openapi_document())

    @app.get("/docs", include_in_schema=False)
    def docs() -> Response[str]:
        return Response(200, "text/html", _swagger_page())

    @app.get("/", include_in_schema=False)
    def root() -> Response[str]:
        # Relative, so it works under any base path (a custom domain's mapping, say).
        return Response(307, "text/plain", "see docs", headers={"Location": "docs"})

    add_event_routes(app, lambda: container().registry, lambda: container().event_store)


def _add_commands(app: BaseRouter) -> None:
    add_command_routes(app, container().registry, lambda: container().command_handler, lambda: container().read_store)


@cache
def command_app() -> APIGatewayHttpResolver:
    """The command function's resolver: one POST route per command."""
    app = build_resolver(ROUTES)
    _add_commands(app)
    return app


@cache
def query_app() -> APIGatewayHttpResolver:
    """The query function's resolver: every route but the open ones is for READERS."""
    app = build_resolver(ROUTES)
    app.use(middlewares=[_readers_only])
    add_query_routes(app)
    return app


def _readers_only(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[str]:
    # API Gateway has already verified the token; this decides what its roles allow.
    event = app.current_event
    method = event.request_context.http.method
    if (method, event.path) not in OPEN_ROUTES:
        audience = AUDIENCES.get(route_of(ROUTES, method, event.path) or ("", ""), READERS)
        # An owner role passes here only for routes in AUDIENCES, whose handlers then judge the ownership.
        admit(principal_of(event.raw_event), f"{method} {event.path}", audience)
    response: Response[str] = next_middleware(app)
    return response


@cache
def _openapi_document() -> str:
    # Built on first request only: generating the schema imports and walks every model.
    app = build_resolver(ROUTES)
    _add_commands(app)
    add_query_routes(app)
    return app.get_openapi_json_schema(
        title="Horizon guest list",
        version="0.1.0",
        description="Commands in, events out, read models back. Every route but /health and /openapi.json needs "
        "a bearer token (a Cognito ID token on AWS; `make token ROLE=host` locally).",
        security_schemes=security_schemes(),
    )


@cache
def _swagger_page() -> str:
    # Powertools' Swagger UI page with its bundled script and styles inlined, so it works without a CDN (the
    # local stack, closed networks); built on the first /docs request only, never on the query hot path.
    from pathlib import Path

    from aws_lambda_powertools.event_handler.openapi.swagger_ui.html import generate_swagger_html

    bundle = Path(generate_swagger_html.__code__.co_filename).parent
    return generate_swagger_html(
        _openapi_document().replace("</", "<\\/"),
        (bundle / "swagger-ui-bundle.min.js").read_text(encoding="utf-8"),
        (bundle / "swagger-ui.min.css").read_text(encoding="utf-8"),
        swagger_base_url="",
        oauth2_config=None,
        persist_authorization=True,
    )
