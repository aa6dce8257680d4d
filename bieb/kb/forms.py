from django import forms
from django.contrib.auth.password_validation import password_validators_help_texts


class SignupForm(forms.Form):
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


class LoginForm(forms.Form):
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


class NewPasswordForm(forms.Form):
    password1 = forms.CharField(
        label="Nieuw wachtwoord",
        strip=False,
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


class ForgotPasswordForm(forms.Form):
    username = forms.CharField(
        label="Gebruikersnaam",
        max_length=80,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )


class ForgotUsernameForm(forms.Form):
    email = forms.CharField(
        label="E-mailadres",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )
