"""A sandbox started in the background (make sandbox-start) ends promptly on SIGTERM, whatever its connections do."""
from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import time

import pytest

from .conftest import make_session
from .test_server import _cli_command, _cli_env

# Seconds from SIGTERM to exit, with room for a loaded CI machine: stopping takes well under 1 s when idle, its watchdog
# (STOP_TIMEOUT) ends it after 5 s with status 1, which these tests refuse.
PROMPT = 6.0


def _start(tmp_path, stderr=subprocess.DEVNULL):
    state = tmp_path / "state"
    process = subprocess.Popen(_cli_command("--state", str(state), "--port", "0"), env=_cli_env(), stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=stderr, text=True)
    line = process.stdout.readline()
    assert "sandbox listening on" in line, line
    return process, json.loads((state / "endpoint.json").read_text()), state


def _stopped_within(process, seconds: float) -> tuple[int, float]:
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    code = process.wait(timeout=seconds + 10)
    return code, time.monotonic() - started


@pytest.fixture
def started(tmp_path):
    process, endpoint, state = _start(tmp_path)
    yield process, endpoint, state
    if process.poll() is None:
        process.kill()
        process.wait()
    process.stdout.close()


def test_sigterm_with_open_connections_ends_promptly(started):
    process, endpoint, state = started
    port = int(endpoint["url"].rsplit(":", 1)[1])
    context = ssl.create_default_context(cafile=endpoint["ca"])
    held = [socket.create_connection(("127.0.0.1", port), timeout=10)]  # TCP only, no TLS handshake yet
    try:
        partial = context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10), server_hostname="127.0.0.1")
        partial.sendall(b"GET /v1.0/users HTTP/1.1\r\nHost: sandbox\r\n")  # headers not finished
        held.append(partial)
        body = context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10), server_hostname="127.0.0.1")
        body.sendall(b"POST /v1.0/users HTTP/1.1\r\nHost: sandbox\r\nContent-Length: 500\r\n\r\n{")  # body not finished
        held.append(body)
        session = make_session(endpoint["ca"])  # a kept-alive connection after a complete request
        assert session.get(endpoint["url"] + "/_sandbox/state", timeout=10).status_code == 200
        code, elapsed = _stopped_within(process, PROMPT)
        session.close()
    finally:
        for connection in held:
            connection.close()
    assert code == 0 and elapsed < PROMPT, "exit status %s after %.1f s" % (code, elapsed)
    assert not (state / "endpoint.json").exists()


def test_sigterm_with_stderr_closed_ends_promptly(tmp_path):
    """Backgrounded with its terminal gone: the farewell line cannot be written, the sandbox still stops at once."""
    read_end, write_end = os.pipe()
    process, _endpoint, state = _start(tmp_path, stderr=write_end)
    os.close(write_end)
    os.close(read_end)
    try:
        code, elapsed = _stopped_within(process, PROMPT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
    assert code == 0 and elapsed < PROMPT, "exit status %s after %.1f s" % (code, elapsed)
    assert not (state / "endpoint.json").exists()


def test_a_second_sigterm_ends_it_at_once(started):
    process, _endpoint, _state = started
    process.send_signal(signal.SIGTERM)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=PROMPT) in (0, 1)
