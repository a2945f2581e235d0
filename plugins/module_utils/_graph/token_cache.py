# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A persistent msal token cache, one file per identity, shared by the tasks of a playbook.

Every Ansible task is a new process, so msal's in-memory cache would ask the token endpoint once per
task. This file keeps msal's ``SerializableTokenCache`` on disk:

* one file per (authority, tenant, client) in ``$SMARTTRACE_SSO_TOKEN_CACHE_DIR``, else
  ``$XDG_CACHE_HOME/smarttrace.sso``, else ``~/.cache/smarttrace.sso``;
* the folder is created 0700 and files are written 0600, atomically (temporary file + rename, so
  concurrent forks never see half a file; the last writer wins, which is harmless), and only when
  msal changed the cache;
* a corrupt file, a file owned by another user or one with any group/other permission bit is
  ignored with a warning, never fatal; anything at the cache path or the lock path that is not a regular
  file (a folder, a named pipe, a symbolic link, a device) is bypassed with a warning: it is opened with
  ``O_NOFOLLOW | O_NONBLOCK`` and checked with ``fstat`` before anything is read, so nothing hangs, and it
  is never written over; a folder that is not the user's own or that group or others can use is refused
  with a warning (the cache is then neither read nor written). A cache problem never fails a task;
* msal stores tokens only (access tokens, app metadata), never the client secret or key;
* the tokens are bound to the credential that obtained them: the file holds, in a section of its own
  (``SmartTraceSsoCredential``, which msal keeps as it is), ``HMAC-SHA256(salt, credential)`` with a random
  16-byte salt written with it. A task whose credential (client secret, or certificate file and its
  password) gives another value does not use the cached tokens, and does not hand them to msal either, so
  msal asks the token endpoint, which refuses a wrong or revoked secret (AADSTS7000215) at once instead of
  the cache hiding it until the token expires. Why this construction: the secret never appears in the file,
  only a keyed hash of it; the salt makes every file's value different (no comparison across files or
  machines, no precomputed tables). With workload identity federation the credential is the token file's path and
  the token's issuer, subject and audience (``_auth``), not the token: a rotated token of the same job keeps the cached
  access tokens (no request), a token of another job does not use them. A fast hash is enough because the secrets are not guessable -- Entra
  generates client secrets (about 40 random characters; a caller cannot choose one) and a certificate file
  holds a private key -- and because the file sits beside the access tokens it protects (0600, the user's
  own), whose theft matters far more than the fingerprint. It is cheap (``hashlib``/``hmac`` of the
  standard library: microseconds), so a cache hit still imports neither msal nor ``requests``.

``find_access_token`` lets the caller use a cached token without constructing an msal application
(whose constructor talks to the network): a cache hit costs no HTTP request at all. It reads msal's
file format (section ``AccessToken``) with ``json`` alone, so a task that finds a valid token does not
import msal (nor ``requests``, which msal imports); ``cache``, the msal ``SerializableTokenCache``, is
built (and msal imported) only when a token must be acquired.

