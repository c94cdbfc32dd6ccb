"""GCP validator: what we register, checked against Google's Compute Engine v1 discovery document.

The discovery document (``compute.v1.json``) ships inside google-api-python-client
(``googleapiclient/discovery_cache/documents/``); it is the machine-readable API Google generates its
client libraries from. For every registered ``gcp:compute/...`` resource this module

1. translates the Pulumi inputs into the request body the provider sends to the Compute API, using the
   explicit per-type mapping in :data:`TYPES` (Pulumi's input names are the Terraform provider's names
   in camelCase, and do not always map 1:1 onto the API: ``allows`` is ``allowed``, an access config's
   ``natIp`` is ``natIP``, ``routingMode`` lives in ``routingConfig``, ``bootDisk`` is ``disks[0]``, a
   ``metadata`` map is ``metadata.items[]``, ``nextHopInstanceZone`` only qualifies the instance URL).
   Every input must be mapped: an input the mapping does not know is a finding, so a new field cannot go
   unchecked;
2. checks the body against the document's schema: every field exists, is not output-only, has the
   schema's type (string/integer/boolean/array/object) and integer format range (int32/uint32), its
   enum value is one of the schema's, its string matches the schema's ``pattern`` (full match), and every
   field the insert method requires (``annotations.required``) is present;
3. checks what the document states only in prose, each rule tied to the sentence that states it (the
   sentence must be in the document, so a changed API fails here rather than being checked against a
   stale belief): priority ranges, port syntax, protocol names, CIDR ranges, firewall-policy rule
   actions, metadata key and value sizes, network tags and labels per RFC 1035;
4. checks the path parameters (region, zone, firewall policy, router) against the insert method's
   parameter patterns, and the physical name Pulumi auto-generates (``<resource name>-<7 hex>``) when
   the program sets none.

Values the mock runtime invents for outputs (ids like ``spirit-net-vpc-id``, self links) are accepted
where the API takes a reference; they are placeholders, not what the program decides.
"""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import ipaddress
import json
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

__all__ = ["Finding", "TYPES", "discovery", "pulumi_side_problems", "validate", "validate_all", "version"]

RFC1035 = re.compile(r"[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?")
#: Pulumi's default physical name: the resource name, a dash and 7 random hex digits (tfbridge AutoName)
AUTONAME_SUFFIX = "-0a1b2c3"


@dataclass(frozen=True)
class Finding:
    resource: str  # the Pulumi resource name
    type: str
    path: str  # the API field (dotted, [i] for list items), or the Pulumi input for mapping findings
    problem: str

    def __str__(self) -> str:
        return f"{self.type} {self.resource}: {self.path}: {self.problem}"


@cache
def discovery() -> dict:
    path = importlib.resources.files("googleapiclient") / "discovery_cache" / "documents" / "compute.v1.json"
    return json.loads(path.read_text(encoding="utf-8"))


def version() -> str:
    """google-api-python-client's version and the discovery document's revision."""
    return (f"google-api-python-client {importlib.metadata.version('google-api-python-client')}, "
            f"compute v1 discovery revision {discovery()['revision']}")


def _method(method_id: str) -> dict:
    def walk(resources: dict):
        for res in resources.values():
            for m in res.get("methods", {}).values():
                if m["id"] == method_id:
                    return m
            found = walk(res.get("resources", {}))
            if found:
                return found
        return None

    m = walk(discovery()["resources"])
    assert m, f"the discovery document has no method {method_id}"
    return m


# ---- the Pulumi -> API mapping -------------------------------------------------------------------------

@dataclass(frozen=True)
class Obj:
    """How a Pulumi object maps onto an API object. ``rename``: Pulumi name -> API name (a dotted API name
    nests: ``routingMode`` -> ``routingConfig.routingMode``); ``nested``: Pulumi name -> the mapping of its
    value (an object, or each item of a list); ``drop``: inputs that are no body field, each with why."""

    rename: dict[str, str] = field(default_factory=dict)
    nested: dict[str, Any] = field(default_factory=dict)
    drop: dict[str, str] = field(default_factory=dict)
    #: Pulumi inputs taken as they are (the API's name is the same); anything else is a finding
    same: tuple[str, ...] = ()


