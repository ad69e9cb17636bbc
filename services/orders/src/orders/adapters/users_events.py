"""Users' domain events → the contract events on `orders.users` (called from `to_contract`)."""

from __future__ import annotations

from orders.domain import users as domain
from portal_contracts import Event
from portal_contracts.events import orders as contract


def user_contract(event: domain.UserEvent) -> Event:
    match event:
        case domain.UserInvited():
            return contract.UserInvited(
                user_id=event.user_id,
                account_id=event.account_id,
                login=event.login,
                name=event.name,
                email=event.email,
                language=event.language,
                account_role=event.account_role,
                set_password_token=event.token,
                expires_at=event.expires_at,
                invited_by=event.by,
                invited_at=event.at,
            )
        case domain.UserActivated():
            return contract.UserActivated(
                user_id=event.user_id,
                account_id=event.account_id,
                login=event.login,
                email=event.email,
                language=event.language,
                activated_at=event.at,
            )
        case domain.UserContactChanged():
            return contract.UserContactChanged(
                user_id=event.user_id,
                account_id=event.account_id,
                login=event.login,
                name=event.name,
                email=event.email,
                language=event.language,
                changed_at=event.at,
            )
        case domain.UserAccessChanged():
            return contract.UserAccessChanged(
                user_id=event.user_id,
                account_id=event.account_id,
                login=event.login,
                active=event.active,
                tokens_valid_from=event.tokens_valid_from,
                reason=event.reason,
                changed_by=event.by,
                changed_at=event.at,
            )
    raise TypeError(f"no contract for {type(event).__name__}")
