"""Bearer JWTs naming a user (`sub`) of an account (the `account` claim, JWT_ACCOUNT_CLAIM) and a
role, checked by Litestar's JWTAuth. Two ways to check them, never both at once: HS256 with
JWT_SECRET for local use (`./portal token`), or the RS256/ES256 public keys an OIDC issuer
publishes at its JWKS URL, with `iss` and `aud` checked, so tokens an identity provider issued are
taken as they come through a gateway. A 401 carries `WWW-Authenticate: Bearer` (RFC 6750): with
`error="invalid_token"` and the reason when a token came and was refused, without an error code
when none came. OPTIONS needs no token anywhere."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, Protocol

import jwt
from litestar.connection import ASGIConnection
from litestar.exceptions import (
    ImproperlyConfiguredException,
    NotAuthorizedException,
    PermissionDeniedException,
    ServiceUnavailableException,
)
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import DefineMiddleware
from litestar.middleware.authentication import AuthenticationResult
from litestar.security.jwt import JWTAuth, JWTAuthenticationMiddleware, Token

from portal_runtime.problems import bearer_challenge

if TYPE_CHECKING:
    from portal_runtime.settings import ServiceSettings

log = logging.getLogger(__name__)

Role = Literal["customer", "admin"]
ROLES: tuple[Role, ...] = ("customer", "admin")
PUBLIC_PATHS = ["/health", "/schema", "/asyncapi", "/metrics"]
# What an identity provider's clock and ours may differ by (PyJWT's leeway on exp, nbf and iat).
CLOCK_SKEW = timedelta(seconds=30)
# The width of every `by` column (history rows, recorded_by): `Principal.actor` must fit.
MAX_ACTOR = 200


@dataclass(frozen=True)
class AccountScope:
    """Which account's objects a list shows: `account_id` None is every account (an admin without
    a filter); `empty` is a customer asking for another account's objects, which shows nothing."""

    account_id: str | None
    empty: bool = False


@dataclass(frozen=True)
class Principal:
    """A user of an account with a role. What it may see is decided by the account (`owns`,
    `scope`); who did something is recorded as `actor`."""

    user_id: str
    account_id: str
    role: Role

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def actor(self) -> str:
        """Who acted, as history rows and every `by` record it: `account/user`. A user id is unique
        only within its identity provider (and a local token names any user), so the account is
        part of it: `acme/alice` and `globex/alice` stay two people, and a reader sees at once
        whether the customer or the business acted."""
        return f"{self.account_id}/{self.user_id}"

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


# -- keys ------------------------------------------------------------------------------------


class SigningKeys(Protocol):
    """Where the key that checks a token comes from, and which algorithms may sign one."""

    algorithms: tuple[str, ...]

    async def key(self, header: dict[str, Any]) -> Any: ...


@dataclass(frozen=True)
class SharedSecret:
    """HS256 with JWT_SECRET: local use, and tests."""

    secret: str
    algorithms: tuple[str, ...] = ("HS256",)

    async def key(self, header: dict[str, Any]) -> str:
        return self.secret


class IssuerKeys:
    """An OIDC issuer's public keys (RS256, ES256) from its JWKS URL, through PyJWT's PyJWKClient:
    the key set is kept `cache_seconds`, and a `kid` it does not hold fetches it again (a rotated
    key is taken), at most every `refetch_seconds` so tokens with made-up kids cannot flood the
    issuer. PyJWKClient does blocking urllib I/O, so it runs in a thread: the event loop never
    waits on the issuer."""

    algorithms: tuple[str, ...] = ("RS256", "ES256")

    def __init__(self, url: str, *, cache_seconds: float = 300, refetch_seconds: float = 10, timeout: float = 5):
        self.url = url
        self.client = jwt.PyJWKClient(url, lifespan=cache_seconds, cooldown_duration=refetch_seconds, timeout=timeout)

    async def key(self, header: dict[str, Any]) -> jwt.PyJWK:
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise NotAuthorizedException("the token names no key (`kid` header)")
        try:
            return await asyncio.to_thread(self.client.get_signing_key, kid)
        except (jwt.PyJWKClientConnectionError, jwt.PyJWKSetError) as exc:
            log.warning("the identity provider's keys at %s cannot be used: %s", self.url, exc)
            raise ServiceUnavailableException(
                "the identity provider's keys cannot be fetched now", headers={"Retry-After": "5"}
            ) from None
        except jwt.PyJWKClientError:
            raise NotAuthorizedException(f"unknown key id {kid}: not in the issuer's key set") from None


