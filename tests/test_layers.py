"""The Layer protocol (spirit_infra.registry.Layer) over every firewall layer of every cloud.

For each layer, profile and strictness: ``render`` gives a :class:`~spirit_infra.plan.Plan` that the one binder
registers under the mock runtime with the cloud's own SDK table; ``read(select(...))`` of what was recorded is
the plan's ``expected``; and the capabilities the layer declares are the ones its render acts on: every
widening is of a dimension the layer cannot express for that flow's transport, every dimension it cannot
express is widened (never dropped silently), platform destinations it refuses raise, and it renders only its
directions. The managed NAT renders are Plans the binder accepts too.
"""

from __future__ import annotations

import dataclasses
import importlib

import pulumi
import pytest

from spirit_infra import testing
from spirit_infra.binder import bind
from spirit_infra.errors import CapabilityError, ConfigError
from spirit_infra.flows import AllowedSet, Peer, Term
from spirit_infra.plan import Param, Plan, walk
from spirit_infra.profiles import PROFILES, build_profile
from spirit_infra.registry import CLOUDS, DIMENSIONS, TRANSPORTS, Layer, layers_of

LAYERS = [(c, layer) for c in CLOUDS for layer in layers_of(c)]
IDS = [f"{c}-{layer.name.replace(' ', '-')}" for c, layer in LAYERS]


def _tables(cloud: str) -> tuple[dict, dict]:
    comp = importlib.import_module(f"spirit_infra.{cloud}.components")
    return comp.CLASSES, getattr(comp, "LOOKUPS", {})


def _options(layer: Layer, strict: bool):
    """The layer's default options, with ``strict`` where the layer has it."""
    options = layer.options()
    fields = {f.name for f in dataclasses.fields(options)}
    return dataclasses.replace(options, strict=strict) if "strict" in fields else options


def _params(plan: Plan) -> dict:
    """A value for every parameter the plan takes (a list or a mapping for keyed ones)."""
    out: dict = {}
    for spec in plan.specs:
        for _path, v in walk(spec.inputs):
            if not isinstance(v, Param):
                continue
            if v.key is None:
                out.setdefault(v.name, f"{v.name}-value")
            elif isinstance(v.key, int):
                out.setdefault(v.name, [])
                out[v.name] += [f"{v.name}-{i}" for i in range(len(out[v.name]), v.key + 1)]
            else:
                out.setdefault(v.name, {})[v.key] = f"{v.name}-{v.key}"
    return out


class _Holder(pulumi.ComponentResource):
    def __init__(self, plan: Plan, cloud: str):
        super().__init__("test:index:Holder", "t", None)
        classes, lookups = _tables(cloud)
        bind(plan, self, "t", classes, _params(plan), lookups)
        self.register_outputs({})


def _recorded(plan: Plan, cloud: str) -> list[dict]:
    rec = testing.run(lambda: _Holder(plan, cloud))
    return [{"type": r.type, "name": r.name, "inputs": r.inputs, "urn": r.urn, "id": r.id}
            for r in rec.resources if r.custom]


def _read_back(layer: Layer, resources: list[dict]) -> AllowedSet:
    out = AllowedSet()
    for _name, instance in layer.instances(resources):
        out = out | layer.read(instance)
    return out


@pytest.mark.parametrize("strict", [True, False], ids=["strict", "open"])
@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize(("cloud", "layer"), LAYERS, ids=IDS)
def test_render_is_a_plan_the_binder_registers_and_reads_back_as_expected(cloud, layer, profile, strict):
    prof = build_profile(profile)
    plan = layer.render(prof, _options(layer, strict))
    assert isinstance(plan, Plan) and plan.specs and isinstance(plan.expected, AllowedSet)
    resources = _recorded(plan, cloud)
    assert sorted(r["name"] for r in resources) == sorted(f"t-{s.name}" for s in plan.specs)
    assert [name for name, _ in layer.instances(resources)], "select finds no instance of the layer"
    assert _read_back(layer, resources) == plan.expected
    # every flow of the profile in the layer's directions is there, none other (the non-strict allow-all
    # and the cloud's built-in rules are unlabelled), and nothing in a direction the layer does not declare
    for direction in ("egress", "ingress"):
        mine = set(prof.allowed.select(direction=direction).flow_ids)
        got = set(plan.expected.select(direction=direction).flow_ids)
        if direction in layer.directions:
            assert mine <= got and got - {""} <= mine, (direction, mine ^ got)
        else:
            assert not got, f"{layer.name} renders {direction} but does not declare it"


def _needs(term: Term, dimension: str) -> bool:
    return not term.src_ports.is_any if dimension == "source_ports" else bool(term.peer.fqdns)


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize(("cloud", "layer"), LAYERS, ids=IDS)
def test_capabilities_are_what_the_render_widens(cloud, layer, profile):
    prof = build_profile(profile)
    plan = layer.render(prof, _options(layer, True))
    widened = {(w.flow, "source_ports" if w.dimension == "source_ports" else "fqdn") for w in plan.widened}
    assert {d for _, d in widened} <= set(DIMENSIONS)
    needed = set()
    for t in prof.allowed.terms:
        if t.direction not in layer.directions:
            continue
        for dim in DIMENSIONS:
            if _needs(t, dim) and not layer.expresses(dim, t.transport):
                needed.add((t.flow, dim))
    # widened exactly where the layer cannot express what a flow needs: nothing dropped, nothing invented
    assert widened == needed
    for flow, dim in widened:
        transports = {t.transport for t in prof.allowed.terms if t.flow == flow and _needs(t, dim)}
        assert any(not layer.expresses(dim, tr) for tr in transports)


