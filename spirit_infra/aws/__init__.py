"""AWS: security groups, prefix lists, an FQDN firewall and managed NAT for a Spirit profile.

The pure part (importable without pulumi): :mod:`.rules` (the security-group render), :mod:`.quota`
(the quota planner), :mod:`.fqdn` (the Network Firewall and Route 53 Resolver DNS Firewall render),
:mod:`.read` (the readers of both), :mod:`.nat` (managed NAT gateway specs and timeout checks) and
:mod:`.network` (the VPC and the firewall routes, as a Plan). The Pulumi components live in
:mod:`spirit_infra.aws.components`, which imports pulumi and pulumi_aws.
"""

from .quota import DEFAULT_GROUPS_PER_INTERFACE, DEFAULT_QUOTA
from .read import read, read_firewall, read_groups
from .rules import SG_CAPS, SgOptions, SgRender, model

__all__ = ["DEFAULT_GROUPS_PER_INTERFACE", "DEFAULT_QUOTA", "SG_CAPS", "SgOptions", "SgRender", "read",
           "read_firewall", "read_groups", "model"]
