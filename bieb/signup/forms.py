"""The forms of the sign-up. Checking is done by the customer administration's own rules
(`customer_details_clean`), so the member sees the counter's messages, next to the field."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from bieb.customers.details import LABELS
from bieb.customers.models import Salutation
from bieb.customers.validators import country_choices

# The fields a member fills in online, in the counter's order. Not asked online: IBAN/BIC (the
# fee is paid at once), "Legitimatie gecontroleerd?" (nobody sees an ID document).
DETAIL_FIELDS = [
    "salutation",
    "initials",
    "prefix",
    "surname",
    "first_name",
    "birth_date",
    "country",
    "postcode",
    "house_number",
    "email",
    "newsletter",
]


def _text(name: str, help_text: str = "", autocomplete: str = "", **attrs: Any) -> forms.CharField:
    widget_attrs = {"autocomplete": autocomplete or "off", **attrs}
    return forms.CharField(
        label=LABELS[name],
        required=False,
        max_length=254,
        help_text=help_text,
        widget=forms.TextInput(attrs=widget_attrs),
    )


class DetailsForm(forms.Form):
    salutation = forms.ChoiceField(
        label=LABELS["salutation"],
        required=False,
        choices=[(c.value, c.label) for c in Salutation],
    )
    initials = _text("initials", "Bijvoorbeeld E.B.")
    # "Voorvoegsel"; the name shadows Form.prefix only in the class body (the metaclass takes
    # fields out), so the form's own prefix keeps working.
    prefix = _text("prefix", "Bijvoorbeeld van der.")  # type: ignore[assignment]
    surname = _text("surname", autocomplete="family-name")
    first_name = _text("first_name", autocomplete="given-name")
    birth_date = _text("birth_date", "Bijvoorbeeld 04-01-1991.", autocomplete="bday")
    country = forms.ChoiceField(label=LABELS["country"], required=False, choices=[])
    postcode = _text("postcode", "Bijvoorbeeld 9468 BG.", autocomplete="postal-code")
    house_number = _text("house_number", "Met letter of toevoeging: 41A, 41-2.")
    email = forms.CharField(
        label=LABELS["email"],
        required=False,
        max_length=254,
        help_text="Hier stuurt de bibliotheek je bevestiging naartoe.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    newsletter = forms.BooleanField(
        label="Ja, ik wil de nieuwsbrief van de bibliotheek ontvangen",
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = country_choices()  # type: ignore[attr-defined]

    def raw(self) -> dict[str, Any]:
        """What was typed, as it was typed (JSON-safe), to keep it and to check it."""
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        values: dict[str, Any] = {
            name: str(data.get(name) or "") for name in DETAIL_FIELDS if name != "newsletter"
        }
        values["newsletter"] = bool(data.get("newsletter"))
        return values

    def add_check_errors(self, error: ValidationError) -> None:
        """Show the checks' errors at their fields; the rest above the form."""
        messages = (
            error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
        )
        for field, texts in messages.items():
            # Too young or too old for the subscription: fixed by the birth date (or another
            # subscription, which the message says).
            target = "birth_date" if field == "subscription_type" else field
            for text in texts:
                self.add_error(target if target in self.fields else None, text)

    def mark_errors(self) -> None:
        """Connect each error to its input (aria-describedby) and put the focus on the first
        wrong field, or on the first field when nothing is wrong."""
        first_wrong = next((name for name in self.fields if name in self.errors), None)
        for name, field in self.fields.items():
            bound = self[name]
            described = [f"{bound.auto_id}_helptext"] if field.help_text else []
            if name in self.errors:
                described.insert(0, f"{bound.auto_id}_error")
                field.widget.attrs["aria-invalid"] = "true"
            if described:
                field.widget.attrs["aria-describedby"] = " ".join(described)
        self.fields[first_wrong or "salutation"].widget.attrs["autofocus"] = True