``exclusive()`` serialises token requests of one identity across processes (the forks of a play all
start their first task with an empty cache): the first asks the token endpoint, the others wait,
``reload()`` and find its token.
"""

import contextlib
import hashlib
import hmac
import json
import os
import stat
import tempfile
import time

try:
    import fcntl
except ImportError:  # not POSIX: no cross-process lock, each process may ask for its own token
    fcntl = None

CACHE_DIR_ENV = "SMARTTRACE_SSO_TOKEN_CACHE_DIR"
# msal's own rule: a token with less than 5 minutes left is treated as expired.
MIN_REMAINING_SECONDS = 300
ACCESS_TOKEN = "AccessToken"  # msal's section (credential type) of access tokens
# How long a process waits for another one that is asking the token endpoint for the same identity.
LOCK_WAIT_SECONDS = 90
LOCK_POLL_SECONDS = 0.05
# The file's section binding its tokens to the credential (msal keeps sections it does not know).
BINDING_SECTION = "SmartTraceSsoCredential"
BINDING_LABEL = b"smarttrace.sso token cache credential v1\x00"
SALT_BYTES = 16
# Never follow a symbolic link, never wait for a writer of a named pipe.
_OPEN_FLAGS = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe"), (stat.S_ISLNK, "a symbolic link"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"))


def credential_fingerprint(salt, credential):
    """``HMAC-SHA256(salt, label + credential)`` in hex: what the cache file holds instead of the credential (module docstring)."""
    return hmac.new(salt, BINDING_LABEL + credential, hashlib.sha256).hexdigest()


def _kind_of(mode):
    """What a non-regular file is, in words."""
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def default_cache_dir(environ=None):
    """The folder of the cache files (see the module docstring for the order of precedence)."""
    environ = os.environ if environ is None else environ
    if environ.get(CACHE_DIR_ENV):
        return os.path.expanduser(environ[CACHE_DIR_ENV])
    base = environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "smarttrace.sso")


def cache_file_name(authority, tenant_id, client_id):
    """File name for one identity: a hash, so no tenant or client id is readable from the folder listing."""
    key = "\n".join(((authority or "").lower().rstrip("/"), (tenant_id or "").lower(), (client_id or "").lower()))
    return "token-%s.json" % hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


class PersistentTokenCache:
    """msal's token cache file (one per identity, 0600): read with ``json``, written through msal's ``SerializableTokenCache``."""

    def __init__(self, authority, tenant_id, client_id, directory=None, warn=None, clock=time.time, credential=None):
        """``credential``: bytes standing for the credential (the client secret, the certificate file and its password);
        tokens are used only when the file was written with the same one. None: no binding (managed identity)."""
        self.directory = directory or default_cache_dir()
        self.path = os.path.join(self.directory, cache_file_name(authority, tenant_id, client_id))
        self._warn_callback = warn or (lambda message: None)
        self._warned = set()
        self._clock = clock
        self._credential = credential
        self._usable = True  # False: the folder or the path is unsafe; neither read nor written
        self.credential_changed = False  # the file's tokens belong to another credential (or to none known)
        self._load()

    def _warn(self, message):
        if message not in self._warned:  # the same problem is said once per task
            self._warned.add(message)
            self._warn_callback(message)

    # ------------------------------------------------------------------ reading
    def reload(self):
        """Read the file again (another process may have written a token meanwhile)."""
        self._load()

    @property
    def cache(self):
        """The msal ``SerializableTokenCache`` holding the file's content (msal is imported here, on first use)."""
        if self._msal_cache is None:
            # imported here: only a token request needs msal (docs/performance.md)
            import msal
            self._msal_cache = msal.SerializableTokenCache()
            if self._state:
                self._msal_cache.deserialize(json.dumps(self._state))
                self._msal_cache.has_state_changed = self._changed  # a token forgotten before msal was needed
        return self._msal_cache

    @contextlib.contextmanager
    def exclusive(self, sleep=time.sleep, budget=None):
        """Hold the identity's lock file (``<cache file>.lock``, 0600) while asking for a token; yields True when held.

        Never fatal: without a usable folder, without ``fcntl``, or after LOCK_WAIT_SECONDS (or what is left of the
        task's time budget ``budget``, a ``_retry_policy.Deadline``, if less) the body runs unlocked.
        """
        if fcntl is None or not self._usable or not self._ensure_directory():
            yield False
            return
        lock_path = self.path + ".lock"
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | _OPEN_FLAGS, 0o600)
        except OSError as exc:
            self._warn("Not using the token cache lock %s (%s); token requests of parallel tasks are not serialised."
                       % (lock_path, exc.strerror or exc))
            yield False
            return
        try:
            lock_stat = os.fstat(fd)
        except OSError:
            lock_stat = None
        if lock_stat is None or not stat.S_ISREG(lock_stat.st_mode):
            os.close(fd)
            self._warn("Not using the token cache lock %s: it is %s, not a regular file; token requests of parallel tasks are not "
                       "serialised until it is removed." % (lock_path, _kind_of(lock_stat.st_mode) if lock_stat else "unreadable"))
            yield False
            return
        held = False
        try:
            left = budget.remaining() if budget is not None else None
            deadline = self._clock() + (LOCK_WAIT_SECONDS if left is None else min(LOCK_WAIT_SECONDS, left))
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    held = True
                    break
                except OSError:
                    if self._clock() >= deadline:
                        break
                    sleep(LOCK_POLL_SECONDS)
            yield held
        finally:
            if held:
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _load(self):
        self._state, self._msal_cache, self._changed = {}, None, False
        self.credential_changed = False
        problem = self._folder_problem(must_exist=False)
        if problem:
            self._usable = False
            self._warn("Not using the token cache folder %s: %s; the token is not cached. Remove it or set %s to a private folder."
                       % (self.directory, problem, CACHE_DIR_ENV))
            return
        try:
            fd = os.open(self.path, os.O_RDONLY | _OPEN_FLAGS)
        except (FileNotFoundError, NotADirectoryError):
            return  # nothing cached yet (a folder that cannot be created is reported by save())
        except OSError as exc:
            self._bypass(self.path, "it cannot be opened (%s)" % (exc.strerror or exc))
            return
        try:
            file_stat = os.fstat(fd)
            if not stat.S_ISREG(file_stat.st_mode):
                self._bypass(self.path, "it is %s, not a regular file" % _kind_of(file_stat.st_mode))
                return
            problem = self._unsafe_reason(file_stat)
            if problem:
                self._warn("Ignoring the token cache %s: %s. Delete it; a safe one is written on the next token request." % (self.path, problem))
                return
            text = _read_all(fd).decode("utf-8", "replace")
        except OSError as exc:
            self._warn("Ignoring the token cache %s: it cannot be read (%s)." % (self.path, exc.strerror or exc))
            return
        finally:
            os.close(fd)
        try:
            state = json.loads(text) if text.strip() else {}
            if not isinstance(state, dict) or not all(isinstance(section, dict) for section in state.values()):
                raise ValueError("not an msal token cache")
            if not all(isinstance(entry, dict) for section in state.values() for entry in section.values()):
                raise ValueError("not an msal token cache")
        except ValueError:
            self._warn("Ignoring the token cache %s: its content is corrupt; it is replaced on the next token request." % self.path)
            return
        if self._credential is not None and state and not self._bound_to_credential(state):
            # tokens of another credential (changed, revoked or wrong) are not used, nor handed to msal: the token endpoint decides
            self.credential_changed = True
            return
        self._state = state

    def _bypass(self, path, problem):
        """Something that is not a regular file is at the cache path: neither read nor written over (warned once)."""
        self._usable = False
        self._warn("Ignoring the token cache %s: %s; the token is not cached until it is removed." % (path, problem))

    def _bound_to_credential(self, state):
        """Whether the file was written with the credential this task holds (its salted HMAC matches)."""
        entry = (state.get(BINDING_SECTION) or {}).get("credential") or {}
        try:
            salt = bytes.fromhex(entry["salt"])
            expected = str(entry["hmac"])
        except (KeyError, TypeError, ValueError):
            return False
        return len(salt) >= SALT_BYTES and hmac.compare_digest(credential_fingerprint(salt, self._credential), expected)

    def _binding(self):
        salt = os.urandom(SALT_BYTES)
        return {"credential": {"salt": salt.hex(), "hmac": credential_fingerprint(salt, self._credential)}}

    @staticmethod
    def _unsafe_reason(file_stat):
        """Why the file must not be trusted, or None."""
        if not stat.S_ISREG(file_stat.st_mode):
            return "it is %s, not a regular file" % _kind_of(file_stat.st_mode)
        return _not_private(file_stat, "0600")

    def find_access_token(self, client_id, target, realm=None, environment=None):
        """A cached app-only access token for ``client_id`` and ``target`` (scope or resource) with more than
        5 minutes left, as ``{"access_token", "expires_on", "token_type"}``; None when there is none.

        ``realm`` (the tenant id) and ``environment`` (the authority's host), when given, must match as well.
        Read from msal's file format without msal (its ``TokenCache.search`` rules: the entry's space-separated
        ``target`` holds the scope; ``environment`` compared in lower case).
        """
        now = self._clock()
        for entry in self._access_tokens():
            if entry.get("home_account_id") or entry.get("key_id") or entry.get("ext_cache_key"):
                continue  # a user's token, or one bound to a key or path: not a plain app-only token
            if entry.get("client_id") != client_id or target not in str(entry.get("target") or "").split():
                continue
            if realm is not None and str(entry.get("realm") or "").lower() != realm.lower():
                continue
            if environment is not None and str(entry.get("environment") or "").lower() != environment.lower():
                continue
            try:
                expires_on = int(entry.get("expires_on") or 0)
                refresh_on = int(entry.get("refresh_on") or expires_on)
            except (TypeError, ValueError):
                continue
            if expires_on - now < MIN_REMAINING_SECONDS or refresh_on <= now:
                continue  # too close to expiry, or due for proactive refresh (msal does that)
            if not isinstance(entry.get("secret"), str) or not entry["secret"]:
                continue
            return {"access_token": entry["secret"], "expires_on": expires_on, "token_type": entry.get("token_type", "Bearer")}
        return None

    def forget_access_token(self, access_token):
        """Remove a cached access token that the service rejected; True when one was removed."""
        if self._msal_cache is not None:
            removed = False
            for entry in list(self._msal_cache.search(self._msal_cache.CredentialType.ACCESS_TOKEN)):
                if entry.get("secret") == access_token:
                    self._msal_cache.remove_at(entry)
                    removed = True
            return removed
        section = self._state.get(ACCESS_TOKEN) or {}
        keys = [key for key, entry in section.items() if entry.get("secret") == access_token]
        for key in keys:
            del section[key]
        self._changed = self._changed or bool(keys)
        return bool(keys)

    def _access_tokens(self):
        if self._msal_cache is not None:
            return list(self._msal_cache.search(self._msal_cache.CredentialType.ACCESS_TOKEN))
        return list((self._state.get(ACCESS_TOKEN) or {}).values())

    # ------------------------------------------------------------------ writing
    def save(self):
        """Write the cache if msal changed it; return True when written. Problems are warnings, never errors."""
        changed = self._msal_cache.has_state_changed if self._msal_cache is not None else self._changed
        if not changed or not self._usable or not self._ensure_directory():
            return False
        try:
            existing = os.lstat(self.path)
        except OSError:
            existing = None
        if existing is not None and not stat.S_ISREG(existing.st_mode):
            self._bypass(self.path, "it is %s, not a regular file" % _kind_of(existing.st_mode))
            return False
        # msal's serialize() is json.dumps(state, indent=4): without msal the same format is written
        state = json.loads(self._msal_cache.serialize()) if self._msal_cache is not None else dict(self._state)
        if self._credential is not None:
            state[BINDING_SECTION] = self._binding()
        temp_path = None
        try:
            fd, temp_path = tempfile.mkstemp(dir=self.directory, prefix=".token-", suffix=".tmp")  # created 0600
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(json.dumps(state, indent=4))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp_path, self.path)
            temp_path = None
            self._changed = False
            return True
        except OSError as exc:
            self._warn("Could not write the token cache %s (%s); tokens are requested again next time." % (self.path, exc.strerror or exc))
            return False
        finally:
            if temp_path:
                try:
                    os.unlink(temp_path)
                except OSError:
                    pass

    def _ensure_directory(self):
        """Create the folder 0700; refuse (with a warning) a folder someone else owns or can enter."""
        try:
            if not os.path.lexists(self.directory):
                os.makedirs(self.directory, mode=0o700, exist_ok=True)
                os.chmod(self.directory, 0o700)  # makedirs' mode is subject to the umask
        except OSError as exc:
            self._warn("Could not create the token cache folder %s (%s); the token is not cached." % (self.directory, exc.strerror or exc))
            return False
        problem = self._folder_problem(must_exist=True)
        if problem:
            self._usable = False
            self._warn("Not using the token cache folder %s: %s; the token is not cached. Remove it or set %s to a private folder."
                       % (self.directory, problem, CACHE_DIR_ENV))
            return False
        return True

    def _folder_problem(self, must_exist):
        """Why the folder must not be used (not a folder, another user's, open to group or others), or None."""
        try:
            folder = os.lstat(self.directory)
        except OSError as exc:
            return "it cannot be read (%s)" % (exc.strerror or exc) if must_exist else None
        if not stat.S_ISDIR(folder.st_mode):
            return "it is %s, not a folder" % _kind_of(folder.st_mode)
        return _not_private(folder, "0700")


def _not_private(found, expected_mode):
    """Why a file or folder of the cache is not private to the user (another owner, access for group or others), or None."""
    if hasattr(os, "geteuid") and found.st_uid != os.geteuid():
        return "it is owned by another user (uid %d)" % found.st_uid
    if found.st_mode & 0o077:
        return "its permissions %s give access to group or others (%s expected)" % (oct(stat.S_IMODE(found.st_mode)), expected_mode)
    return None


def _read_all(fd):
    """The whole content of an open regular file."""
    chunks = []
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
