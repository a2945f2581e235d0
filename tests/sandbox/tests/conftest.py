"""Fixtures: one real sandbox (HTTPS on a free port, in-process) per test session, reset per test."""
from __future__ import annotations

import os
import pathlib

import pytest
import requests

from sandbox.server import Sandbox, load_entra_parts


def entra_parts():
    """The real Entra ID classes when they can be imported, else this folder's stand-in."""
    try:
        return load_entra_parts()
    except ImportError:
        from .standin import PARTS  # pylint: disable=import-outside-toplevel

        return PARTS


def make_session(ca: str | os.PathLike) -> requests.Session:
    """A requests session that trusts only the sandbox CA and ignores proxy and CA-bundle variables."""
    session = requests.Session()
    session.trust_env = False
    session.verify = str(ca)
    return session


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory):
    state = tmp_path_factory.mktemp("sandbox-state")
    box = Sandbox(state, port=0, entra=entra_parts()).start()
    try:
        yield box
    finally:
        box.stop()


@pytest.fixture()
def fresh_sandbox(sandbox):
    """The session sandbox, reseeded and with every fault knob off."""
    sandbox.reset()
    yield sandbox
    sandbox.reset()


@pytest.fixture()
def session(fresh_sandbox):
    with make_session(fresh_sandbox.tls.ca_cert) as http:
        yield http


@pytest.fixture()
def endpoint(fresh_sandbox) -> dict:
    return fresh_sandbox.endpoint


@pytest.fixture()
def state_dir(fresh_sandbox) -> pathlib.Path:
    return fresh_sandbox.state_dir
