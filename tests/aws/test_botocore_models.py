"""External check: every API call that creates what the program registers on AWS fits botocore's
service models (ec2, network-firewall, route53resolver), the models the AWS SDKs are generated from.

For each call (tests/aws/twins.py, the provider's create calls with the same fields) the input shape is
walked: botocore's own parameter validation (types, required members, unknown members, minimum
lengths), then every constraint the model states that botocore does not enforce client-side: maximum
lengths, patterns, enums and integer ranges. EC2's model states its string constraints in the member
documentation instead (``Constraints: Up to 255 characters in length. Valid characters: a-z, ...``,
``Can't start with sg-``); those sentences are parsed from the model and enforced too.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass, field

import botocore
import botocore.session
import pytest
from botocore.exceptions import ParamValidationError
from botocore.validate import validate_parameters

from .cases import AWS_CASES, mutated, resources_of
from .twins import Later, api_calls, materialize

REGION = "ap-southeast-2"
_SESSION = botocore.session.get_session()
_MODELS = {s: _SESSION.get_service_model(s) for s in ("ec2", "network-firewall", "route53resolver", "ssm", "iam")}

#: the id an API returns, by the input key that refers to it (well-formed, so the walk checks real shapes)
_PREFIX = {"vpcId": "vpc", "subnetId": "subnet", "routeTableId": "rtb", "internetGatewayId": "igw",
           "natGatewayId": "nat", "networkInterfaceId": "eni", "groupId": "sg", "securityGroupId": "sg",
           "prefixListId": "pl", "allocationId": "eipalloc", "instanceId": "i", "instance": "i", "vpcEndpointId": "vpce",
           "gatewayId": "igw", "firewallDomainListId": "rslvr-fdl", "firewallRuleGroupId": "rslvr-frg"}


def fake(later: Later) -> str:
    """A well-formed value for a reference (what the create call of the referenced resource returns)."""
    if later.name == "":
        return later.attr  # an existing resource's id, as the stack gives it
    h = hashlib.sha256(f"{later.name}/{later.attr}".encode()).hexdigest()
    if later.key in ("role", "name") or later.attr == "name":  # IAM roles and instance profiles go by name
        return f"{later.name}-{h[:7]}"
    if later.attr == "arn":
        return f"arn:aws:network-firewall:{REGION}:123456789012:{later.key.lower()}/{later.name}"
    return f"{_PREFIX[later.key]}-{h[:17]}"


# ---- the constraints EC2 states in prose ---------------------------------------------------------------

_MAX = re.compile(r"(?:Up to|maximum of|Maximum) (\d+) (?:Unicode |UTF-8 |ASCII )?characters", re.I)
_CHARS = re.compile(r"(?:Valid characters:|Allowed characters are) a-z, A-Z, 0-9, spaces, and (\S+)")
_NO_PREFIX = re.compile(r"(?:Can't start with|May not begin with|cannot start with) (\S+?)\.?(?:\s|$)")


@dataclass(frozen=True)
class Prose:
    max_len: int | None = None
    charset: frozenset | None = None
    banned_prefixes: tuple[str, ...] = ()


def prose(doc: str | None) -> Prose:
    """The constraints a member's documentation states after ``Constraints:`` (EC2's convention)."""
    text = re.sub(r"</?code>", "", doc or "")
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())
    if "Constraints:" not in text:
        return Prose()
    text = text[text.index("Constraints:"):]
    m = _MAX.search(text)
    c = _CHARS.search(text)
    charset = None
    if c:
        charset = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 " + c.group(1))
    return Prose(int(m.group(1)) if m else None, charset, tuple(_NO_PREFIX.findall(text)))


# ---- the walk ------------------------------------------------------------------------------------------

@dataclass
class Walk:
    errors: list[str] = field(default_factory=list)
    checked: int = 0  # constraints evaluated
    #: patterns Python's re cannot compile (Java syntax): reported, never silently passed
    unchecked: set[str] = field(default_factory=set)

    def member(self, value, shape, path: str, doc: str | None = None) -> None:
        t = shape.type_name
        meta = shape.metadata
        if t == "structure":
            for name, sub in shape.members.items():
                if name in value:
                    self.member(value[name], sub, f"{path}.{name}", sub.documentation)
            return
        if t == "list":
            self._range(len(value), meta, path, "items")
            for k, v in enumerate(value):
                self.member(v, shape.member, f"{path}[{k}]")
            return
        if t == "map":
            for k, v in value.items():
                self.member(k, shape.key, f"{path}{{key}}")
                self.member(v, shape.value, f"{path}[{k}]")
            return
        if t in ("integer", "long"):
            self._range(value, meta, path, "")
            return
        if t != "string":
            return
        self._range(len(value), meta, path, "characters")
        if shape.enum:
            self.checked += 1
            if value not in shape.enum:
                self.errors.append(f"{path}: {value!r} is not one of {shape.enum}")
        if "pattern" in meta:
            try:
                # IAM's tag patterns use Unicode property classes (Java syntax): letters, separators and digits
                # are Python's \w and \s in a str pattern (the class already admits "_")
                rx = re.compile(meta["pattern"].replace(r"\p{L}\p{Z}\p{N}", r"\w\s"))
            except re.error:
                self.unchecked.add(f"{path}: {meta['pattern']}")
            else:
                self.checked += 1
                if not rx.fullmatch(value):
                    self.errors.append(f"{path}: {value!r} does not match {meta['pattern']!r}")
        p = prose(doc)
        if p.max_len is not None:
            self.checked += 1
            if len(value) > p.max_len:
                self.errors.append(f"{path}: {len(value)} characters, the documented maximum is {p.max_len}")
        if p.charset is not None:
            self.checked += 1
            bad = sorted(set(value) - p.charset)
            if bad:
                self.errors.append(f"{path}: {value!r} has characters EC2 refuses: {''.join(bad)!r}")
        for prefix in p.banned_prefixes:
            self.checked += 1
            if value.lower().startswith(prefix.lower()):
                self.errors.append(f"{path}: {value!r} starts with {prefix!r}")

    def _range(self, n: int, meta: dict, path: str, unit: str) -> None:
        for key, ok in (("min", n >= meta.get("min", n)), ("max", n <= meta.get("max", n))):
            if key in meta:
                self.checked += 1
                if not ok:
                    self.errors.append(f"{path}: {n} {unit} is outside {key} {meta[key]}".replace("  ", " "))


def check(resources: list[dict]) -> tuple[Walk, int]:
    """Walk every create call of ``resources``; returns the walk and the number of calls."""
    walk = Walk()
    calls = api_calls(resources)
    for call in calls:
        op = _MODELS[call.service].operation_model(call.operation)
        params = materialize(call.params, fake)
        where = f"{call.resource} {call.service}:{call.operation}"
        try:
            validate_parameters(params, op.input_shape)
        except ParamValidationError as e:
            walk.errors.append(f"{where}: {e}")
        walk.member(params, op.input_shape, where)
    return walk, len(calls)


@pytest.mark.parametrize("case", AWS_CASES)
def test_every_create_call_fits_the_service_models(case):
    walk, calls = check(resources_of(case))
    assert not walk.errors, "\n".join(walk.errors)
    assert not walk.unchecked, sorted(walk.unchecked)
    assert calls and walk.checked > calls  # the walk evaluated constraints on every call, not nothing


def test_the_model_states_the_ec2_description_constraint():
    """The prose parser reads what EC2's model says (so a changed sentence cannot silently disable it)."""
    shape = _MODELS["ec2"].operation_model("CreateSecurityGroup").input_shape
    p = prose(shape.members["Description"].documentation)
    assert p.max_len == 255 and "'" not in p.charset and set("._-:/()#,@[]+=&;{}!$*") <= p.charset
    assert prose(shape.members["GroupName"].documentation).banned_prefixes == ("sg-",)


