"""A recording Pulumi engine for the component package's tests: the Engine and ResourceMonitor services over
gRPC, as the CLI's engine hosts them, and the package started as the engine starts a plugin.

- :class:`Engine` serves ``pulumirpc.Engine`` (logs, the root stack resource) and ``pulumirpc.ResourceMonitor``
  (feature probes, RegisterResource, RegisterResourceOutputs, Invoke) on one loopback port, recording every
  registration. A registered resource gets back what the mock runtime gives it (:mod:`spirit_infra.testing`'s
  ``default_outputs`` and ``<name>-id``), so the two recordings can be compared value for value.
- :func:`start_package` runs ``python components/ <engine address>`` and reads the port it prints.
"""

import subprocess
import sys
import threading
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import (
    engine_pb2,
    engine_pb2_grpc,
    provider_pb2_grpc,
    resource_pb2,
    resource_pb2_grpc,
)

from spirit_infra import testing

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "components"
PROJECT, STACK = "spirit-infra", "test"
STACK_URN = f"urn:pulumi:{STACK}::{PROJECT}::pulumi:pulumi:Stack::{PROJECT}-{STACK}"
_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
_SIG = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"


def plain(value: Any) -> Any:
    """A JSON-decoded Struct value as plain JSON: integral floats as ints, unknowns as ``testing.COMPUTED``,
    secrets unwrapped (the same reading the mock runtime's recording makes)."""
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if value == _UNKNOWN:
        return testing.COMPUTED
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        if value.get(_SIG) == _SECRET_SIG:
            return plain(value.get("value"))
        return {k: plain(v) for k, v in value.items() if k != _SIG}
    return value


def struct_to_plain(struct: struct_pb2.Struct) -> dict[str, Any]:
    return {k: v for k, v in sorted(plain(json_format.MessageToDict(struct)).items()) if v is not None}


class Engine(engine_pb2_grpc.EngineServicer, resource_pb2_grpc.ResourceMonitorServicer):
    """Engine + ResourceMonitor over gRPC, recording what the package registers."""

    #: features this monitor reports. outputValues off, as the mock runtime does (plain values in the
    #: recordings); aliasSpecs on, as every current engine (the SDK sends aliases as specs; the engine derives
    #: the URNs, its children's included).
    FEATURES = {"secrets": True, "resourceReferences": False, "outputValues": False, "deletedWith": True,
                "aliasSpecs": True, "transforms": False, "invokeTransforms": False, "parameterization": False,
                "resourceHooks": False}

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.registered: list[dict[str, Any]] = []
        self.outputs: dict[str, dict[str, Any]] = {}
        self.logs: list[str] = []
        self.root = STACK_URN
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        engine_pb2_grpc.add_EngineServicer_to_server(self, self.server)
        resource_pb2_grpc.add_ResourceMonitorServicer_to_server(self, self.server)
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.address = f"127.0.0.1:{self.port}"

    def __enter__(self) -> "Engine":
        self.server.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.stop(grace=None)

    def reset(self) -> None:
        with self.lock:
            self.registered.clear()
            self.outputs.clear()
            self.logs.clear()

    # ---- Engine ----
    def Log(self, request, context):
        with self.lock:
            self.logs.append(request.message)
        return empty_pb2.Empty()

    def GetRootResource(self, request, context):
        return engine_pb2.GetRootResourceResponse(urn=self.root)

    def SetRootResource(self, request, context):
        return engine_pb2.SetRootResourceResponse()

    # ---- ResourceMonitor ----
    def GetDeploymentInfo(self, request, context):
        # an engine older than GetDeploymentInfo: the SDK probes each feature with SupportsFeature
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "GetDeploymentInfo")

    def SupportsFeature(self, request, context):
        return resource_pb2.SupportsFeatureResponse(hasSupport=self.FEATURES.get(request.id, False))

    def RegisterResource(self, request, context):
        qualified = request.type
        if request.parent and request.parent.split("::")[2] != "pulumi:pulumi:Stack":
            qualified = f"{request.parent.split('::')[2]}${request.type}"
        urn = f"urn:pulumi:{STACK}::{PROJECT}::{qualified}::{request.name}"
        inputs = struct_to_plain(request.object)
        with self.lock:
            self.registered.append({"urn": urn, "type": request.type, "name": request.name,
                                    "parent": request.parent or None, "custom": request.custom, "inputs": inputs,
                                    "aliases": [json_format.MessageToDict(a) for a in request.aliases]})
        state, rid = dict(inputs), ""
        if request.custom:
            state.update(testing.default_outputs(request.type, request.name, inputs))
            rid = str(state.pop("id", None) or f"{request.name}-id")
        obj = struct_pb2.Struct()
        obj.update({k: v for k, v in state.items() if v is not testing.COMPUTED})
        return resource_pb2.RegisterResourceResponse(urn=urn, id=rid, object=obj)

    def RegisterResourceOutputs(self, request, context):
        with self.lock:
            self.outputs[request.urn] = struct_to_plain(request.outputs)
        return empty_pb2.Empty()

    def Invoke(self, request, context):
        result = testing.default_call_results(request.tok, json_format.MessageToDict(request.args)) or {}
        ret = struct_pb2.Struct()
        ret.update(result)
        return resource_pb2.InvokeResponse(**{"return": ret})

    def SignalAndWaitForShutdown(self, request, context):
        return empty_pb2.Empty()


class Package:
    """The component package running as a plugin: ``python components/ <engine>``, and a provider stub."""

    def __init__(self, engine: Engine) -> None:
        self.proc = subprocess.Popen([sys.executable, str(PACKAGE), engine.address], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, cwd=ROOT, text=True)
        line = self.proc.stdout.readline()  # the engine reads the port the plugin prints first
        if not line.strip().isdigit():
            self.proc.kill()
            raise AssertionError(f"the package printed {line!r}, not a port; stderr: {self.proc.stderr.read()}")
        self.port = int(line)
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        self.stub = provider_pb2_grpc.ResourceProviderStub(self.channel)

    def close(self) -> None:
        self.channel.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - a hung plugin
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()
