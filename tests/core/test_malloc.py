"""The web worker's malloc arenas (bieb.core.malloc)."""

import platform

import pytest

from bieb.core.malloc import malloc_arenas_limit

glibc = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc only")


@glibc
def test_the_worker_limits_malloc_to_one_arena(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert malloc_arenas_limit() is True


def test_malloc_arena_max_in_the_environment_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert malloc_arenas_limit() is False


def test_the_wsgi_application_sets_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    import bieb.wsgi

    calls: list[int] = []
    monkeypatch.setattr("bieb.core.malloc.malloc_arenas_limit", lambda: calls.append(1))
    importlib.reload(bieb.wsgi)
    assert calls == [1]
