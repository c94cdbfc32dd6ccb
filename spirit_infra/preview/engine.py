"""The offline engine: run a Pulumi program under a recording mock runtime (the product's ``preview``
runs on it; :mod:`spirit_infra.testing` is the public test double over it)::

    from spirit_infra.preview.engine import run

    rec = run(lambda: SpiritFirewall("edge", args), config={"spirit:cloud": "aws"})
    sg = rec.get("edge-sg")
    assert sg.type == "aws:ec2/securityGroup:SecurityGroup"
    assert sg.parent == rec.get("edge").urn

What :func:`run` does, in order:

1. starts a worker thread with a fresh :class:`contextvars.Context` and a fresh asyncio event loop,
   so nothing of a previous run (root stack, settings, config, pending tasks) is visible;
2. installs the mock monitor and engine the way :func:`pulumi.runtime.set_mocks` does, *before* any
   resource is created (it does not call ``set_mocks`` itself because that registers and finishes the
   root stack at once, which would drop ``pulumi.export`` values), and sets the stack config;
3. runs the program through :func:`pulumi.runtime.stack.run_in_stack`, the same path ``pulumi preview``
   takes for a Python program, so component children, ``register_outputs`` and ``pulumi.export`` work,
   and waits for every outstanding RPC and output;
4. returns a :class:`Recording` of every registered resource, the stack outputs and every invoke.

Where Pulumi's public mocks API falls short (its settings outlive a run, it cannot tell a resource
created inside ``Output.apply``, it leaves executor threads' event loops open), the workaround is in
:mod:`spirit_infra.preview.pulumi_gaps` and nowhere else.

A real engine refuses things that Pulumi's mocks accept. :func:`run` detects them and raises
:class:`EngineError` (or, with ``strict=False``, lists them in :attr:`Recording.errors`):

* two resources with the same URN (same type and name under the same parent type chain);
* a resource registered while an ``Output.apply`` callback is running (it would be missing from
  previews and invisible to ``pulumi preview --diff``);
* two resources with the same **physical** name in the same cloud scope (:func:`physical_name`): the
  cloud answers the second with 409 / ``AlreadyExists``. Only explicit names count: a name the provider
  auto-generates (the logical name plus a random suffix) never collides.

An exception raised by the program (or by an apply callback) propagates unchanged, with its own type,
so a caller can turn a :class:`spirit_infra.errors.ConfigError` into exit status 2. Nothing is printed.

Conventions of the recording:

* ``parent`` is ``None`` for the stack's direct children (the root ``pulumi:pulumi:Stack`` resource is
  not recorded; its URN is :attr:`Recording.stack_urn`).
* inputs are exactly what the program registered, as plain JSON values: secrets are unwrapped (their
  top-level keys are listed in ``RecordedResource.secrets``), resource references become their URN,
  integral numbers are ints, and values unknown during a preview are the string ``"<computed>"``.
* ``run`` calls are serialised by a process-wide lock; each run leaves Pulumi's global state as it
  found it. Config comes only from ``config``, except that Pulumi itself still falls back to the
  ``PULUMI_CONFIG*`` environment variables for keys that ``config`` does not set.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from google.protobuf import json_format
from pulumi.runtime import config as _pconfig
from pulumi.runtime import mocks as _pmocks
from pulumi.runtime import settings as _psettings
from pulumi.runtime import stack as _pstack
from pulumi.runtime.proto import engine_pb2

from .cloud_state import default_call_results, default_outputs, physical_name
from .pulumi_gaps import apply_watch, close_thread_loop, inside_apply, settings_left_as_found
from .recording import EngineError, RecordedInvoke, RecordedResource, Recording, struct_to_plain

__all__ = ["run", "RecordingMonitor"]

_STACK_TYPE = "pulumi:pulumi:Stack"


class _Mocks(_pmocks.Mocks):
    def __init__(self, outputs_for, call_for, region: str, gcp_project: str):
        self.outputs_for = outputs_for
        self.call_for = call_for
        self.region = region
        self.gcp_project = gcp_project

    def new_resource(self, args: _pmocks.MockResourceArgs):
        inputs = dict(args.inputs)
        if not args.custom and not args.resource_id:
            return "", inputs
        state = dict(inputs)
        state.update(default_outputs(args.typ, args.name, inputs, region=self.region, gcp_project=self.gcp_project))
        extra = self.outputs_for(args.typ, args.name, inputs) if self.outputs_for else None
        if extra:
            state.update(extra)
        rid = state.pop("id", None) or args.resource_id or f"{args.name}-id"
        return str(rid), state

    def call(self, args: _pmocks.MockCallArgs):
        result = self.call_for(args.token, dict(args.args)) if self.call_for else None
        if result is None:
            result = default_call_results(args.token, args.args, region=self.region, gcp_project=self.gcp_project)
        return dict(result or {})


class RecordingMonitor(_pmocks.MockMonitor):
    """Pulumi's mock monitor plus a record of every registration and the engine's refusals."""

    def __init__(self, mocks: _Mocks):
        super().__init__(mocks)
        self._lock = threading.Lock()
        self.records: dict[str, dict[str, Any]] = {}
        self.outputs: dict[str, dict[str, Any]] = {}
        self.invokes: list[RecordedInvoke] = []
        self.errors: list[str] = []
        self.stack_urn = ""
        self.physical: dict[tuple[str, str, str], str] = {}

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # The real engine's rule (sdk/go/common/resource/urn.go NewURN): the qualified type is the
        # parent's *full* qualified type chain + "$" + type, and the root stack adds nothing. Pulumi's
        # MockMonitor keeps only the parent's last type and prefixes the stack type, which hides
        # collisions the engine would see and invents ones it would not.
        if parent:
            parent_type = parent.split("::")[2]
            if parent_type != _STACK_TYPE:
                type_ = f"{parent_type}${type_}"
        return "urn:pulumi:" + "::".join([_psettings.get_stack(), _psettings.get_project(), type_, name])

    def _error(self, message: str) -> None:
        with self._lock:
            if message not in self.errors:
                self.errors.append(message)

    def _record(self, request, urn: str, *, custom: bool, options: dict[str, Any], inputs_struct) -> bool:
        inputs, secrets = struct_to_plain(inputs_struct)
        if inside_apply():
            self._error(f"resource {urn} was created inside an Output.apply callback; a real engine would "
                        "not show it in previews (create it outside apply, pass Outputs as inputs)")
        with self._lock:
            if urn in self.records:
                self.errors.append(f"duplicate URN {urn}: two resources of type {request.type} named "
                                   f"{request.name!r} under the same parent")
                return False
            self.records[urn] = {
                "urn": urn, "type": request.type, "name": request.name,
                "parent": request.parent or None, "inputs": inputs, "custom": custom,
                "options": options, "secrets": secrets, "id": None,
            }
            if custom and "read_id" not in options:
                self._claim(request.type, inputs, urn)
        return True

    def _claim(self, type_token: str, inputs: dict[str, Any], urn: str) -> None:
        found = physical_name(type_token, inputs, region=self.mocks.region, gcp_project=self.mocks.gcp_project)
        if found is None:
            return
        key = (found[0], type_token, found[1])
        if key in self.physical:
            self.errors.append(f"physical name collision: {type_token} {found[1]!r} in {found[0]} is taken by "
                               f"{self.physical[key]} and {urn} (the cloud refuses the second; derive names from "
                               "the stack and the component)")
        else:
            self.physical[key] = urn

    def RegisterResource(self, request):
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == _STACK_TYPE:
            self.stack_urn = urn
            return super().RegisterResource(request)
        options: dict[str, Any] = {}
        if request.dependencies:
            options["dependencies"] = sorted(set(request.dependencies))
        aliases = [json.dumps(json_format.MessageToDict(a), sort_keys=True) for a in request.aliases]
        aliases += list(request.aliasURNs)
        if aliases:
            options["aliases"] = sorted(aliases)
        if request.provider:
            options["provider"] = request.provider
        if request.protect:
            options["protect"] = True
        if request.ignoreChanges:
            options["ignore_changes"] = sorted(request.ignoreChanges)
        if request.deleteBeforeReplace:
            options["delete_before_replace"] = True
        if request.replaceOnChanges:
            options["replace_on_changes"] = sorted(request.replaceOnChanges)
        if request.retainOnDelete:
            options["retain_on_delete"] = True
        if request.importId:
            options["import_id"] = request.importId
        if request.additionalSecretOutputs:
            options["additional_secret_outputs"] = sorted(request.additionalSecretOutputs)
        first = self._record(request, urn, custom=bool(request.custom), options=options,
                             inputs_struct=request.object)
        response = self._forward(super().RegisterResource, request)
        self._set_id(urn, first, response.id)
        return response

    def ReadResource(self, request):
        urn = self.make_urn(request.parent, request.type, request.name)
        first = self._record(request, urn, custom=True, options={"read_id": request.id},
                             inputs_struct=request.properties)
        response = self._forward(super().ReadResource, request)
        self._set_id(urn, first, request.id)
        return response

    @staticmethod
    def _forward(call, request):
        """Pulumi's mock monitor answers; then its executor thread's loop is closed (pulumi_gaps, gap 3)."""
        try:
            return call(request)
        finally:
            close_thread_loop(_THREAD_NAME)

    def _set_id(self, urn: str, first: bool, rid: str) -> None:
        if first:  # a duplicate URN keeps the first registration's record
            with self._lock:
                self.records[urn]["id"] = rid or None

    def RegisterResourceOutputs(self, request):
        outputs, _ = struct_to_plain(request.outputs)
        with self._lock:
            self.outputs[request.urn] = outputs
        return super().RegisterResourceOutputs(request)

    def Invoke(self, request):
        response = self._forward(super().Invoke, request)
        if request.tok != "pulumi:pulumi:getResource":
            args, _ = struct_to_plain(request.args)
            result, _ = struct_to_plain(response.__getattribute__("return"))
            with self._lock:
                self.invokes.append(RecordedInvoke(request.tok, args, result))
        return response

    def recording(self, logs: list[str]) -> Recording:
        resources = []
        for urn in sorted(self.records):
            rec = dict(self.records[urn])
            if rec["parent"] == self.stack_urn:
                rec["parent"] = None
            rec["outputs"] = self.outputs.get(urn, {})
            resources.append(RecordedResource(**rec))
        invokes = sorted(self.invokes, key=lambda i: (i.token, json.dumps(i.args, sort_keys=True)))
        return Recording(resources=resources, outputs=self.outputs.get(self.stack_urn, {}),
                         errors=list(self.errors), invokes=invokes, logs=list(logs), stack_urn=self.stack_urn,
                         physical_names=dict(sorted(self.physical.items())))


class _Engine(_pmocks.MockEngine):
    """Collects warnings and errors logged through ``pulumi.log``; prints nothing."""

    def __init__(self):
        super().__init__(logging.getLogger("spirit_infra.preview.engine"))
        self.messages: list[str] = []
        self._lock = threading.Lock()

    def Log(self, request):
        if request.severity in (engine_pb2.WARNING, engine_pb2.ERROR):
            level = "warning" if request.severity == engine_pb2.WARNING else "error"
            where = f" ({request.urn})" if request.urn else ""
            with self._lock:
                self.messages.append(f"{level}: {request.message}{where}")
        else:
            super().Log(request)


# Running a program

_RUN_LOCK = threading.Lock()
_THREAD_NAME = "spirit-infra-mock-runtime"


def _config_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, sort_keys=True)


def run(
    program: Callable[[], Any],
    *,
    project: str = "spirit-infra",
    stack: str = "test",
    config: Mapping[str, Any] | None = None,
    secret_keys: Iterable[str] = (),
    preview: bool = True,
    outputs_for: Callable[[str, str, dict[str, Any]], Mapping[str, Any] | None] | None = None,
    call_for: Callable[[str, dict[str, Any]], Mapping[str, Any] | None] | None = None,
    strict: bool = True,
    organization: str = "organization",
    root_directory: str | None = None,
    raise_program_errors: bool = True,
) -> Recording:
    """Run ``program`` under a recording mock runtime and return what it registered.

    :param program: called with no arguments inside the stack (it may return an awaitable).
    :param config: stack config, ``{"spirit:cloud": "aws", "aws:region": "eu-west-1"}``; a key without a
        namespace gets the project's (``"cloud"`` -> ``"spirit-infra:cloud"``); non-string values are
        rendered as Pulumi config strings (JSON for lists and dicts, ``true``/``false`` for bools).
    :param secret_keys: config keys to mark secret (``pulumi.Config.get_secret`` et al.).
    :param preview: ``pulumi.runtime.is_dry_run()`` during the run.
    :param outputs_for: ``(type, name, inputs) -> dict`` of extra output state for a custom resource
        (merged over inputs and :func:`default_outputs`; an ``"id"`` key sets the physical id).
    :param call_for: ``(token, args) -> dict`` result for a provider function; ``None`` falls back to
        :func:`default_call_results`, then ``{}``.
    :param strict: raise :class:`EngineError` for engine refusals; ``False`` lists them in ``errors``.
    :param raise_program_errors: ``False``: an exception the program raises is returned in
        :attr:`Recording.program_error`, with everything registered before it.
    :raises EngineError: duplicate URNs or resources created inside ``apply`` (with ``strict``).
    :raises Exception: whatever the program raised, unchanged.
    """
    if threading.current_thread().name == _THREAD_NAME:
        raise RuntimeError("spirit_infra.testing.run() cannot be called from inside a program it is running")
    cfg: dict[str, str] = {}
    for key, value in (config or {}).items():
        cfg[key if ":" in key else f"{project}:{key}"] = _config_value(value)
    secrets = [k if ":" in k else f"{project}:{k}" for k in secret_keys]
    region = cfg.get("aws:region", "us-east-1")
    gcp_project = cfg.get("gcp:project", "mock-project")
    monitor = RecordingMonitor(_Mocks(outputs_for, call_for, region, gcp_project))
    engine = _Engine()
    program_error: list[BaseException] = []
    runtime_error: list[BaseException] = []

    def guarded_program():
        try:
            result = program()
        except BaseException as exc:  # noqa: BLE001 - re-raised unchanged by run()
            program_error.append(exc)
            return None
        if asyncio.isfuture(result) or asyncio.iscoroutine(result):
            async def awaited():
                try:
                    await result
                except BaseException as exc:  # noqa: BLE001 - re-raised unchanged by run()
                    program_error.append(exc)
            return awaited()
        return None

    def body():
        loop = asyncio.new_event_loop()
        loop.set_exception_handler(lambda _loop, _context: None)  # orphaned-task noise: never printed
        asyncio.set_event_loop(loop)
        try:
            settings = _pmocks.MockSettings(
                monitor=monitor,
                monitor_features=set(monitor.GetDeploymentInfo(None).supportedFeatures),
                engine=engine,
                project=project,
                stack=stack,
                dry_run=preview,
                organization=organization,
                root_directory=root_directory if root_directory is not None else os.getcwd(),
                callbacks=None,
                outputs=set(),
                lock=threading.Lock(),
                legacy_apply_enabled=False,
                parallel=None,
                package_refs={},
                base_providers_by_ref={},
            )
            _psettings.configure(settings)
            _psettings.ROOT.set(None)
            _pconfig.set_all_config(dict(cfg), secrets)
            try:
                loop.run_until_complete(_pstack.run_in_stack(guarded_program))
            except BaseException as exc:  # noqa: BLE001 - re-raised unchanged by run()
                runtime_error.append(exc)
        finally:
            try:
                pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
                for task in pending:
                    task.cancel()
                if pending:
                    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.run_until_complete(loop.shutdown_default_executor())
            finally:
                asyncio.set_event_loop(None)
                loop.close()

    def thread_main():
        try:
            contextvars.Context().run(body)
        except BaseException as exc:  # noqa: BLE001 - re-raised by run()
            runtime_error.append(exc)

    with _RUN_LOCK:
        with settings_left_as_found(), apply_watch():
            worker = threading.Thread(target=thread_main, name=_THREAD_NAME, daemon=True)
            worker.start()
            worker.join()

    if program_error and raise_program_errors:
        raise program_error[0]
    recording = monitor.recording(engine.messages)
    if program_error:
        recording.program_error = program_error[0]
        return recording
    if runtime_error:
        raise runtime_error[0]
    if recording.errors and strict:
        raise EngineError(recording.errors, recording)
    return recording
