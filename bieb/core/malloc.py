"""The C allocator of a web worker: one arena, so that its memory does not grow with its threads.

glibc's malloc gives a thread an arena of its own when another thread holds the lock of the one
it would use (up to 8 per core), and keeps what is freed in an arena for that arena. A password
check (Argon2id) takes a 19 MiB block: the first one is mapped and given back, after that glibc
serves blocks this size from the arena and keeps them. So each of gunicorn's threads that has
served a login holds 19 MiB from then on: a worker of 4 threads grew from 128 MB after its first
200 requests to 169 MB after 10,000 (bench/pages.py), with one arena from 126 MB to 129 MB (the
threads share one such block). Python's own small objects do not come from malloc, and the GIL
lets only one thread run Python at a time, so the threads hardly ever wait for the arena's lock.
"""

import ctypes
import os
import platform

M_ARENA_MAX = -8  # mallopt parameter, <malloc.h>


def malloc_arenas_limit(arenas: int = 1) -> bool:
    """Limit glibc's malloc to `arenas` arenas; call before the process starts threads. True
    when set; False on another C library, or when MALLOC_ARENA_MAX in the environment already
    says how many (the operator's choice wins)."""
    if os.environ.get("MALLOC_ARENA_MAX") or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(M_ARENA_MAX, arenas))
    except (OSError, AttributeError):
        return False
