"""Every registered GCP resource, checked against the Compute Engine v1 discovery document (issue 11 §2).

The validator is gcp_discovery.py (the mapping of Pulumi inputs onto the API and what it checks). It
runs over every case of the shared matrix (every example stack and every generated combination), and
each kind of check is shown to bite on a real registered resource with one defect.
"""

from __future__ import annotations

import copy
import re

import pytest

from . import gcp_discovery as gcp
from . import matrix
from .recorded import assert_clean

GCP_CASES = [c for c in matrix.case_ids() if c.startswith(("stack-gcp-", "gcp-"))]


def test_the_discovery_document_is_the_installed_one():
    doc = gcp.discovery()
    assert doc["name"] == "compute" and doc["version"] == "v1"
    assert doc["revision"].isdigit() and len(doc["schemas"]) > 500
    assert gcp.version().startswith("google-api-python-client ")


def test_every_mapped_pulumi_name_is_a_real_pulumi_gcp_input():
    """The mapping's left side: each name is an input of the pulumi-gcp resource (or nested type) it claims."""
    assert gcp.pulumi_side_problems() == []


def test_every_mapped_type_creates_through_a_real_method_and_schema():
    for token, t in gcp.TYPES.items():
        assert t.schema in gcp.discovery()["schemas"], token
        method = gcp._method(t.method)
        for param in t.path_params.values():
            assert param in method["parameters"], (token, param)


def test_the_rules_in_prose_are_still_in_the_document():
    gcp._check_stated_rules()  # raises when the document no longer says a sentence a rule relies on


def test_the_matrix_has_gcp_cases():
    assert any(c.startswith("stack-gcp-") for c in GCP_CASES) and any(c.startswith("gcp-") for c in GCP_CASES)


@pytest.mark.parametrize("case_id", GCP_CASES)
def test_every_registered_gcp_resource_is_accepted(case_id):
    assert_clean(case_id, gcp)


# ---- the validator bites: a real registered resource with one defect --------------------------------------

def _real(type_token: str, where=lambda r: True) -> dict:
    """The first registered resource of this type in the GCP cases (a deep copy to spoil)."""
    for cid in GCP_CASES:
        for r in matrix.case(cid).of_type(type_token):
            if where(r):
                return copy.deepcopy({"type": r.type, "name": r.name, "inputs": r.inputs})
    raise AssertionError(f"no registered {type_token}")


FW = "gcp:compute/firewall:Firewall"
RULE = "gcp:compute/networkFirewallPolicyRule:NetworkFirewallPolicyRule"


def _allow(r):
    return bool(r.inputs.get("allows"))


def _set(path, value):
    def spoil(res):
        node = res
        *parents, last = path
        for p in parents:
            node = node[p]
        node[last] = value
    return spoil


