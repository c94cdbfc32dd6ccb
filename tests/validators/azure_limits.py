"""Azure validator: what we register, checked against Azure's documented limits.

The limits are data, each with its source (tests/data/azure_limits.yaml): Microsoft Learn pages, and
where Azure's REST API specification states the limit in a property's description, that sentence as
the installed pulumi-azure-native SDK carries it (the SDK is generated from the specification). The
sentences are looked up in the installed SDK's docstrings, so a changed limit fails here.

Checked for every registered ``azure-native:*`` resource:

- physical names: the rule of each resource type (length, characters, first and last character), on
  the name the program sets or on the one Pulumi auto-generates (the resource name plus a suffix);
- NSG security rules: priority 100-4096, unique per NSG and direction; description at most 140
  characters; ports ``*``, a port or a range within 0-65535; address prefixes a CIDR, an address, an
  address range, ``*`` or a tag; access, direction and protocol among the SDK's enum values; at most
  1,000 rules and 4,000 address ranges per NSG;
- Firewall Policy rule collection groups: group and collection priorities 100-65000; collection type,
  action, rule type, network protocols and application protocols among the SDK's values; ports (network
  rules 0-65535 or ``*``, application rules at most 64000); addresses as for NSGs; FQDNs in network
  rules without wildcards and only in a policy with the DNS proxy on;
- VMs: computer name at most 64 characters (Linux); custom data at most 65,535 bytes once decoded;
- subnets at least /29.
"""

from __future__ import annotations

import base64
import importlib.metadata
import inspect
import ipaddress
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

__all__ = ["Finding", "limits", "sdk_quote_problems", "validate_all", "version"]

LIMITS_FILE = Path(__file__).resolve().parents[1] / "data" / "azure_limits.yaml"
NSG_RULE = "azure-native:network:SecurityRule"
NSG = "azure-native:network:NetworkSecurityGroup"
RCG = "azure-native:network:FirewallPolicyRuleCollectionGroup"
POLICY = "azure-native:network:FirewallPolicy"
VM = "azure-native:compute:VirtualMachine"
SUBNET = "azure-native:network:Subnet"
#: the smallest subnet Azure supports: https://learn.microsoft.com/en-us/azure/virtual-network/virtual-networks-faq
#: ("The smallest supported IPv4 subnet is /29, and the largest is /2")
SMALLEST_SUBNET = 29


@dataclass(frozen=True)
class Finding:
    resource: str
    type: str
    path: str
    problem: str

    def __str__(self) -> str:
        return f"{self.type} {self.resource}: {self.path}: {self.problem}"


@cache
def limits() -> dict:
    return yaml.safe_load(LIMITS_FILE.read_text(encoding="utf-8"))


def version() -> str:
    return f"pulumi-azure-native {importlib.metadata.version('pulumi-azure-native')}"


# ---- the sources: sentences the installed SDK must carry ------------------------------------------------

def _sdk_param_doc(ref: str) -> str:
    """'SecurityRuleArgs.priority' -> that parameter's docstring text in the installed SDK."""
    import pulumi_azure_native.compute as compute
    import pulumi_azure_native.network as network

    cls_name, param = ref.split(".")
    cls = getattr(network, cls_name, None) or getattr(compute, cls_name)
    src = inspect.getsource(cls.__init__)
    m = re.search(rf":param [^:]*\b{param}: (.*)", src)
    return m.group(1) if m else ""


def _quoted(node: Any):
    if isinstance(node, dict):
        if "sdk" in node and "quote" in node:
            yield node
        for v in node.values():
            yield from _quoted(v)


#: sentences quoted from the SDK in this module (not in the data file): VM limits
VM_QUOTES = {
    "OSProfileArgs.computer_name": "**Max-length (Linux):** 64 characters.",
    "OSProfileArgs.custom_data": "The maximum length of the binary array is 65535 bytes.",
}


def sdk_quote_problems() -> list[str]:
    """Each limit quoted from the SDK whose sentence the installed SDK does not carry (should be none)."""
    refs = [(n["sdk"], n["quote"]) for n in _quoted(limits())] + list(VM_QUOTES.items())
    return [f"{ref}: the installed SDK does not say {quote!r}" for ref, quote in refs
            if quote not in _sdk_param_doc(ref)]