PLATFORM = {"azure-service-tag": "azure-service-tag:Storage",
            "aws-prefix-list": "aws-prefix-list:com.amazonaws.global.cloudfront.origin-facing"}


@pytest.mark.parametrize("kind", sorted(PLATFORM))
@pytest.mark.parametrize(("cloud", "layer"), LAYERS, ids=IDS)
def test_platform_destinations_are_refused_exact_or_widened_as_declared(cloud, layer, kind):
    atom = PLATFORM[kind]
    base = build_profile("phones")
    flow = dataclasses.replace(base.flows[0], id="platform-flow", transports=("tcp",), src_ports=None, peer_cidrs=(),
                               peer_fqdns=(), peer_platform=(atom,), dst_ports=((443, 443),))
    allowed = dataclasses.replace(base, flows=(*base.flows, flow))
    assert Peer.of((), (), [atom]) in {t.peer for t in allowed.allowed.terms}
    caps = layer.capabilities["tcp"]
    if kind in caps.platform_refused:
        with pytest.raises(CapabilityError, match=kind):
            layer.render(allowed, _options(layer, True))
        return
    plan = layer.render(allowed, _options(layer, True))
    widened = [w for w in plan.widened if w.flow == "platform-flow" and w.dimension == "destination"]
    assert bool(widened) != caps.platform_exact(atom), (kind, plan.widened)


@pytest.mark.parametrize(("cloud", "layer"), LAYERS, ids=IDS)
def test_bad_arguments_are_one_line(cloud, layer):
    with pytest.raises(ConfigError, match=r"^profile: expected a Profile .*not str$"):
        layer.render("sbc")
    with pytest.raises(ConfigError, match=r"^options: .* take \w+Options, not dict$"):
        layer.render(build_profile("sbc"), {"strict": False})


def test_every_layer_declares_both_transports_and_refuses_what_it_does_not_know():
    for _, layer in LAYERS:
        assert set(layer.capabilities) == set(TRANSPORTS)
        with pytest.raises(ValueError):
            layer.expresses("icmp_type", "tcp")
    with pytest.raises(ValueError, match="capabilities"):
        dataclasses.replace(LAYERS[0][1], capabilities={"tcp": LAYERS[0][1].capabilities["tcp"]})


def test_the_declared_capabilities_differ_where_the_clouds_do():
    """Not a lowest common denominator: the facts each render acts on."""
    got = {(c, layer.name): {(d, t): layer.expresses(d, t) for d in DIMENSIONS for t in TRANSPORTS}
           for c, layer in LAYERS}
    no, yes = False, True
    assert got[("aws", "security groups")] == {("source_ports", "tcp"): no, ("source_ports", "udp"): no,
                                               ("fqdn", "tcp"): no, ("fqdn", "udp"): no}
    assert got[("aws", "network firewall")] == {("source_ports", "tcp"): yes, ("source_ports", "udp"): yes,
                                                ("fqdn", "tcp"): yes, ("fqdn", "udp"): no}
    assert got[("azure", "NSG")] == {("source_ports", "tcp"): yes, ("source_ports", "udp"): yes,
                                     ("fqdn", "tcp"): no, ("fqdn", "udp"): no}
    for key in (("azure", "firewall policy"), ("gcp", "firewall policy")):
        assert got[key] == {("source_ports", "tcp"): no, ("source_ports", "udp"): no,
                            ("fqdn", "tcp"): yes, ("fqdn", "udp"): yes}
    assert got[("gcp", "VPC firewall rules")] == got[("aws", "security groups")]


NATS = {
    "aws": lambda m: m.render_managed_nat("phones", ["a", "b"], route_tables={"private-a": "a"}),
    "azure": lambda m: m.render_managed_nat(m.nat.NatOptions(public_ip_count=2, profile="phones")),
    "gcp": lambda m: m.render_managed_nat(m.nat.NatOptions(nat_ip_count=2, profile="phones")),
}


@pytest.mark.parametrize("cloud", sorted(NATS))
def test_managed_nat_render_is_a_plan_the_binder_registers(cloud):
    module = importlib.import_module(f"spirit_infra.{cloud}.layers")
    plan = NATS[cloud](module)
    assert isinstance(plan, Plan) and plan.widened == ()
    resources = _recorded(plan, cloud)
    assert sorted(r["name"] for r in resources) == sorted(f"t-{s.name}" for s in plan.specs)
    addresses = [r for r in resources if r["type"] in ("aws:ec2/eip:Eip", "azure-native:network:PublicIPAddress",
                                                       "gcp:compute/address:Address")]
    assert len(addresses) == 2  # one per zone label / the count asked for
