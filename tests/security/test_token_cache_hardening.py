"""The shared token cache cannot be turned against the hook by whoever can write near it.

A FIFO or a symlink planted where an entry goes is refused without blocking (a bounded wait: the read
runs in a thread that must finish); a directory other users may write is refused by name; an
oversized entry is ignored; file names give no guessing oracle without the secret; and a token read
from the cache (never fetched by this process) is registered with the secrets masker, so task logs
show ``***``.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from aep_emulator.testing import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, EmulatorServer
from aep_provider.hooks.errors import AepConfigError
from aep_provider.hooks.token_cache import MAX_ENTRY_BYTES, CachedToken, TokenCache, clear_memory_cache

IMS = "https://ims-na1.adobelogin.com"
SCOPES = "openid"
BOUND_SECONDS = 1.0


def _cache(folder: Path, secret: str = "s3cret") -> TokenCache:
    return TokenCache(str(folder), client_id="client", client_secret=secret, ims_host=IMS, scopes=SCOPES)


def _within_bound(call: Callable[[], str]) -> str:
    """Run ``call`` in a thread; fail if it is still blocked after the bound (it would hang a worker)."""
    result: dict[str, object] = {}

    def run() -> None:
        try:
            result["value"] = call()
        except BaseException as exc:
            result["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(BOUND_SECONDS)
    assert not thread.is_alive(), f"the token cache blocked for more than {BOUND_SECONDS}s"
    if "error" in result:
        raise result["error"]  # type: ignore[misc]
    return str(result["value"])


def _fresh(token: str) -> Callable[[], CachedToken]:
    return lambda: CachedToken.from_expires_in(token, 3600)


@pytest.fixture(autouse=True)
def _no_memory_copies():
    clear_memory_cache()
    yield
    clear_memory_cache()


def test_a_fifo_where_the_entry_goes_is_refused_without_blocking(tmp_path: Path) -> None:
    cache = _cache(tmp_path / "cache")
    os.makedirs(cache.cache_dir, mode=0o700)
    os.mkfifo(cache.path, 0o600)
    assert _within_bound(lambda: cache.get(_fresh("fetched-token"))) == "fetched-token"


def test_a_fifo_as_the_lock_file_is_refused_without_blocking(tmp_path: Path) -> None:
    cache = _cache(tmp_path / "cache")
    os.makedirs(cache.cache_dir, mode=0o700)
    os.mkfifo(cache._lock_path, 0o600)
    assert _within_bound(lambda: cache.get(_fresh("fetched-token"))) == "fetched-token"


def test_a_symlinked_entry_is_not_followed(tmp_path: Path) -> None:
    """A planted symlink to a valid entry elsewhere (say, another user's) is not read: a token is fetched."""
    elsewhere = _cache(tmp_path / "elsewhere")
    assert elsewhere.get(_fresh("planted-token")) == "planted-token"
    clear_memory_cache()
    cache = _cache(tmp_path / "cache")
    os.makedirs(cache.cache_dir, mode=0o700)
    os.symlink(elsewhere.path, cache.path)
    assert _within_bound(lambda: cache.get(_fresh("fetched-token"))) == "fetched-token"


def test_a_symlinked_lock_file_is_not_followed(tmp_path: Path) -> None:
    cache = _cache(tmp_path / "cache")
    os.makedirs(cache.cache_dir, mode=0o700)
    target = tmp_path / "created-through-the-link"
    os.symlink(target, cache._lock_path)
    assert _within_bound(lambda: cache.get(_fresh("fetched-token"))) == "fetched-token"
    assert not target.exists(), "the lock was created through the symlink"


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o722])
def test_a_directory_other_users_may_write_is_refused_by_name(tmp_path: Path, mode: int) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(mode)
    with pytest.raises(AepConfigError) as refused:
        _cache(folder).get(_fresh("fetched-token"))
    assert str(folder) in str(refused.value) and "chmod 700" in str(refused.value)


def test_a_private_directory_that_is_only_readable_by_others_is_made_private(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    folder.mkdir()
    folder.chmod(0o755)
    assert _cache(folder).get(_fresh("fetched-token")) == "fetched-token"
    assert folder.stat().st_mode & 0o777 == 0o700


def test_an_oversized_entry_is_ignored(tmp_path: Path) -> None:
    cache = _cache(tmp_path / "cache")
    cache.get(_fresh("first-token"))
    clear_memory_cache()
    with open(cache.path, "ab") as fh:
        fh.write(b"x" * (MAX_ENTRY_BYTES + 1))
    assert cache._read() is None
    assert cache.get(_fresh("second-token")) == "second-token"


def test_file_names_are_keyed_by_the_secret(tmp_path: Path) -> None:
    """The name of an entry cannot be computed (or a guess checked) from the public parts alone."""
    one, other = _cache(tmp_path, "secret-one"), _cache(tmp_path, "secret-two")
    assert Path(one.path).name != Path(other.path).name
    public = ["client", IMS, SCOPES]
    plain = {hashlib.sha256("\0".join(p).encode()).hexdigest()[:40] for p in (public, public[:2], public[:1])}
    assert Path(one.path).stem not in plain


def test_a_token_read_from_the_cache_is_masked(aep_conn_env: EmulatorServer, tmp_path: Path) -> None:
    """A worker that never fetched the token (another task did, and cached it) still masks it in task logs."""
    from airflow.sdk._shared.secrets_masker import redact

    from aep_provider.hooks.aep import AepHook

    emulator = aep_conn_env
    answer = requests.post(f"{emulator.base_url}/ims/token/v3", data={
        "grant_type": "client_credentials", "client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET,
        "scope": "openid",
    }, timeout=10)
    token = answer.json()["access_token"]
    cache_dir = tmp_path / "cache"
    hook = AepHook(token_cache_dir=str(cache_dir))
    # Another task cached it: written straight to the shared cache, this process never fetched it.
    writer = TokenCache(str(cache_dir), client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET,
                        ims_host=hook.settings.ims_host, scopes=hook.settings.scopes)
    writer.get(_fresh(token))
    clear_memory_cache()
    assert token in str(redact(f"Authorization: Bearer {token}")), "the token was not masked before (control)"

    before = emulator.admin.state()["counters"]["ims_token_requests"]
    assert hook.get_stats()["tenantId"], "the cached token works"
    assert emulator.admin.state()["counters"]["ims_token_requests"] == before, "the token came from the cache"
    line = str(redact(f"Authorization: Bearer {token}"))
    assert token not in line and "***" in line
