"""HTTP: the caller's own account profile."""

from __future__ import annotations

from litestar import Controller, Request, get, put
from litestar.di import NamedDependency
from litestar.params import JSONBody

from orders.http.models import ProfileIn, ProfileOut
from orders.service.profiles import ProfileService
from portal_runtime.auth import Principal
from portal_runtime.openapi import problems


class ProfileController(Controller):
    path = "/v1/account/profile"
    tags = ["account"]

    @put("/", summary="Set the contact email and language of the caller's account")
    async def set_profile(
        self,
        data: JSONBody[ProfileIn],
        request: Request[Principal, object, object],
        profiles: NamedDependency[ProfileService],
    ) -> ProfileOut:
        return ProfileOut.of(await profiles.put(request.user, data.email, data.language))

    @get(
        "/",
        summary="Read the caller's account profile",
        responses=problems({404: "The account has no profile yet (`PUT` one)"}),
    )
    async def get_profile(
        self, request: Request[Principal, object, object], profiles: NamedDependency[ProfileService]
    ) -> ProfileOut:
        return ProfileOut.of(await profiles.get(request.user))
