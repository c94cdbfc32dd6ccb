"""The QoS NAT gateway: nftables ruleset and cloud-init rendered from a profile (pure, no pulumi).

    from spirit_infra.nat import NatOptions, render_ruleset, render_cloud_init

Per-cloud components that launch the instance live in ``spirit_infra.<cloud>.qos_nat``.
"""

from .cloudinit import render_cloud_init
from .ruleset import DROP_COUNTER, TABLE, UDP_TIMEOUT_OBJECT, NatOptions, fqdn_sets, render_ruleset

__all__ = ["NatOptions", "render_ruleset", "render_cloud_init", "fqdn_sets", "TABLE", "DROP_COUNTER",
           "UDP_TIMEOUT_OBJECT"]
