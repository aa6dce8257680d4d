"""Validation of what staff and members type about a customer.

Every function takes raw input and returns the normalised value, or raises Django's
ValidationError with a Dutch message that says what is wrong and how to fix it. The caller
attaches the field: `customer_details_clean` collects all errors of a form at once.
"""

import datetime as dt
import gettext
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import pycountry
from django.core.exceptions import ValidationError
from schwifty import BIC, IBAN
from schwifty.exceptions import (
    InvalidChecksumDigits,
    InvalidCountryCode,
    InvalidLength,
    SchwiftyException,
)
from stdnum import luhn
from stdnum.exceptions import InvalidComponent
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.nl import postcode as nl_postcode

from bieb.core.dates import age_on
from bieb.core.emails import email_clean

MAX_AGE_YEARS = 120


def _text(value: object) -> str:
    """Input as text: None becomes "", whitespace is collapsed, Unicode is composed (NFC)."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value))
    return " ".join(text.split())


def _is_name_char(char: str) -> bool:
    return char.isalpha() or char in " -'\u2019."


# --- names -----------------------------------------------------------------------------------


def clean_initials(value: object) -> str:
    """`eb`, `E B`, `e.b.`, `J.Th.` → `E.B.`, `E.B.`, `E.B.`, `J.Th.`."""
    text = _text(value)
    if not text:
        raise ValidationError("Vul de voorletters in, bijvoorbeeld E.B.", code="required")
    if not all(c.isalpha() or c in ". " for c in text):
        raise ValidationError(
            "Voorletters bestaan alleen uit letters, bijvoorbeeld E.B.", code="invalid"
        )
    if "." in text or " " in text:
        parts = [p for p in re.split(r"[. ]+", text) if p]
    else:
        parts = list(text)
    if not parts or len(parts) > 10 or any(len(p) > 3 for p in parts):
        raise ValidationError(
            "Typ de voorletters met een punt erachter, bijvoorbeeld E.B. of J.Th.", code="invalid"
        )
    initials = []
    for part in parts:
        if part.upper() == "IJ":
            initials.append("IJ.")
        else:
            rest = "".join(_case(c, str.lower) for c in part[1:])
            initials.append(_case(part[0], str.upper) + rest + ".")
    return "".join(initials)


def _case(char: str, change: Callable[[str], str]) -> str:
    """`char` in upper or lower case, but kept as it is when that takes more than one character
    (`ß` → `SS`, `İ` → `i̇`): such a result would no longer be one letter, nor valid input."""
    changed = change(char)
    return changed if len(changed) == 1 else char


def clean_prefix(value: object) -> str:
    """Voorvoegsel: `Van der` → `van der`; empty is allowed."""
    text = _text(value).lower()
    if not text:
        return ""
    if len(text) > 20 or not all(c.isalpha() or c in " '\u2019" for c in text):
        raise ValidationError(
            "Een voorvoegsel bestaat uit letters, bijvoorbeeld 'van der' of 'de'.", code="invalid"
        )
    return text.replace("\u2019", "'")


def clean_surname(value: object) -> str:
    text = _text(value)
    if not text:
        raise ValidationError("Vul de achternaam in.", code="required")
    return _clean_name(text, "achternaam")


def clean_first_name(value: object) -> str:
    text = _text(value)
    return _clean_name(text, "roepnaam") if text else ""


def _clean_name(text: str, what: str) -> str:
    if len(text) > 100:
        raise ValidationError(f"De {what} is te lang: gebruik hoogstens 100 tekens.", code="long")
    if not all(_is_name_char(c) for c in text) or not any(c.isalpha() for c in text):
        raise ValidationError(
            f"Een {what} bestaat uit letters, spaties, streepjes en apostrofs; "
            "haal cijfers en andere tekens weg.",
            code="invalid",
        )
    return text.replace("\u2019", "'")


# --- dates -----------------------------------------------------------------------------------

_DATE_RE = re.compile(r"^(\d{1,2})[-/. ](\d{1,2})[-/. ](\d{4})$", re.ASCII)
_DATE_COMPACT_RE = re.compile(r"^(\d{2})(\d{2})(\d{4})$", re.ASCII)


def clean_birth_date(value: object, *, today: dt.date) -> dt.date:
    """`04-01-1991` (also `4-1-1991`, `04011991`, `4/1/1991`) → date(1991, 1, 4)."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        day = value
    else:
        text = _text(value)
        if not text:
            raise ValidationError(
                "Vul de geboortedatum in als dd-mm-jjjj, bijvoorbeeld 04-01-1991.", code="required"
            )
        match = _DATE_RE.match(text) or _DATE_COMPACT_RE.match(text)
        if not match:
            raise ValidationError(
                "Typ de geboortedatum als dd-mm-jjjj, bijvoorbeeld 04-01-1991.", code="invalid"
            )
        d, m, y = (int(g) for g in match.groups())
        try:
            day = dt.date(y, m, d)
        except ValueError:
            raise ValidationError(
                f"{d:02d}-{m:02d}-{y:04d} bestaat niet; typ de datum als dd-mm-jjjj en "
                "controleer dag en maand.",
                code="invalid_date",
            ) from None
    if day > today:
        raise ValidationError(
            "De geboortedatum ligt in de toekomst; controleer het jaartal.", code="future"
        )
    if age_on(day, today) >= MAX_AGE_YEARS:
        raise ValidationError(
            f"De geboortedatum ligt {MAX_AGE_YEARS} jaar of langer terug; controleer het jaartal.",
            code="too_old",
        )
    return day


