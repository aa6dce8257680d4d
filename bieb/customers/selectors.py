"""Reads of the customer administration; every one is scoped to a library."""

import datetime as dt
import functools
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower
from django.db.models.lookups import Contains, StartsWith

from bieb.customers.models import Bytewise, Customer, CustomerDisplay, LedgerLine, Membership
from bieb.customers.validators import clean_initials
from bieb.customers.year import customer_saldo_of
from bieb.kb import interface as login_service
from bieb.kboutbox.selectors import KBCallView, kb_call_account
from bieb.kboutbox.services import kb_sync_call
from bieb.libraries.models import Library


def customer_likely_duplicates(
    *, library: Library, surname: str, birth_date: dt.date, postcode: str
) -> QuerySet[Customer]:
    """Customers of the library with the same surname, birth date and postcode."""
    return Customer.objects.filter(
        library=library,
        surname__iexact=surname,
        birth_date=birth_date,
        postcode=postcode,
    ).order_by("number")


def customer_login_account(*, customer: Customer) -> login_service.AccountStatus | None:
    """The customer's login account as the login service sees it now, found by its id; None
    without one, while the KB has not yet made or linked it (`customer_login_account_state`
    says so), or when the KB cannot be reached now. One whose account the login service deleted
    unactivated reads "verlopen"."""
    return customer_login_account_state(customer=customer).account


@dataclass(frozen=True)
class LoginAccountState:
    """What the counter shows of a customer's login account."""

    # As the KB told just now; None without one, or when not (yet) known.
    account: login_service.AccountStatus | None = None
    # The call to the KB that makes or links the account, while it is open or when the KB
    # refused it (bieb.kboutbox).
    call: KBCallView | None = None
    # The KB could not be reached to read the account's state.
    unreachable: bool = False

    @property
    def pending(self) -> bool:
        return self.call is not None and self.call.is_open


def customer_login_account_state(*, customer: Customer) -> LoginAccountState:
    call = kb_call_account(customer_id=customer.pk)
    if (
        call is not None
        and call.call.kind == "account_create"
        and call.call.payload.get("account_id") != str(customer.login_account_id)
    ):
        call = None  # an account forgotten since (its creation may still be made, then undone)
    if call is not None and (call.is_open or customer.login_account_id is None):
        return LoginAccountState(call=call)
    if customer.login_account_id is not None:
        try:
            account = kb_sync_call(
                login_service.account_status_by_id, account_id=customer.login_account_id
            )
        except login_service.KBUnavailable:
            return LoginAccountState(call=call, unreachable=True)
        return LoginAccountState(account=account, call=call)
    if customer.login_account_lapsed:
        return LoginAccountState(
            account=login_service.AccountStatus(
                username="", email="", state=login_service.AccountState.EXPIRED
            )
        )
    return LoginAccountState(call=call)


def customer_get(*, library: Library, number: str) -> Customer:
    """The library's customer with this number; Customer.DoesNotExist for another library's."""
    return Customer.objects.get(library=library, number=number)


def customer_saldo(*, customer: Customer) -> Decimal:
    """What the customer still owes: the sum of the ledger (bieb.customers.year)."""
    return customer_saldo_of(customer.pk)


SEARCH_LIMIT = 25


class _CustomerColumns(NamedTuple):
    number: str
    salutation: str
    initials: str
    prefix: str
    surname: str
    birth_date: dt.date
    country: str
    postcode: str
    house_number: int | None
    house_letter: str
    house_addition: str
    email: str


class CustomerRow(_CustomerColumns, CustomerDisplay):
    """A customer as the search results show one (counter/_results.html)."""

    __slots__ = ()


_SEARCH_POSTCODE_RE = re.compile(
    r"^(\d{4})\s*([A-Za-z]{1,2})(?:\s*[-,]?\s*(\d{1,5})[A-Za-z0-9 -]*)?$", re.ASCII
)
# Words of Dutch surname prefixes (voorvoegsels), stored apart from the surname: `van der`.
# fmt: off
NAME_PREFIX_WORDS = frozenset((
    "van", "de", "der", "den", "het", "ter", "ten", "te", "'t", "'s", "in", "op", "aan", "bij",
    "uit", "onder", "over", "von", "vom", "zu", "la", "le", "du", "da", "di", "del", "des", "dos",
    "el", "al", "d'", "l'", "lo",
))
# fmt: on


