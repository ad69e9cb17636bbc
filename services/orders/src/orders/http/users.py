"""HTTP: the users of customer accounts (admins), a customer's list of its company's users, and
a user's own contact details (`/v1/me`)."""

from __future__ import annotations

import uuid

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from orders.http.users_models import NewUserIn, UserDetailOut, UserOut
from orders.service.users import UserService
from portal_runtime.auth import Principal, admin_only
from portal_runtime.openapi import problems
from portal_runtime.paging import Page, PageRequest

Req = Request[Principal, object, object]
UNKNOWN = {404: "No such user"}


class AdminUserController(Controller):
    path = "/v1/admin"
    tags = ["users (admin)"]
    guards = [admin_only]

    @post(
        "/accounts/{account_id:str}/users",
        summary="Create a user of a customer account: it is invited (an email with a one-time link to set its "
        "password, or the identity provider's invitation)",
        responses=problems({409: "The login is taken (`field` login)"}),
    )
    async def create_user(
        self, account_id: FromPath[str], data: JSONBody[NewUserIn], request: Req, users: NamedDependency[UserService]
    ) -> UserDetailOut:
        user = await users.create(
            request.user,
            account_id,
            login=data.login,
            name=data.name,
            email=data.email,
            language=data.language,
            account_role=data.account_role,
            phone=data.phone,
        )
        return UserDetailOut.of_detail(await users.get(request.user, user.id))

    @get("/accounts/{account_id:str}/users", summary="The users of a customer account, by login")
    async def list_account_users(
        self,
        account_id: FromPath[str],
        request: Req,
        users: NamedDependency[UserService],
        page: NamedDependency[PageRequest],
    ) -> Page[UserOut]:
        return (await users.of_account(request.user, account_id, page)).map(UserOut.of)

    @get("/users/{user_id:uuid}", summary="A user with its history (who did what)", responses=problems(UNKNOWN))
    async def get_user(
        self, user_id: FromPath[uuid.UUID], request: Req, users: NamedDependency[UserService]
    ) -> UserDetailOut:
        return UserDetailOut.of_detail(await users.get(request.user, user_id))

    @post(
        "/users/{user_id:uuid}/disable",
        status_code=200,
        summary="Disable a user: its tokens are refused from its next call on (every service)",
        responses=problems({**UNKNOWN, 409: "Already disabled (`current_status`)"}),
    )
    async def disable_user(
        self, user_id: FromPath[uuid.UUID], request: Req, users: NamedDependency[UserService]
    ) -> UserDetailOut:
        await users.disable(request.user, user_id)
        return UserDetailOut.of_detail(await users.get(request.user, user_id))

    @post(
        "/users/{user_id:uuid}/enable",
        status_code=200,
        summary="Enable a disabled user (active again, or invited if it never set a password)",
        responses=problems({**UNKNOWN, 409: "Not disabled (`current_status`)"}),
    )
    async def enable_user(
        self, user_id: FromPath[uuid.UUID], request: Req, users: NamedDependency[UserService]
    ) -> UserDetailOut:
        await users.enable(request.user, user_id)
        return UserDetailOut.of_detail(await users.get(request.user, user_id))

    @post(
        "/users/{user_id:uuid}/invitation",
        status_code=200,
        summary="Send a new set-password link (the old one stops working)",
        responses=problems({**UNKNOWN, 409: "The user is disabled (`current_status`)"}),
    )
    async def invite_user(
        self, user_id: FromPath[uuid.UUID], request: Req, users: NamedDependency[UserService]
    ) -> UserDetailOut:
        await users.invite(request.user, user_id)
        return UserDetailOut.of_detail(await users.get(request.user, user_id))


class AccountUsersController(Controller):
    path = "/v1/account/users"
    tags = ["account"]

    @get("/", summary="The users of the caller's company, by login")
    async def list_company_users(
        self, request: Req, users: NamedDependency[UserService], page: NamedDependency[PageRequest]
    ) -> Page[UserOut]:
        return (await users.of_account(request.user, request.user.account_id, page)).map(UserOut.of)
