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
  ignored with a warning, never fatal;
* msal stores tokens only (access tokens, app metadata), never the client secret or key.

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

    def __init__(self, authority, tenant_id, client_id, directory=None, warn=None, clock=time.time):
        self.directory = directory or default_cache_dir()
        self.path = os.path.join(self.directory, cache_file_name(authority, tenant_id, client_id))
        self._warn = warn or (lambda message: None)
        self._clock = clock
        self._load()

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
    def exclusive(self, sleep=time.sleep):
        """Hold the identity's lock file (``<cache file>.lock``, 0600) while asking for a token; yields True when held.

        Never fatal: without a usable folder, without ``fcntl``, or after LOCK_WAIT_SECONDS the body runs unlocked.
        """
        if fcntl is None or not self._ensure_directory():
            yield False
            return
        try:
            fd = os.open(self.path + ".lock", os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
        except OSError:
            yield False
            return
        held = False
        try:
            deadline = self._clock() + LOCK_WAIT_SECONDS
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
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except (FileNotFoundError, NotADirectoryError):
            return  # nothing cached yet (a folder that cannot be created is reported by save())
        except OSError as exc:
            self._warn("Ignoring the token cache %s: it cannot be opened (%s)." % (self.path, exc.strerror or exc))
            return
        with os.fdopen(fd, "r", encoding="utf-8", errors="replace") as handle:
            problem = self._unsafe_reason(os.fstat(handle.fileno()))
            if problem:
                self._warn("Ignoring the token cache %s: %s. Delete it; a safe one is written on the next token request." % (self.path, problem))
                return
            text = handle.read()
        try:
            state = json.loads(text) if text.strip() else {}
            if not isinstance(state, dict) or not all(isinstance(section, dict) for section in state.values()):
                raise ValueError("not an msal token cache")
            if not all(isinstance(entry, dict) for section in state.values() for entry in section.values()):
                raise ValueError("not an msal token cache")
        except ValueError:
            self._warn("Ignoring the token cache %s: its content is corrupt; it is replaced on the next token request." % self.path)
            return
        self._state = state

    @staticmethod
    def _unsafe_reason(file_stat):
        """Why the file must not be trusted, or None."""
        if not stat.S_ISREG(file_stat.st_mode):
            return "it is not a regular file"
        if hasattr(os, "geteuid") and file_stat.st_uid != os.geteuid():
            return "it is owned by another user (uid %d)" % file_stat.st_uid
        if file_stat.st_mode & 0o077:
            return "its permissions %s give access to group or others (0600 expected)" % oct(stat.S_IMODE(file_stat.st_mode))
        return None

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
        if not changed or not self._ensure_directory():
            return False
        temp_path = None
        try:
            fd, temp_path = tempfile.mkstemp(dir=self.directory, prefix=".token-", suffix=".tmp")  # created 0600
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                # msal's serialize() is json.dumps(state, indent=4): without msal the same format is written
                handle.write(self._msal_cache.serialize() if self._msal_cache is not None else json.dumps(self._state, indent=4))
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
            if not os.path.isdir(self.directory):
                os.makedirs(self.directory, mode=0o700, exist_ok=True)
                os.chmod(self.directory, 0o700)  # makedirs' mode is subject to the umask
            folder = os.lstat(self.directory)
        except OSError as exc:
            self._warn("Could not create the token cache folder %s (%s); the token is not cached." % (self.directory, exc.strerror or exc))
            return False
        problem = None
        if not stat.S_ISDIR(folder.st_mode):
            problem = "it is not a folder"
        elif hasattr(os, "geteuid") and folder.st_uid != os.geteuid():
            problem = "it is owned by another user"
        elif folder.st_mode & 0o077:
            problem = "its permissions %s give access to group or others (0700 expected)" % oct(stat.S_IMODE(folder.st_mode))
        if problem:
            self._warn("Not writing the token cache into %s: %s." % (self.directory, problem))
            return False
        return True
