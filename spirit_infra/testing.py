"""The library's own test double: run a Pulumi program under a recording mock runtime.

``spirit_infra.testing`` is what every component test and the offline preview use (httpx ships
``httpx.MockTransport`` in the same spirit)::

    from spirit_infra import testing

    rec = testing.run(lambda: SpiritFirewall("edge", args), config={"spirit:cloud": "aws"})
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
import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import config as _pconfig
from pulumi.runtime import mocks as _pmocks
from pulumi.runtime import settings as _psettings
from pulumi.runtime import stack as _pstack
from pulumi.runtime.proto import engine_pb2

from .errors import SpiritError

__all__ = [
    "COMPUTED",
    "EngineError",
    "RecordedInvoke",
    "RecordedResource",
    "Recording",
    "default_call_results",
    "default_outputs",
    "physical_name",
    "run",
]

COMPUTED = "<computed>"
"""How a value that is unknown during a preview is rendered in a :class:`Recording`."""

# Wire-format signatures (pulumi/runtime/rpc.py).
_SIG = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
_RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
_OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

_STACK_TYPE = "pulumi:pulumi:Stack"


class EngineError(SpiritError):
    """The program did something a real Pulumi engine refuses (duplicate URN, resource inside apply).

    ``errors`` lists every problem found, one line each; ``recording`` is what was recorded anyway.
    (Subclass of :class:`spirit_infra.errors.SpiritError`.)
    """

    def __init__(self, errors: list[str], recording: Recording | None = None):
        self.errors = list(errors)
        self.recording = recording
        super().__init__("; ".join(self.errors))


@dataclass(frozen=True)
class RecordedResource:
    """One resource the program registered (custom, component, provider or read)."""

    urn: str
    type: str
    name: str
    parent: str | None
    """Parent URN; ``None`` for the stack's direct children."""
    inputs: dict[str, Any]
    """Exactly what the program registered, as plain JSON values."""
    custom: bool
    """True for provider-managed resources, False for components."""
    id: str | None = None
    """The fake physical id the mock assigned (``f"{name}-id"`` unless ``outputs_for`` says otherwise)."""
    outputs: dict[str, Any] = field(default_factory=dict)
    """For components: what ``register_outputs`` registered (plain values)."""
    options: dict[str, Any] = field(default_factory=dict)
    """Resource options that differ from the default: ``dependencies``, ``aliases``, ``provider``,
    ``protect``, ``ignore_changes``, ``delete_before_replace``, ``replace_on_changes``,
    ``retain_on_delete``, ``import_id``, ``additional_secret_outputs``, ``read_id``. (The provider
    plugin version is left out on purpose: it would churn golden files on every SDK bump.)"""
    secrets: tuple[str, ...] = ()
    """Top-level input keys whose value is (or contains) a secret."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "parent": self.parent,
            "custom": self.custom,
            "id": self.id,
            "inputs": self.inputs,
            "outputs": self.outputs,
            "options": self.options,
            "secrets": list(self.secrets),
        }


@dataclass(frozen=True)
class RecordedInvoke:
    """One provider function call (``aws.get_availability_zones`` and the like)."""

    token: str
    args: dict[str, Any]
    result: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"token": self.token, "args": self.args, "result": self.result}


@dataclass
class Recording:
    """What a program registered under :func:`run`, in a deterministic order."""

    resources: list[RecordedResource]
    """Every registered resource except the root stack, sorted by URN."""
    outputs: dict[str, Any]
    """Stack outputs (``pulumi.export``), as plain values."""
    errors: list[str] = field(default_factory=list)
    """Engine errors found (only non-empty with ``run(..., strict=False)``)."""
    invokes: list[RecordedInvoke] = field(default_factory=list)
    """Provider function calls, sorted by token then arguments."""
    logs: list[str] = field(default_factory=list)
    """Warnings and errors the program logged through ``pulumi.log``, as ``"warning: ..."`` lines."""
    stack_urn: str = ""
    program_error: BaseException | None = None
    """What the program raised (only with ``run(..., raise_program_errors=False)``); what it registered
    before that is in :attr:`resources`, so a test can assert that a refusal registered nothing."""
    physical_names: dict[tuple[str, str, str], str] = field(default_factory=dict)
    """``(scope, type, physical name) -> URN`` for every resource the cloud requires to be uniquely named
    in its scope (:func:`physical_name`); compare two recordings' keys to show two stacks never meet."""

    def by_type(self, type_token: str) -> list[RecordedResource]:
        """All resources of one type token (e.g. ``"aws:ec2/securityGroup:SecurityGroup"``)."""
        return [r for r in self.resources if r.type == type_token]

    def get(self, name: str, type_token: str | None = None) -> RecordedResource:
        """The one resource with this logical name (and type, if given); ``KeyError`` if none or several."""
        found = [r for r in self.resources if r.name == name and (type_token is None or r.type == type_token)]
        if len(found) != 1:
            what = "no resource" if not found else f"{len(found)} resources"
            raise KeyError(f"{what} named {name!r}" + (f" of type {type_token}" if type_token else ""))
        return found[0]

    def children_of(self, urn: str | None) -> list[RecordedResource]:
        """Direct children of the resource with this URN; ``None`` (or the stack URN) for top-level ones."""
        if urn == self.stack_urn:
            urn = None
        return [r for r in self.resources if r.parent == urn]

    def to_dict(self) -> dict[str, Any]:
        return {
            "resources": [r.to_dict() for r in self.resources],
            "outputs": self.outputs,
            "errors": list(self.errors),
            "invokes": [i.to_dict() for i in self.invokes],
            "logs": sorted(self.logs),
            "stack_urn": self.stack_urn,
        }

    def to_json(self) -> str:
        """Deterministic JSON (sorted keys, indent 2, trailing newline)."""
        return json.dumps(self.to_dict(), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------------------------------
# Plain values from the wire format


def _plain(value: Any, secret_seen: list[bool]) -> Any:
    """Turn a JSON-decoded protobuf Struct value into plain JSON, noting secrets in ``secret_seen``."""
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, str):
        return COMPUTED if value == _UNKNOWN else value
    if isinstance(value, list):
        return [_plain(v, secret_seen) for v in value]
    if isinstance(value, dict):
        sig = value.get(_SIG)
        if sig == _SECRET_SIG:
            secret_seen.append(True)
            return _plain(value.get("value"), secret_seen)
        if sig == _RESOURCE_SIG:
            return _plain(value.get("urn"), secret_seen)
        if sig == _OUTPUT_SIG:
            if value.get("secret"):
                secret_seen.append(True)
            return _plain(value["value"], secret_seen) if "value" in value else COMPUTED
        # A plain map, or an asset/archive (kept as its fields, without the signature key).
        return {k: _plain(v, secret_seen) for k, v in value.items() if k != _SIG}
    return value


