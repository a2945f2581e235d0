# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: free
short_description: Ansible's free strategy, without its busy wait for a free worker
author:
  - smarttrace.sso contributors (@smarttrace)
version_added: 0.1.0
description:
  - Runs tasks exactly as C(ansible.builtin.free) does. Each host goes through its tasks as fast as it can, and one that
    Microsoft Graph throttles, or that fails, holds up no other.
  - One thing differs. When every fork is busy, C(ansible.builtin.free) checks all workers every 0.1 ms until one ends.
    In a fleet, every fork is busy nearly all the time. With 50 instances, 10 forks and 2 cores, these checks took about
    3 % of the play's CPU time, which the modules' processes were waiting for.
  - This strategy sleeps until a worker ends instead. It waits on the workers' process sentinels, so the next task
    starts as soon as a fork is free, and the wait costs no CPU.
  - The collection's playbooks use it. A play of your own can set it with C(strategy) V(smarttrace.sso.free).
seealso:
  - name: The fleet (docs/performance.md)
    description: Why the playbooks use this strategy, with the figures of C(make bench).
    link: https://github.com/smarttrace/smarttrace.sso/blob/main/docs/performance.md
"""

from multiprocessing.connection import wait

from ansible.plugins.strategy.free import StrategyModule as FreeStrategyModule

# An upper bound for one wait: the wait ends sooner when a worker ends. The loop then checks again, so a worker that a
# sentinel does not report cannot stall the play.
WAIT_SECONDS = 1.0


class StrategyModule(FreeStrategyModule):
    """``free``, whose ``_queue_task`` finds every worker busy only after a worker has ended."""

    def _queue_task(self, host, task, task_vars, play_context):
        wait_for_a_free_worker(self._workers)
        super()._queue_task(host, task, task_vars, play_context)


def wait_for_a_free_worker(workers):
    """Return once a slot of ``workers`` (the strategy's list of worker processes) is empty or holds one that has ended."""
    while workers:
        sentinels = []
        for worker in workers:
            try:
                if worker is None or not worker.is_alive():
                    return
            except ValueError:  # a closed process object: its slot is free
                return
            sentinels.append(worker.sentinel)
        wait(sentinels, timeout=WAIT_SECONDS)
