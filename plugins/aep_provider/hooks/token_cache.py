"""Encrypted on-disk cache of IMS access tokens, shared by the tasks of one worker.

* one file per credential (client id + secret + IMS host + scopes), mode 0600, in a 0700 directory;
* the content is encrypted with Fernet, keyed by a hash of client id + client secret + IMS host, so
  only holders of the secret can read it;
* an exclusive ``flock`` serialises concurrent tasks so that one of them asks IMS and the others
  read what it wrote.

Tokens never go to XCom, Variables or logs.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken

log = logging.getLogger(__name__)

# Refresh a token this long before it expires (capped to a tenth of its lifetime).
REFRESH_MARGIN_SECONDS = 300.0

_process_lock = threading.Lock()
_memory: dict[str, CachedToken] = {}


@dataclass(frozen=True)
class CachedToken:
    access_token: str
    expires_at: float  # epoch seconds
    refresh_at: float  # epoch seconds: from here on, fetch a new one

    def fresh(self, now: float | None = None) -> bool:
        return (now if now is not None else time.time()) < self.refresh_at

    @classmethod
    def from_expires_in(cls, access_token: str, expires_in: float, now: float | None = None) -> CachedToken:
        now = now if now is not None else time.time()
        margin = min(REFRESH_MARGIN_SECONDS, max(0.0, expires_in) * 0.1)
        return cls(access_token, now + expires_in, now + expires_in - margin)


class TokenCache:
    """A file-backed, encrypted, locked token cache for one credential."""

    def __init__(self, cache_dir: str, *, client_id: str, client_secret: str, ims_host: str, scopes: str):
        self.cache_dir = cache_dir
        secret_material = "\0".join((client_id, client_secret, ims_host)).encode()
        self._fernet = Fernet(base64.urlsafe_b64encode(hashlib.sha256(secret_material).digest()))
        name = hashlib.sha256(("\0".join((client_id, client_secret, ims_host, scopes))).encode()).hexdigest()
        self._key = name[:40]
        self.path = os.path.join(cache_dir, f"{self._key}.token")
        self._lock_path = os.path.join(cache_dir, f"{self._key}.lock")

    # -- file helpers ---------------------------------------------------------------------------
    def _ensure_dir(self) -> None:
        os.makedirs(self.cache_dir, mode=0o700, exist_ok=True)
        with contextlib.suppress(PermissionError):
            os.chmod(self.cache_dir, 0o700)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self._ensure_dir()
        with _process_lock:
            fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)

    def _read(self) -> CachedToken | None:
        try:
            with open(self.path, "rb") as fh:
                blob = fh.read()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("AEP token cache unreadable (%s); asking IMS for a new token", type(exc).__name__)
            return None
        try:
            data = json.loads(self._fernet.decrypt(blob))
            return CachedToken(
                str(data["access_token"]), float(data["expires_at"]), float(data["refresh_at"])
            )
        except (InvalidToken, ValueError, KeyError, TypeError):
            log.warning("AEP token cache entry could not be decrypted; asking IMS for a new token")
            return None

    def _write(self, token: CachedToken) -> None:
        payload = json.dumps(
            {
                "access_token": token.access_token,
                "expires_at": token.expires_at,
                "refresh_at": token.refresh_at,
            }
        ).encode()
        blob = self._fernet.encrypt(payload)
        fd, tmp = tempfile.mkstemp(dir=self.cache_dir, prefix=".tmp-", suffix=".token")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(blob)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    # -- public API -----------------------------------------------------------------------------
    def get(self, fetch: Callable[[], CachedToken], *, reject: str | None = None) -> str:
        """Return a fresh token, calling ``fetch`` (IMS) only if no other task has cached one.

        :param reject: a token the Platform refused (401013); it is never returned again.
        """
        cached = _memory.get(self._key)
        if cached is not None and cached.fresh() and cached.access_token != reject:
            return cached.access_token
        with self._locked():
            cached = self._read()
            if cached is None or not cached.fresh() or cached.access_token == reject:
                cached = fetch()
                try:
                    self._write(cached)
                except OSError as exc:
                    log.warning("Could not write the AEP token cache (%s); continuing", type(exc).__name__)
            _memory[self._key] = cached
            return cached.access_token

    def clear(self) -> None:
        _memory.pop(self._key, None)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)


def clear_memory_cache() -> None:
    """Forget in-process copies (tests use this to prove the file cache is shared)."""
    _memory.clear()