# --- address ---------------------------------------------------------------------------------


@cache
def _country_names_nl() -> dict[str, str]:
    translation = gettext.translation(
        "iso3166-1", pycountry.LOCALES_DIR, languages=["nl"], fallback=True
    )
    return {c.alpha_2: translation.gettext(c.name) for c in pycountry.countries}


def country_choices() -> list[tuple[str, str]]:
    """Nederland first, then every other country by its Dutch name."""
    names = _country_names_nl()
    rest = sorted(
        ((code, name) for code, name in names.items() if code != "NL"), key=lambda c: c[1]
    )
    return [("NL", names["NL"]), *rest]


def country_name(code: str) -> str:
    return _country_names_nl().get(code, code)


def clean_country(value: object) -> str:
    """An ISO 3166 code (`NL`) or a Dutch country name (`Nederland`) → `NL`."""
    text = _text(value)
    if not text:
        return "NL"
    names = _country_names_nl()
    if text.upper() in names:
        return text.upper()
    for code, name in names.items():
        if name.casefold() == text.casefold():
            return code
    raise ValidationError("Kies een land uit de lijst.", code="invalid")


def clean_postcode(value: object, *, country: str) -> str:
    """A Dutch postcode is stored `9468BG` (shown `9468 BG`); others as typed, in capitals."""
    text = _text(value).upper()
    if country != "NL":
        if len(text) > 12 or not all(c.isalnum() or c in " -" for c in text):
            raise ValidationError(
                "Een buitenlandse postcode heeft hoogstens 12 letters, cijfers of streepjes.",
                code="invalid",
            )
        return text
    if not text:
        raise ValidationError("Vul de postcode in, bijvoorbeeld 9468 BG.", code="required")
    try:
        return nl_postcode.validate(text).replace(" ", "")
    except InvalidComponent:
        raise ValidationError(
            "Postcodes met de letters SA, SD of SS bestaan niet; controleer de letters.",
            code="invalid",
        ) from None
    except StdnumError:
        raise ValidationError(
            "Een Nederlandse postcode is 4 cijfers (niet met 0 beginnend) en 2 letters, "
            "bijvoorbeeld 9468 BG.",
            code="invalid",
        ) from None


def format_postcode(postcode: str, country: str = "NL") -> str:
    if country == "NL" and len(postcode) == 6:
        return f"{postcode[:4]} {postcode[4:]}"
    return postcode


@dataclass(frozen=True)
class HouseNumber:
    number: int
    letter: str = ""
    addition: str = ""

    def __str__(self) -> str:
        text = f"{self.number}{self.letter}"
        return f"{text}-{self.addition}" if self.addition else text


_HOUSE_RE = re.compile(
    r"^(\d+)(?:\s*([A-Za-z])(?![A-Za-z0-9]))?(?:\s*[-/ ]?\s*([A-Za-z0-9]{1,4}))?$",
    re.ASCII,
)


