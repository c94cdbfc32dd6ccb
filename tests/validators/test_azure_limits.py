"""Every registered Azure resource, checked against Azure's documented limits (issue 11 §2).

The limits and their sources are tests/data/azure_limits.yaml; the validator is azure_limits.py. It runs
over every case of the shared matrix, and each check is shown to bite on a real registered resource
with one defect.
"""

from __future__ import annotations

import base64
import copy

import pytest

from . import azure_limits as az
from . import matrix
from .recorded import assert_clean, resources

AZURE_CASES = [c for c in matrix.case_ids() if c.startswith(("stack-azure-", "azure-"))]
RULE = "azure-native:network:SecurityRule"
RCG = "azure-native:network:FirewallPolicyRuleCollectionGroup"
VM = "azure-native:compute:VirtualMachine"


def test_every_limit_has_a_source_and_the_sdk_still_says_it():
    data = az.limits()
    assert data["names"]["source"].startswith("https://learn.microsoft.com/")
    for section in ("nsg", "firewall_policy"):
        for name, limit in data[section].items():
            assert limit.get("url", "").startswith("https://learn.microsoft.com/"), (section, name)
            assert limit.get("quote") or limit.get("what"), (section, name)
    assert az.sdk_quote_problems() == []


def test_the_matrix_has_azure_cases_with_every_layer():
    types = {r.type for c in AZURE_CASES for r in matrix.case(c).registrations}
    assert {RULE, RCG, VM, "azure-native:network:NatGateway"} <= types


@pytest.mark.parametrize("case_id", AZURE_CASES)
def test_every_registered_azure_resource_is_within_the_limits(case_id):
    assert_clean(case_id, az)


# ---- the validator bites ---------------------------------------------------------------------------------

def _case_with(type_token: str, needs=lambda inputs: True) -> list[dict]:
    """Every resource of the first Azure case that registers ``type_token`` with inputs that ``needs``
    accepts (deep copies to spoil)."""
    for cid in AZURE_CASES:
        if any(needs(r.inputs) for r in matrix.case(cid).of_type(type_token)):
            return copy.deepcopy(resources(cid))
    raise AssertionError(f"no case registers {type_token} as needed")


def _has_fqdn_rule(inputs):
    return any("destinationFqdns" in rule for c in inputs.get("ruleCollections") or [] for rule in c["rules"])


NEEDS = {  # bite cases that need a particular shape of the resource they spoil
    "nsg-prefix-host-bits": lambda i: "destinationAddressPrefixes" in i,
    "nsg-too-many-prefixes": lambda i: "destinationAddressPrefixes" in i,
    "nsg-prefix-tag-lowercase": lambda i: "sourceAddressPrefix" in i,
    "rcg-fqdn-wildcard": _has_fqdn_rule,
    "rcg-fqdn-without-proxy": _has_fqdn_rule,
}


def _first(resources, type_token, where=lambda r: True):
    return next(r for r in resources if r["type"] == type_token and where(r))


def _rule_with(key):
    return lambda r: key in r["inputs"]


def _collections(r):
    return r["inputs"]["ruleCollections"]


def _net_rule(r, want="destinationAddresses"):
    return next(rule for c in _collections(r) for rule in c["rules"] if want in rule)


def _spoil_rule(key, value, where=lambda r: True):
    def spoil(resources):
        _first(resources, RULE, where)["inputs"][key] = value
    return spoil


def _same_priority(resources):
    rules = [r for r in resources if r["type"] == RULE]
    a = rules[0]
    b = next(r for r in rules[1:] if r["inputs"]["direction"] == a["inputs"]["direction"])
    b["inputs"]["priority"] = a["inputs"]["priority"]


def _many_rules(resources):
    rule = _first(resources, RULE)
    for i in range(1001):
        resources.append(copy.deepcopy(rule) | {"name": f"{rule['name']}-{i}"})
        resources[-1]["inputs"] = dict(rule["inputs"], priority=100 + i % 3997, securityRuleName=f"extra-{i}",
                                       direction="Inbound" if i % 2 else "Outbound")


def _many_prefixes(resources):
    rule = _first(resources, RULE, _rule_with("destinationAddressPrefixes"))
    rule["inputs"]["destinationAddressPrefixes"] = [f"10.{i // 256}.{i % 256}.0/24" for i in range(4001)]


def _group(key, value):
    def spoil(resources):
        _first(resources, RCG)["inputs"][key] = value
    return spoil


def _collection(key, value):
    def spoil(resources):
        _collections(_first(resources, RCG))[0][key] = value
    return spoil


def _network_rule(key, value, want="destinationAddresses"):
    def spoil(resources):
        _net_rule(_first(resources, RCG), want)[key] = value
    return spoil


def _proxy_off(resources):
    _first(resources, "azure-native:network:FirewallPolicy")["inputs"]["dnsSettings"] = {"enableProxy": False}


def _custom_data(size):
    def spoil(resources):
        _first(resources, VM)["inputs"]["osProfile"]["customData"] = base64.b64encode(b"x" * size).decode()
    return spoil


def _computer_name(resources):
    _first(resources, VM)["inputs"]["osProfile"]["computerName"] = "q" * 65


