from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idHasher(Argon2PasswordHasher):
    """Argon2id with the OWASP minimum parameters, stated here rather than inherited.

    19 MiB of memory, 2 iterations, 1 lane (OWASP Password Storage Cheat Sheet). Hashes made
    with other parameters are upgraded on the next successful login by Django.
    """

    algorithm = "argon2"
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
