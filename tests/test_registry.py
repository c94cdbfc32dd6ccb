"""The one table of clouds (spirit_infra.registry): every dispatch by cloud goes through it, every module
it names exists and has what its user calls, and lookups refuse an unknown cloud in one line."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from imports import cycles, module_graph

import spirit_infra
from spirit_infra import registry
from spirit_infra.cli.app import COMMAND_MODULES
from spirit_infra.errors import ConfigError
from spirit_infra.extras import SDKS
from spirit_infra.flows import AllowedSet
from spirit_infra.stackconfig import CLOUDS as STACK_CLOUDS

PACKAGE = Path(spirit_infra.__file__).parent
#: what each user of a part calls on the module the table names
CALLED = {"cli": "register", "program": "compose", "verify": "verify", "layers": "LAYERS"}


@pytest.mark.parametrize("name", sorted(registry.CLOUDS))
@pytest.mark.parametrize("part", sorted(CALLED))
def test_every_module_the_table_names_exists(name, part):
    entry = registry.CLOUDS[name]
    module = getattr(entry, part)
    assert importlib.util.find_spec(module) is not None, module
    assert hasattr(entry.load(part), CALLED[part]), (module, CALLED[part])


def test_the_dispatches_read_the_table():
    assert list(STACK_CLOUDS) == list(registry.CLOUDS)  # spirit:cloud's allowed values
    assert {c: COMMAND_MODULES[c] for c in registry.CLOUDS} == {c.name: c.cli for c in registry.CLOUDS.values()}
    assert SDKS == {c.name: c.sdk for c in registry.CLOUDS.values()}


def test_no_module_picks_a_cloud_module_by_its_name():
    """The string dispatches this table replaced (``import_module(f"spirit_infra.{cloud}.verify")``,
    ``if cloud == "aws": from ..aws.rules import read``) do not come back."""
    pattern = re.compile(r"import_module\(f[\"'][^\"']*\{[^}]*cloud|cloud == [\"'](aws|azure|gcp)[\"']:\s*\n\s+from \.\.")
    found = [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
             if pattern.search(p.read_text(encoding="utf-8"))]
    assert found == [], found
    assert pattern.search('mod = importlib.import_module(f"spirit_infra.{cfg.cloud}.verify")')  # it bites
    assert pattern.search('if cloud == "aws":\n    from ..aws.rules import read')


@pytest.mark.parametrize("type_token,cloud", [
    ("aws:ec2/securityGroup:SecurityGroup", "aws"),
    ("azure-native:network:NetworkSecurityGroup", "azure"),
    ("azure:network/networkSecurityGroup:NetworkSecurityGroup", "azure"),
    ("gcp:compute/firewall:Firewall", "gcp"),
    ("spirit:index:SpiritSecurityGroups", ""),
    ("kubernetes:core/v1:Service", ""),
    ("awsx:ec2:Vpc", ""),  # a prefix, not a substring: awsx is not aws
])
def test_cloud_of_a_resource(type_token, cloud):
    assert registry.cloud_of({"type": type_token}) == cloud


@pytest.mark.parametrize("bad", ["AWS", "oci", "", None, 3])
def test_an_unknown_cloud_is_one_line(bad):
    with pytest.raises(ConfigError) as e:
        registry.cloud(bad)
    assert str(e.value) == f"cloud: {bad!r} is not a cloud (aws, azure, gcp)"


def test_load_takes_only_the_parts_of_the_table():
    with pytest.raises(ValueError):
        registry.cloud("aws").load("sdk")


def test_layers_are_found_and_named_per_instance():
    rs = [
        {"type": "gcp:compute/firewall:Firewall", "name": "a", "inputs": {"direction": "EGRESS", "priority": 1000,
         "allows": [{"protocol": "udp", "ports": ["123"]}], "destinationRanges": ["192.0.2.0/24"]}},
        *({"type": "gcp:compute/networkFirewallPolicyRule:NetworkFirewallPolicyRule", "name": f"r{p}",
           "inputs": {"firewallPolicy": p, "priority": 1000, "direction": "EGRESS", "action": "allow",
                      "match": {"destIpRanges": ["198.51.100.0/24"], "layer4Configs": [{"ipProtocol": "tcp"}]}}}
          for p in ("pol-b", "pol-a")),
    ]
    named = [(name, [r["name"] for r in inst]) for layer in registry.layers_of("gcp")
             for name, inst in layer.instances(rs)]
    assert named == [("VPC firewall rules", ["a"]), ("firewall policy pol-a", ["rpol-a"]),
                     ("firewall policy pol-b", ["rpol-b"])]
    for layer in registry.layers_of("gcp"):
        for _, inst in layer.instances(rs):
            assert isinstance(layer.read(inst), AllowedSet)
    assert [layer.instances(rs[:1]) for layer in registry.layers_of("aws")] == [[], []]  # no AWS layer there


@pytest.mark.parametrize("name", sorted(registry.CLOUDS))
def test_read_one_is_none_for_what_is_not_a_rule(name):
    read_one = registry.cloud(name).load("layers").read_one
    assert read_one({"type": "spirit:index:Nothing", "inputs": {}}) is None


def test_no_import_cycles_in_the_library():
    """No two modules import each other, even inside a function (gcp/rules.py and gcp/policy.py, now
    gcp/fqdn.py, did: the reader of both is gcp/read.py now)."""
    assert cycles(module_graph()) == []


def test_the_cycle_check_bites(tmp_path):
    pkg = tmp_path / "spirit_infra" / "gcp"
    pkg.mkdir(parents=True)
    (tmp_path / "spirit_infra" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "fqdn.py").write_text("from .rules import l4\n")
    (pkg / "rules.py").write_text("def read():\n    from .fqdn import POLICY_RULE_TYPES\n")
    (pkg / "read.py").write_text("from .fqdn import x\nfrom .rules import y\n")
    assert cycles(module_graph(tmp_path)) == [["spirit_infra.gcp.fqdn", "spirit_infra.gcp.rules"]]