# -- tokens ----------------------------------------------------------------------------------


@dataclass
class BearerToken(Token):
    """Litestar's token, checked with CLOCK_SKEW of leeway: an identity provider's token issued a
    moment "in the future" of this host's clock, or expired a moment ago by it, is taken (Litestar's
    own checks allow no skew). What PyJWT refuses keeps PyJWT's reason (expired, wrong issuer,
    wrong audience, bad signature), which the 401 names."""

    def __post_init__(self) -> None:
        # PyJWT has checked exp, nbf and iat with CLOCK_SKEW; Litestar's own checks of them,
        # which allow no skew, are not repeated.
        if not self.sub:
            raise ImproperlyConfiguredException("the token names no user (`sub` is empty)")

    @classmethod
    def decode_payload(
        cls,
        encoded_token: str,
        secret: Any,
        algorithms: list[str],
        issuer: Any = None,
        audience: Any = None,
        options: Any = None,
    ) -> Any:
        return jwt.decode(
            encoded_token,
            key=secret,
            algorithms=algorithms,
            issuer=issuer,
            audience=audience,
            options=options,
            leeway=CLOCK_SKEW,
        )


def _role(value: Any) -> Role:
    """`role` is customer or admin; a list (as an identity provider's role mapper writes a
    multivalued claim) must hold exactly one of them, other roles in it are not ours."""
    named = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    known = [role for role in ROLES if role in named]
    if len(known) != 1:
        raise NotAuthorizedException(f"the `role` claim must name one of {', '.join(ROLES)}")
    return known[0]


class TokenAccess(Protocol):
    """Whether a user's tokens are still taken (`portal_runtime.access.AccessCheck`): raises
    NotAuthorizedException saying why not."""

    async def __call__(self, *, issuer: str | None, account_id: str, login: str, issued_at: datetime) -> None: ...


def principal_handler(account_claim: str = "account", access: TokenAccess | None = None):
    """The principal a checked token names: user `sub`, account `account_claim`, role `role`;
    with `access`, a token its user may no longer use (disabled, password changed) is refused."""

    async def principal(token: Token, _: ASGIConnection[Any, Any, Any, Any]) -> Principal:
        account = token.extras.get(account_claim)
        if not isinstance(account, str) or not account:
            raise NotAuthorizedException(f"the token has no `{account_claim}` claim naming the account")
        found = Principal(user_id=token.sub, account_id=account, role=_role(token.extras.get("role")))
        if len(found.actor) > MAX_ACTOR:
            raise NotAuthorizedException(f"the account and user ids are longer than {MAX_ACTOR - 1} characters")
        if access is not None:
            await access(issuer=token.iss, account_id=account, login=token.sub, issued_at=token.iat)
        return found

    return principal


