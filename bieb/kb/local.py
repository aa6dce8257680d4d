"""The login service in this process: the adapter of `bieb.kb.interface` for `BIEB_ROLE=all`
(and for the KB's own API, which serves library systems with it).

Every method runs on the caller's database connection, so inside the caller's transaction (see
the interface's docstring). Imported only where the login service's app is installed."""

import datetime as dt
import uuid

from django.core.exceptions import ValidationError

from bieb.core.dates import lifetime_label
from bieb.kb import self_service, services
from bieb.kb.api.events import library_events as feed_page
from bieb.kb.models import AccountOrigin, LoginAccount
from bieb.kb.types import (
    ACCOUNT_GONE,
    AccountFigures,
    AccountState,
    AccountStatus,
    LibraryData,
    LibraryEvent,
    LibraryEvents,
    MembershipData,
)


def account_status_of(account: LoginAccount) -> AccountStatus:
    state = AccountState.EXPIRED if account.activation_expired() else AccountState(account.state)
    return AccountStatus(
        username=account.username,
        email=account.email,
        state=state,
        activation_deadline=account.activation_deadline,
        id=account.pk,
        pending_email=account.pending_email,
    )


def _gone(account_id: uuid.UUID) -> AccountStatus:
    return AccountStatus(username="", email="", state=AccountState.EXPIRED, id=account_id)


class InProcessKB:
    """`bieb.kb.interface.KBInterface` on the login service's own functions."""

    def activation_lifetime_label(self) -> str:
        return lifetime_label(services.activation_lifetime())

    def create_account(
        self,
        *,
        email: str,
        membership: MembershipData,
        actor: str,
        account_id: uuid.UUID | None = None,
        idempotency_key: str | None = None,
    ) -> AccountStatus:
        account = services.account_create(
            username=membership.customer_number,
            email=email,
            origin=AccountOrigin.COUNTER,
            actor=actor,
            membership=membership,
            account_id=account_id,
        )
        return account_status_of(account)

    def request_link_code(
        self, *, username: str, library_code: str, library_name: str, actor: str
    ) -> str:
        return services.link_code_request(
            username=username, library_code=library_code, library_name=library_name, actor=actor
        )

    def check_link_code(self, *, username: str, code: str, library_code: str, actor: str) -> None:
        services.link_code_check(
            username=username, code=code, library_code=library_code, actor=actor
        )

    def link_account(
        self, *, username: str, code: str, membership: MembershipData, actor: str
    ) -> AccountStatus:
        return account_status_of(
            services.account_link(username=username, code=code, membership=membership, actor=actor)
        )

    def link_account_by_id(
        self, *, account_id: uuid.UUID, membership: MembershipData, actor: str, id_token: str = ""
    ) -> AccountStatus:
        # The ID token of the member's sign-in is their consent (bieb.kb.consent), checked
        # when given. Without one, the caller is the library side of this very process, whose
        # relying party verified that sign-in itself (role `all`); the API always gives one.
        return account_status_of(
            services.account_link_own(
                account_id=account_id,
                membership=membership,
                actor=actor,
                id_token=id_token or None,
            )
        )

    def forget_account(
        self, *, account_id: uuid.UUID, library_code: str, customer_number: str, actor: str
    ) -> None:
        services.account_forget(
            account_id=account_id,
            library_code=library_code,
            customer_number=customer_number,
            actor=actor,
        )

    def forget_accounts(
        self, *, library_code: str, links: list[tuple[uuid.UUID, str]], actor: str
    ) -> None:
        services.accounts_forget(library_code=library_code, links=links, actor=actor)

    def account_status(self, *, username: str) -> AccountStatus:
        name = services.username_normalize(username)
        account = LoginAccount.objects.filter(username=name).first()
        if account is None:
            return AccountStatus(username=username, email="", state=AccountState.EXPIRED)
        return account_status_of(account)

    def account_status_by_id(self, *, account_id: uuid.UUID) -> AccountStatus:
        account = LoginAccount.objects.filter(pk=account_id).first()
        return _gone(account_id) if account is None else account_status_of(account)

    def account_statuses_by_id(self, *, account_ids: list[uuid.UUID]) -> list[AccountStatus]:
        found = {a.pk: a for a in LoginAccount.objects.filter(pk__in=set(account_ids))}
        return [account_status_of(found[pk]) if pk in found else _gone(pk) for pk in account_ids]

    def resend_activation(self, *, account_id: uuid.UUID, actor: str) -> AccountStatus:
        account = LoginAccount.objects.filter(pk=account_id).first()
        if account is None:
            raise ValidationError(ACCOUNT_GONE, code="gone")
        return account_status_of(services.activation_resend(account=account, actor=actor))

    def account_email_change_request(
        self, *, account_id: uuid.UUID, email: str, actor: str
    ) -> AccountStatus:
        account = LoginAccount.objects.filter(pk=account_id).first()
        if account is None:
            raise ValidationError(ACCOUNT_GONE, code="gone")
        return account_status_of(
            self_service.email_change_request(account=account, email=email, actor=actor)
        )

    def update_membership(self, *, membership: MembershipData) -> None:
        services.membership_update(membership=membership)

    def update_memberships(self, *, memberships: list[MembershipData]) -> None:
        services.memberships_update(memberships=memberships)

    def library_update(self, *, library: LibraryData) -> None:
        services.library_contact_update(library=library)

    def library_events(self, *, library_code: str, after: int, limit: int = 500) -> LibraryEvents:
        page = feed_page(library_code=library_code, after=after, limit=limit)
        return LibraryEvents(
            events=[
                LibraryEvent(
                    cursor=event.position or 0,
                    type=event.kind,
                    at=event.at,
                    account_id=event.account_id,
                    customer_number=event.customer_number,
                    username=event.username,
                    email=event.email,
                )
                for event in page.events
            ],
            cursor=page.cursor,
            more=page.more,
        )

    def account_figures(self, *, library_code: str, start: dt.date, end: dt.date) -> AccountFigures:
        from bieb.kb.statistics.report import library_account_figures

        return library_account_figures(library_code=library_code, start=start, end=end)
