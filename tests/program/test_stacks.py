"""Every example stack, previewed offline: exact, deterministic, the JSON contract, the component tree,
least privilege, and the terminal report."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml

from spirit_infra.flows import AllowedSet, Peer, Term
from spirit_infra.preview import render_text

from . import CLOUD_PREFIX, ROOT, STACKS, cli, preview, preview_file, stack_names, stderr_lines, with_ids

NAMES = stack_names()
LAYERS = {
    "aws": ("aws security groups", "aws network firewall"),
    "azure": ("azure nsg", "azure firewall policy"),
    "gcp": ("gcp vpc firewall rules", "gcp network firewall policy"),
}
REQUIRED = {"aws-sbc", "aws-communicator", "azure-sbc", "azure-communicator", "gcp-sbc", "gcp-phones"}


def _stack_file(name: str) -> dict:
    return yaml.safe_load((STACKS / f"Pulumi.{name}.yaml").read_text())["config"]


def _read_all(cloud: str, resources: list[dict]) -> AllowedSet:
    """What every firewall resource of the stack allows, with each cloud's built-in defaults."""
    if cloud == "aws":
        from spirit_infra.aws.read import read
        return read(with_ids(resources))  # a new VPC security group has no default egress via Pulumi
    if cloud == "azure":
        from spirit_infra.azure.read import read_firewall_policy, read_nsg
        return read_nsg(resources, include_default_rules=True) | read_firewall_policy(resources)
    from spirit_infra.gcp import rules
    from spirit_infra.gcp.fqdn import POLICY_RULE_TYPES
    from spirit_infra.gcp.read import read
    vpc = read([r for r in resources if r["type"] == rules.FIREWALL_TYPE])  # implied rules included
    pol = [r for r in resources if r["type"] in POLICY_RULE_TYPES]
    return vpc | (read(pol, implied=False) if pol else AllowedSet())


def _allow_all_egress(allowed: AllowedSet) -> list[str]:
    """Transports on which every IPv4 address and port is allowed out."""
    return [t for t in ("tcp", "udp") if AllowedSet([Term("egress", t, Peer.of(["0.0.0.0/0"]))]) <= allowed]


def test_the_issue_stacks_exist():
    assert REQUIRED <= set(NAMES)
    assert len(NAMES) >= 8


@pytest.mark.parametrize("name", NAMES)
def test_stack_previews_exact(name):
    res = preview(name)
    cfg = _stack_file(name)
    assert res.stack == name
    assert res.config.cloud == cfg["spirit:cloud"] and res.config.profile == cfg["spirit:profile"]
    assert res.exact is True, render_text(res)
    d = res.to_dict()
    assert d["exact"] is True
    for layer in d["layers"]:
        assert layer["exact"] is True and layer["missing"] == [] and layer["extra"] == [], layer


@pytest.mark.parametrize("name", NAMES)
def test_stack_layers(name):
    res = preview(name)
    cfg = _stack_file(name)
    rules, fqdn = LAYERS[cfg["spirit:cloud"]]
    want = [rules] + ([fqdn] if "fqdn-firewall" in cfg.get("spirit:firewallLayers", ["rules"]) else [])
    assert [v.layer for v in res.layers] == want
    # every layer really read something back from the registered resources
    for v in res.layers:
        assert v.actual.terms, v.layer
    # the widening report names only dimensions the layers cannot express
    assert {w["dimension"] for w in res.widened} <= {"source_ports", "destination"}
    assert res.widened == sorted(res.widened, key=lambda w: (w["target"], w["flow"], w["dimension"]))


@pytest.mark.parametrize("name", NAMES)
def test_preview_is_deterministic_in_process(name):
    from spirit_infra.preview import find_project, load_stack, preview_stack

    first = preview(name).to_json()
    project = find_project()
    again = preview_stack(project, *load_stack(project, name)).to_json()
    assert again == first


@pytest.mark.parametrize("name", ["aws-phones", "azure-communicator", "gcp-phones"])
def test_preview_json_is_byte_identical_across_processes(name):
    # two fresh interpreters with different hash seeds (set/dict order of str must not leak out)
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda seed: cli("preview", "--stack", name, "--json",
                                              env={"PYTHONHASHSEED": seed}), ["1", "4242"]))
    for r in runs:
        assert r.returncode == 0, r.stderr
        assert stderr_lines(r.stderr) == []
    assert runs[0].stdout == runs[1].stdout
    assert runs[0].stdout == preview(name).to_json()


