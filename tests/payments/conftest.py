from tests.oidc_live import kb_live  # noqa: F401
from tests.payments.fake_mollie import fake_mollie  # noqa: F401