def _struct_to_plain(struct) -> tuple[dict[str, Any], tuple[str, ...]]:
    raw = json_format.MessageToDict(struct) if struct is not None else {}
    out: dict[str, Any] = {}
    secrets: list[str] = []
    for key in sorted(raw):
        seen: list[bool] = []
        value = _plain(raw[key], seen)
        if value is None:
            continue
        out[key] = value
        if seen:
            secrets.append(key)
    return out, tuple(secrets)


# --------------------------------------------------------------------------------------------------
# Deterministic fake cloud state


def _stable_int(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("\0".join(parts).encode()).digest()[:4], "big")


def _fake_ip(prefix: str, *parts: str) -> str:
    n = _stable_int(*parts)
    return f"{prefix}.{(n >> 8) % 256}.{n % 254 + 1}" if prefix.count(".") == 1 else f"{prefix}.{n % 254 + 1}"


def default_outputs(type_token: str, name: str, inputs: Mapping[str, Any], *, region: str = "us-east-1",
                    gcp_project: str = "mock-project") -> dict[str, Any]:
    """Deterministic placeholders for well-known cloud-assigned outputs of a custom resource.

    ``run`` merges ``inputs``, then these, then what the caller's ``outputs_for`` returns.
    """
    out: dict[str, Any] = {}
    pkg, _, rest = type_token.partition(":")
    module = rest.split(":")[0].split("/")[0]
    if "name" not in inputs and not type_token.startswith("pulumi:providers:"):
        out["name"] = name
    if pkg == "aws":
        out["arn"] = f"arn:aws:{module}:{region}:123456789012:{rest.split(':')[-1].lower()}/{name}"
        out["ownerId"] = "123456789012"
    elif pkg == "gcp":
        out["selfLink"] = f"https://www.googleapis.com/compute/v1/projects/{gcp_project}/global/{name}"
        out["project"] = inputs.get("project", gcp_project)
    elif pkg == "azure-native":
        out["etag"] = f'W/"{_stable_int(type_token, name):08x}"'
    # Addresses: TEST-NET-3 (203.0.113.0/24) for public, 10.x for private.
    if type_token in ("aws:ec2/eip:Eip", "aws:ec2/instance:Instance"):
        out["publicIp"] = _fake_ip("203.0.113", type_token, name)
        out["allocationId"] = f"eipalloc-{_stable_int(name):08x}" if type_token.endswith("Eip") else None
    if type_token in ("aws:ec2/instance:Instance", "aws:ec2/networkInterface:NetworkInterface"):
        out["privateIp"] = inputs.get("privateIp") or _fake_ip("10.0", type_token, name)
        out["primaryNetworkInterfaceId"] = f"eni-{_stable_int(name):08x}"
    if type_token == "azure-native:network:PublicIPAddress":
        out["ipAddress"] = _fake_ip("203.0.113", type_token, name)
    if type_token in ("gcp:compute/address:Address", "gcp:compute/globalAddress:GlobalAddress"):
        out["address"] = inputs.get("address") or _fake_ip("203.0.113", type_token, name)
    return {k: v for k, v in out.items() if v is not None}


