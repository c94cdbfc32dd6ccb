"""Azure: NSGs with stable priorities, Azure Firewall Policy for the FQDN flows, managed NAT.

Pure (no pulumi import), re-exported here::

    from spirit_infra.azure import model_nsg, read_nsg, model_firewall_policy, read_firewall_policy

Components (import pulumi and pulumi_azure_native; import them explicitly)::

    from spirit_infra.azure.components import AzureNsg, AzureNsgArgs, AzureFirewallPolicy, AzureFirewallPolicyArgs
    from spirit_infra.azure.components import AzureNatGateway, AzureNatGatewayArgs, SubnetAssociation
    from spirit_infra.azure.components import AzureNetwork, AzureNetworkArgs, AzureSiteSubnets, AzureSiteSubnetsArgs

The network renders (resource group, VNet, site subnets; pure, each a Plan) are :mod:`.network`.
"""

from .fqdn import FW_CAPS, FirewallOptions, FirewallPlan, fqdn_flow_ids
from .fqdn import model as model_firewall_policy
from .nat import UDP_IDLE_TIMEOUT_SECONDS, NatOptions, NatPlan, model_nat
from .priorities import Band, assign_priorities, hash_slot
from .read import read_firewall_policy, read_firewall_policy_report, read_nsg, read_nsg_report
from .read import read_nsg as read
from .read import read_nsg_report as read_report
from .rules import NSG_CAPS, ExtraRule, NsgOptions, NsgPlan, NsgRule
from .rules import model as model_nsg

__all__ = [
    "Band", "ExtraRule", "FW_CAPS", "FirewallOptions", "FirewallPlan", "NSG_CAPS", "NatOptions", "NatPlan",
    "NsgOptions", "NsgPlan", "NsgRule", "UDP_IDLE_TIMEOUT_SECONDS", "assign_priorities", "fqdn_flow_ids",
    "hash_slot", "model_nat", "read", "read_firewall_policy", "read_firewall_policy_report", "read_nsg",
    "read_nsg_report", "read_report", "model_firewall_policy", "model_nsg",
]
