"""A user of a customer account: its statuses and moves, the rules on its login, contact details
and password, and the events each move raises."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from orders.domain import users
from orders.domain.users import User, UserStatus, check_password
from portal_runtime.errors import InvalidInput
from portal_runtime.lifecycle import InvalidTransition

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def new_user(**overrides) -> User:
    fields = dict(
        login=" Alice.Buyer@Acme ",
        name="Alice",
        email="alice@Acme.example",
        language="de",
        account_role="buyer",
        by="ops/admin",
        now=NOW,
    )
    return User.create("acme", **{**fields, **overrides})


def test_a_new_user_is_invited_with_a_lower_cased_login_and_history_naming_who():
    user = new_user()
    assert (user.status, user.login, user.email) == (UserStatus.INVITED, "alice.buyer@acme", "alice@acme.example")
    assert [(t.by, t.to_status) for t in user.history] == [("ops/admin", UserStatus.INVITED)]
    user.invite("tok", NOW + timedelta(hours=72), by="ops/admin", now=NOW)
    (invited,) = user.events
    assert isinstance(invited, users.UserInvited) and invited.token == "tok"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("login", "ab"),
        ("login", "has space"),
        ("login", "x" * 101),
        ("email", "nope"),
        ("language", "fr"),
        ("name", " "),
    ],
)
def test_bad_input_names_its_field(field, value):
    with pytest.raises(InvalidInput) as refused:
        new_user(**{field: value})
    assert refused.value.field == field


def test_the_password_policy():
    for bad in ("short", "x" * 129, "ALICE.BUYER@ACME"):
        with pytest.raises(InvalidInput) as refused:
            check_password(bad, "alice.buyer@acme")
        assert refused.value.field == "password"
    assert check_password("correct horse battery", "alice") == "correct horse battery"
    with pytest.raises(InvalidInput) as refused:
        check_password("tiny", "alice", name="new_password")
    assert refused.value.field == "new_password"


def test_the_first_password_activates_once_and_access_events_say_why():
    user = new_user()
    user.set_password("h1", tokens_from=NOW, now=NOW)
    assert user.status is UserStatus.ACTIVE
    assert [type(e).__name__ for e in user.events] == ["UserActivated", "UserAccessChanged"]
    assert user.events[1].reason == "password_set" and user.events[1].active is True
    user.events.clear()
    user.set_password("h2", tokens_from=NOW, now=NOW)  # a new link, an active user: no second activation
    assert [type(e).__name__ for e in user.events] == ["UserAccessChanged"]
    later = NOW + timedelta(minutes=1)
    user.change_password("h3", tokens_from=later, now=later)
    assert (user.password_hash, user.tokens_valid_from, user.events[-1].reason) == ("h3", later, "password_changed")


def test_disable_and_enable():
    user = new_user()
    user.disable(by="ops/admin", now=NOW)
    assert user.status is UserStatus.DISABLED and user.events[-1].active is False
    with pytest.raises(InvalidTransition):
        user.disable(by="ops/admin", now=NOW)
    with pytest.raises(InvalidTransition):
        user.invite("t", NOW, by="ops/admin", now=NOW)
    with pytest.raises(InvalidTransition):
        user.change_password("h", tokens_from=NOW, now=NOW)
    user.enable(by="ops/admin", now=NOW)
    assert user.status is UserStatus.INVITED  # never set a password
    assert user.events[-1].reason == "enabled"
    with pytest.raises(InvalidTransition) as refused:
        user.enable(by="ops/admin", now=NOW)
    assert refused.value.current_status == UserStatus.INVITED
    user.set_password("h", tokens_from=NOW, now=NOW)
    user.disable(by="ops/admin", now=NOW)
    user.enable(by="ops/admin", now=NOW)
    assert user.status is UserStatus.ACTIVE
    assert [t.to_status for t in user.history][-2:] == [UserStatus.DISABLED, UserStatus.ACTIVE]


def test_contact_changes_raise_an_event_only_when_something_changed():
    user = new_user()
    assert (
        user.change_contact(name="Alice", email="alice@acme.example", language="de", phone=None, by="x", now=NOW)
        is False
    )
    assert user.change_contact(name="Alice B", email="a@acme.example", language="pl", phone="+48 1 23", by="x", now=NOW)
    assert isinstance(user.events[-1], users.UserContactChanged) and user.events[-1].language == "pl"
    with pytest.raises(InvalidInput) as refused:
        user.change_contact(name="A", email="a@acme.example", language="pl", phone="call me", by="x", now=NOW)
    assert refused.value.field == "phone"
