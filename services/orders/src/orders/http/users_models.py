"""What the users' and sign-in endpoints read and answer."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from orders.domain.profiles import EMAIL
from orders.domain.users import MAX_NAME, MAX_PASSWORD, MAX_ROLE, MIN_PASSWORD, PHONE, User
from orders.http.models import Strict, TransitionOut
from orders.service.auth import IssuedToken
from orders.service.users import UserDetail

Language = Literal["en", "tr", "de", "pl"]
# The schema says what the domain checks (the rules are the domain's; a request the document allows
# is taken, save for what no schema can say: a password that is the login, an address in use).
NOT_BLANK = r"\S"
Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME, pattern=NOT_BLANK)]
Email = Annotated[str, Field(min_length=3, max_length=254, pattern=EMAIL.pattern)]
Phone = Annotated[str | None, Field(max_length=40, pattern=PHONE.pattern, description="e.g. +49 30 1234567")]
Password = Annotated[
    str,
    Field(
        min_length=MIN_PASSWORD,
        max_length=MAX_PASSWORD,
        pattern=NOT_BLANK,
        description="12 to 128 characters, not the login (422 otherwise)",
    ),
]


class NewUserIn(Strict):
    login: Annotated[
        str,
        Field(pattern=r"^[A-Za-z0-9._@-]{3,100}$", description="3-100 of a-z 0-9 . _ @ - (lower-cased)"),
    ]
    name: Name
    email: Email
    language: Language
    account_role: Annotated[
        str, Field(min_length=1, max_length=MAX_ROLE, pattern=NOT_BLANK, description="e.g. buyer, manager")
    ]
    phone: Phone = None


class ContactIn(Strict):
    name: Name
    email: Email
    language: Language
    phone: Phone = None


class SetPasswordIn(Strict):
    token: Annotated[str, Field(max_length=200, description="the token of the emailed link")]
    password: Password


class ChangePasswordIn(Strict):
    old_password: Annotated[str, Field(max_length=MAX_PASSWORD * 4)]
    new_password: Password


class UserOut(BaseModel):
    user_id: uuid.UUID
    account_id: str
    login: str
    name: str
    email: str
    language: str
    account_role: str
    phone: str | None
    status: str
    created_at: datetime
    created_by: str

    @classmethod
    def of(cls, u: User) -> UserOut:
        return cls(
            user_id=u.id,
            account_id=u.account_id,
            login=u.login,
            name=u.name,
            email=u.email,
            language=u.language,
            account_role=u.account_role,
            phone=u.phone,
            status=str(u.status),
            created_at=u.created_at,
            created_by=u.created_by,
        )


class UserDetailOut(UserOut):
    invitation_expires_at: datetime | None = Field(description="until when the live set-password link works")
    history: list[TransitionOut]

    @classmethod
    def of_detail(cls, d: UserDetail) -> UserDetailOut:
        return cls(
            **UserOut.of(d.user).model_dump(),
            invitation_expires_at=d.invitation_expires_at,
            history=[TransitionOut.of(t) for t in d.history],
        )


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int = Field(description="seconds")

    @classmethod
    def of(cls, t: IssuedToken) -> TokenOut:
        return cls(access_token=t.access_token, expires_in=t.expires_in)
