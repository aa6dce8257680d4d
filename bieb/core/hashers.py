import functools

from django.contrib.auth.hashers import Argon2PasswordHasher, check_password, make_password


class Argon2idHasher(Argon2PasswordHasher):
    """Argon2id with the OWASP minimum parameters, stated here rather than inherited.

    19 MiB of memory, 2 iterations, 1 lane (OWASP Password Storage Cheat Sheet). Hashes made
    with other parameters are upgraded on the next successful login by Django.
    """

    algorithm = "argon2"
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1


@functools.lru_cache(maxsize=32)
def configured_hash(secret: str) -> str:
    """One hash per process of a secret this installation is configured with (the demo
    password, a default client's secret), for each row that stores it: Argon2id costs tens of
    milliseconds by design, and the demo loader (run by every test that loads the demo) would
    otherwise spend most of its time hashing the same password again. Never for what a user
    types: such a hash would share its salt."""
    return make_password(secret)


@functools.lru_cache(maxsize=32)
def configured_matches(secret: str, encoded: str) -> bool:
    """Whether `encoded` is a hash of `secret`, remembered per process (see `configured_hash`:
    only for the installation's own configured secrets, never for what a user types)."""
    return check_password(secret, encoded)
