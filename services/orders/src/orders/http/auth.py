"""HTTP: local sign-in (no identity provider configured). The set-password link, the OAuth2
password grant (RFC 6749 §4.3; its errors as §5.2 says: JSON `error` + `error_description`, 400),
and the password changed with the old one. With JWT_JWKS_URL set each answers 404: the identity
provider signs users in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from litestar import Controller, Request, Response, post
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, Operation, RequestBody, Schema
from litestar.openapi.spec.enums import OpenAPIType
from litestar.params import JSONBody
from pydantic import BaseModel

from orders.http.users_models import ChangePasswordIn, SetPasswordIn, TokenOut, UserOut
from orders.service.auth import AuthService, InvalidGrant, LoginLocked
from portal_runtime.auth import Principal
from portal_runtime.openapi import problems

Req = Request[Principal, object, object]
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
FORM = "application/x-www-form-urlencoded"
OFF = {404: "An identity provider is configured (JWT_JWKS_URL): it signs users in"}


def _oauth_error(error: str, description: str, status: int = 400, **headers: str) -> Response:
    return Response(
        {"error": error, "error_description": description},
        status_code=status,
        headers={**NO_STORE, **headers},
        media_type="application/json",
    )


class OAuthError(BaseModel):
    error: Literal["invalid_request", "invalid_grant", "unsupported_grant_type"]
    error_description: str


@dataclass
class TokenOperation(Operation):
    """The token endpoint's body: a form, read by the handler itself (so its errors are OAuth2's)."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            required=True,
            content={
                FORM: OpenAPIMediaType(
                    schema=Schema(
                        type=OpenAPIType.OBJECT,
                        required=["grant_type", "username", "password"],
                        properties={
                            "grant_type": Schema(type=OpenAPIType.STRING, enum=["password"]),
                            "username": Schema(type=OpenAPIType.STRING),
                            "password": Schema(type=OpenAPIType.STRING),
                        },
                    )
                )
            },
        )


class AuthController(Controller):
    path = "/v1/auth"
    tags = ["sign-in"]

    @post(
        "/password",
        status_code=200,
        exclude_from_auth=True,
        security=[{}],
        summary="Set the password with the token of the emailed link (no bearer token); the first one activates "
        "the user. 12 to 128 characters, not the login",
        responses=problems(
            {
                400: "The link is not valid: used, expired, replaced by a newer one or unknown (`invalid-link`)",
                **OFF,
            }
        ),
    )
    async def set_password(self, data: JSONBody[SetPasswordIn], auth: NamedDependency[AuthService]) -> UserOut:
        return UserOut.of(await auth.set_password(data.token, data.password))

    @post(
        "/token",
        status_code=200,
        exclude_from_auth=True,
        security=[{}],
        summary="A token of the portal's own issuer: OAuth2 password grant, `application/x-www-form-urlencoded` "
        "with grant_type=password, username, password",
        description='Errors as RFC 6749 §5.2: 400 with `{"error": "invalid_request" | "invalid_grant" | '
        '"unsupported_grant_type", "error_description"}`. A wrong password, an unknown login, a disabled user '
        "and one that has not set its password yet all answer `invalid_grant`. After USERS_LOCK_AFTER_FAILURES "
        "failures within USERS_LOCK_MINUTES the login is locked that long: 429 with `Retry-After`, whether the "
        "user exists or not, and even with the right password.",
        responses={
            400: ResponseSpec(
                OAuthError,
                description="invalid_request, invalid_grant or unsupported_grant_type",
                generate_examples=False,
            ),
            429: ResponseSpec(
                OAuthError,
                description="The login is locked for a while (`Retry-After` seconds)",
                generate_examples=False,
            ),
            **problems(OFF),
        },
        operation_class=TokenOperation,
        own_error_media=(400, 429),
    )
    async def issue_token(self, request: Request, auth: NamedDependency[AuthService]) -> Response:
        auth.check_on()
        if request.content_type[0] != FORM:
            return _oauth_error("invalid_request", f"the request must be {FORM}")
        form = await request.form()
        for name in ("grant_type", "username", "password"):
            if len(form.getall(name, [])) > 1:
                return _oauth_error("invalid_request", f"{name} is given more than once")
        grant = form.get("grant_type")
        if not grant:
            return _oauth_error("invalid_request", "grant_type is missing")
        if grant != "password":
            return _oauth_error("unsupported_grant_type", "only grant_type=password is supported")
        username, password = form.get("username"), form.get("password")
        if not isinstance(username, str) or not username or not isinstance(password, str) or not password:
            return _oauth_error("invalid_request", "username and password are required")
        try:
            issued = await auth.token(username, password)
        except InvalidGrant:
            return _oauth_error("invalid_grant", "the user name or password is wrong")
        except LoginLocked as locked:
            return _oauth_error(
                "invalid_grant",
                "too many failed sign-ins: the login is locked for a while",
                status=429,
                **{"Retry-After": str(locked.retry_after)},
            )
        return Response(TokenOut.of(issued), headers=NO_STORE)

    @post(
        "/password/change",
        status_code=200,
        summary="Change the caller's password with the old one: every token issued before stops working; "
        "answers a new token",
        responses=problems(
            {
                404: "The token names no user of the portal; or an identity provider is configured",
                422: "old_password is wrong, or new_password breaks the policy (`field`)",
            }
        ),
    )
    async def change_password(
        self, data: JSONBody[ChangePasswordIn], request: Req, auth: NamedDependency[AuthService]
    ) -> Response[TokenOut]:
        issued = await auth.change_password(request.user, data.old_password, data.new_password)
        return Response(TokenOut.of(issued), headers=NO_STORE)
