"""Run the sandbox: ``PYTHONPATH=tests python -m sandbox --state .sandbox [--port N] [fault knobs]``.

Fault knobs come from ``SANDBOX_*`` environment variables (e.g. ``SANDBOX_THROTTLE_EVERY=5``),
overridden by the flags. Prints one line with the URL and the endpoint.json path once listening;
stops cleanly on SIGINT or SIGTERM, within STOP_TIMEOUT seconds whatever its connections do
(a second signal ends it at once).
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from .faults import FaultConfig
from .server import Sandbox

# Seconds a signalled sandbox may take to stop before it exits anyway (status 1).
STOP_TIMEOUT = 5.0

# Flag name -> (FaultConfig field, type, help)
KNOB_FLAGS = {
    "--replication-delay": ("replication_delay", float, "seconds a new object stays invisible (404 and friends)"),
    "--throttle-every": ("throttle_every", int, "answer every Nth Graph/SmartTrace request 429"),
    "--throttle-batch-every": ("throttle_batch_every", int, "answer every Nth $batch sub-request 429 (1: always inside $batch)"),
    "--unavailable-every": ("unavailable_every", int, "answer every Nth Graph/SmartTrace request 503"),
    "--timeout-after-write-every": ("timeout_after_write_every", int, "carry out every Nth write, then answer 504"),
    "--retry-after": ("retry_after", int, "Retry-After seconds sent with 429 and 503"),
    "--page-size": ("page_size", int, "page size of Graph collections"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description="Local Entra ID, Microsoft Graph and SmartTrace over HTTPS.")
    parser.add_argument("--state", default=".sandbox", help="state folder: CA, endpoint.json, requests.jsonl (default .sandbox)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on; 0 picks a free one (default)")
    parser.add_argument("--seed", type=int, default=None, help="seed of generated ids and secrets (default SANDBOX_SEED or 0)")
    for flag, (field, kind, text) in KNOB_FLAGS.items():
        parser.add_argument(flag, dest=field, type=kind, default=None, help="%s (env SANDBOX_%s)" % (text, field.upper()))
    return parser


def fault_config(args: argparse.Namespace, environ=None) -> FaultConfig:
    """Knobs from SANDBOX_* variables, overridden by the flags given."""
    config = FaultConfig.from_env(environ)
    fields = [field for field, _kind, _text in KNOB_FLAGS.values()] + ["seed"]
    return config.updated({field: getattr(args, field) for field in fields if getattr(args, field) is not None})


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = fault_config(args)
    except ValueError as exc:
        parser.error("invalid fault knob: %s" % exc)
    stop = threading.Event()

    def on_signal(_number, _frame):
        if stop.is_set():
            os._exit(1)  # a second signal while stopping: leave at once
        stop.set()

    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, on_signal)
    sandbox = Sandbox(args.state, host=args.host, port=args.port, faults=config)
    try:
        sandbox.start()
    except OSError as exc:
        parser.exit(1, "sandbox: cannot listen on %s:%d: %s\n" % (args.host, args.port, exc.strerror or exc))
    try:
        print("sandbox listening on %s (endpoint: %s)" % (sandbox.url, sandbox.endpoint_path.resolve()), flush=True)
        while not stop.wait(0.2):
            pass
    finally:
        _stop_within(sandbox, STOP_TIMEOUT)
    try:
        print("sandbox stopped", file=sys.stderr, flush=True)
    except OSError:
        # stderr closed (a backgrounded sandbox whose terminal is gone): stopping must not fail on it. The unwritten line
        # stays in stderr's buffer, and Python's last flush at exit would fail on it too (exit status 120): point the
        # descriptor at /dev/null first.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stderr.fileno())
        os.close(devnull)
    return 0


def _stop_within(sandbox: Sandbox, seconds: float) -> None:
    """``sandbox.stop()``, bounded: the process ends within ``seconds`` even if a connection does not let go."""
    watchdog = threading.Timer(seconds, os._exit, args=(1,))
    watchdog.daemon = True
    watchdog.start()
    try:
        sandbox.stop()
    finally:
        watchdog.cancel()


if __name__ == "__main__":
    sys.exit(main())