def default_call_results(token: str, args: Mapping[str, Any], *, region: str = "us-east-1",
                         gcp_project: str = "mock-project") -> dict[str, Any] | None:
    """Results for the provider functions our components use; ``None`` for an unknown token."""
    if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
        return {
            "id": region,
            "names": [f"{region}a", f"{region}b"],
            "zoneIds": ["use1-az1", "use1-az2"] if region == "us-east-1" else [f"{region}-az1", f"{region}-az2"],
            "groupNames": [region, region],
            "region": region,
        }
    if token == "aws:index/getRegion:getRegion":
        return {"id": region, "name": region, "region": region, "endpoint": f"ec2.{region}.amazonaws.com",
                "description": f"mock region {region}"}
    if token == "aws:index/getCallerIdentity:getCallerIdentity":
        return {"id": "123456789012", "accountId": "123456789012",
                "arn": "arn:aws:iam::123456789012:user/mock", "userId": "AIDAMOCKUSER"}
    if token == "aws:index/getPartition:getPartition":
        return {"id": "aws", "partition": "aws", "dnsSuffix": "amazonaws.com", "reverseDnsPrefix": "com.amazonaws"}
    if token == "aws:ec2/getManagedPrefixList:getManagedPrefixList":
        name = str(args.get("name") or "")
        return {"id": f"pl-{_stable_int(token, name):08x}", "name": name, "addressFamily": "IPv4",
                "arn": f"arn:aws:ec2:{region}:aws:prefix-list/pl-{_stable_int(token, name):08x}",
                "maxEntries": 1, "ownerId": "AWS", "entries": [], "version": 1, "filters": [], "tags": {}}
    if token == "gcp:organizations/getClientConfig:getClientConfig":
        return {"id": "mock", "project": gcp_project, "region": "us-central1", "zone": "us-central1-a",
                "accessToken": "mock-token"}
    if token == "azure-native:authorization:getClientConfig":
        zero = "00000000-0000-0000-0000-000000000000"
        return {"clientId": zero, "objectId": zero, "subscriptionId": zero, "tenantId": zero}
    return None


# --------------------------------------------------------------------------------------------------
# Physical names the clouds require to be unique

#: GCP resources whose names are unique per region (zone) rather than per project
_GCP_REGIONAL = {"gcp:compute/address:Address", "gcp:compute/router:Router", "gcp:compute/subnetwork:Subnetwork",
                 "gcp:compute/regionNetworkFirewallPolicy:RegionNetworkFirewallPolicy"}