def customer_search(
    *, library: Library, query: str, limit: int = SEARCH_LIMIT
) -> tuple[list[CustomerRow], bool]:
    """The library's customers matching what counter staff typed, and whether there are more.

    Every kind of search reads an index (the table holds millions of customers), most of them
    the start of what is stored; case does not matter:
    - digits (spaces allowed): the customer number, whole or its start (`5280 0000`), listed
      by number;
    - a postcode with an optional house number: `9468 BG 41`, `9468bg`, or its start `9468 B`;
      listed by address;
    - an e-mail address (contains @), whole or its start (`jan.jansen@`), listed by address;
    - a part from inside an e-mail address (`example`, `tester@exa`, at least 3 characters),
      when nothing else matched: a trigram index (PostgreSQL) finds it;
    - else names, listed by surname: the surname's start (`jans`, `Jansen`) with the prefix
      before it or after a comma (`de jong`, `Jong, de`, `van der b`), and initials (`E.B.`,
      `j`) or a first name (`piet`) beside it. Without a comma the last word is taken as the
      surname; if that finds no one, the first; then all words as one surname
      (`jansen-de vries`).
    """
    text = " ".join((query or "").replace("\u2019", "'").split())
    if len(text) < 2:
        return [], False
    connection = connections[Customer.objects.db]
    found: list[CustomerRow] = []
    for build, args in _search_attempts(text, _case_fold(connection.vendor)):
        found = _search_run(connection, build, library.pk, args, limit + 1)
        if found:
            break
    return found[:limit], len(found) > limit


# A search: a function that narrows and orders the library's customers, and its arguments.
SearchBuild = Callable[..., QuerySet[Customer]]


def _case_fold(vendor: str) -> Callable[[str], str]:
    """Lower case as the database's LOWER() has it: SQLite's folds only A-Z."""
    return _ascii_lower if vendor == "sqlite" else str.lower


def _ascii_lower(text: str) -> str:
    return text.translate(_ASCII_LOWER)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _search_attempts(
    text: str, fold: Callable[[str], str]
) -> list[tuple[SearchBuild, tuple[Any, ...]]]:
    """What to run for the typed text, in turn until one finds customers; `fold` lowers the
    case of what is compared with a LOWER() of the database."""
    compact = text.replace(" ", "")
    postcode = _SEARCH_POSTCODE_RE.match(text)
    part = [(_by_email_part, (fold(text),))] if len(text) >= EMAIL_PART_MIN else []
    if "@" in text:
        return [(_by_email, (fold(text),)), *part]
    if compact.isdigit() and compact.isascii():
        return [(_by_number, (compact,))]
    if postcode:
        digits, letters, house = postcode.groups()
        code = f"{digits}{letters.upper()}"
        if house:
            return [(_by_address, (code, int(house)))]
        if len(letters) == 2:
            return [(_by_postcode, (code,))]
        return [(_by_postcode_start, (code, _postcode_after(code)))]
    names = [(_by_name, reading.args(fold)) for reading in _name_readings(text)]
    return names + (part if " " not in text else [])  # an address has no spaces


def _by_number(customers: QuerySet[Customer], digits: str) -> QuerySet[Customer]:
    key = Bytewise("number")
    return customers.filter(StartsWith(key, digits)).order_by(key)


def _by_email(customers: QuerySet[Customer], start: str) -> QuerySet[Customer]:
    key = Bytewise(Lower("email"))
    return customers.filter(StartsWith(key, start)).order_by(key, "number")


# A part from inside an address (`example`, `tester@exa`) is looked for when nothing else
# matched and at least this long: PostgreSQL's trigram index (customer_search_email_part, GIN
# on library and lower(email) with gin_trgm_ops, migration 0005) serves LIKE '%part%' from 3
# characters on; shorter parts would read every address of the library.
EMAIL_PART_MIN = 3


def _by_email_part(customers: QuerySet[Customer], part: str) -> QuerySet[Customer]:
    """On SQLite (the demo's embedded database) this scans the library's customers: fine at
    a demo's size; at national scale run PostgreSQL, where the trigram index serves it."""
    key = Bytewise(Lower("email"))
    return customers.filter(Contains(Lower("email"), part)).order_by(key, "number")


# Listed by address: the index on (library, postcode, house number) gives that order.
_ADDRESS_ORDER = ("postcode", "house_number", "house_letter", "house_addition", "surname")


def _by_address(customers: QuerySet[Customer], postcode: str, house: int) -> QuerySet[Customer]:
    customers = customers.filter(postcode=postcode, house_number=house)
    return customers.order_by(*_ADDRESS_ORDER, "number")