@cache
def _enum(name: str) -> tuple[str, ...]:
    import pulumi_azure_native.network as network

    return tuple(e.value for e in getattr(network, name))


@cache
def _rule_type(args_class: str) -> str:
    """The literal ``rule_type`` the SDK's rule Args class sets (``NetworkRule``, ``ApplicationRule``)."""
    import pulumi_azure_native.network as network

    m = re.search(r"pulumi\.set\(__self__, \"rule_type\", '(\w+)'\)", inspect.getsource(getattr(network, args_class)))
    assert m, args_class
    return m.group(1)


# ---- the checks -----------------------------------------------------------------------------------------

def _range_check(value: Any, lo: int, hi: int, what: str, source: str, out: list, where: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        out.append((where, f"{value!r}: {what} must be {lo}-{hi} ({source})"))


def _port(value: Any, hi: int, allow_star: bool = True) -> bool:
    if allow_star and value == "*":
        return True
    m = re.fullmatch(r"(\d{1,5})(?:-(\d{1,5}))?", str(value)) if isinstance(value, str | int) else None
    if not m:
        return False
    lo, top = int(m.group(1)), int(m.group(2) or m.group(1))
    return 0 <= lo <= top <= hi


def _address(value: Any, tag_pattern: str) -> bool:
    """A CIDR, an address, an address range 'a-b', '*' or a tag (VirtualNetwork, AzureCloud.region...)."""
    if not isinstance(value, str):
        return False
    if value == "*" or re.fullmatch(tag_pattern, value):
        return True
    try:
        if "-" in value:
            a, b = (ipaddress.ip_address(p) for p in value.split("-", 1))
            return a.version == b.version and a <= b
        ipaddress.ip_network(value, strict=True)
        return True
    except ValueError:
        return False


def _name(r: dict, out: list) -> None:
    rules = limits()["names"]
    rule = rules["types"].get(r["type"])
    if rule is None:
        return
    value = (r.get("inputs") or {}).get(rule["input"])
    auto = value is None
    if auto:
        value = r["name"] + rules["autoname_suffix"]
    where = rule["input"] + (" (auto-named)" if auto else "")
    if not isinstance(value, str) or not rule["min"] <= len(value) <= rule["max"] \
            or not re.fullmatch(rule["pattern"], value):
        out.append((where, f"{value!r}: {rule['what']} ({rules['source']})"))


def _nsg_rule(inputs: dict, out: list) -> None:
    nsg = limits()["nsg"]
    p = nsg["rule_priority"]
    _range_check(inputs.get("priority"), p["min"], p["max"], "an NSG rule priority", p["url"], out, "priority")
    desc = inputs.get("description")
    if desc is not None and (not isinstance(desc, str) or len(desc) > nsg["rule_description"]["max"]):
        out.append(("description", f"{len(desc or '')} characters: {nsg['rule_description']['quote']}"))
    for key, enum in (("access", "SecurityRuleAccess"), ("direction", "SecurityRuleDirection"),
                      ("protocol", "SecurityRuleProtocol")):
        if inputs.get(key) not in _enum(enum):
            out.append((key, f"{inputs.get(key)!r} is not one of {_enum(enum)}"))
    port = nsg["port_range"]
    for key in ("sourcePortRange", "destinationPortRange", "sourcePortRanges", "destinationPortRanges"):
        values = inputs.get(key)
        for i, v in enumerate(values if isinstance(values, list) else [] if values is None else [values]):
            if not _port(v, port["max"]):
                out.append((f"{key}[{i}]" if key.endswith("s") else key, f"{v!r}: {port['quote']}"))
    tag = nsg["address_prefix"]["tag_pattern"]
    for key in ("sourceAddressPrefix", "destinationAddressPrefix", "sourceAddressPrefixes",
                "destinationAddressPrefixes"):
        values = inputs.get(key)
        for i, v in enumerate(values if isinstance(values, list) else [] if values is None else [values]):
            if not _address(v, tag):
                out.append((f"{key}[{i}]" if key.endswith("s") else key,
                            f"{v!r}: {nsg['address_prefix']['quote']}"))


def _nsg_totals(resources: list[dict], out_for) -> None:
    """Per NSG: unique priority per direction, at most 1,000 rules and 4,000 address ranges."""
    nsg = limits()["nsg"]
    by_nsg: dict[str, list[dict]] = {}
    for r in resources:
        if r["type"] == NSG_RULE:
            by_nsg.setdefault(str((r.get("inputs") or {}).get("networkSecurityGroupName")), []).append(r)
    for group, rules in by_nsg.items():
        seen: dict[tuple, str] = {}
        ranges = 0
        for r in rules:
            i = r.get("inputs") or {}
            key = (i.get("direction"), i.get("priority"))
            if key in seen:
                out_for(r).append(("priority", f"{key[1]} is also {seen[key]}'s priority ({key[0]}): "
                                               f"{nsg['rule_priority']['quote']}"))
            seen.setdefault(key, r["name"])
            for k in ("sourceAddressPrefixes", "destinationAddressPrefixes", "sourceAddressPrefix",
                      "destinationAddressPrefix"):
                v = i.get(k)
                for a in v if isinstance(v, list) else [v] if v else []:
                    ranges += a != "*" and not re.fullmatch(nsg["address_prefix"]["tag_pattern"], str(a))
        if len(rules) > nsg["rules_per_nsg"]["max"]:
            out_for(rules[0]).append(("networkSecurityGroupName", f"{group}: {len(rules)} rules; "
                                                                  f"{nsg['rules_per_nsg']['what']}"))
        if ranges > nsg["address_ranges_per_nsg"]["max"]:
            out_for(rules[0]).append(("networkSecurityGroupName", f"{group}: {ranges} address ranges; "
                                                                  f"{nsg['address_ranges_per_nsg']['what']}"))


def _rcg(inputs: dict, policies: dict[str, dict], out: list) -> None:
    fp = limits()["firewall_policy"]
    g = fp["group_priority"]
    _range_check(inputs.get("priority"), g["min"], g["max"], "a rule collection group priority", g["url"], out,
                 "priority")
    tag = limits()["nsg"]["address_prefix"]["tag_pattern"]
    network_rule, application_rule = _rule_type("NetworkRuleArgs"), _rule_type("ApplicationRuleArgs")
    policy = policies.get(str(inputs.get("firewallPolicyName")))
    for ci, coll in enumerate(inputs.get("ruleCollections") or []):
        here = f"ruleCollections[{ci}]"
        c = fp["collection_priority"]
        _range_check(coll.get("priority"), c["min"], c["max"], "a rule collection priority", c["url"], out,
                     f"{here}.priority")
        if coll.get("ruleCollectionType") not in _enum("FirewallPolicyRuleCollectionType"):
            out.append((f"{here}.ruleCollectionType", f"{coll.get('ruleCollectionType')!r} is not one of "
                                                      f"{_enum('FirewallPolicyRuleCollectionType')}"))
        action = (coll.get("action") or {}).get("type")
        if coll.get("ruleCollectionType") == "FirewallPolicyFilterRuleCollection" \
                and action not in _enum("FirewallPolicyFilterRuleCollectionActionType"):
            out.append((f"{here}.action.type", f"{action!r} is not one of "
                                               f"{_enum('FirewallPolicyFilterRuleCollectionActionType')}"))
        for ri, rule in enumerate(coll.get("rules") or []):
            at = f"{here}.rules[{ri}]"
            kind = rule.get("ruleType")
            if kind not in (network_rule, application_rule, "NatRule"):
                out.append((f"{at}.ruleType", f"{kind!r} is not a rule type ({network_rule}, {application_rule}, "
                                              "NatRule)"))
            for key in ("sourceAddresses", "destinationAddresses"):
                for ai, a in enumerate(rule.get(key) or []):
                    if not _address(a, tag):
                        out.append((f"{at}.{key}[{ai}]", f"{a!r} is not a CIDR, address, range, '*' or tag"))
            if kind == network_rule:
                for p in rule.get("ipProtocols") or []:
                    if p not in _enum("FirewallPolicyRuleNetworkProtocol"):
                        out.append((f"{at}.ipProtocols", f"{p!r} is not one of "
                                                         f"{_enum('FirewallPolicyRuleNetworkProtocol')}"))
                for pi, port in enumerate(rule.get("destinationPorts") or []):
                    if not _port(port, fp["network_port"]["max"]):
                        out.append((f"{at}.destinationPorts[{pi}]", f"{port!r}: {fp['network_port']['what']}"))
                fqdns = rule.get("destinationFqdns") or []
                for fi, f in enumerate(fqdns):
                    if not isinstance(f, str) or "*" in f:
                        out.append((f"{at}.destinationFqdns[{fi}]", f"{f!r}: network rules take no wildcard "
                                                                    f"FQDNs ({fp['network_rule_fqdn']['url']})"))
                dns = (policy or {}).get("dnsSettings") or {}
                if fqdns and (not dns.get("enableProxy") or dns.get("requireProxyForNetworkRules") is False):
                    out.append((f"{at}.destinationFqdns", "FQDNs in a network rule need the policy's DNS proxy "
                                                          f"(dnsSettings.enableProxy): "
                                                          f"{fp['network_rule_fqdn']['quote']}"))
            if kind == application_rule:
                for pi, proto in enumerate(rule.get("protocols") or []):
                    if proto.get("protocolType") not in _enum("FirewallPolicyRuleApplicationProtocolType"):
                        out.append((f"{at}.protocols[{pi}].protocolType",
                                    f"{proto.get('protocolType')!r} is not one of "
                                    f"{_enum('FirewallPolicyRuleApplicationProtocolType')}"))
                    ap = fp["application_port"]
                    _range_check(proto.get("port"), ap["min"], ap["max"], "an application rule port",
                                 ap["quote"], out, f"{at}.protocols[{pi}].port")


def _vm(inputs: dict, out: list) -> None:
    os_profile = inputs.get("osProfile") or {}
    name = os_profile.get("computerName")
    if name is not None and (not isinstance(name, str) or not 1 <= len(name) <= 64):
        out.append(("osProfile.computerName", f"{name!r}: {VM_QUOTES['OSProfileArgs.computer_name']}"))
    data = os_profile.get("customData")
    if isinstance(data, str) and data != "<computed>":
        try:
            size = len(base64.b64decode(data, validate=True))
        except ValueError:
            out.append(("osProfile.customData", "is not base-64"))
        else:
            if size > 65535:
                out.append(("osProfile.customData", f"{size} bytes decoded: "
                                                     f"{VM_QUOTES['OSProfileArgs.custom_data']}"))


def _subnet(inputs: dict, out: list) -> None:
    prefix = inputs.get("addressPrefix")
    if isinstance(prefix, str):
        try:
            net = ipaddress.ip_network(prefix, strict=True)
        except ValueError:
            out.append(("addressPrefix", f"{prefix!r} is not a CIDR"))
            return
        if net.version == 4 and net.prefixlen > SMALLEST_SUBNET:
            out.append(("addressPrefix", f"{prefix}: the smallest Azure subnet is /{SMALLEST_SUBNET}"))


def validate_all(resources: list[dict]) -> tuple[int, list[Finding]]:
    """(Azure resources checked, findings) for a list of recorded resources; other clouds' are skipped."""
    azure = [r for r in resources if r["type"].startswith("azure-native:")]
    found: dict[int, list[tuple[str, str]]] = {id(r): [] for r in azure}
    # a rule collection group names its policy by the policy's physical name: the one the program set, or
    # (auto-named) what the recording's mock returns for it, the Pulumi name
    policies: dict[str, dict] = {}
    for r in azure:
        if r["type"] == POLICY:
            inputs = r.get("inputs") or {}
            policies[r["name"]] = inputs
            if inputs.get("firewallPolicyName"):
                policies[str(inputs["firewallPolicyName"])] = inputs
    for r in azure:
        out = found[id(r)]
        inputs = r.get("inputs") or {}
        _name(r, out)
        if r["type"] == NSG_RULE:
            _nsg_rule(inputs, out)
        elif r["type"] == RCG:
            _rcg(inputs, policies, out)
        elif r["type"] == VM:
            _vm(inputs, out)
        elif r["type"] == SUBNET:
            _subnet(inputs, out)
    _nsg_totals(azure, lambda r: found[id(r)])
    return len(azure), [Finding(r["name"], r["type"], p, msg) for r in azure for p, msg in found[id(r)]]