_GCP_ZONAL = {"gcp:compute/instance:Instance"}
#: GCP resources named inside a parent resource (the input naming the parent)
_GCP_CHILD = {"gcp:compute/routerNat:RouterNat": "router",
              "gcp:compute/networkFirewallPolicyAssociation:NetworkFirewallPolicyAssociation": "firewallPolicy"}
#: GCP resources identified by something other than a name (policy rules: by priority in the policy)
_GCP_UNNAMED = {"gcp:compute/networkFirewallPolicyRule:NetworkFirewallPolicyRule",
                "gcp:compute/regionNetworkFirewallPolicyRule:RegionNetworkFirewallPolicyRule",
                "gcp:compute/firewallPolicyRule:FirewallPolicyRule"}
#: AWS: names AWS itself requires unique per account and region (Network Firewall: firewalls, policies,
#: rule groups per type) and security-group names, unique per VPC. Route 53 Resolver DNS Firewall names
#: and prefix-list names are not required to be unique, so they are not checked.
_AWS_UNIQUE = {"aws:networkfirewall/firewall:Firewall": (), "aws:networkfirewall/firewallPolicy:FirewallPolicy": (),
               "aws:networkfirewall/ruleGroup:RuleGroup": ("type",), "aws:ec2/securityGroup:SecurityGroup": ("vpcId",)}
#: azure-native: the input holding a resource's own name, where it is not ``<lowerCamel type>Name``
_AZURE_OWN = {"PublicIPAddress": "publicIpAddressName", "PublicIPPrefix": "publicIpPrefixName",
              "VirtualMachine": "vmName", "FirewallPolicyRuleCollectionGroup": "ruleCollectionGroupName"}


def physical_name(type_token: str, inputs: Mapping[str, Any], *, region: str = "us-east-1",
                  gcp_project: str = "mock-project") -> tuple[str, str] | None:
    """``(scope, name)`` when the cloud requires ``name`` to be unique in ``scope``; ``None`` otherwise.

    - GCP: a resource's ``name`` is unique per type in its project (and region or zone for regional or
      zonal resources; inside its parent for a router's NAT or a policy's association).
    - Azure: the resource's own ``<type>Name`` input is unique per type in its resource group (and in its
      parent resource: an NSG's rules, a VNet's subnets, a policy's rule collection groups).
    - AWS: Network Firewall firewalls, policies and rule groups in the account and region; security
      groups in their VPC.

    A name that is absent (the provider auto-names the resource) or unknown during a preview is ``None``.
    """
    pkg = type_token.split(":", 1)[0]
    if pkg == "gcp":
        name = inputs.get("name")
        if type_token in _GCP_UNNAMED or not isinstance(name, str) or name == COMPUTED:
            return None
        scope = f"gcp project {inputs.get('project') or gcp_project}"
        if type_token in _GCP_REGIONAL:
            scope += f" region {inputs.get('region') or '(provider default)'}"
        if type_token in _GCP_ZONAL:
            scope += f" zone {inputs.get('zone') or '(provider default)'}"
        if type_token in _GCP_CHILD:
            parent = inputs.get(_GCP_CHILD[type_token])
            if parent == COMPUTED:
                return None  # unknown parent: the double cannot tell
            scope += f" {_GCP_CHILD[type_token]} {parent}"
        return scope, name
    if pkg == "azure-native":
        kind = type_token.rsplit(":", 1)[-1]
        own = _AZURE_OWN.get(kind, kind[0].lower() + kind[1:] + "Name")
        name = inputs.get(own)
        if not isinstance(name, str) or name == COMPUTED:
            return None
        parents = {k: v for k, v in sorted(inputs.items()) if k.endswith("Name") and k != own and isinstance(v, str)}
        if COMPUTED in parents.values():
            return None
        return "azure " + " ".join(f"{k} {v}" for k, v in parents.items()), name
    if pkg == "aws" and type_token in _AWS_UNIQUE:
        name = inputs.get("name")
        if not isinstance(name, str) or name == COMPUTED:
            return None
        if any(inputs.get(k) == COMPUTED for k in _AWS_UNIQUE[type_token]):
            return None
        extra = "".join(f" {k} {inputs.get(k)}" for k in _AWS_UNIQUE[type_token])
        return f"aws account 123456789012 region {region}{extra}", name
    return None