def _by_postcode(customers: QuerySet[Customer], postcode: str) -> QuerySet[Customer]:
    return customers.filter(postcode=postcode).order_by(*_ADDRESS_ORDER, "number")


def _by_postcode_start(customers: QuerySet[Customer], start: str, after: str) -> QuerySet[Customer]:
    """The start of a postcode (`9468B`) also as a range, which the address index serves
    under any collation."""
    customers = customers.filter(postcode__startswith=start, postcode__gte=start)
    if after:
        customers = customers.filter(postcode__lt=after)
    return customers.order_by(*_ADDRESS_ORDER, "number")


def _postcode_after(start: str) -> str:
    """The first postcode after those starting with `start`, one digit or capital on: stored
    Dutch postcodes are 4 digits and 2 capitals (`9468BG`). "" after `9999Z`."""
    if start[-1] != "Z":
        return start[:-1] + chr(ord(start[-1]) + 1)
    return str(int(start[:4]) + 1) if start[:4] != "9999" else ""


@dataclass(frozen=True)
class _NameReading:
    """One way to read typed names: the surname's start and what must match beside it."""

    surname: str  # as typed; "" when only a prefix was typed (`van der`)
    prefix: str = ""  # lower case, the words joined by one space
    initials: tuple[str, ...] = ()  # normalised: `E.B.`
    first_names: tuple[tuple[str, str], ...] = ()  # (`PIET`, its initial `P`)

    def args(self, fold: Callable[[str], str]) -> tuple[Any, ...]:
        return (fold(self.surname), self.prefix, self.initials, self.first_names)


def _by_name(
    customers: QuerySet[Customer],
    surname: str,
    prefix: str,
    initials: tuple[str, ...],
    first_names: tuple[tuple[str, str], ...],
) -> QuerySet[Customer]:
    """Every argument is used as it is: the statement is compiled with stand-ins for them."""
    key = Bytewise(Lower("surname"))
    if surname:
        customers = customers.filter(StartsWith(key, surname))
    if prefix:
        customers = customers.filter(prefix__startswith=prefix)
    for start in initials:
        customers = customers.filter(initials__startswith=start)
    for word, initial in first_names:
        # Many customers have no first name recorded: then the initial stands for it.
        customers = customers.filter(
            Q(first_name__istartswith=word) | Q(first_name="", initials__startswith=initial)
        )
    return customers.order_by(key, "initials", "number")


def _name_readings(text: str) -> list[_NameReading]:
    """The readings of typed names to try in turn, until one finds customers."""
    if "," in text:  # `Jong, de` / `Berg, van den, E.` / `Jansen, Piet`
        surname_part, rest = text.split(",", 1)
        words = surname_part.split()
        # a prefix typed in front of the surname (`van der Berg, J.`) belongs to the prefix
        lead = 0
        while lead < len(words) - 1 and words[lead].lower() in NAME_PREFIX_WORDS:
            lead += 1
        others = words[:lead] + rest.replace(",", " ").split()
        return [_reading(" ".join(words[lead:]), [_word(w) for w in others])]
    words = text.split()
    if len(words) == 1:
        return [_reading(words[0], [])]
    parsed = [_word(word) for word in words]
    # a surname of several words (`Jansen-de Vries`), or a prefix stored in the surname
    whole = _reading(text, [])
    candidates = [i for i in reversed(range(len(words))) if parsed[i][0] == "name"]
    if not candidates:
        last = len(words) - 1
        if parsed[last][0] == "prefix":  # `van der`: everyone with that prefix
            return [_reading("", parsed), whole]
        candidates = [last]  # `van d`: a surname starting with d
    tries = [candidates[0], candidates[-1]] if len(candidates) > 1 else candidates
    return [_reading(words[i], parsed[:i] + parsed[i + 1 :]) for i in tries] + [whole]


def _word(word: str) -> tuple[str, str]:
    """(kind, value): ("prefix", `van`), ("initials", `E.B.`) or ("name", the word)."""
    lowered = word.lower()
    if lowered in NAME_PREFIX_WORDS:
        return "prefix", lowered
    if len(word) == 1 or "." in word:
        try:
            return "initials", clean_initials(word)
        except ValidationError:
            pass
    return "name", word


def _reading(surname: str, others: list[tuple[str, str]]) -> _NameReading:
    prefix, initials, first_names = [], [], []
    for kind, value in others:
        if kind == "prefix":
            prefix.append(value)
        elif kind == "initials":
            initials.append(value)
        else:
            first_names.append((value.upper(), value[:1].upper()))
    return _NameReading(
        surname=surname,
        prefix=" ".join(prefix),
        initials=tuple(initials),
        first_names=tuple(first_names),
    )