BAD = [
    # (id, type, which resource, spoil, expected finding path ({i}: any list index), words in the problem)
    ("name-upper-case", FW, _allow, _set(("inputs", "name"), "Spirit-SIP"), "name", "does not match the API pattern"),
    ("name-too-long", FW, _allow, _set(("inputs", "name"), "s" * 64), "name", "does not match the API pattern"),
    ("priority-out-of-range", FW, _allow, _set(("inputs", "priority"), 65536), "priority", "outside 0-65535"),
    ("direction-enum", FW, _allow, _set(("inputs", "direction"), "OUTBOUND"), "direction", "is not one of"),
    ("unknown-input", FW, _allow, _set(("inputs", "sourceRange"), ["10.0.0.0/8"]), "sourceRange", "no mapping"),
    ("port-range-reversed", FW, _allow, _set(("inputs", "allows", 0, "ports"), ["5062-5060"]), "allowed[0].ports[0]",
     "not a port or a port range"),
    ("protocol-unknown", FW, _allow, _set(("inputs", "allows", 0, "protocol"), "rtp"), "allowed[0].IPProtocol",
     "is not a protocol name"),
    ("cidr-host-bits", FW, lambda r: bool(r.inputs.get("destinationRanges")),
     _set(("inputs", "destinationRanges"), ["103.80.244.1/22"]), "destinationRanges[0]", "not a CIDR range"),
    ("tag-trailing-dash", FW, lambda r: bool(r.inputs.get("targetTags")), _set(("inputs", "targetTags"), ["spirit-"]),
     "targetTags[0]", "not an RFC 1035 network tag"),
    ("integer-as-string", FW, _allow, _set(("inputs", "priority"), "1000"), "priority", "must be an integer"),
    ("policy-rule-action", RULE, lambda r: True, _set(("inputs", "action"), "accept"), "action", "is not one of"),
    ("policy-rule-priority", RULE, lambda r: True, _set(("inputs", "priority"), 2**31), "priority",
     "outside 0-2147483647"),
    ("policy-name-param", RULE, lambda r: True, _set(("inputs", "firewallPolicy"), "Spirit_Policy"), "firewallPolicy",
     "does not match compute.networkFirewallPolicies.addRule's firewallPolicy pattern"),
    ("policy-rule-fqdn-field", RULE, lambda r: bool(r.inputs.get("match", {}).get("destFqdns")),
     _set(("inputs", "match", "destFqdn"), ["pool.ntp.org"]), "match.destFqdn", "no mapping"),
    ("nat-enum", "gcp:compute/routerNat:RouterNat", lambda r: True, _set(("inputs", "natIpAllocateOption"), "MANUAL"),
     "natIpAllocateOption", "is not one of"),
    ("nat-log-filter", "gcp:compute/routerNat:RouterNat", lambda r: True,
     _set(("inputs", "logConfig", "filter"), "ERRORS"), "logConfig.filter", "is not one of"),
    ("network-routing-mode", "gcp:compute/network:Network", lambda r: True, _set(("inputs", "routingMode"), "LOCAL"),
     "routingConfig.routingMode", "is not one of"),
    ("network-autoname", "gcp:compute/network:Network", lambda r: True, _set(("name",), "Spirit-Net"), "name",
     "does not match the API pattern"),
    ("instance-tag", "gcp:compute/instance:Instance", lambda r: True, _set(("inputs", "tags"), ["Spirit-QoS"]),
     "tags.items[0]", "does not match the API pattern"),
    ("instance-access-config", "gcp:compute/instance:Instance", lambda r: True,
     _set(("inputs", "networkInterfaces", 0, "accessConfigs", 0, "networkTier"), "GOLD"),
     "networkInterfaces[0].accessConfigs[0].networkTier", "is not one of"),
    ("instance-metadata-key", "gcp:compute/instance:Instance", lambda r: True,
     _set(("inputs", "metadata", "user data"), "x"), "metadata.items[{i}].key", "does not match the API pattern"),
    ("instance-user-data-size", "gcp:compute/instance:Instance", lambda r: True,
     _set(("inputs", "metadata", "user-data"), "#cloud-config\n" + "x" * 262144), "metadata.items[{i}].value",
     "262144 bytes"),
    ("route-priority", "gcp:compute/route:Route", lambda r: True, _set(("inputs", "priority"), 70000), "priority",
     "outside 0-65535"),
    ("address-label", "gcp:compute/address:Address", lambda r: True, _set(("inputs", "labels", "spirit-role"), "VDI"),
     "labels.spirit-role", "not an RFC 1035 label value"),
    ("unknown-type", FW, _allow, _set(("type",), "gcp:compute/firewallRule:FirewallRule"), "(type)", "no mapping"),
]


@pytest.mark.parametrize("case", BAD, ids=[b[0] for b in BAD])
def test_the_validator_bites(case):
    _, type_token, which, spoil, path, words = case
    good = _real(type_token, which)
    assert gcp.validate(good) == []
    bad = copy.deepcopy(good)
    spoil(bad)
    findings = gcp.validate(bad)
    where = re.escape(path).replace(re.escape("{i}"), r"\d+")
    assert [f for f in findings if re.fullmatch(where, f.path) and words in f.problem], \
        "\n".join(map(str, findings)) or "no finding"