# --------------------------------------------------------------------------------------------------
# The recording monitor

_IN_APPLY: contextvars.ContextVar[int] = contextvars.ContextVar("spirit_infra_testing_in_apply", default=0)


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


def _release_thread_loop() -> None:
    """Close the event loop Pulumi's MockMonitor creates on an executor thread (``_ensure_event_loop``).

    It is never closed otherwise, and at interpreter exit the garbage collector reports
    ``Exception ignored in BaseEventLoop.__del__ ... Invalid file descriptor`` on stderr.
    """
    if threading.current_thread() is threading.main_thread() or threading.current_thread().name == _THREAD_NAME:
        return
    try:
        loop = asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:
        return
    if not loop.is_running():
        loop.close()
        asyncio.set_event_loop(None)


class _Monitor(_pmocks.MockMonitor):
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
        inputs, secrets = _struct_to_plain(inputs_struct)
        if _IN_APPLY.get():
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
        try:
            response = super().RegisterResource(request)
        finally:
            _release_thread_loop()
        if first:
            with self._lock:
                self.records[urn]["id"] = response.id or None
        return response

    def ReadResource(self, request):
        urn = self.make_urn(request.parent, request.type, request.name)
        first = self._record(request, urn, custom=True, options={"read_id": request.id},
                             inputs_struct=request.properties)
        try:
            response = super().ReadResource(request)
        finally:
            _release_thread_loop()
        if first:
            with self._lock:
                self.records[urn]["id"] = request.id or None
        return response

    def RegisterResourceOutputs(self, request):
        outputs, _ = _struct_to_plain(request.outputs)
        with self._lock:
            self.outputs[request.urn] = outputs
        return super().RegisterResourceOutputs(request)

    def Invoke(self, request):
        try:
            response = super().Invoke(request)
        finally:
            _release_thread_loop()
        if request.tok != "pulumi:pulumi:getResource":
            args, _ = _struct_to_plain(request.args)
            result, _ = _struct_to_plain(response.__getattribute__("return"))
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
        super().__init__(logging.getLogger("spirit_infra.testing.engine"))
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


# --------------------------------------------------------------------------------------------------
# Running a program

_RUN_LOCK = threading.Lock()
_THREAD_NAME = "spirit-infra-mock-runtime"
_ORIGINAL_APPLY = pulumi.Output.apply


def _guarded_apply(self, func, run_with_unknowns: bool = False):
    """``Output.apply`` that marks the callback (and any awaitable it returns) as 'inside apply'."""

    def marked(value):
        token = _IN_APPLY.set(_IN_APPLY.get() + 1)
        try:
            result = func(value)
        finally:
            _IN_APPLY.reset(token)
        if asyncio.isfuture(result) or asyncio.iscoroutine(result):
            return _marked_await(result)
        return result

    return _ORIGINAL_APPLY(self, marked, run_with_unknowns)


async def _marked_await(awaitable):
    token = _IN_APPLY.set(_IN_APPLY.get() + 1)
    try:
        return await awaitable
    finally:
        _IN_APPLY.reset(token)


def _settings_defaults() -> dict[str, Any]:
    # Pulumi's ContextProperty overwrites its process-wide default the first time it is set in a fresh
    # context; remember the defaults so a run leaves them as it found them.
    return {name: getattr(prop, "_ContextProperty__default", None)
            for name, prop in vars(_psettings.Settings).items()
            if type(prop).__name__ == "ContextProperty"}


def _restore_settings_defaults(saved: Mapping[str, Any]) -> None:
    for name, value in saved.items():
        vars(_psettings.Settings)[name]._ContextProperty__default = value


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
    monitor = _Monitor(_Mocks(outputs_for, call_for, region, gcp_project))
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
        saved = _settings_defaults()
        pulumi.Output.apply = _guarded_apply  # type: ignore[method-assign]
        try:
            worker = threading.Thread(target=thread_main, name=_THREAD_NAME, daemon=True)
            worker.start()
            worker.join()
        finally:
            pulumi.Output.apply = _ORIGINAL_APPLY  # type: ignore[method-assign]
            _restore_settings_defaults(saved)

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
