from tests.oidc_live import kb_live, kb_pooled  # noqa: F401
