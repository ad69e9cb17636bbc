"""Confirming an address: the token from the confirmation email comes back, the address becomes
the one the account's emails go to, and the emails that waited for it are addressed (each once:
they are moved out of waiting under the account's lock, in the same transaction).

No bearer token is asked for: the token is the proof that matters (that whoever reads the mailbox
agrees), and that reader may have no portal login at all (a shared billing@ mailbox). A token is
256 random bits, works once for one address, for a limited time, and is stored only as its
digest. Sending the token that confirmed the current address again answers as the first time
(a client retrying a lost answer); a token replaced by a newer change, or never issued, is 404;
an expired one 410."""

from __future__ import annotations

import logging

from notify.adapters.templates import TemplateRenderer
from notify.domain.recipients import Recipient, digest
from notify.domain.users import UserRecipient
from notify.service.addressing import release, release_user
from portal_runtime.clock import Clock
from portal_runtime.errors import NotFound
from portal_runtime.uow import UnitsOfWork

log = logging.getLogger(__name__)


class Confirmations:
    def __init__(self, uow: UnitsOfWork, renderer: TemplateRenderer, clock: Clock) -> None:
        self.uow = uow
        self.renderer = renderer
        self.clock = clock

    async def confirm(self, token: str) -> Recipient:
        """The recipient whose address the token confirmed (now, or the first time it came)."""
        now = self.clock.now()
        async with self.uow() as uow:
            account_id = await uow.recipients.account_of_token(digest(token))
            if account_id is None:
                return await self._confirm_user(uow, token, now)
            await uow.recipients.lock_account(account_id)
            recipient = await uow.recipients.get(account_id, for_update=True)
            if recipient is None:
                raise NotFound("no such confirmation token")
            if recipient.confirm(token, now):  # raises when replaced meanwhile, or expired
                log.info("notify: account %s confirmed its address", account_id)
                await release(uow, recipient, self.renderer, now)
            await uow.commit()
        return recipient

    async def _confirm_user(self, uow, token: str, now) -> UserRecipient:
        """A user's changed address confirmed: its emails that awaited the address go out."""
        user = await uow.users.of_token(digest(token))
        if user is None:
            raise NotFound("no such confirmation token")
        await uow.recipients.lock_account(user.account_id)
        if user.confirm(token, now):
            log.info("notify: user %s of account %s confirmed its address", user.user_id, user.account_id)
            await release_user(uow, user, self.renderer, now)
        await uow.commit()
        return user