@dataclass(frozen=True)
class Type:
    schema: str  # the discovery schema of the body
    method: str  # the method that creates it (its required fields and path parameters)
    body: Obj
    #: Pulumi input -> the method's path parameter it is (validated against the parameter's pattern)
    path_params: dict[str, str] = field(default_factory=dict)
    #: the API field the physical name goes in (Pulumi auto-names it when the program sets none)
    name_field: str | None = "name"


_METADATA = "metadata"  # Pulumi: a map; API: Metadata {items: [{key, value}]}
_TAGS = "tags"  # Pulumi: a list of tags; API: Tags {items: [...]}

FIREWALL_RULE = Obj(rename={"protocol": "IPProtocol"}, same=("ports",))
LAYER4 = Obj(same=("ipProtocol", "ports"))

#: every GCP type spirit-infra registers, mapped field by field (see the pulumi-gcp docs for each type:
#: https://www.pulumi.com/registry/packages/gcp/api-docs/compute/<type>/ and the Compute API reference)
TYPES: dict[str, Type] = {
    "gcp:compute/firewall:Firewall": Type(
        "Firewall", "compute.firewalls.insert",
        Obj(rename={"allows": "allowed", "denies": "denied"},
            nested={"allows": FIREWALL_RULE, "denies": FIREWALL_RULE,
                    "logConfig": Obj(same=("metadata",))},
            same=("name", "description", "network", "direction", "priority", "sourceRanges", "destinationRanges",
                  "sourceTags", "targetTags", "sourceServiceAccounts", "targetServiceAccounts", "disabled")),
        path_params={"project": "project"}),
    "gcp:compute/networkFirewallPolicy:NetworkFirewallPolicy": Type(
        "FirewallPolicy", "compute.networkFirewallPolicies.insert",
        Obj(same=("name", "description")), path_params={"project": "project"}),
    "gcp:compute/networkFirewallPolicyRule:NetworkFirewallPolicyRule": Type(
        "FirewallPolicyRule", "compute.networkFirewallPolicies.addRule",
        Obj(nested={"match": Obj(nested={"layer4Configs": LAYER4},
                                 same=("destFqdns", "destIpRanges", "srcIpRanges", "srcFqdns", "destRegionCodes",
                                       "srcRegionCodes", "destAddressGroups", "srcAddressGroups"))},
            same=("action", "description", "direction", "disabled", "enableLogging", "priority", "ruleName",
                  "targetServiceAccounts", "tlsInspect")),
        path_params={"firewallPolicy": "firewallPolicy", "project": "project"}, name_field=None),
    "gcp:compute/networkFirewallPolicyAssociation:NetworkFirewallPolicyAssociation": Type(
        "FirewallPolicyAssociation", "compute.networkFirewallPolicies.addAssociation",
        Obj(same=("name", "attachmentTarget")),
        path_params={"firewallPolicy": "firewallPolicy", "project": "project"}),
    "gcp:compute/network:Network": Type(
        "Network", "compute.networks.insert",
        Obj(rename={"routingMode": "routingConfig.routingMode"},
            same=("name", "description", "autoCreateSubnetworks", "mtu", "networkFirewallPolicyEnforcementOrder")),
        path_params={"project": "project"}),
    "gcp:compute/subnetwork:Subnetwork": Type(
        "Subnetwork", "compute.subnetworks.insert",
        Obj(same=("name", "description", "ipCidrRange", "network", "privateIpGoogleAccess", "stackType",
                  "purpose")),
        path_params={"region": "region", "project": "project"}),
    "gcp:compute/address:Address": Type(
        "Address", "compute.addresses.insert",
        Obj(same=("name", "description", "addressType", "networkTier", "labels", "address", "purpose",
                  "ipVersion")),
        path_params={"region": "region", "project": "project"}),
    "gcp:compute/instance:Instance": Type(
        "Instance", "compute.instances.insert",
        Obj(rename={"bootDisk": "disks", _METADATA: "metadata.items", _TAGS: "tags.items"},
            nested={"bootDisk": "BOOT_DISK",
                    "networkInterfaces": Obj(nested={"accessConfigs": Obj(rename={"natIp": "natIP"},
                                                                          same=("networkTier",))},
                                             same=("network", "subnetwork", "networkIp", "stackType", "nicType")),
                    "shieldedInstanceConfig": Obj(same=("enableIntegrityMonitoring", "enableSecureBoot",
                                                        "enableVtpm")),
                    _METADATA: "METADATA"},
            same=("name", "description", "machineType", "canIpForward", "labels", "deletionProtection")),
        path_params={"zone": "zone", "project": "project"}),
    "gcp:compute/route:Route": Type(
        "Route", "compute.routes.insert",
        Obj(rename={_TAGS: "tags"},
            drop={"nextHopInstanceZone": "the provider only uses it to qualify a bare nextHopInstance name as "
                                         "zones/<zone>/instances/<name>"},
            same=("name", "description", "destRange", "network", "nextHopInstance", "nextHopIp", "nextHopGateway",
                  "priority")),
        path_params={"project": "project"}),
    "gcp:compute/router:Router": Type(
        "Router", "compute.routers.insert",
        Obj(same=("name", "description", "network")),
        path_params={"region": "region", "project": "project"}),
    # a NAT is no resource of its own in the API: the provider patches it into the router's nats[]
    "gcp:compute/routerNat:RouterNat": Type(
        "RouterNat", "compute.routers.patch",
        Obj(nested={"logConfig": Obj(same=("enable", "filter")),
                    "subnetworks": Obj(rename={"sourceIpRangesToNats": "sourceIpRangesToNat"},
                                       same=("name", "secondaryIpRangeNames"))},
            same=("name", "natIpAllocateOption", "natIps", "sourceSubnetworkIpRangesToNat", "minPortsPerVm",
                  "maxPortsPerVm", "enableDynamicPortAllocation", "enableEndpointIndependentMapping",
                  "udpIdleTimeoutSec", "icmpIdleTimeoutSec", "tcpEstablishedIdleTimeoutSec",
                  "tcpTransitoryIdleTimeoutSec", "tcpTimeWaitTimeoutSec", "drainNatIps", "type")),
        path_params={"region": "region", "router": "router", "project": "project"}),
}


