"""The example stacks' resource graphs, as the policy pack sees them.

When the project's program (``__main__.py`` at the root, with its ``spirit_infra/program/<cloud>.py``)
exists, a stack is its offline preview (``spirit_infra.preview``). Until then (per cloud), the same components are composed directly under the mock runtime
(``spirit_infra.testing.run``), following the stack file's cloud, profile, layers and NAT mode.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from spirit_infra.preview import find_project, load_stack, stack_names

ROOT = Path(__file__).resolve().parents[3]
STACKS = stack_names(ROOT)


def has_program(cloud: str | None = None) -> bool:
    """The project's program exists (and, for ``cloud``, its per-cloud part has landed)."""
    if not (ROOT / "__main__.py").is_file():
        return False
    return cloud is None or (ROOT / "spirit_infra" / "program" / f"{cloud}.py").is_file()


def config(name: str):
    return load_stack(ROOT, name)[1]


def _program(cfg):
    ov = cfg.overrides

    def aws():
        from spirit_infra.aws.components import (
            AwsManagedNat,
            AwsManagedNatArgs,
            AwsNetworkFirewall,
            AwsNetworkFirewallArgs,
            AwsSecurityGroups,
            AwsSecurityGroupsArgs,
        )

        AwsSecurityGroups("spirit", AwsSecurityGroupsArgs(vpc_id="vpc-0123", profile=cfg.profile, overrides=ov,
                                                                strict=cfg.strict, fqdn_firewall=cfg.fqdn_firewall))
        if cfg.fqdn_firewall:
            AwsNetworkFirewall("spirit-fw", AwsNetworkFirewallArgs(profile=cfg.profile, overrides=ov,
                                                                        vpc_id="vpc-0123"))
        if cfg.nat == "managed":
            AwsManagedNat("spirit-nat", AwsManagedNatArgs(public_subnets={"a": "subnet-a"}, profile=cfg.profile,
                                                                sip_keepalive_seconds=cfg.sip_keepalive_seconds))

    def azure():
        from spirit_infra.azure.components import AzureNsg, AzureNsgArgs

        AzureNsg("spirit", AzureNsgArgs(cfg.profile, resource_group_name="rg", overrides=ov, strict=cfg.strict))

    def gcp():
        from spirit_infra.gcp.components import (
            GcpCloudNat,
            GcpCloudNatArgs,
            GcpFirewallPolicy,
            GcpFirewallPolicyArgs,
            GcpVpcFirewall,
            GcpVpcFirewallArgs,
        )

        GcpVpcFirewall("spirit", GcpVpcFirewallArgs(network="net", profile=cfg.profile, overrides=ov,
                                                      target_tags=cfg.target_tags, strict=cfg.strict))
        if cfg.fqdn_firewall:
            GcpFirewallPolicy("spirit-fqdn", GcpFirewallPolicyArgs(network="net", profile=cfg.profile, overrides=ov))
        if cfg.nat == "managed":
            GcpCloudNat("spirit-nat", GcpCloudNatArgs(network="net", sip_keepalive_sec=cfg.sip_keepalive_seconds,
                                                   profile=cfg.profile))

    return {"aws": aws, "azure": azure, "gcp": gcp}[cfg.cloud]


@cache
def _good(name: str) -> tuple:
    if has_program(config(name).cloud):
        from spirit_infra.preview import preview_stack

        project = find_project(ROOT)
        n, cfg, merged = load_stack(project, name)
        return tuple(preview_stack(project, n, cfg, merged).resources)
    from spirit_infra.testing import run

    rec = run(_program(config(name)), project="spirit-infra", stack=name)
    return tuple({"urn": r.urn, "type": r.type, "name": r.name, "parent": r.parent, "inputs": r.inputs}
                 for r in rec.resources)


def good(name: str) -> list[dict]:
    """A fresh deep copy of the stack's resources (mutations never leak between cases)."""
    import copy

    return copy.deepcopy(list(_good(name)))
