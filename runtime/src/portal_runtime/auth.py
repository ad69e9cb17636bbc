"""Bearer JWTs naming the account and the role, checked by Litestar's JWTAuth."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.security.jwt import JWTAuth, Token

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


def jwt_auth(secret: str, algorithm: str = "HS256") -> JWTAuth[Principal, Token]:
    return JWTAuth[Principal, Token](
        retrieve_user_handler=_principal,
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
    """Guard: admin operations answer 403 to a customer."""
    if not connection.user.is_admin:
        raise PermissionDeniedException("this operation is for admins")