BAD = [
    # the defect issue 11 found: EC2 refuses "'" in a group description
    ("stack-aws-phones", "spirit-net-lan", ("description",), "the NAT's own ruleset",
     "spirit-net-lan ec2:CreateSecurityGroup.Description: \"the NAT's own ruleset\" has characters EC2 refuses: \"'\""),
    ("stack-aws-sbc", "spirit-in-udp-5060-5061-spirit-ipv4-b1881f65", ("description",), "caf\u00e9",
     "IpPermissions[0].PrefixListIds[0].Description: 'café' has characters EC2 refuses: 'é'"),
    ("stack-aws-sbc", "spirit-sg-1", ("tags",), {"aws:spirit": "x"}, "Tags[0].Key: 'aws:spirit' starts with 'aws:'"),
    ("stack-aws-sbc", "spirit-sg-1", ("tags",), {"spirit-role": "v" * 257},
     "Tags[0].Value: 257 characters, the documented maximum is 256"),
    ("stack-aws-phones", "spirit-fw-nfw-rules", ("type",), "STATEFULL", "Type: 'STATEFULL' is not one of"),
    ("stack-aws-phones", "spirit-fw-nfw-rules", ("capacity",), "100", "Invalid type for parameter Capacity"),
    ("stack-aws-phones", "spirit-fw-nfw", ("name",), "spirit_fw", "FirewallName: 'spirit_fw' does not match"),
    ("stack-aws-phones", "spirit-fw-nfw-policy", ("description",), "d" * 513, "Description: 513 characters is outside max 512"),
    ("stack-aws-phones", "spirit-fw-dnsfw-group", ("name",), "n" * 65, "Name: 65 characters is outside max 64"),
    ("stack-aws-phones", "spirit-fw-dnsfw-allow", ("action",), "PERMIT", "Action: 'PERMIT' is not one of"),
    ("stack-aws-sbc", "spirit-spirit-ipv4", ("name",), "com.amazonaws.spirit", "starts with 'com.amazonaws'"),
    # the QoS NAT's live channel: the SSM parameter and the instance role (IAM names: at most 64)
    ("stack-aws-phones", "spirit-qos-nat-ruleset", ("tier",), "Premium", "Tier: 'Premium' is not one of"),
    ("stack-aws-phones", "spirit-qos-nat-role", ("name",), "r" * 65, "RoleName: 65 characters is outside max 64"),
    ("stack-aws-phones", "spirit-qos-nat-role", ("name",), "spirit nat", "RoleName: 'spirit nat' does not match"),
    ("stack-aws-phones", "spirit-qos-nat-ssm", ("vpcEndpointType",), "Interfaces",
     "VpcEndpointType: 'Interfaces' is not one of"),
]


@pytest.mark.parametrize("case,resource,path,value,expected", BAD,
                         ids=[f"{b[1]}-{'.'.join(b[2])}" for b in BAD])
def test_the_model_walk_bites(case, resource, path, value, expected):
    walk, _ = check(mutated(case, resource, path, value))
    assert any(expected in e for e in walk.errors), walk.errors

