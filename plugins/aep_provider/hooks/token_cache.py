"""Encrypted on-disk cache of IMS access tokens, shared by the tasks of one worker.

* one file per credential (client id + secret + IMS host + scopes), mode 0600, in a 0700 directory
  owned by this user; a directory another user owns or may write is refused (:class:`AepConfigError`
  naming it), since whoever can write there could plant or swap entries;
* file names and the Fernet key come from a key stretched from the client secret (PBKDF2-HMAC, once per
  process and credential), so a listing of the directory is no cheap oracle for guessing the secret and
  only holders of the secret can read an entry;
* entries are opened with ``O_NOFOLLOW | O_NONBLOCK``, must be regular files owned by this user and at
  most :data:`MAX_ENTRY_BYTES`; anything else (a symlink, a FIFO, a device, an oversized file) is
  ignored with a warning and a new token is fetched, so a planted file can neither hang nor redirect
  the hook;
* an exclusive ``flock`` serialises concurrent tasks so that one of them asks IMS and the others
  read what it wrote.

Tokens never go to XCom, Variables or logs.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import functools
import hashlib
import hmac
import json
import logging
import os
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken

from aep_provider.hooks.errors import AepConfigError

log = logging.getLogger(__name__)

# Refresh a token this long before it expires (capped to a tenth of its lifetime).
REFRESH_MARGIN_SECONDS = 300.0
# An encrypted entry is a few hundred bytes (IMS tokens are ~1-2 KB); anything larger is not ours.
MAX_ENTRY_BYTES = 64 * 1024
# PBKDF2 rounds of the cache key: paid once per process and credential.
KEY_ITERATIONS = 100_000
_OPEN_FLAGS = os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)

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


@functools.lru_cache(maxsize=64)
def _cache_key(client_id: str, client_secret: str, ims_host: str) -> bytes:
    """A key only holders of the client secret can compute, slow to guess."""
    salt = "\0".join(("aep-token-cache/v2", client_id, ims_host)).encode()
    return hashlib.pbkdf2_hmac("sha256", client_secret.encode(), salt, KEY_ITERATIONS)


def _derive(key: bytes, *parts: str) -> bytes:
    return hmac.new(key, "\0".join(parts).encode(), hashlib.sha256).digest()


def check_private_dir(path: str) -> None:
    """Refuse a cache directory another user owns or may write (raises :class:`AepConfigError`)."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise AepConfigError(
            f"AEP token cache directory {path!r} cannot be used ({exc.strerror}); set AEP_TOKEN_CACHE_DIR "
            "to a directory only the Airflow user can write."
        ) from None
    if not stat.S_ISDIR(st.st_mode):
        raise AepConfigError(
            f"AEP token cache directory {path!r} is not a directory; remove it or set AEP_TOKEN_CACHE_DIR "
            "to a private directory."
        )
    if st.st_uid != os.geteuid():
        raise AepConfigError(
            f"AEP token cache directory {path!r} belongs to uid {st.st_uid}, not to this user "
            f"(uid {os.geteuid()}); set AEP_TOKEN_CACHE_DIR to a directory this user owns (mode 0700)."
        )
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o022:
        raise AepConfigError(
            f"AEP token cache directory {path!r} is writable by other users (mode {mode:04o}); make it private "
            f"(chmod 700 {path}) after checking its content, or set AEP_TOKEN_CACHE_DIR to a private directory."
        )
    if mode & 0o077:
        with contextlib.suppress(PermissionError):
            os.chmod(path, 0o700)


class TokenCache:
    """A file-backed, encrypted, locked token cache for one credential."""

    def __init__(self, cache_dir: str, *, client_id: str, client_secret: str, ims_host: str, scopes: str):
        self.cache_dir = cache_dir
        key = _cache_key(client_id, client_secret, ims_host)
        self._fernet = Fernet(base64.urlsafe_b64encode(_derive(key, "fernet")))
        self._key = _derive(key, "name", scopes).hex()[:40]
        self.path = os.path.join(cache_dir, f"{self._key}.token")
        self._lock_path = os.path.join(cache_dir, f"{self._key}.lock")

    # -- file helpers ---------------------------------------------------------------------------
    def _ensure_dir(self) -> None:
        os.makedirs(self.cache_dir, mode=0o700, exist_ok=True)
        check_private_dir(self.cache_dir)

    def _open_own_file(self, path: str, flags: int) -> int | None:
        """An fd of ``path`` if it is a regular file of this user (never following a symlink, never blocking)."""
        try:
            fd = os.open(path, flags | _OPEN_FLAGS, 0o600)
        except FileNotFoundError:
            return None
        except OSError as exc:  # ELOOP: a symlink; EISDIR, EACCES, ...
            log.warning("AEP token cache file %s refused (%s); not using it", path, exc.strerror or type(exc).__name__)
            return None
        st = os.fstat(fd)
        problem = None
        if not stat.S_ISREG(st.st_mode):
            problem = "not a regular file"
        elif st.st_uid != os.geteuid():
            problem = f"owned by uid {st.st_uid}"
        elif st.st_size > MAX_ENTRY_BYTES:
            problem = f"{st.st_size} bytes, more than {MAX_ENTRY_BYTES}"
        if problem:
            os.close(fd)
            log.warning("AEP token cache file %s refused (%s); not using it", path, problem)
            return None
        return fd

    @contextlib.contextmanager
    def _locked(self) -> Iterator[bool]:
        """Hold the credential's lock; yields ``False`` when the lock file is unusable (no file cache then)."""
        self._ensure_dir()
        with _process_lock:
            fd = self._open_own_file(self._lock_path, os.O_RDWR | os.O_CREAT)
            if fd is None:
                yield False
                return
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                try:
                    yield True
                finally:
                    fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)

    def _read(self) -> CachedToken | None:
        fd = self._open_own_file(self.path, os.O_RDONLY)
        if fd is None:
            return None
        try:
            with os.fdopen(fd, "rb") as fh:
                blob = fh.read(MAX_ENTRY_BYTES + 1)
        except OSError as exc:
            log.warning("AEP token cache unreadable (%s); asking IMS for a new token", type(exc).__name__)
            return None
        if len(blob) > MAX_ENTRY_BYTES:
            log.warning("AEP token cache entry %s grew past %d bytes; asking IMS for a new token", self.path, MAX_ENTRY_BYTES)
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
        with self._locked() as usable:
            cached = self._read() if usable else None
            if cached is None or not cached.fresh() or cached.access_token == reject:
                cached = fetch()
                try:
                    if usable:
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