# --- running a search ------------------------------------------------------------------------
#
# Building and compiling a queryset takes the ORM longer than PostgreSQL takes to answer it
# from an index. So each kind of search is compiled once per shape (which arguments are empty,
# how many words) with stand-ins for the values, and then run with this search's values.

_STANDIN_TEXT = "\ue000{}\ue001"  # private-use characters: nobody types them
_STANDIN_INT = 2_147_000_000  # + the argument's position; within every integer column's range


@dataclass(frozen=True)
class _Statement:
    sql: str
    # per parameter: a constant, or (argument position, text before, text after, LIKE pattern)
    params: tuple[Any, ...]


def _search_run(
    connection: Any, build: SearchBuild, library_id: int, args: tuple[Any, ...], limit: int
) -> list[CustomerRow]:
    statement = _statement(connection.alias, build, _shape(args), limit)
    values = (library_id, *_flat(args))
    params = []
    for param in statement.params:
        if isinstance(param, _Arg):
            value = values[param.position]
            if param.like:
                value = connection.ops.prep_for_like_query(value)
            param = f"{param.before}{value}{param.after}" if param.text else value
        params.append(param)
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, params)
        return [CustomerRow._make(row) for row in cursor.fetchall()]


@dataclass(frozen=True)
class _Arg:
    """Where an argument goes into the statement's parameters."""

    position: int  # in (library id, *flattened arguments)
    text: bool = False
    before: str = ""
    after: str = ""
    like: bool = False  # a LIKE pattern: the value's % and _ are escaped


def _shape(value: Any) -> Any:
    """What the compiled statement depends on: which arguments are empty, how many words."""
    if isinstance(value, tuple):
        return tuple(_shape(v) for v in value)
    if isinstance(value, str):
        return "text" if value else ""
    return "int"


def _flat(args: tuple[Any, ...]) -> list[Any]:
    out: list[Any] = []
    for arg in args:
        if isinstance(arg, tuple):
            out += _flat(arg)
        elif arg != "":
            out.append(arg)
    return out


def _standins(shape: Any, position: list[int]) -> Any:
    """Arguments of this shape with stand-ins, numbered from position[0] on."""
    if isinstance(shape, tuple):
        return tuple(_standins(s, position) for s in shape)
    if shape == "":
        return ""
    position[0] += 1
    if shape == "text":
        return _STANDIN_TEXT.format(position[0])
    return _STANDIN_INT + position[0]


@functools.lru_cache(maxsize=256)
def _statement(alias: str, build: SearchBuild, shape: Any, limit: int) -> _Statement:
    args = _standins(shape, [0])
    customers = Customer.objects.using(alias).filter(library_id=_STANDIN_INT)
    queryset = build(customers, *args).values_list(*CustomerRow._fields)[:limit]
    sql, params = queryset.query.get_compiler(using=alias).as_sql()
    count = len(_flat(args))
    placed: list[Any] = []
    for param in params:
        placed.append(_place(param, count))
    return _Statement(sql=sql, params=tuple(placed))


def _place(param: Any, count: int) -> Any:
    if isinstance(param, int) and _STANDIN_INT <= param <= _STANDIN_INT + count:
        return _Arg(position=param - _STANDIN_INT)
    if isinstance(param, str) and "\ue000" in param:
        for position in range(1, count + 1):
            standin = _STANDIN_TEXT.format(position)
            if standin in param:
                before, _, after = param.partition(standin)
                return _Arg(position, True, before, after, like=param != standin)
    return param


def customer_memberships(*, customer: Customer) -> QuerySet[Membership]:
    """The customer's memberships, newest first, with what their cost build-up needs."""
    memberships = Membership.objects.filter(customer=customer, library_id=customer.library_id)
    return memberships.select_related(
        "subscription_type", "subscription_type__library", "tariff", "discount", "branch"
    )


def customer_ledger(*, customer: Customer) -> QuerySet[LedgerLine]:
    """The customer's ledger lines in booking order."""
    return LedgerLine.objects.filter(customer=customer, library_id=customer.library_id)


def customer_by_registration_key(*, library: Library, key: uuid.UUID) -> Customer | None:
    """The library's customer registered by the form with this key, if that form was saved."""
    return Customer.objects.filter(library=library, registration_key=key).first()
