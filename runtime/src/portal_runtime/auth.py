"""Bearer JWTs naming the account and the role, checked by Litestar's JWTAuth. A 401 carries
`WWW-Authenticate: Bearer` (RFC 6750): with `error="invalid_token"` and the reason when a token
came and was refused, without an error code when none came. OPTIONS needs no token anywhere."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.authentication import AuthenticationResult
from litestar.security.jwt import JWTAuth, JWTAuthenticationMiddleware, Token

from portal_runtime.problems import bearer_challenge

Role = Literal["customer", "admin"]
ROLES: tuple[Role, ...] = ("customer", "admin")
PUBLIC_PATHS = ["/health", "/schema", "/asyncapi", "/metrics"]


@dataclass(frozen=True)
class AccountScope:
    """Which account's objects a list shows: `account_id` None is every account (an admin without
    a filter); `empty` is a customer asking for another account's objects, which shows nothing."""

    account_id: str | None
    empty: bool = False


@dataclass(frozen=True)
class Principal:
    account_id: str
    role: Role

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def owns(self, account_id: str | None) -> bool:
        """May see or act on an object of `account_id`? Use cases answer 404 when not, the same
        as for an object that does not exist, so ids cannot be probed."""
        return self.is_admin or account_id == self.account_id

    def scope(self, requested: str | None = None) -> AccountScope:
        """The one scoping rule of every list: customers see their own account's objects only (an
        `account_id` filter naming another account gives an empty page, never an error); admins
        see every account's, optionally filtered by `account_id`."""
        if self.is_admin:
            return AccountScope(requested)
        return AccountScope(self.account_id, empty=requested not in (None, self.account_id))


def _principal(token: Token, _: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    role = token.extras.get("role")
    if role not in ROLES:
        raise NotAuthorizedException(f"token role must be one of {', '.join(ROLES)}")
    return Principal(account_id=token.sub, role=role)


class BearerAuthenticationMiddleware(JWTAuthenticationMiddleware):
    """Litestar's JWT middleware, its 401 naming the challenge and why the token was refused."""

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        try:
            return await super().authenticate_request(connection)
        except NotAuthorizedException as exc:
            if not connection.headers.get(self.auth_header):
                challenge = bearer_challenge()
            else:
                cause = exc.__cause__
                reason = str(cause) if cause is not None and str(cause) else exc.detail
                challenge = bearer_challenge("invalid_token", reason)
            raise NotAuthorizedException(exc.detail, headers={"WWW-Authenticate": challenge}) from exc


def jwt_auth(secret: str, algorithm: str = "HS256") -> JWTAuth[Principal, Token]:
    return JWTAuth[Principal, Token](
        retrieve_user_handler=_principal,
        authentication_middleware_class=BearerAuthenticationMiddleware,
        token_secret=secret,
        algorithm=algorithm,
        exclude=PUBLIC_PATHS,
        description="Bearer JWT: `sub` is the account id, `role` is customer or admin",
    )


def issue_token(
    secret: str,
    account_id: str,
    role: Role,
    *,
    ttl: timedelta = timedelta(hours=8),
    algorithm: str = "HS256",
    now: datetime | None = None,
) -> str:
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}")
    if not account_id:
        raise ValueError("account id must not be empty")
    now = now or datetime.now(UTC)
    return Token(sub=account_id, exp=now + ttl, iat=now, extras={"role": role}).encode(secret, algorithm)


def admin_only(connection: ASGIConnection[Any, Principal, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: admin operations answer 403 to a customer (401 without a principal). OPTIONS passes:
    it is never authenticated (Litestar's JWT middleware lets it by), and the answer Litestar
    gives it (204 with `Allow`) shows nothing, so it answers alike on every route."""
    if connection.scope["method"] == "OPTIONS":
        return
    user = connection.scope.get("user")
    if not isinstance(user, Principal):
        raise NotAuthorizedException("a bearer token is needed", headers={"WWW-Authenticate": bearer_challenge()})
    if not user.is_admin:
        raise PermissionDeniedException("this operation is for admins")
