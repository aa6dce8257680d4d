from tests.oidc_live import kb_live  # noqa: F401