@pytest.mark.parametrize("name", NAMES)
def test_json_contract(name):
    d = json.loads(preview(name).to_json())
    contract = {"stack", "resources", "outputs", "exact", "widened"}
    assert contract <= set(d)
    assert set(d) - contract == {"layers", "assumptions", "warnings", "customer_flows"}
    assert d["stack"] == name and isinstance(d["exact"], bool) and isinstance(d["outputs"], dict)
    assert d["outputs"], "a stack exports something"
    for w in d["widened"]:
        assert set(w) == {"target", "flow", "dimension", "before", "after"}
    urns = [r["urn"] for r in d["resources"]]
    assert urns == sorted(urns) and len(set(urns)) == len(urns)
    for r in d["resources"]:
        assert set(r) == {"urn", "type", "name", "parent", "inputs"}
        assert isinstance(r["inputs"], dict)
        assert r["urn"].startswith(f"urn:pulumi:{name}::spirit-infra::") and r["urn"].endswith(f"::{r['name']}")
        assert r["parent"] is None or r["parent"] in urns
    # the resources' inputs are what the program registered: the JSON equals the mock runtime's recording
    assert json.dumps(d["resources"], sort_keys=True) == json.dumps(preview(name).resources, sort_keys=True)


@pytest.mark.parametrize("name", NAMES)
def test_component_children_parented_and_named(name):
    res = preview(name)
    by_urn = {r["urn"]: r for r in res.resources}
    components = [r for r in res.resources if r["type"].startswith("spirit:index:")]
    assert components
    for r in res.resources:
        parent = by_urn.get(r["parent"]) if r["parent"] else None
        if parent is None:
            continue
        if parent["type"].startswith("spirit:index:"):
            assert r["name"].startswith(f"{parent['name']}-"), (r["name"], parent["name"])
            # the URN carries the parent's type chain, as the engine builds it
            assert f"{parent['type']}$" in r["urn"].split("::")[2]
    for c in components:
        assert any(r["parent"] == c["urn"] for r in res.resources), f"{c['name']} has no children"
    # every cloud resource belongs to a component, except Azure's resource group (a stack-level container)
    loose = [r for r in res.resources if r["parent"] is None and not r["type"].startswith("spirit:index:")]
    assert all(r["type"] == "azure-native:resources:ResourceGroup" for r in loose), loose


@pytest.mark.parametrize("name", NAMES)
def test_no_resource_of_another_cloud(name):
    res = preview(name)
    mine = CLOUD_PREFIX[res.config.cloud]
    for r in res.resources:
        assert r["type"].startswith((mine, "spirit:index:", f"pulumi:providers:{mine[:-1]}")), r["type"]


