"""Changes members make themselves, signed in at "Mijn bibliotheek" (`bieb.mijn`): their
address, the e-mail address the library mails them at, and the newsletter.

Name, birth date and IBAN stay the counter's (an identity check, a mandate); "Opzeggen" is the
membership year's own service (`bieb.customers.memberships.membership_cancel`).

The fields are checked by the same validators, with the same Dutch messages, as at the counter
(`bieb.customers.details`). The library's e-mail address is its own: it may differ from the
login account's at the login service, which the member changes there.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from bieb.customers import validators as v
from bieb.customers.details import FieldsCleaned, clean_yes_no
from bieb.customers.models import Customer
from bieb.customers.services import customer_fields_save

CONTACT_FIELDS = ("country", "postcode", "house_number", "email", "newsletter")
EMAIL_REQUIRED = (
    "Vul het e-mailadres in waarop de bibliotheek je mailt, bijvoorbeeld over je abonnement."
)


@dataclass(frozen=True)
class ContactDetails:
    country: str
    postcode: str
    house: v.HouseNumber | None
    email: str
    newsletter: bool

    def model_fields(self) -> dict[str, object]:
        return {
            "country": self.country,
            "postcode": self.postcode,
            "house_number": self.house.number if self.house else None,
            "house_letter": self.house.letter if self.house else "",
            "house_addition": self.house.addition if self.house else "",
            "email": self.email,
            "newsletter": self.newsletter,
        }


def contact_clean(raw: Mapping[str, object], *, email_required: bool) -> ContactDetails:
    """Validate the member's form; one ValidationError mapping each wrong field (named as in
    CONTACT_FIELDS) to its Dutch message."""
    fields_ = FieldsCleaned()
    errors, out, take = fields_.errors, fields_.out, fields_.take

    country = take("country", v.clean_country, raw.get("country"))
    if isinstance(country, str):
        take("postcode", v.clean_postcode, raw.get("postcode"), country=country)
        take(
            "house_number", v.clean_house_number, raw.get("house_number"), required=country == "NL"
        )
    try:
        out["email"] = v.clean_email(raw.get("email"), required=email_required)
    except ValidationError as error:
        required = error.code == "required"
        errors["email"] = [ValidationError(EMAIL_REQUIRED, code="required") if required else error]
    take("newsletter", clean_yes_no, raw.get("newsletter") or "")
    if errors:
        raise ValidationError(errors)
    return ContactDetails(
        country=str(out["country"]),
        postcode=str(out["postcode"]),
        house=out.get("house_number"),  # type: ignore[arg-type]
        email=str(out["email"]),
        newsletter=bool(out["newsletter"]),
    )


def customer_contact_update(
    *, customer: Customer, details: ContactDetails, actor_name: str
) -> list[str]:
    """The member's own change of address, e-mail or newsletter; returns the changed fields
    (none: nothing written, so sending the same form twice is harmless). Ticking the newsletter
    stores the moment of consent, unticking clears it; an unchanged choice keeps its moment. The
    audit row names the member (`actor_name`, "online:<username>") and the fields, not their
    values."""
    return customer_fields_save(
        customer=customer,
        values=details.model_fields(),
        newsletter=details.newsletter,
        actor=None,
        actor_name=actor_name,
        action="customer.contact_updated",
    )
