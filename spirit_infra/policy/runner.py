"""The policy pack's offline runner: start a Python CrossGuard pack the way the Pulumi CLI does and drive it
over the analyzer protocol.

``spirit-infra preview --policy-pack DIR`` runs on it (through :mod:`.offline`), and so do the pack's tests:
no Pulumi CLI, no cloud account, no network beyond 127.0.0.1.

What the CLI does, and what :class:`PolicyPackServer` imitates:

1. Reads ``PulumiPolicy.yaml`` in the pack directory. A runtime other than ``python`` is refused. The
   ``virtualenv`` runtime option picks the interpreter (relative to the pack directory), as the
   ``pulumi-analyzer-policy-python`` shim does (it puts ``<venv>/bin`` first on PATH and unsets PYTHONHOME).
2. Starts ``python -u -m pulumi.policy <engine-address> .`` with the pack directory as working directory
   (``pulumi.policy`` runs ``./__main__.py``, which builds the ``PolicyPack`` and starts serving). The
   environment is the caller's plus ``PULUMI_CONFIG`` (stack config as JSON), ``PULUMI_PROJECT``,
   ``PULUMI_STACK`` and ``PULUMI_DRY_RUN`` when given. Inherited values of those variables are removed so a
   test never depends on the shell it runs in.
3. Reads the first stdout line: it must be the port, digits only (the CLI fails with "wrote a non-numeric port
   to stdout" otherwise, so a pack that prints while importing is caught here too). Later stdout is drained
   and kept, as the CLI keeps it for its logs.
4. ``GetAnalyzerInfo``, then ``Configure`` with the *reconciled* config: every policy gets an enforcement level
   (given > pack initial config > policy default) and its schema defaults, overlaid with the given properties
   (``"all"`` sets every level), validated against each policy's config schema. The CLI always sends this,
   so a pack may rely on schema defaults arriving through ``Configure``.
5. ``Analyze`` per resource, ``AnalyzeStack`` at the end.

The engine address is only an argument: a Python pack never dials the engine (``pulumi.runtime.Settings`` is
built without an engine address, so ``pulumi.log`` falls back to stderr). The default ``127.0.0.1:1`` is
therefore a harmless placeholder.

Property values must be JSON-compatible (dict with str keys, list/tuple, str, bool, int within +-2**53, finite
float, None). :data:`UNKNOWN` stands for a value not known during preview and :class:`Secret` wraps a secret,
encoded as the CLI encodes them. Numbers reach the pack as floats (protobuf ``Struct`` has one number type):
``5060`` arrives as ``5060.0``. Keys starting with ``__`` are dropped, as the CLI drops internal keys.

Example::

    with PolicyPackServer("policypack") as pack:
        assert {p["name"] for p in pack.info()["policies"]} >= {"no-open-sip"}
        violations = pack.analyze({"type": "aws:ec2/securityGroup:SecurityGroup", "name": "sg",
                                   "properties": {"ingress": [...]}})
"""

from __future__ import annotations

import json
import math
import os
import queue
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import SpiritError

__all__ = [
    "ENFORCEMENT_LEVELS",
    "UNKNOWN",
    "PolicyConfigError",
    "PolicyPackError",
    "PolicyPackServer",
    "Secret",
    "Violation",
    "reconcile_config",
]

#: Enforcement levels the CLI accepts in policy config, in wire order of ``pulumirpc.EnforcementLevel``.
ENFORCEMENT_LEVELS = ("advisory", "mandatory", "disabled", "remediate")

_SEVERITIES = {0: "", 1: "low", 2: "medium", 3: "high", 4: "critical"}
_POLICY_TYPES = {0: "", 1: "resource", 2: "stack"}

# Sentinels of the Pulumi property wire format (sdk/go/common/resource/properties.go).
_UNKNOWN_STRING_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
_SPECIAL_SIG_KEY = "4dabf18193072939515e22adb298388d"
_SPECIAL_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
_MAX_SAFE_INT = 2**53

# Variables the CLI sets for the pack; inherited copies are removed so runs do not depend on the caller's shell.
_MANAGED_ENV = (
    "PULUMI_CONFIG",
    "PULUMI_CONFIG_SECRET_KEYS",
    "PULUMI_PROJECT",
    "PULUMI_STACK",
    "PULUMI_DRY_RUN",
    "PULUMI_ORGANIZATION",
)

