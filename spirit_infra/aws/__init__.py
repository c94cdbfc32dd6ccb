"""AWS: security groups, prefix lists, an FQDN firewall and managed NAT for a Spirit profile.

The pure part (importable without pulumi): :mod:`.rules` (security-group render and read), :mod:`.quota`
(the quota planner), :mod:`.fqdn` (Network Firewall and Route 53 Resolver DNS Firewall render and read)
and :mod:`.nat` (managed NAT gateway specs and timeout checks). The Pulumi components live in
:mod:`spirit_infra.aws.components`, which imports pulumi and pulumi_aws.
"""

from .quota import DEFAULT_GROUPS_PER_INTERFACE, DEFAULT_QUOTA
from .rules import SG_CAPS, SgOptions, SgRender, read, read_groups, render

__all__ = ["DEFAULT_GROUPS_PER_INTERFACE", "DEFAULT_QUOTA", "SG_CAPS", "SgOptions", "SgRender", "read",
           "read_groups", "render"]
