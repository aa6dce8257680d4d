"""The login service's signing key, read by the settings (so no Django imports here)."""

import os
from pathlib import Path


def signing_key(var_dir: Path) -> str:
    """The RS256 private key (PEM): from BIEB_OIDC_PRIVATE_KEY, from the file
    BIEB_OIDC_PRIVATE_KEY_FILE, or generated once into var/ on first start."""
    pem = os.environ.get("BIEB_OIDC_PRIVATE_KEY", "").strip()
    if pem:
        return pem + "\n"
    key_file = Path(
        os.environ.get("BIEB_OIDC_PRIVATE_KEY_FILE") or var_dir / "oidc_private_key.pem"
    )
    if not key_file.exists():
        _generate_key(key_file)
    return key_file.read_text()


def _generate_key(key_file: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    key_file.parent.mkdir(parents=True, exist_ok=True)
    temporary = key_file.with_name(f".{key_file.name}.{os.getpid()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    try:
        # Atomic, and fails if another process won the race: then its key is the key.
        os.link(temporary, key_file)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