_STDERR_TAIL = 4000


class PolicyPackError(SpiritError):
    """The pack could not be started, died, or an analyzer RPC failed. ``stderr`` holds the pack's stderr."""

    def __init__(self, message: str, stderr: str = ""):
        self.stderr = stderr
        tail = stderr[-_STDERR_TAIL:].rstrip()
        super().__init__(f"{message}\n--- policy pack stderr ---\n{tail}" if tail else message)


class PolicyConfigError(PolicyPackError):
    """The policy config is invalid (bad level, wrong shape, or schema validation errors in ``errors``)."""

    def __init__(self, errors: Sequence[str]):
        self.errors = list(errors)
        super().__init__("invalid policy pack config: " + "; ".join(self.errors))


class _Unknown:
    """A property value not known yet (preview). Marshalled as the CLI marshals computed values."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()


@dataclass(frozen=True)
class Secret:
    """A secret property value; the pack sees the plain value, as with ``pulumi preview``."""

    value: Any


@dataclass(frozen=True)
class Violation:
    """One ``AnalyzeDiagnostic`` the pack reported.

    ``message`` is what the pack sent: the policy description, then a newline and the policy's own message.
    ``urn`` is the analysed resource's for :meth:`PolicyPackServer.analyze` (the engine fills it in), and empty
    for a stack policy that did not name a resource. ``policy_pack_version`` is the version from
    ``PulumiPolicy.yaml`` when it has one, as the CLI reports it.
    """

    policy_name: str
    description: str
    message: str
    urn: str
    enforcement_level: str
    policy_pack_name: str = ""
    policy_pack_version: str = ""
    severity: str = ""


# --------------------------------------------------------------------------------------------------------------
# Property marshalling (pure)


def _to_json(value: Any, path: str) -> Any:
    if value is UNKNOWN:
        return _UNKNOWN_STRING_VALUE
    if isinstance(value, Secret):
        return {_SPECIAL_SIG_KEY: _SPECIAL_SECRET_SIG, "value": _to_json(value.value, path)}
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, int):
        if abs(value) > _MAX_SAFE_INT:
            raise TypeError(f"{path}: integer {value} does not fit a protobuf number (a double) exactly")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TypeError(f"{path}: {value} is not a JSON number")
        return value
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"{path}: key {k!r} is not a string")
            if k.startswith("__"):
                continue  # internal keys: the CLI marshals with SkipInternalKeys
            out[k] = _to_json(v, f"{path}.{k}")
        return out
    if isinstance(value, (list, tuple)):
        return [_to_json(v, f"{path}[{i}]") for i, v in enumerate(value)]
    raise TypeError(f"{path}: {type(value).__name__} is not JSON-compatible")


def _to_struct(props: Mapping[str, Any] | None, path: str = "properties"):
    from google.protobuf import struct_pb2

    struct = struct_pb2.Struct()
    if props:
        if not isinstance(props, Mapping):
            raise TypeError(f"{path}: expected a mapping, got {type(props).__name__}")
        struct.update(_to_json(props, path))
    return struct


def _from_value(value: Any) -> Any:
    """JSON from a Struct, with integral floats turned back into ints (Struct has only doubles)."""
    if isinstance(value, float) and value.is_integer() and abs(value) <= _MAX_SAFE_INT:
        return int(value)
    if isinstance(value, dict):
        return {k: _from_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_value(v) for v in value]
    return value


def _from_struct(struct) -> dict[str, Any]:
    from google.protobuf import json_format

    return _from_value(json_format.MessageToDict(struct))


# --------------------------------------------------------------------------------------------------------------
# Config reconciliation (pure): pulumi/pkg/resource/analyzer/config.go


def _parse_config(config: Mapping[str, Any] | None) -> dict[str, tuple[str | None, dict[str, Any]]]:
    """Policy config as the CLI reads a ``--policy-pack-config`` file: name -> level string or object."""
    errors: list[str] = []
    out: dict[str, tuple[str | None, dict[str, Any]]] = {}
    for name, val in (config or {}).items():
        if isinstance(val, str):
            if val not in ENFORCEMENT_LEVELS:
                errors.append(f"{name}: {val!r} is not a valid enforcement level")
                continue
            out[name] = (val, {})
        elif isinstance(val, Mapping):
            props = dict(val)
            level = props.pop("enforcementLevel", None)
            if level is not None and level not in ENFORCEMENT_LEVELS:
                errors.append(f"{name}: {level!r} is not a valid enforcement level")
                continue
            if level is None and not props:
                continue  # the CLI skips empty configs
            out[name] = (level, props)
        else:
            errors.append(f"{name}: {val!r} is not a valid value; must be a string or object")
    if errors:
        raise PolicyConfigError(errors)
    return out


def _apply(result: dict[str, dict[str, Any]], given: Mapping[str, tuple[str | None, dict[str, Any]]]) -> None:
    everything = given.get("all")
    if everything is not None and everything[0] is not None:
        for entry in result.values():
            entry["enforcementLevel"] = everything[0]
    for name, (level, props) in given.items():
        entry = result.setdefault(name, {"enforcementLevel": None, "properties": {}})
        if level is not None:
            entry["enforcementLevel"] = level
        entry["properties"].update(props)


def reconcile_config(
    info: Mapping[str, Any], config: Mapping[str, Any] | None = None
) -> dict[str, dict[str, Any]]:
    """The config the CLI sends in ``Configure``: ``{policy: {"enforcementLevel": str, "properties": {...}}}``.

    ``info`` is :meth:`PolicyPackServer.info`; ``config`` uses the CLI's policy-config file shape
    (``{"no-open-sip": "disabled"}`` or ``{"no-open-sip": {"enforcementLevel": "advisory", "sipPort": 5061}}``).
    Raises :class:`PolicyConfigError` with the schema validation errors, as the CLI refuses to run.
    """
    import jsonschema

    result: dict[str, dict[str, Any]] = {}
    for policy in info["policies"]:
        schema = policy.get("config_schema") or {}
        defaults = {
            k: v["default"]
            for k, v in (schema.get("properties") or {}).items()
            if isinstance(v, Mapping) and "default" in v
        }
        result[policy["name"]] = {"enforcementLevel": policy["enforcement_level"], "properties": defaults}

    initial = {}
    for name, val in (info.get("initial_config") or {}).items():
        initial[name] = (val.get("enforcementLevel"), dict(val.get("properties") or {}))
    _apply(result, initial)
    _apply(result, _parse_config(config))

    errors: list[str] = []
    for policy in info["policies"]:
        schema = policy.get("config_schema")
        if not schema:
            continue
        full = {"type": "object"}
        if schema.get("properties"):
            full["properties"] = schema["properties"]
        if schema.get("required"):
            full["required"] = schema["required"]
        props = result[policy["name"]]["properties"]
        validator = jsonschema.Draft7Validator(full)
        for err in sorted(validator.iter_errors(props), key=lambda e: (list(e.path), e.message)):
            where = ".".join(str(p) for p in err.path)
            errors.append(f"{policy['name']}: {where + ': ' if where else ''}{err.message}")
    if errors:
        raise PolicyConfigError(errors)
    return result


# --------------------------------------------------------------------------------------------------------------
# PulumiPolicy.yaml


def _load_pack_project(pack_dir: Path) -> dict[str, Any]:
    path = pack_dir / "PulumiPolicy.yaml"
    if not path.is_file():
        raise PolicyPackError(f"{path}: not found (not a policy pack directory)")
    from ..errors import InputError
    from ..yamlsrc import load_yaml

    try:
        data = load_yaml(path).data or {}  # bounded (depth, aliases) like every file spirit-infra reads
    except InputError as exc:
        raise PolicyPackError(f"invalid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise PolicyPackError(f"{path}: expected a mapping")
    runtime = data.get("runtime")
    if isinstance(runtime, Mapping):
        name, options = runtime.get("name"), dict(runtime.get("options") or {})
    else:
        name, options = runtime, {}
    if name != "python":
        raise PolicyPackError(f"{path}: runtime is {name!r}; this runner runs Python packs only")
    version = data.get("version")
    return {"options": options, "version": "" if version is None else str(version)}


# --------------------------------------------------------------------------------------------------------------
# The server


class PolicyPackServer:
    """A running policy pack. Use as a context manager; every wait is bounded by ``timeout`` seconds.

    ``config`` is the policy config sent at start (see :func:`reconcile_config`); ``stack_config`` maps
    ``"project:key"`` to string values and becomes ``PULUMI_CONFIG``; ``project``/``stack``/``dry_run`` become
    ``PULUMI_PROJECT``/``PULUMI_STACK``/``PULUMI_DRY_RUN`` (only when project and stack are both given) and
    build default URNs. ``env`` adds variables for the pack process.
    """

    def __init__(
        self,
        pack_dir: str | os.PathLike[str],
        python: str | None = None,
        timeout: float = 30.0,
        *,
        config: Mapping[str, Any] | None = None,
        stack_config: Mapping[str, str] | None = None,
        project: str | None = None,
        stack: str | None = None,
        dry_run: bool = True,
        engine_address: str = "127.0.0.1:1",
        env: Mapping[str, str] | None = None,
    ):
        self.pack_dir = Path(pack_dir).resolve()
        self.timeout = float(timeout)
        self._project_file = _load_pack_project(self.pack_dir)
        self._venv: Path | None = None
        self.python = python or self._python_from_options() or sys.executable
        self._initial_policy_config = config
        self._stack_config = dict(stack_config) if stack_config else None
        self.project = project
        self.stack = stack
        self.dry_run = dry_run
        self.engine_address = engine_address
        self._extra_env = dict(env or {})
        self.port: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr_file: Any = None
        self._stdout_lines: list[str] = []
        self._port_queue: queue.Queue[str | None] = queue.Queue()
        self._reader: threading.Thread | None = None
        self._channel: Any = None
        self._stub: Any = None
        self._info: dict[str, Any] | None = None
        self.applied_config: dict[str, dict[str, Any]] | None = None
        self._saved_stderr = ""

    # -- process ------------------------------------------------------------------------------------------

    def _python_from_options(self) -> str | None:
        venv = self._project_file["options"].get("virtualenv")
        if not venv:
            return None
        venv_path = Path(venv) if os.path.isabs(venv) else self.pack_dir / venv
        candidate = venv_path / "bin" / "python"
        if not candidate.exists():
            raise PolicyPackError(
                f"the 'virtualenv' option in PulumiPolicy.yaml is set to {venv!r}, but {venv_path} "
                "doesn't appear to be a virtual environment"
            )
        self._venv = venv_path
        return str(candidate)

    @property
    def command(self) -> list[str]:
        """The command line the pack runs with (cwd is the pack directory)."""
        return [self.python, "-u", "-m", "pulumi.policy", self.engine_address, "."]

    def _environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _MANAGED_ENV}
        venv = self._venv
        if venv is not None:
            env["VIRTUAL_ENV"] = str(venv)
            env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
            env.pop("PYTHONHOME", None)
        if self._stack_config:
            env["PULUMI_CONFIG"] = json.dumps(self._stack_config, sort_keys=True)
        if self.project and self.stack:
            env["PULUMI_PROJECT"] = self.project
            env["PULUMI_STACK"] = self.stack
            env["PULUMI_DRY_RUN"] = "true" if self.dry_run else "false"
        env.update(self._extra_env)
        return env

    def _read_stdout(self, stream) -> None:
        first = True
        for raw in iter(stream.readline, b""):  # ends at EOF, when the process exits
            line = raw.decode("utf-8", "replace")
            if first:
                self._port_queue.put(line)
                first = False
            else:
                self._stdout_lines.append(line)
        if first:
            self._port_queue.put(None)
        stream.close()

    def start(self) -> PolicyPackServer:
        """Start the pack, connect, fetch its info and send the reconciled config (as the CLI does)."""
        if self._proc is not None:
            raise PolicyPackError("policy pack already started")
        self._stderr_file = tempfile.TemporaryFile()
        try:
            self._proc = subprocess.Popen(
                self.command,
                cwd=self.pack_dir,
                env=self._environment(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=self._stderr_file,
                start_new_session=True,
            )
        except OSError as exc:
            self._stderr_file.close()
            self._stderr_file = None
            raise PolicyPackError(f"could not start {self.command[0]}: {exc}") from exc
        try:
            self._reader = threading.Thread(
                target=self._read_stdout,
                args=(self._proc.stdout,),
                name=f"policy-pack-stdout-{self._proc.pid}",
                daemon=True,
            )
            self._reader.start()
            self.port = self._wait_for_port()
            self._connect()
            self._info = self.info()
            self.configure(self._initial_policy_config)
        except BaseException:
            self.close()
            raise
        return self

    def _wait_for_port(self) -> int:
        try:
            line = self._port_queue.get(timeout=self.timeout)
        except queue.Empty:
            raise PolicyPackError(
                f"policy pack did not print its port within {self.timeout:g}s", self.stderr()
            ) from None
        if line is None:
            try:
                code: int | str = self._proc.wait(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                code = "still running, stdout closed"
            raise PolicyPackError(
                f"policy pack exited (status {code}) before printing its port", self.stderr()
            )
        text = line.rstrip("\n")
        if not re.fullmatch(r"[0-9]+", text):
            raise PolicyPackError(f"policy pack wrote a non-numeric port to stdout ({text!r})", self.stderr())
        return int(text)

    def _connect(self) -> None:
        import grpc
        from pulumi.runtime.proto import analyzer_pb2_grpc

        self._channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        try:
            grpc.channel_ready_future(self._channel).result(timeout=self.timeout)
        except grpc.FutureTimeoutError:
            raise PolicyPackError(
                f"could not connect to the policy pack on 127.0.0.1:{self.port}", self.stderr()
            ) from None
        self._stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)

    def stderr(self) -> str:
        """Everything the pack wrote to stderr so far."""
        f = self._stderr_file
        if f is None or f.closed:
            return self._saved_stderr
        pos = f.tell()
        try:
            f.seek(0)
            return f.read().decode("utf-8", "replace")
        finally:
            f.seek(pos)

    def stdout(self) -> str:
        """What the pack wrote to stdout after the port line."""
        return "".join(self._stdout_lines)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def close(self, grace: float = 5.0) -> int | None:
        """Stop the pack: SIGINT (it stops its server and exits), SIGKILL after ``grace`` s. Returns the status."""
        if self._channel is not None:
            self._channel.close()
            self._channel = None
            self._stub = None
        code = None
        proc = self._proc
        if proc is not None:
            if proc.poll() is None:
                try:
                    proc.send_signal(signal.SIGINT)
                    code = proc.wait(timeout=grace)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    code = proc.wait(timeout=grace)
                except ProcessLookupError:
                    code = proc.wait(timeout=grace)
            else:
                code = proc.returncode
        if self._reader is not None:
            self._reader.join(timeout=grace)
        if self._stderr_file is not None:
            self._saved_stderr = self.stderr()
            self._stderr_file.close()
        return code

    def __enter__(self) -> PolicyPackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- RPCs ----------------------------------------------------------------------------------------------

    def _call(self, method: str, request: Any) -> Any:
        import grpc

        if self._stub is None:
            raise PolicyPackError("policy pack is not running (use it as a context manager or call start())")
        try:
            return getattr(self._stub, method)(request, timeout=self.timeout)
        except grpc.RpcError as exc:
            code = exc.code() if hasattr(exc, "code") else None
            details = exc.details() if hasattr(exc, "details") else str(exc)
            deadline = time.monotonic() + 1.0
            while (
                self._proc.poll() is None
                and code == grpc.StatusCode.UNAVAILABLE
                and time.monotonic() < deadline
            ):
                time.sleep(0.02)  # let a dying pack finish dying, so the error says so
            state = (
                f"; pack exited with status {self._proc.returncode}" if self._proc.poll() is not None else ""
            )
            raise PolicyPackError(f"{method} failed: {code}: {details}{state}", self.stderr()) from None

    def plugin_info(self) -> dict[str, str]:
        """``GetPluginInfo``: ``{"version": <pulumi-policy SDK version>}``."""
        from google.protobuf import empty_pb2

        return {"version": self._call("GetPluginInfo", empty_pb2.Empty()).version}

    def info(self) -> dict[str, Any]:
        """``GetAnalyzerInfo`` as a dict.

        ``{"name", "version", "display_name", "description", "supports_config", "initial_config":
        {policy: {"enforcementLevel"?, "properties"}}, "policies": [{"name", "display_name", "description",
        "enforcement_level", "policy_type" ("resource"|"stack"), "severity", "config_schema":
        {"properties", "required"} or None}]}``. ``version`` is PulumiPolicy.yaml's when set, as in the CLI.
        """
        from google.protobuf import empty_pb2

        resp = self._call("GetAnalyzerInfo", empty_pb2.Empty())
        policies = []
        for p in resp.policies:
            schema = None
            if p.HasField("configSchema"):
                schema = {
                    "properties": _from_struct(p.configSchema.properties),
                    "required": list(p.configSchema.required),
                }
            policies.append(
                {
                    "name": p.name,
                    "display_name": p.displayName,
                    "description": p.description,
                    "enforcement_level": ENFORCEMENT_LEVELS[p.enforcementLevel],
                    "policy_type": _POLICY_TYPES.get(p.policy_type, ""),
                    "severity": _SEVERITIES.get(p.severity, ""),
                    "config_schema": schema,
                }
            )
        initial = {}
        for name, cfg in resp.initialConfig.items():
            entry: dict[str, Any] = {"properties": _from_struct(cfg.properties)}
            entry["enforcementLevel"] = ENFORCEMENT_LEVELS[cfg.enforcementLevel]
            initial[name] = entry
        return {
            "name": resp.name,
            "version": self._project_file["version"] or resp.version,
            "display_name": resp.displayName,
            "description": resp.description,
            "supports_config": resp.supportsConfig,
            "initial_config": initial,
            "policies": policies,
        }

    def configure(self, config: Mapping[str, Any] | None = None) -> dict[str, dict[str, Any]]:
        """Reconcile ``config`` with the pack's defaults (:func:`reconcile_config`) and send ``Configure``.

        Replaces any earlier config (``configure()`` restores the defaults). Returns what was sent.
        """
        from pulumi.runtime.proto import analyzer_pb2

        info = self._info if self._info is not None else self.info()
        if not info["supports_config"]:
            if config:
                raise PolicyConfigError([f"policy pack {info['name']} does not support config"])
            self.applied_config = {}
            return {}
        reconciled = reconcile_config(info, config)
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        for name, entry in reconciled.items():
            level = entry["enforcementLevel"] or "advisory"
            request.policyConfig[name].enforcementLevel = ENFORCEMENT_LEVELS.index(level)
            request.policyConfig[name].properties.CopyFrom(_to_struct(entry["properties"], f"config.{name}"))
        self._call("Configure", request)
        self.applied_config = reconciled
        return reconciled

    def configure_stack(
        self,
        *,
        tags: Mapping[str, str] | None = None,
        config: Mapping[str, str] | None = None,
        secret_keys: Sequence[str] = (),
    ) -> None:
        """``ConfigureStack`` (newer CLIs send it before analysis): stack identity, stack config and tags."""
        from pulumi.runtime.proto import analyzer_pb2

        request = analyzer_pb2.AnalyzerStackConfigureRequest(
            stack=self.stack or "",
            project=self.project or "",
            dry_run=self.dry_run,
            config_secret_keys=list(secret_keys),
        )
        for k, v in (config or {}).items():
            request.config[k] = v
        for k, v in (tags or {}).items():
            request.tags[k] = v
        self._call("ConfigureStack", request)

    def _urn(self, resource: Mapping[str, Any]) -> str:
        if resource.get("urn"):
            return resource["urn"]
        return (
            f"urn:pulumi:{self.stack or 'test'}::{self.project or 'test'}::"
            f"{resource['type']}::{resource['name']}"
        )

    def _fill(self, msg: Any, resource: Mapping[str, Any]) -> None:
        from pulumi.runtime.proto import analyzer_pb2

        unknown = set(resource) - {
            "type",
            "name",
            "urn",
            "properties",
            "options",
            "provider",
            "parent",
            "dependencies",
            "propertyDependencies",
        }
        if unknown:
            raise TypeError(f"resource {resource.get('name')!r}: unknown keys {sorted(unknown)}")
        for key in ("type", "name"):
            if not isinstance(resource.get(key), str) or not resource[key]:
                raise TypeError(f"resource needs a non-empty string {key!r}: {dict(resource)!r}")
        msg.type = resource["type"]
        msg.name = resource["name"]
        msg.urn = self._urn(resource)
        msg.properties.CopyFrom(_to_struct(resource.get("properties"), f"{resource['name']}.properties"))
        opts = dict(resource.get("options") or {})
        o = msg.options
        o.protect = bool(opts.pop("protect", False))
        o.ignoreChanges.extend(opts.pop("ignoreChanges", []))
        dbr = opts.pop("deleteBeforeReplace", None)
        o.deleteBeforeReplace = bool(dbr)
        o.deleteBeforeReplaceDefined = dbr is not None
        o.additionalSecretOutputs.extend(opts.pop("additionalSecretOutputs", []))
        o.aliases.extend(opts.pop("aliases", []))
        timeouts = opts.pop("customTimeouts", {}) or {}
        # The CLI always sets customTimeouts (zero values when none were given).
        o.customTimeouts.CopyFrom(
            analyzer_pb2.AnalyzerResourceOptions.CustomTimeouts(
                create=float(timeouts.get("create", 0)),
                update=float(timeouts.get("update", 0)),
                delete=float(timeouts.get("delete", 0)),
            )
        )
        o.parent = opts.pop("parent", "") or ""
        if opts:
            raise TypeError(f"resource {resource['name']!r}: unknown options {sorted(opts)}")
        provider = resource.get("provider")
        if provider:
            msg.provider.type = provider["type"]
            msg.provider.name = provider["name"]
            msg.provider.urn = provider.get("urn") or self._urn(provider)
            msg.provider.properties.CopyFrom(_to_struct(provider.get("properties"), "provider.properties"))

    def _violations(self, resp: Any, resource_urn: str = "") -> list[Violation]:
        version = self._project_file["version"]
        return [
            Violation(
                policy_name=d.policyName,
                description=d.description,
                message=d.message,
                urn=d.urn or resource_urn,
                enforcement_level=ENFORCEMENT_LEVELS[d.enforcementLevel],
                policy_pack_name=d.policyPackName,
                policy_pack_version=version or d.policyPackVersion,
                severity=_SEVERITIES.get(d.severity, ""),
            )
            for d in resp.diagnostics
        ]

    def analyze(self, resource: Mapping[str, Any]) -> list[Violation]:
        """``Analyze`` one resource: ``{"type", "name", "urn"?, "properties"?, "options"?, "provider"?}``.

        ``options`` keys: protect, ignoreChanges, deleteBeforeReplace, additionalSecretOutputs, aliases,
        customTimeouts ({create, update, delete} seconds), parent. ``provider``: {type, name, urn?, properties?}.
        A missing urn is built from project, stack, type and name. A violation without a URN gets the analysed
        resource's URN, as the engine reports it (a resource policy's ``report_violation(urn=...)`` is ignored).
        """
        from pulumi.runtime.proto import analyzer_pb2

        request = analyzer_pb2.AnalyzeRequest()
        for key in ("parent", "dependencies", "propertyDependencies"):
            if key in resource:
                raise TypeError(f"{key!r} belongs to analyze_stack resources, not analyze")
        self._fill(request, resource)
        return self._violations(self._call("Analyze", request), request.urn)

    def analyze_stack(self, resources: Sequence[Mapping[str, Any]]) -> list[Violation]:
        """``AnalyzeStack`` over all resources; each may also carry ``parent`` (URN), ``dependencies`` (URNs) and
        ``propertyDependencies`` ({property: [URN, ...]})."""
        from pulumi.runtime.proto import analyzer_pb2

        request = analyzer_pb2.AnalyzeStackRequest()
        for resource in resources:
            r = request.resources.add()
            self._fill(r, resource)
            r.parent = resource.get("parent", "") or ""
            r.dependencies.extend(resource.get("dependencies", []))
            for prop, urns in (resource.get("propertyDependencies") or {}).items():
                if urns:  # the CLI skips properties without dependencies
                    r.propertyDependencies[prop].urns.extend(urns)
        return self._violations(self._call("AnalyzeStack", request))
