"""The one scoping rule of lists and objects."""

from portal_runtime.auth import AccountScope, Principal

ACME, OPS = Principal("alice", "acme", "customer"), Principal("olga", "ops", "admin")


def test_a_customer_sees_its_own_account_and_nothing_of_another():
    assert ACME.scope() == AccountScope("acme") == ACME.scope("acme")
    assert ACME.scope("globex").empty
    assert ACME.owns("acme") and not ACME.owns("globex") and not ACME.owns(None)


def test_an_admin_sees_every_account_or_the_one_it_filters_on():
    assert OPS.scope() == AccountScope(None) and OPS.scope("globex") == AccountScope("globex")
    assert OPS.owns("globex")


def test_the_actor_names_the_user_within_its_account():
    assert (ACME.actor, OPS.actor) == ("acme/alice", "ops/olga")
    assert Principal("alice", "globex", "customer").actor != ACME.actor
