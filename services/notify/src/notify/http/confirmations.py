"""HTTP: confirming an address with the token from its confirmation email. No bearer token: the
token is the proof (why: `notify.service.confirmations`); the answer names only the address."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar import Controller, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from pydantic import BaseModel, Field

from notify.service.confirmations import Confirmations
from portal_runtime.openapi import problems


class ConfirmationIn(BaseModel):
    token: Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_-]+$")]


class ConfirmationOut(BaseModel):
    email: str
    confirmed_at: datetime


class EmailConfirmationController(Controller):
    path = "/v1/email-confirmations"
    tags = ["email confirmations"]

    @post(
        "/",
        status_code=200,
        exclude_from_auth=True,
        security=[{}],  # anonymous: the global bearer requirement does not apply
        summary="Confirm an address with the token from its confirmation email (no bearer token needed); "
        "the account's emails go to it from now on, those that waited for it too",
        responses=problems(
            {
                404: "No such token: never issued, or replaced by a newer change of the address (`not-found`)",
                410: "The token expired before it came back (`expired_at`); the next change of the profile "
                "naming the address sends a new one",
            }
        ),
    )
    async def confirm_email(
        self, data: JSONBody[ConfirmationIn], confirmations: NamedDependency[Confirmations]
    ) -> ConfirmationOut:
        confirmed = (await confirmations.confirm(data.token)).confirmation
        return ConfirmationOut(email=confirmed.email, confirmed_at=confirmed.confirmed_at)
