"""HTTP: the calling user's own contact details."""

from __future__ import annotations

from litestar import Controller, Request, get, put
from litestar.di import NamedDependency
from litestar.params import JSONBody

from orders.http.users_models import ContactIn, UserOut
from orders.service.users import UserService
from portal_runtime.auth import Principal
from portal_runtime.openapi import problems

Req = Request[Principal, object, object]
NO_USER = {404: "The token names no user of the portal (e.g. one of `./portal token`)"}


class MeController(Controller):
    path = "/v1/me"
    tags = ["account"]

    @get("/", summary="The caller's own user", responses=problems(NO_USER))
    async def get_me(self, request: Req, users: NamedDependency[UserService]) -> UserOut:
        return UserOut.of(await users.me(request.user))

    @put("/", summary="Change the caller's own name, email, language and phone", responses=problems(NO_USER))
    async def put_me(self, data: JSONBody[ContactIn], request: Req, users: NamedDependency[UserService]) -> UserOut:
        user = await users.change_me(
            request.user, name=data.name, email=data.email, language=data.language, phone=data.phone
        )
        return UserOut.of(user)