class BearerAuthenticationMiddleware(JWTAuthenticationMiddleware):
    """Litestar's JWT middleware, with the key of each token from its `SigningKeys` (the token's
    `alg` must be one of theirs: never `none`, never HS256 when an issuer's keys are configured),
    its 401 naming the challenge and why the token was refused."""

    __slots__ = ("keys",)

    def __init__(self, *args: Any, keys: SigningKeys, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.keys = keys

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        try:
            return await super().authenticate_request(connection)
        except NotAuthorizedException as exc:
            if not connection.headers.get(self.auth_header):
                challenge, detail = bearer_challenge(), exc.detail
            else:
                cause = exc.__cause__
                reason = str(cause) if cause is not None and str(cause) else exc.detail
                challenge, detail = bearer_challenge("invalid_token", reason), f"Invalid token: {reason}"
            raise NotAuthorizedException(detail, headers={"WWW-Authenticate": challenge}) from exc

    async def authenticate_token(
        self, encoded_token: str, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        try:
            header = jwt.get_unverified_header(encoded_token)
        except jwt.InvalidTokenError:
            raise NotAuthorizedException("the token is not a JWT") from None
        algorithm = header.get("alg")
        if algorithm not in self.keys.algorithms:
            raise NotAuthorizedException(
                f"algorithm {algorithm} is not accepted here (only {', '.join(self.keys.algorithms)})"
            )
        token = self.token_cls.decode(
            encoded_token=encoded_token,
            secret=await self.keys.key(header),
            algorithm=algorithm,
            audience=self.token_audience,
            issuer=self.token_issuer,
            require_claims=self.require_claims,
        )
        return AuthenticationResult(user=await self.retrieve_user_handler(token, connection), auth=token)


@dataclass(kw_only=True)
class BearerJWTAuth(JWTAuth[Principal, BearerToken]):
    """JWTAuth handing its middleware the keys that check tokens."""

    keys: SigningKeys

    @property
    def middleware(self) -> DefineMiddleware:
        define = super().middleware
        define.kwargs["keys"] = self.keys
        return define


def jwt_auth(
    keys: SigningKeys,
    *,
    issuer: str | None = None,
    audience: str | None = None,
    account_claim: str = "account",
    access: TokenAccess | None = None,
) -> BearerJWTAuth:
    """Tokens checked with `keys`; `iss` and `aud` checked when given (always with an issuer's keys);
    with `access`, each token's user's access too."""
    return BearerJWTAuth(
        keys=keys,
        retrieve_user_handler=principal_handler(account_claim, access),
        authentication_middleware_class=BearerAuthenticationMiddleware,
        token_secret="",  # keys come from `keys`
        token_cls=BearerToken,
        algorithm=keys.algorithms[0],
        accepted_issuers=[issuer] if issuer else None,
        accepted_audiences=[audience] if audience else None,
        require_claims=["exp", "iat", "sub"],
        exclude=PUBLIC_PATHS,
        description=(
            f"Bearer JWT: `sub` is the user id, the `{account_claim}` claim the account id, `role` is customer or "
            "admin; signed with the service's HS256 secret, or by the OIDC issuer whose JWKS the service trusts "
            "(RS256/ES256, `iss` and `aud` checked)"
        ),
    )


def jwt_auth_from(settings: ServiceSettings, access: TokenAccess | None = None) -> BearerJWTAuth:
    """The service's token check from its settings: the issuer's keys when JWT_JWKS_URL is set,
    otherwise JWT_SECRET (the settings refuse to start with neither)."""
    keys: SigningKeys
    if settings.jwt_jwks_url:
        keys = IssuerKeys(
            settings.jwt_jwks_url,
            cache_seconds=settings.jwt_jwks_cache_seconds,
            refetch_seconds=settings.jwt_jwks_refetch_seconds,
        )
    elif settings.jwt_secret is not None:
        keys = SharedSecret(settings.jwt_secret.get_secret_value())
    else:  # ServiceSettings refuses this at start; a settings object built another way is told here
        raise ValueError("set JWT_SECRET, or JWT_JWKS_URL with JWT_ISSUER and JWT_AUDIENCE")
    return jwt_auth(
        keys,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        account_claim=settings.jwt_account_claim,
        access=access,
    )


def issue_token(
    secret: str,
    account_id: str,
    role: Role,
    *,
    user_id: str | None = None,
    ttl: timedelta = timedelta(hours=8),
    algorithm: str = "HS256",
    now: datetime | None = None,
) -> str:
    """A local token: user `user_id` (by default the role's name) of `account_id` with `role`."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}")
    if not account_id:
        raise ValueError("account id must not be empty")
    if ttl <= timedelta(0):
        raise ValueError("the lifetime must be positive")
    now = now or datetime.now(UTC)
    claims = {"sub": user_id or role, "account": account_id, "role": role, "iat": now, "exp": now + ttl}
    return jwt.encode(claims, secret, algorithm)  # the claims on top, as an identity provider's are


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
