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
class Principal:
    account_id: str
    role: Role

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


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
