"""The login service's forms. Their fields are laid out by kb/_field.html, which gives the help
text and the error list the ids that Django's `aria-describedby` on the input points at."""

from typing import Any

from django import forms
from django.contrib.auth.password_validation import password_validators_help_texts


class KbForm(forms.Form):
    """After a failed post the focus starts in the first field in error (`autofocus`, so it
    needs no script), whether the form or a service found the error."""

    def add_error(self, field: Any, error: Any) -> None:
        super().add_error(field, error)
        first = next((name for name in self.fields if name in self.errors), None)
        if first is None:
            return
        for name, each in self.fields.items():
            if name == first:
                each.widget.attrs["autofocus"] = True
            else:
                each.widget.attrs.pop("autofocus", None)


class SignupForm(KbForm):
    username = forms.CharField(
        label="Gebruikersnaam",
        max_length=80,
        help_text=(
            "4 tot 80 tekens: kleine letters, cijfers, punt, streepje of liggend streepje; "
            "minstens één letter."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    email = forms.CharField(
        label="E-mailadres",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class LoginForm(KbForm):
    username = forms.CharField(
        label="Gebruikersnaam",
        max_length=80,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label="Wachtwoord",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class NewPasswordForm(KbForm):
    password1 = forms.CharField(
        label="Nieuw wachtwoord",
        strip=False,
        help_text="Waar je wachtwoord aan moet voldoen:",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "autofocus": True}),
    )
    password2 = forms.CharField(
        label="Herhaal het wachtwoord",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    @staticmethod
    def rules() -> list[str]:
        return [str(text) for text in password_validators_help_texts()]

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", "De twee wachtwoorden zijn niet gelijk; typ ze opnieuw.")
        return data


class ForgotPasswordForm(KbForm):
    username = forms.CharField(
        label="Gebruikersnaam of e-mailadres",
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )


class ForgotUsernameForm(KbForm):
    email = forms.CharField(
        label="E-mailadres",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )


# --- Mijn inlogaccount ----------------------------------------------------------------------


class UsernameChangeForm(KbForm):
    username = forms.CharField(
        label="Nieuwe gebruikersnaam",
        max_length=80,
        help_text=SignupForm.base_fields["username"].help_text,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )


class EmailChangeForm(KbForm):
    email = forms.CharField(
        label="Nieuw e-mailadres",
        max_length=254,
        help_text="We sturen een link naar dit adres; pas als je die gebruikt, wordt het je "
        "e-mailadres.",
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )


class PasswordChangeForm(NewPasswordForm):
    current = forms.CharField(
        label="Huidig wachtwoord",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )
    field_order = ["current", "password1", "password2"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["password1"].widget.attrs.pop("autofocus", None)


class AccountDeleteForm(KbForm):
    password = forms.CharField(
        label="Je wachtwoord",
        strip=False,
        help_text="Ter bevestiging dat jij het bent.",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )
