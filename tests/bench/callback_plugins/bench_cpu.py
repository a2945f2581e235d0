# Benchmark helper (not shipped in the collection's plugins): the CPU time of every task on every host, split into what
# the worker process spent (templating, the action plugin, AnsiballZ) and what the processes it started spent (the module's
# Python process, the connection's shell commands), and the CPU time of ansible-playbook's main process.
from __future__ import annotations

DOCUMENTATION = """
name: bench_cpu
type: aggregate
short_description: Append each task's CPU time per host to the JSON-lines file named by BENCH_CPU
description:
  - Used by tests/bench/bench.py only.
  - Ansible forks one worker process per task and host; this plugin wraps the worker's entry point, so when the worker ends it
    appends its own CPU time and that of the processes it waited for (a module run as a process of its own) to the file.
  - The main process appends each skipped task and host, and its own CPU time at the end of the play. It relies on
    ansible.executor.process.worker.WorkerProcess.run, an internal of ansible-core (2.16 to 2.19 have it), which a measurement
    tool may do and the collection may not.
requirements: [BENCH_CPU environment variable]
"""

import json
import os
import resource

from ansible.executor.process import worker
from ansible.plugins.callback import CallbackBase


def _append(record):
    path = os.environ.get("BENCH_CPU")
    if path:
        # one write of one line with O_APPEND: the workers of a fleet append side by side without mixing lines
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(descriptor, (json.dumps(record) + "\n").encode("utf-8"))
        finally:
            os.close(descriptor)


def _cpu(who):
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


_RUN = worker.WorkerProcess.run


def _measured_run(self):
    try:
        return _RUN(self)
    finally:
        _append({"host": self._host.get_name(), "task": self._task.get_name(), "action": self._task.action,
                 "worker": round(_cpu(resource.RUSAGE_SELF), 4), "children": round(_cpu(resource.RUSAGE_CHILDREN), 4)})


if not getattr(worker.WorkerProcess.run, "bench_cpu", False):
    _measured_run.bench_cpu = True
    worker.WorkerProcess.run = _measured_run


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_cpu"
    CALLBACK_NEEDS_ENABLED = True

    def v2_runner_on_skipped(self, result):
        # a worker cannot tell whether its task was skipped; the main process can (bench.py leaves skipped module tasks out)
        _append({"skipped": result._host.get_name(), "task": result._task.get_name()})  # pylint: disable=protected-access

    def v2_playbook_on_stats(self, stats):
        _append({"main": round(_cpu(resource.RUSAGE_SELF), 4)})