@pytest.mark.parametrize("cloud", sorted(CLOUD_PREFIX))
def test_preview_imports_only_its_cloud_sdk(cloud):
    name = next(n for n in NAMES if n.startswith(cloud + "-"))
    code = ("import sys\nfrom spirit_infra.cli import main\n"
            f"rc = main(['preview', '--stack', {name!r}, '--json'])\n"
            "sys.stderr.write(' '.join(sorted(m for m in ('pulumi_aws', 'pulumi_azure_native', 'pulumi_gcp') "
            "if m in sys.modules)))\nsys.exit(rc)\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    sdk = {"aws": "pulumi_aws", "azure": "pulumi_azure_native", "gcp": "pulumi_gcp"}[cloud]
    assert r.stderr.strip() == sdk


@pytest.mark.parametrize("name", NAMES)
def test_strict_stacks_have_no_allow_all_egress(name):
    res = preview(name)
    assert res.config.strict, "the example stacks are strict"
    assert _allow_all_egress(_read_all(res.config.cloud, res.resources)) == []
    for v in res.layers:
        assert _allow_all_egress(v.actual) == [], v.layer


@pytest.mark.parametrize("name", ["aws-communicator", "azure-communicator", "gcp-communicator"])
def test_the_egress_check_sees_a_non_strict_stack(name, tmp_path):
    """The check above is not vacuous: the same stack with strict: false allows everything out."""
    doc = yaml.safe_load((STACKS / f"Pulumi.{name}.yaml").read_text())
    doc["config"]["spirit:strict"] = False
    path = tmp_path / f"Pulumi.{name}-loose.yaml"
    path.write_text(yaml.safe_dump(doc))
    res = preview_file(path)
    assert res.exact, render_text(res)
    assert _allow_all_egress(_read_all(res.config.cloud, res.resources)) == ["tcp", "udp"]


def _world_ingress_raw(r: dict) -> bool:
    """A raw rule input admitting 0.0.0.0/0 (or 'any'/'Internet') inbound, in any cloud's shape."""
    world = {"0.0.0.0/0", "::/0", "*", "any", "internet"}
    inp, typ = r["inputs"], r["type"]
    if typ == "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":
        return inp.get("cidrIpv4") in world or inp.get("cidrIpv6") in world
    if typ == "aws:ec2/securityGroup:SecurityGroup":
        return any(set(x.get("cidrBlocks") or []) & world for x in inp.get("ingress") or [])
    if typ == "aws:ec2/securityGroupRule:SecurityGroupRule":
        return inp.get("type") == "ingress" and bool(set(inp.get("cidrBlocks") or []) & world)
    if typ.startswith("azure-native:network:"):
        rules = list(inp.get("securityRules") or []) + ([inp] if typ.endswith(":SecurityRule") else [])
        return any(str(x.get("direction")).lower() == "inbound" and str(x.get("access")).lower() == "allow"
                   and ({str(x.get("sourceAddressPrefix", "")).lower()}
                        | {str(p).lower() for p in x.get("sourceAddressPrefixes") or []}) & world
                   for x in rules)
    if typ == "gcp:compute/firewall:Firewall":
        return inp.get("direction", "INGRESS") == "INGRESS" and bool(inp.get("allows")) and \
            (not inp.get("sourceRanges") and not inp.get("sourceTags") or bool(set(inp.get("sourceRanges") or [])
                                                                              & world))
    return False


@pytest.mark.parametrize("name", [n for n in NAMES if n.endswith("-sbc")])
def test_sbc_stacks_have_no_world_ingress(name):
    res = preview(name)
    assert [r["name"] for r in res.resources if _world_ingress_raw(r)] == []
    spirit = Peer.of(res.profile.spirit_cidrs)
    ingress = _read_all(res.config.cloud, res.resources).select(direction="ingress")
    assert ingress.terms, "the SBC admits Spirit's SIP and media"
    for t in ingress.terms:
        assert set(t.peer.cidrs) <= set(spirit.cidrs) or all(
            any(_within(c, s) for s in spirit.cidrs) for c in t.peer.cidrs), t


def _within(cidr: str, outer: str) -> bool:
    import ipaddress
    return ipaddress.ip_network(cidr).subnet_of(ipaddress.ip_network(outer))


@pytest.mark.parametrize("name", NAMES)
def test_text_report(name):
    res = preview(name)
    text = render_text(res)
    assert text.startswith(f"Previewing stack {name!r} offline (mock runtime): cloud {res.config.cloud}, "
                           f"profile {res.config.profile}")
    # the tree: every resource, components above their children
    assert f"Resources ({len(res.resources)}):" in text
    for r in res.resources:
        assert re.search(rf"[├└]── {re.escape(r['type'])}  {re.escape(r['name'])}$", text, re.M), r["name"]
    lines = text.splitlines()
    row = {r["urn"]: next(i for i, ln in enumerate(lines) if ln.endswith(f"─ {r['type']}  {r['name']}"))
           for r in res.resources}
    for r in res.resources:
        if r["parent"]:
            assert row[r["parent"]] < row[r["urn"]]
            assert lines[row[r["urn"]]].index("─") == lines[row[r["parent"]]].index("─") + 4  # rich's guides
    # one rule table per layer, one row per term read back
    for v in res.layers:
        block = text.split(f"Rules: {v.layer}\n", 1)[1].split("\n\n", 1)[0].splitlines()
        assert re.match(r"\s*flow\s+dir\s+proto\s+peer\s+sport\s+dport$", block[0])
        assert len(block) == 1 + len(v.actual.terms)  # the header, then one row per term
    # outputs, with the mock's placeholders for cloud-assigned values
    outputs = text.split("\nOutputs (placeholders", 1)[1].split("\n\n", 1)[0]
    for k, val in res.outputs.items():
        assert f"  {k}: {json.dumps(val, sort_keys=True)}" in outputs
    # the widening report
    widening = text.split("\nWidening (what a layer cannot express, named):\n", 1)[1].split("\n\n", 1)[0]
    if res.widened:
        for w in res.widened:
            assert f"  {w['target']}: {w['flow']}: {w['dimension']} {w['before']} -> {w['after']}" in widening
    else:
        assert widening.strip() == "none"
    # the verdict
    for v in res.layers:
        assert f"  exact: {v.layer}" in text
    assert text.rstrip().endswith("verdict: exact")


def test_text_report_through_the_cli():
    r = cli("preview", "--stack", "gcp-sbc")
    assert r.returncode == 0 and stderr_lines(r.stderr) == []
    assert r.stdout == render_text(preview("gcp-sbc"))