def _set(body: dict, dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for p in parents:
        body = body.setdefault(p, {})
    body[last] = value


#: Instance ``bootDisk`` {autoDelete, initializeParams {image, size, type}} is the API's ``disks[0]`` with
#: ``boot: true`` and initializeParams {sourceImage, diskSizeGb, diskType}
BOOT_DISK = Obj(nested={"initializeParams": Obj(rename={"image": "sourceImage", "size": "diskSizeGb",
                                                        "type": "diskType"})},
                same=("autoDelete", "deviceName", "mode"))


def _translate(value: Any, obj: Obj | str, where: str, out: list[tuple[str, str]]) -> Any:
    """Pulumi value -> API value; mapping problems go to ``out`` as (Pulumi path, problem)."""
    if obj == "BOOT_DISK":
        return [{"boot": True, **_translate(value, BOOT_DISK, where, out)}]
    if obj == "METADATA":  # a map -> [{key, value}]
        if not isinstance(value, dict):
            out.append((where, f"a map of metadata entries, not {value!r}"))
            return []
        return [{"key": k, "value": v} for k, v in value.items()]
    if isinstance(value, list):
        return [_translate(v, obj, f"{where}[{i}]", out) for i, v in enumerate(value)]
    if not isinstance(value, dict):
        out.append((where, f"an object, not {value!r}"))
        return value
    body: dict = {}
    for k, v in value.items():
        here = f"{where}.{k}" if where else k
        if k in obj.drop:
            continue
        if k not in obj.same and k not in obj.rename and k not in obj.nested:
            out.append((here, "no mapping onto the Compute API for this input (add it to TYPES)"))
            continue
        target = obj.rename.get(k, k)
        _set(body, target, _translate(v, obj.nested[k], here, out) if k in obj.nested else v)
    return body


# ---- the schema check -----------------------------------------------------------------------------------

INT_RANGES = {"int32": (-2**31, 2**31 - 1), "uint32": (0, 2**32 - 1)}


def _check_schema(value: Any, schema: dict, where: str, out: list[tuple[str, str]]) -> None:
    schemas = discovery()["schemas"]
    if "$ref" in schema:
        schema = schemas[schema["$ref"]]
    if schema.get("readOnly"):
        out.append((where, "is output only (readOnly) in the API"))
    kind = schema.get("type", "object")
    if kind == "array":
        if not isinstance(value, list):
            out.append((where, f"must be an array, not {value!r}"))
            return
        pattern = schema.get("pattern")  # Tags.items carries its items' pattern on the array
        for i, v in enumerate(value):
            item = dict(schema["items"])
            if pattern and "pattern" not in item:
                item["pattern"] = pattern
            _check_schema(v, item, f"{where}[{i}]", out)
        return
    if kind == "object":
        if not isinstance(value, dict):
            out.append((where, f"must be an object, not {value!r}"))
            return
        if "additionalProperties" in schema:  # a map (labels)
            for k, v in value.items():
                _check_schema(v, schema["additionalProperties"], f"{where}.{k}", out)
            return
        props = schema.get("properties", {})
        for k, v in value.items():
            here = f"{where}.{k}" if where else k
            if k not in props:
                out.append((here, f"no such field in the API schema {schema.get('id', '(inline)')}"))
                continue
            _check_schema(v, props[k], here, out)
        return
    if kind == "string":
        if not isinstance(value, str):
            out.append((where, f"must be a string, not {value!r}"))
            return
        if "enum" in schema and value not in schema["enum"]:
            out.append((where, f"{value!r} is not one of {schema['enum']}"))
        if "pattern" in schema and not re.fullmatch(schema["pattern"], value):
            out.append((where, f"{value!r} does not match the API pattern {schema['pattern']}"))
        return
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            out.append((where, f"must be an integer, not {value!r}"))
            return
        lo, hi = INT_RANGES.get(schema.get("format", ""), (None, None))
        if lo is not None and not lo <= value <= hi:
            out.append((where, f"{value} is outside {schema['format']}"))
        return
    if kind == "boolean" and not isinstance(value, bool):
        out.append((where, f"must be a boolean, not {value!r}"))


def _required(schema_name: str, method: str, body: dict, out: list[tuple[str, str]]) -> None:
    for k, prop in discovery()["schemas"][schema_name]["properties"].items():
        if method in prop.get("annotations", {}).get("required", []) and k not in body:
            out.append((k, f"required by {method}"))


# ---- what the document says in prose ---------------------------------------------------------------------

def _doc(schema: str, *path: str) -> str:
    node = discovery()["schemas"][schema]
    for p in path:
        node = node["properties"][p] if "properties" in node else node["items"]["properties"][p]
    return " ".join(node.get("description", "").split())


def _stated(text: str, sentence: str) -> None:
    assert sentence in text, f"the discovery document no longer says {sentence!r}: review this rule"


@dataclass(frozen=True)
class ProseRule:
    """A constraint the document states in a description: (schema, field path) and the sentence."""

    schema: str
    path: tuple[str, ...]
    sentence: str


PRIORITY_FIREWALL = ProseRule("Firewall", ("priority",), "This is an integer between `0` and `65535`, both inclusive.")
PRIORITY_ROUTE = ProseRule("Route", ("priority",), "The priority value must be from `0` to `65535`, inclusive.")
PRIORITY_POLICY_RULE = ProseRule("FirewallPolicyRule", ("priority",),
                                 "The priority must be a positive value between 0 and 2147483647.")
PORTS = ProseRule("Firewall", ("allowed", "ports"), "Each entry must be either an integer or a range.")
PORTS_L4 = ProseRule("FirewallPolicyRuleMatcherLayer4Config", ("ports",),
                     "Each entry must be either an integer or a range.")
PROTOCOL = ProseRule("Firewall", ("allowed", "IPProtocol"),
                     "one of the following well known protocol strings (tcp, udp,icmp, esp, ah, ipip,sctp) or "
                     "the IP protocol number.")
PROTOCOL_L4 = ProseRule("FirewallPolicyRuleMatcherLayer4Config", ("ipProtocol",),
                        "one of the following well known protocol strings (tcp,udp, icmp, esp,ah, ipip, sctp), or "
                        "the IP protocol number.")
ACTION = ProseRule("FirewallPolicyRule", ("action",),
                   'Valid actions for firewall rules are: "allow", "deny", "apply_security_profile_group" and '
                   '"goto_next"')
CIDR_SOURCE = ProseRule("Firewall", ("sourceRanges",), "These ranges must be expressed inCIDR format.")
CIDR_DEST = ProseRule("Firewall", ("destinationRanges",), "These ranges must be expressed inCIDR format.")
LABELS = ProseRule("Address", ("labels",), "Each label key/value pair must comply withRFC1035.")
META_KEY = ProseRule("Metadata", ("items", "key"), "be less than 128 bytes in length")
META_VALUE = ProseRule("Metadata", ("items", "value"), "must be less than or equal to 262144 bytes (256 KiB)")
META_TOTAL = ProseRule("Metadata", ("items",), "The total size of all keys and values must be less than 512 KB.")
PROSE_RULES = (PRIORITY_FIREWALL, PRIORITY_ROUTE, PRIORITY_POLICY_RULE, PORTS, PORTS_L4, PROTOCOL, PROTOCOL_L4,
               ACTION, CIDR_SOURCE, CIDR_DEST, LABELS, META_KEY, META_VALUE, META_TOTAL)

#: the protocol names the document lists, plus "all": the document's list omits it, but the API takes it
#: for every protocol, as the provider documents (pulumi-gcp compute.Firewall ``allows``/``denies``
#: ``protocol``: "tcp, udp, icmp, esp, ah, sctp, ipip, all"), and spirit-infra's strict deny uses it
PROTOCOL_NAMES = ("tcp", "udp", "icmp", "esp", "ah", "ipip", "sctp", "all")
ACTIONS = ("allow", "deny", "apply_security_profile_group", "goto_next")
PORT = re.compile(r"(\d{1,5})(?:-(\d{1,5}))?")


def _check_stated_rules() -> None:
    for r in PROSE_RULES:
        _stated(_doc(r.schema, *r.path), r.sentence)


def _check_ports(ports: Any, where: str, out: list) -> None:
    for i, p in enumerate(ports or []):
        m = PORT.fullmatch(str(p)) if isinstance(p, str) else None
        lo, hi = (int(m.group(1)), int(m.group(2) or m.group(1))) if m else (1, 0)
        if not m or not 0 <= lo <= hi <= 65535:
            out.append((f"{where}[{i}]", f"{p!r} is not a port or a port range within 0-65535 ({PORTS.sentence})"))


def _check_protocol(proto: Any, where: str, out: list) -> None:
    if not (proto in PROTOCOL_NAMES or (isinstance(proto, str) and proto.isdigit() and 0 <= int(proto) <= 255)):
        out.append((where, f"{proto!r} is not a protocol name ({', '.join(PROTOCOL_NAMES)}) or number"))


def _check_cidrs(ranges: Any, where: str, out: list) -> None:
    for i, c in enumerate(ranges or []):
        try:
            ipaddress.ip_network(c, strict=True)
        except (TypeError, ValueError):
            out.append((f"{where}[{i}]", f"{c!r} is not a CIDR range (with no host bits)"))


def _check_priority(value: Any, lo: int, hi: int, rule: ProseRule, out: list) -> None:
    if isinstance(value, int) and not lo <= value <= hi:
        out.append(("priority", f"{value} is outside {lo}-{hi} ({rule.sentence})"))


def _label_value_ok(value: Any) -> bool:
    return value == "" or (isinstance(value, str) and bool(RFC1035.fullmatch(value)))


def _check_rfc1035(value: Any, where: str, what: str, out: list) -> None:
    if not isinstance(value, str) or not RFC1035.fullmatch(value):
        out.append((where, f"{value!r} is not an RFC 1035 {what} ([a-z]([-a-z0-9]{{0,61}}[a-z0-9])?)"))


def _prose(type_token: str, body: dict, out: list) -> None:
    if type_token.endswith(":Firewall"):
        _check_priority(body.get("priority", 1000), 0, 65535, PRIORITY_FIREWALL, out)
        for key in ("allowed", "denied"):
            for i, rule in enumerate(body.get(key) or []):
                _check_protocol(rule.get("IPProtocol"), f"{key}[{i}].IPProtocol", out)
                _check_ports(rule.get("ports"), f"{key}[{i}].ports", out)
        _check_cidrs(body.get("sourceRanges"), "sourceRanges", out)
        _check_cidrs(body.get("destinationRanges"), "destinationRanges", out)
        for key in ("sourceTags", "targetTags"):
            for i, tag in enumerate(body.get(key) or []):
                _check_rfc1035(tag, f"{key}[{i}]", "network tag", out)
    elif type_token.endswith(":NetworkFirewallPolicyRule"):
        _check_priority(body.get("priority"), 0, 2147483647, PRIORITY_POLICY_RULE, out)
        if body.get("action") not in ACTIONS:
            out.append(("action", f"{body.get('action')!r} is not one of {ACTIONS} ({ACTION.sentence})"))
        match = body.get("match") or {}
        for i, l4 in enumerate(match.get("layer4Configs") or []):
            _check_protocol(l4.get("ipProtocol"), f"match.layer4Configs[{i}].ipProtocol", out)
            _check_ports(l4.get("ports"), f"match.layer4Configs[{i}].ports", out)
        _check_cidrs(match.get("destIpRanges"), "match.destIpRanges", out)
        _check_cidrs(match.get("srcIpRanges"), "match.srcIpRanges", out)
        if "ruleName" in body:  # the API sets no rule for it; spirit-infra's own: RFC 1035, like every name
            _check_rfc1035(body["ruleName"], "ruleName", "rule name (spirit-infra's rule)", out)
    elif type_token.endswith(":Route"):
        _check_priority(body.get("priority"), 0, 65535, PRIORITY_ROUTE, out)
        _check_cidrs([body["destRange"]] if "destRange" in body else [], "destRange", out)
        for i, tag in enumerate(body.get("tags") or []):
            _check_rfc1035(tag, f"tags[{i}]", "network tag", out)
    elif type_token.endswith(":Subnetwork"):
        _check_cidrs([body["ipCidrRange"]] if "ipCidrRange" in body else [], "ipCidrRange", out)
    elif type_token.endswith(":Instance"):
        items = (body.get("metadata") or {}).get("items") or []
        total = 0
        for i, it in enumerate(items):
            key, value = str(it.get("key", "")), str(it.get("value", ""))
            total += len(key.encode()) + len(value.encode())
            if len(key.encode()) >= 128:
                out.append((f"metadata.items[{i}].key", f"{len(key.encode())} bytes ({META_KEY.sentence})"))
            if len(value.encode()) > 262144:
                out.append((f"metadata.items[{i}].value", f"{len(value.encode())} bytes ({META_VALUE.sentence})"))
        if total >= 512 * 1024:
            out.append(("metadata.items", f"{total} bytes in all ({META_TOTAL.sentence})"))
    for key, value in (body.get("labels") or {}).items():
        _check_rfc1035(key, f"labels.{key}", "label key", out)
        if not _label_value_ok(value):
            out.append((f"labels.{key}", f"{value!r} is not an RFC 1035 label value or empty ({LABELS.sentence} "
                                         "Label values may be empty.)"))


# ---- one resource, every resource ---------------------------------------------------------------------

def validate(resource: dict) -> list[Finding]:
    """Findings for one recorded resource (``{"type", "name", "inputs"}``); [] when the API would accept it."""
    _check_stated_rules()
    token, name, inputs = resource["type"], resource["name"], dict(resource.get("inputs") or {})
    t = TYPES.get(token)
    if t is None:
        return [Finding(name, token, "(type)", "no mapping onto the Compute API for this resource type (add it "
                                               "to TYPES)")]
    out: list[tuple[str, str]] = []
    method = _method(t.method)
    params = method.get("parameters", {})
    for pulumi_name, param in t.path_params.items():
        if pulumi_name in inputs:
            value = inputs.pop(pulumi_name)
            pattern = params[param].get("pattern")
            if pattern and not (isinstance(value, str) and re.fullmatch(pattern, value)):
                out.append((pulumi_name, f"{value!r} does not match {t.method}'s {param} pattern {pattern}"))
    if t.name_field and t.name_field not in inputs:
        inputs[t.name_field] = name + AUTONAME_SUFFIX  # what Pulumi will name it
    body = _translate(inputs, t.body, "", out)
    _check_schema(body, {"$ref": t.schema}, "", out)
    if t.method.endswith(".insert") or t.method.endswith(".addAssociation"):
        _required(t.schema, t.method, body, out)
    name_schema = discovery()["schemas"][t.schema]["properties"].get(t.name_field or "", {})
    if t.name_field and "pattern" not in name_schema:  # where the schema has the pattern, it was checked
        _check_rfc1035(body.get(t.name_field), t.name_field, "name", out)
    _prose(token, body, out)
    return [Finding(name, token, path, problem) for path, problem in out]


def validate_all(resources: list[dict]) -> tuple[int, list[Finding]]:
    """(GCP resources checked, findings) for a list of recorded resources; other clouds' are skipped."""
    gcp = [r for r in resources if r["type"].startswith("gcp:")]
    return len(gcp), [f for r in gcp for f in validate(r)]


# ---- the mapping's other side: every Pulumi name it maps is a real pulumi-gcp input ------------------------

def _pulumi_inputs(cls) -> dict[str, Any]:
    """pulumi-gcp ``XxxArgs`` class -> {camelCase input name: the Args class of its value, or None}."""
    import pulumi_gcp.compute as compute

    out: dict[str, Any] = {}
    for attr in vars(cls).values():
        if isinstance(attr, property) and getattr(attr.fget, "_pulumi_name", None):
            m = re.search(r"\b([A-Z]\w*Args)\b", str(attr.fget.__annotations__.get("return", "")))
            out[attr.fget._pulumi_name] = getattr(compute, m.group(1)) if m else None
    return out


def pulumi_side_problems() -> list[str]:
    """Names in :data:`TYPES` that are no input of the pulumi-gcp resource (or nested type) they claim."""
    import pulumi_gcp.compute as compute

    problems: list[str] = []

    def walk(obj: Obj | str, cls, where: str) -> None:
        if obj == "METADATA":
            return
        if obj == "BOOT_DISK":
            obj = BOOT_DISK
        inputs = _pulumi_inputs(cls)
        for name in (*obj.same, *obj.rename, *obj.nested, *obj.drop):
            if name not in inputs:
                problems.append(f"{where}: {name!r} is not an input of pulumi_gcp.compute.{cls.__name__}")
            elif name in obj.nested and obj.nested[name] != "METADATA":
                walk(obj.nested[name], inputs[name], f"{where}.{name}")

    for token, t in TYPES.items():
        cls = getattr(compute, token.rsplit(":", 1)[1] + "Args")
        walk(t.body, cls, token)
        for name in t.path_params:
            if name not in _pulumi_inputs(cls):
                problems.append(f"{token}: path parameter {name!r} is not an input of {cls.__name__}")
    return problems