def _rename(type_token, key, value):
    def spoil(resources):
        _first(resources, type_token)["inputs"][key] = value
    return spoil


def _pulumi_name(type_token, value):
    def spoil(resources):
        _first(resources, type_token)["name"] = value
    return spoil


BAD = [
    # (id, a type the case must register, spoil, expected finding path, words in the problem)
    ("nsg-priority-low", RULE, _spoil_rule("priority", 99), "priority", "must be 100-4096"),
    ("nsg-priority-high", RULE, _spoil_rule("priority", 4097), "priority", "must be 100-4096"),
    ("nsg-priority-twice", RULE, _same_priority, "priority", "must be unique"),
    ("nsg-description-long", RULE, _spoil_rule("description", "d" * 141), "description", "140 chars"),
    ("nsg-port-out-of-range", RULE, _spoil_rule("destinationPortRange", "5060-65536"), "destinationPortRange",
     "between 0 and 65535"),
    ("nsg-port-garbage", RULE, _spoil_rule("sourcePortRange", "5060,5061"), "sourcePortRange", "between 0 and 65535"),
    ("nsg-prefix-host-bits", RULE, _spoil_rule("destinationAddressPrefixes", ["103.80.244.1/22"],
                                               _rule_with("destinationAddressPrefixes")),
     "destinationAddressPrefixes[0]", "CIDR or destination IP range"),
    ("nsg-prefix-tag-lowercase", RULE, _spoil_rule("sourceAddressPrefix", "internet", _rule_with("sourceAddressPrefix")),
     "sourceAddressPrefix", "Default tags"),
    ("nsg-protocol-enum", RULE, _spoil_rule("protocol", "UDP"), "protocol", "is not one of"),
    ("nsg-direction-enum", RULE, _spoil_rule("direction", "Egress"), "direction", "is not one of"),
    ("nsg-rule-name-dash-end", RULE, _spoil_rule("securityRuleName", "spirit-sip-"), "securityRuleName",
     "end with an alphanumeric or underscore"),
    ("nsg-rule-name-long", RULE, _spoil_rule("securityRuleName", "r" * 81), "securityRuleName", "1-80 characters"),
    ("nsg-too-many-rules", RULE, _many_rules, "networkSecurityGroupName", "Security rules per network security group"),
    ("nsg-too-many-prefixes", RULE, _many_prefixes, "networkSecurityGroupName", "IP address ranges"),
    ("nsg-autoname", "azure-native:network:NetworkSecurityGroup",
     _pulumi_name("azure-native:network:NetworkSecurityGroup", "n" * 72), "networkSecurityGroupName (auto-named)",
     "1-80 characters"),
    ("vnet-name", "azure-native:network:VirtualNetwork",
     _rename("azure-native:network:VirtualNetwork", "virtualNetworkName", "v"), "virtualNetworkName", "2-64"),
    ("resource-group-period", "azure-native:resources:ResourceGroup",
     _rename("azure-native:resources:ResourceGroup", "resourceGroupName", "spirit-rg."), "resourceGroupName",
     "can't end with a period"),
    ("subnet-too-small", "azure-native:network:Subnet",
     _rename("azure-native:network:Subnet", "addressPrefix", "10.0.0.0/30"), "addressPrefix", "smallest Azure subnet"),
    ("rcg-priority", RCG, _group("priority", 65001), "priority", "must be 100-65000"),
    ("rcg-collection-priority", RCG, _collection("priority", 99), "ruleCollections[0].priority", "must be 100-65000"),
    ("rcg-collection-type", RCG, _collection("ruleCollectionType", "FilterRuleCollection"),
     "ruleCollections[0].ruleCollectionType", "is not one of"),
    ("rcg-action", RCG, _collection("action", {"type": "Accept"}), "ruleCollections[0].action.type", "is not one of"),
    ("rcg-network-protocol", RCG, _network_rule("ipProtocols", ["Udp"]), "ipProtocols", "is not one of"),
    ("rcg-network-port", RCG, _network_rule("destinationPorts", ["70000"]), "destinationPorts[0]", "0-65535"),
    ("rcg-address", RCG, _network_rule("destinationAddresses", ["103.80.244.0/33"]), "destinationAddresses[0]",
     "is not a CIDR"),
    ("rcg-fqdn-wildcard", RCG, _network_rule("destinationFqdns", ["*.ntp.org"], "destinationFqdns"),
     "destinationFqdns[0]", "no wildcard"),
    ("rcg-fqdn-without-proxy", RCG, _proxy_off, "destinationFqdns", "DNS proxy"),
    ("vm-custom-data", VM, _custom_data(65536), "osProfile.customData", "65535 bytes"),
    ("vm-computer-name", VM, _computer_name, "osProfile.computerName", "64 characters"),
]


@pytest.mark.parametrize("case", BAD, ids=[b[0] for b in BAD])
def test_the_validator_bites(case):
    cid, type_token, spoil, path, words = case
    resources = _case_with(type_token, NEEDS.get(cid, lambda inputs: True))
    assert az.validate_all(resources)[1] == []
    spoil(resources)
    findings = az.validate_all(resources)[1]
    assert [f for f in findings if f.path.endswith(path) and words in f.problem], \
        "\n".join(map(str, findings)) or "no finding"
