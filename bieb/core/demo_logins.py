"""The demo operator's login, known below the demo loader (`bieb.demo`): the banner of
`bieb serve` shows its authenticator key, the admin's login page (demo mode only) its current
code. Plain constants, so that core and staff need not import the demo app above them.

The operator's authenticator secret (a superuser logs in with a TOTP code too) is known, as the
demo password is: in demo mode the admin's login page shows the current code; with an app, add
the base32 form `DEMO_TOTP_SECRET`.
"""

import base64

ADMIN = {"username": "beheer", "first_name": "Beheer"}
DEMO_TOTP_KEY = b"bieb-demo-beheer-otp"
DEMO_TOTP_SECRET = base64.b32encode(DEMO_TOTP_KEY).decode()
DEMO_TOTP_DEVICE = "demo"
