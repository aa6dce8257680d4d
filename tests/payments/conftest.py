from tests.payments.fake_mollie import fake_mollie  # noqa: F401
