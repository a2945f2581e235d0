# Benchmark helper (not shipped in the collection's plugins): wall time of every task on every host.
from __future__ import annotations

DOCUMENTATION = """
name: bench_timer
type: aggregate
short_description: Write each task's wall time per host to the JSON file named by BENCH_TIMINGS
description: Used by tests/bench/bench.py only.
requirements: [BENCH_TIMINGS environment variable]
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_timer"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._started = {}
        self._timings = []

    def v2_runner_on_start(self, host, task):
        self._started[(host.get_name(), task._uuid)] = (time.monotonic(), time.time())

    def _done(self, result, status):
        key = (result._host.get_name(), result._task._uuid)
        started = self._started.pop(key, None)
        if started is not None:
            self._timings.append({"host": key[0], "task": result._task.get_name(), "action": result._task.action, "status": status,
                                  "changed": bool(result._result.get("changed")), "seconds": time.monotonic() - started[0],
                                  "start": started[1], "end": time.time()})

    def v2_runner_on_ok(self, result):
        self._done(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._done(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._done(result, "skipped")

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("BENCH_TIMINGS")
        if path:
            with open(path, "w", encoding="utf-8") as handle:
                json.dump(self._timings, handle)