def clean_house_number(value: object, *, required: bool = True) -> HouseNumber | None:
    """`41`, `41A`, `41 a`, `41-2`, `41A-2`, `41 bis` → number, letter and addition."""
    text = _text(value)
    if not text:
        if required:
            raise ValidationError("Vul het huisnummer in, bijvoorbeeld 41 of 41A.", code="required")
        return None
    match = _HOUSE_RE.match(text)
    if not match:
        raise ValidationError(
            "Typ het huisnummer als cijfers met eventueel een letter en toevoeging, "
            "bijvoorbeeld 41, 41A of 41-2.",
            code="invalid",
        )
    # All digits are the number: `100000` is too big, not 10000 with addition 0.
    digits = match.group(1).lstrip("0")
    number = int(digits) if 0 < len(digits) <= 5 else 0
    if not 1 <= number <= 99999:
        raise ValidationError("Een huisnummer ligt tussen 1 en 99999.", code="invalid")
    return HouseNumber(
        number=number,
        letter=(match.group(2) or "").upper(),
        addition=(match.group(3) or "").upper(),
    )


# --- bank ------------------------------------------------------------------------------------


def clean_iban(value: object) -> str:
    """An IBAN, checked on its ISO 13616 check digits only, stored compact; empty is allowed."""
    text = _text(value)
    if not text:
        return ""
    try:
        return IBAN(text, validate_bban=False).compact
    except InvalidChecksumDigits:
        message = "Het controlegetal van deze IBAN klopt niet; controleer de tekens."
    except InvalidLength:
        message = "Deze IBAN heeft niet het juiste aantal tekens; een Nederlandse heeft er 18."
    except InvalidCountryCode:
        message = "Een IBAN begint met een landcode, bijvoorbeeld NL."
    except (SchwiftyException, ValueError):
        message = "Dit is geen IBAN; een IBAN ziet eruit als NL91 ABNA 0417 1643 00."
    raise ValidationError(message, code="invalid")


def format_iban(iban: str) -> str:
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


def masked_iban(iban: str) -> str:
    """An IBAN as a mail may show it: country, check digits, bank, and the last four."""
    if len(iban) < 12:
        return format_iban(iban)
    return f"{iban[:8]} •••• {iban[-4:]}"


def bic_for_iban(iban: str) -> str:
    """The BIC of a (valid, compact) Dutch IBAN's bank, or "" when unknown or not Dutch."""
    if not iban.startswith("NL"):
        return ""
    try:
        bic = IBAN(iban, validate_bban=False).bic
    except (SchwiftyException, ValueError):
        return ""
    return str(bic.compact) if bic else ""


def clean_bic(value: object, *, iban: str) -> str:
    """BIC is optional: derived from a Dutch IBAN, and a typed one that disagrees is refused."""
    text = _text(value).replace(" ", "").upper()
    derived = bic_for_iban(iban) if iban else ""
    if not text:
        return derived
    if not iban:
        raise ValidationError("Vul eerst de IBAN in, of laat de BIC leeg.", code="no_iban")
    try:
        bic = BIC(text).compact
    except (SchwiftyException, ValueError):
        raise ValidationError(
            "Een BIC heeft 8 of 11 tekens, bijvoorbeeld ABNANL2A.", code="invalid"
        ) from None
    # Institution, country and location (the first 8) must match; a branch code may differ.
    if derived and bic[:8] != derived[:8]:
        raise ValidationError(
            f"Deze BIC hoort niet bij de IBAN; die bank heeft BIC {derived}. "
            "Laat de BIC leeg, dan wordt hij ingevuld.",
            code="mismatch",
        )
    return bic


# --- contact ---------------------------------------------------------------------------------

clean_email = email_clean  # the library side's name for it


# --- customer numbers ------------------------------------------------------------------------


def clean_card_number(value: object) -> str:
    """A scanned card number: 6 to 20 digits."""
    text = _text(value).replace(" ", "")
    if not text.isdigit() or not 6 <= len(text) <= 20 or not text.isascii():
        raise ValidationError(
            "Een klantnummer bestaat uit 6 tot 20 cijfers; scan de pas opnieuw, "
            "of typ v en Enter om een nummer te laten genereren.",
            code="invalid",
        )
    return text


def is_valid_generated_number(number: str, *, prefix: str, length: int) -> bool:
    return (
        len(number) == length
        and number.isdigit()
        and number.startswith(prefix)
        and luhn.is_valid(number)
    )
