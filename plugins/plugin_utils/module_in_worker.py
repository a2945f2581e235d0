# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's modules, run inside Ansible's worker process when they would run on the controller anyway.

Every playbook of the collection runs its modules with ``connection: local`` and ``ansible_python_interpreter`` set to
the Python that runs ``ansible-playbook`` (Ansible's implicit localhost does the same). Such a module runs on this
machine, as this user, in this Python. Ansible would still write it (AnsiballZ: the module, its module_utils and its
arguments, secrets included) into a file under the remote temporary directory (``~/.ansible/tmp``), start a new Python
process that unpacks and compiles all of it, and delete the file when the process ends; a run that is killed meanwhile
leaves the file behind.

Here the worker process, which Ansible forked for this one task and host and which ends with it, imports the module and
calls its ``main()`` with the arguments Ansible would have written into that file, encoded the same way, and reads its
result the same way: the same code and the same result, without the file and without the process (docs/performance.md
has the CPU this saves). The task's ``environment`` applies while the module runs, as it would to the process.

Anything else runs the module exactly as Ansible does: another connection (a remote host), ``become`` (another user),
``async``, ``delegate_to``, or another interpreter. Setting ``ansible_python_interpreter`` to a different path (even to
the same Python) is the way to ask for a separate process.
"""

import contextlib
import importlib
import io
import json
import os
import sys
import traceback

from ansible.module_utils import basic
from ansible.module_utils.common import json as common_json
from ansible.plugins.action.normal import ActionModule as NormalActionModule
from ansible.utils.display import Display
from ansible.vars.clean import remove_internal_keys

try:  # ansible-core 2.19 and later mark the controller's processes
    from ansible.module_utils import _internal as module_utils_internal
except ImportError:  # ansible-core 2.16 to 2.18
    module_utils_internal = None

MODULES_PACKAGE = "ansible_collections.smarttrace.sso.plugins.modules"
# ansible-core 2.19 and later encode a module's arguments and result with a serialization profile; a module that declares
# none (all of ours) gets this one.
PROFILES = hasattr(common_json, "get_module_encoder")
PROFILE = "legacy"

display = Display()


def encoded_arguments(module_args):
    """The module's arguments as AnsiballZ hands them over: JSON of {"ANSIBLE_MODULE_ARGS": ...}, in bytes."""
    params = {"ANSIBLE_MODULE_ARGS": module_args}
    if not PROFILES:
        return json.dumps(params, cls=common_json.AnsibleJSONEncoder, vault_to_text=True).encode("utf-8")
    encoder = common_json.get_module_encoder(PROFILE, common_json.Direction.CONTROLLER_TO_MODULE)
    return json.dumps(params, cls=encoder).encode("utf-8")


@contextlib.contextmanager
def as_a_module():
    """ansible-core 2.19 and later mark the controller's processes (``is_controller``): module_utils then display warnings
    at once and use the controller's JSON profiles. While the module runs, the mark is off, as in a module's own process,
    so that its warnings and its result come back in the result as they would from there."""
    mark = getattr(module_utils_internal, "is_controller", None)
    if mark is not None:
        module_utils_internal.is_controller = False
    try:
        yield
    finally:
        if mark is not None:
            module_utils_internal.is_controller = mark


@contextlib.contextmanager
def task_environment(environment):
    """``os.environ`` with the task's environment while the module runs, and as it was afterwards."""
    before = dict((name, os.environ.get(name)) for name in environment)
    os.environ.update(environment)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_main(module_name, arguments, environment):
    """Runs the module's ``main()`` as AnsiballZ does: arguments in ``basic._ANSIBLE_ARGS``, the result printed, the end a
    ``SystemExit``. Returns what running the module as a command would: ``rc``, ``stdout`` and ``stderr``.

    An exception the module does not handle becomes a failed result naming it, with the traceback (as a module process's
    would be). A ``BaseException`` that is not ``SystemExit`` (the task's timeout, an interrupt) goes on to Ansible."""
    stdout, stderr = io.StringIO(), io.StringIO()
    try:
        cwd = os.getcwd()
    except OSError:  # a folder removed meanwhile: AnsibleModule moves elsewhere, and so may the worker
        cwd = None
    rc = 0
    before = basic._ANSIBLE_ARGS, getattr(basic, "_ANSIBLE_PROFILE", None)  # pylint: disable=protected-access
    with task_environment(environment), as_a_module():
        basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE = arguments, PROFILE  # pylint: disable=protected-access
        try:
            with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
                try:
                    importlib.import_module("%s.%s" % (MODULES_PACKAGE, module_name)).main()
                    raise RuntimeError("The module %s did not exit with its result." % module_name)
                except SystemExit as exc:
                    rc = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
                except Exception as exc:  # noqa: BLE001 - a module's own bug, reported as a module process would report it
                    rc = 1
                    print(json.dumps(dict(failed=True, msg="MODULE FAILURE: %s: %s" % (type(exc).__name__, exc),
                                          exception=traceback.format_exc())))
        finally:
            basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE = before  # pylint: disable=protected-access
            if cwd is not None and os.getcwd() != cwd:  # AnsibleModule moves out of a directory it cannot read
                os.chdir(cwd)
    return dict(rc=rc, stdout=stdout.getvalue(), stderr=stderr.getvalue())


class ModuleInWorker(NormalActionModule):
    """Ansible's own action for modules (``ansible.builtin.normal``), except that a module that would run on the controller,
    as this user, in this Python, runs in this worker process."""

    def _execute_module(self, module_name=None, module_args=None, tmp=None, task_vars=None, persist_files=False,
                        delete_remote_tmp=None, wrap_async=False, **kwargs):
        task_vars = task_vars if task_vars is not None else {}
        if module_name is None and module_args is None and not wrap_async and self.runs_on_the_controller(task_vars):
            return self._execute_module_in_worker(task_vars)
        return super()._execute_module(module_name, module_args, tmp, task_vars, persist_files, delete_remote_tmp, wrap_async, **kwargs)

    def runs_on_the_controller(self, task_vars):
        """Whether Ansible would start the module on this machine, as this user, with the Python running this process."""
        if self._task.delegate_to or self._task.async_val or self._play_context.become:
            return False
        if getattr(self._connection, "transport", None) != "local":
            return False
        interpreter = task_vars.get("ansible_python_interpreter")
        return interpreter is not None and self._templar.template(interpreter) == sys.executable

    def _execute_module_in_worker(self, task_vars):
        name = self._task.resolved_action or self._task.action
        module_args = dict(self._task.args)
        self._update_module_args(name, module_args, task_vars)
        environment = {}
        self._compute_environment_string(environment)
        display.vvv("Running %s in this worker process (connection local, the controller's own Python)" % name,
                    host=self._play_context.remote_addr)
        response = run_main(name.rpartition(".")[2], encoded_arguments(module_args), environment)
        if PROFILES:
            data = self._parse_returned_data(response, PROFILE)
        else:
            data = self._parse_returned_data(response)  # pylint: disable=no-value-for-parameter
        remove_internal_keys(data)
        return data
