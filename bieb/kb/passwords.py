"""The password rules, worded as we speak to members ("je"), on Django's own validators.

Django's Dutch texts say "Uw wachtwoord …" and some of its error messages have no Dutch
translation at all; the checks themselves stay Django's. AUTH_PASSWORD_VALIDATORS names these.
"""

from django.contrib.auth import password_validation as django_rules


class MinimumLengthValidator(django_rules.MinimumLengthValidator):
    def get_error_message(self) -> str:
        return f"Je wachtwoord is te kort: gebruik minstens {self.min_length} tekens."

    def get_help_text(self) -> str:
        return f"Je wachtwoord heeft minstens {self.min_length} tekens."


class UserAttributeSimilarityValidator(django_rules.UserAttributeSimilarityValidator):
    def get_error_message(self) -> str:
        return "Je wachtwoord lijkt te veel op je %(verbose_name)s; kies iets anders."

    def get_help_text(self) -> str:
        return "Je wachtwoord lijkt niet op je gebruikersnaam of e-mailadres."


class CommonPasswordValidator(django_rules.CommonPasswordValidator):
    def get_error_message(self) -> str:
        return "Dit wachtwoord wordt te vaak gebruikt; kies een ander."

    def get_help_text(self) -> str:
        return "Je wachtwoord is geen veelgebruikt wachtwoord."


class NumericPasswordValidator(django_rules.NumericPasswordValidator):
    def get_error_message(self) -> str:
        return "Je wachtwoord bestaat alleen uit cijfers; gebruik ook letters of tekens."

    def get_help_text(self) -> str:
        return "Je wachtwoord bestaat niet alleen uit cijfers."
