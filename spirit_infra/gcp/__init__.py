"""GCP: VPC firewall rules, a global network firewall policy (with DNS names) and Cloud NAT for voice.

Pure (no pulumi): :func:`model` / :func:`model_policy` / :func:`model_nat_specs` / :func:`model_nat` and the
reader :func:`read` (VPC firewall rules and firewall policy rules, also of stacks spirit-infra did not
build), and the network render :func:`spirit_infra.gcp.network.render_network`. The Pulumi components
(:class:`GcpVpcFirewall`, :class:`GcpFirewallPolicy`, :class:`GcpCloudNat`, :class:`GcpNetwork` and their Args) are loaded on first use, so importing this package never imports
pulumi or pulumi_gcp.
"""

from __future__ import annotations

import importlib

from .fqdn import POLICY_CAPS, PolicyOptions, model_policy
from .nat import NatOptions, NatPlan, model_nat, model_nat_specs
from .read import read
from .rules import VPC_CAPS, Rendered, VpcOptions, model

_COMPONENTS = ("GcpVpcFirewall", "GcpVpcFirewallArgs", "GcpFirewallPolicy", "GcpFirewallPolicyArgs", "GcpCloudNat",
               "GcpCloudNatArgs", "GcpManagementFirewall", "GcpManagementFirewallArgs", "GcpNetwork", "GcpNetworkArgs",
               # deprecated names
               "GcpVpcFirewallRules", "VpcFirewallArgs", "FirewallPolicyArgs", "GcpVoiceNat", "VoiceNatArgs")

__all__ = ["VPC_CAPS", "POLICY_CAPS", "VpcOptions", "PolicyOptions", "NatOptions", "NatPlan", "Rendered", "model",
           "model_policy", "model_nat_specs", "model_nat", "read", *_COMPONENTS]


def __getattr__(name: str):
    if name in _COMPONENTS:
        return getattr(importlib.import_module(".components", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
