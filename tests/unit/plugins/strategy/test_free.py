# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The strategy smarttrace.sso.free: with every worker busy, it sleeps until a worker process ends (no polling), and it
returns at once when a slot is free. The workers here are real processes, as the strategy's are."""

import importlib
import multiprocessing
import os
import re
import subprocess
import sys

import pytest
import yaml

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))


def _run_until_told(told):
    told.wait()


class Workers:
    """Processes that run until told to end, like a strategy's worker processes. Spawned, not forked: the unit tests' process
    may have threads, and a forked child of it could block on a lock one of them held."""

    def __init__(self, count):
        context = multiprocessing.get_context("spawn")
        self.told = [context.Event() for index in range(count)]
        self.processes = [context.Process(target=_run_until_told, args=(told,)) for told in self.told]
        for process in self.processes:
            process.start()

    def end(self, index):
        self.told[index].set()
        self.processes[index].join()

    def close(self):
        for told, process in zip(self.told, self.processes):
            told.set()
            try:
                process.join()
            except ValueError:  # closed by the test
                pass


@pytest.fixture
def strategy(undo_controller_mark):  # pylint: disable=unused-argument
    """Imported inside each test: the plugin imports ansible's strategies (controller code)."""
    return importlib.import_module("ansible_collections.smarttrace.sso.plugins.strategy.free")


@pytest.fixture
def workers():
    made = []

    def make(count):
        made.append(Workers(count))
        return made[-1]

    yield make
    for group in made:
        group.close()


def test_every_worker_busy_waits_for_one_to_end(strategy, workers, monkeypatch):
    busy = workers(3)
    waits = []

    def wait(sentinels, timeout):
        waits.append(len(sentinels))
        busy.end(1)  # a worker ends while the strategy waits
        return real_wait(sentinels, timeout)

    real_wait = strategy.wait
    monkeypatch.setattr(strategy, "wait", wait)
    strategy.wait_for_a_free_worker(busy.processes)
    assert waits == [3]  # slept once, on the three workers' sentinels, not a polling loop
    assert [process.is_alive() for process in busy.processes] == [True, False, True]


def test_a_free_slot_needs_no_wait(strategy, workers, monkeypatch):
    busy = workers(2)
    monkeypatch.setattr(strategy, "wait", lambda sentinels, timeout: pytest.fail("waited although a slot was free"))
    strategy.wait_for_a_free_worker([busy.processes[0], None, busy.processes[1]])  # a slot never used (forks > hosts so far)
    busy.end(0)
    strategy.wait_for_a_free_worker(busy.processes)  # a worker that has ended
    strategy.wait_for_a_free_worker([])  # no workers at all


def test_a_closed_worker_is_a_free_slot(strategy, workers, monkeypatch):
    busy = workers(2)
    busy.end(0)
    busy.processes[0].close()  # is_alive() now raises ValueError
    monkeypatch.setattr(strategy, "wait", lambda sentinels, timeout: pytest.fail("waited although a slot was free"))
    strategy.wait_for_a_free_worker(busy.processes)


def test_the_strategy_is_ansibles_free_strategy(strategy):
    free = importlib.import_module("ansible.plugins.strategy.free")
    assert issubclass(strategy.StrategyModule, free.StrategyModule)
    assert set(vars(strategy.StrategyModule)) - {"__module__", "__doc__"} == {"_queue_task"}  # nothing else differs


@pytest.mark.parametrize("playbook", ["configure.yml", "rotate_secret.yml", "offboard.yml"])
def test_the_fleet_playbooks_use_it(playbook):
    with open(os.path.join(REPO, "playbooks", playbook), encoding="utf-8") as handle:
        plays = yaml.safe_load(handle)
    assert [play.get("strategy") for play in plays] == ["smarttrace.sso.free"] * len(plays)


def test_a_play_with_more_hosts_than_forks(tmp_path):
    """ansible-playbook with the strategy: six hosts on two forks, so tasks wait for a free worker; every host runs every task."""
    (tmp_path / "play.yml").write_text(
        "- hosts: all\n  gather_facts: false\n  connection: local\n  strategy: smarttrace.sso.free\n"
        "  vars:\n    ansible_python_interpreter: '{{ ansible_playbook_python }}'\n"
        "  tasks:\n    - ansible.builtin.command: sleep 0.2\n      changed_when: false\n"
        "    - ansible.builtin.debug:\n        msg: done\n",
        encoding="utf-8",
    )
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.abspath(os.path.join(REPO, "..", "..", "..")), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "local"), ANSIBLE_REMOTE_TEMP=str(tmp_path / "remote"))
    hosts = ["instance-%d" % number for number in range(1, 7)]
    played = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", ",".join(hosts) + ",", "-f", "2",
                             "play.yml"], cwd=str(tmp_path), env=env, capture_output=True, text=True, check=False, timeout=300)
    assert played.returncode == 0, played.stdout + played.stderr
    for host in hosts:
        assert re.search(r"^%s\s+: ok=2\s+changed=0\s+unreachable=0\s+failed=0" % host, played.stdout, re.M), played.stdout
