"""The fake cloud the offline engine answers with: deterministic placeholders for the outputs a cloud
assigns (ids, ARNs, self links, addresses), results of the provider functions the components call, and
the physical names each cloud requires to be unique (a second one is the 409 a real deployment would get).

Everything here knows a cloud's shapes; nothing else in the engine does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from .recording import COMPUTED

__all__ = ["default_outputs", "default_call_results", "physical_name"]


def _stable_int(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("\0".join(parts).encode()).digest()[:4], "big")


def _fake_ip(prefix: str, *parts: str) -> str:
    n = _stable_int(*parts)
    return f"{prefix}.{(n >> 8) % 256}.{n % 254 + 1}" if prefix.count(".") == 1 else f"{prefix}.{n % 254 + 1}"


def default_outputs(type_token: str, name: str, inputs: Mapping[str, Any], *, region: str = "us-east-1",
                    gcp_project: str = "mock-project") -> dict[str, Any]:
    """Deterministic placeholders for well-known cloud-assigned outputs of a custom resource.

    ``run`` merges ``inputs``, then these, then what the caller's ``outputs_for`` returns.
    """
    out: dict[str, Any] = {}
    pkg, _, rest = type_token.partition(":")
    module = rest.split(":")[0].split("/")[0]
    if "name" not in inputs and not type_token.startswith("pulumi:providers:"):
        out["name"] = name
    if pkg == "aws":
        out["arn"] = f"arn:aws:{module}:{region}:123456789012:{rest.split(':')[-1].lower()}/{name}"
        out["ownerId"] = "123456789012"
    elif pkg == "gcp":
        out["selfLink"] = f"https://www.googleapis.com/compute/v1/projects/{gcp_project}/global/{name}"
        out["project"] = inputs.get("project", gcp_project)
    elif pkg == "azure-native":
        out["etag"] = f'W/"{_stable_int(type_token, name):08x}"'
    # Addresses: TEST-NET-3 (203.0.113.0/24) for public, 10.x for private.
    if type_token in ("aws:ec2/eip:Eip", "aws:ec2/instance:Instance"):
        out["publicIp"] = _fake_ip("203.0.113", type_token, name)
        out["allocationId"] = f"eipalloc-{_stable_int(name):08x}" if type_token.endswith("Eip") else None
    if type_token in ("aws:ec2/instance:Instance", "aws:ec2/networkInterface:NetworkInterface"):
        out["privateIp"] = inputs.get("privateIp") or _fake_ip("10.0", type_token, name)
        out["primaryNetworkInterfaceId"] = f"eni-{_stable_int(name):08x}"
    if type_token == "azure-native:network:PublicIPAddress":
        out["ipAddress"] = _fake_ip("203.0.113", type_token, name)
    if type_token in ("gcp:compute/address:Address", "gcp:compute/globalAddress:GlobalAddress"):
        out["address"] = inputs.get("address") or _fake_ip("203.0.113", type_token, name)
    return {k: v for k, v in out.items() if v is not None}


def default_call_results(token: str, args: Mapping[str, Any], *, region: str = "us-east-1",
                         gcp_project: str = "mock-project") -> dict[str, Any] | None:
    """Results for the provider functions our components use; ``None`` for an unknown token."""
    if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
        return {
            "id": region,
            "names": [f"{region}a", f"{region}b"],
            "zoneIds": ["use1-az1", "use1-az2"] if region == "us-east-1" else [f"{region}-az1", f"{region}-az2"],
            "groupNames": [region, region],
            "region": region,
        }
    if token == "aws:index/getRegion:getRegion":
        return {"id": region, "name": region, "region": region, "endpoint": f"ec2.{region}.amazonaws.com",
                "description": f"mock region {region}"}
    if token == "aws:index/getCallerIdentity:getCallerIdentity":
        return {"id": "123456789012", "accountId": "123456789012",
                "arn": "arn:aws:iam::123456789012:user/mock", "userId": "AIDAMOCKUSER"}
    if token == "aws:index/getPartition:getPartition":
        return {"id": "aws", "partition": "aws", "dnsSuffix": "amazonaws.com", "reverseDnsPrefix": "com.amazonaws"}
    if token == "aws:ec2/getManagedPrefixList:getManagedPrefixList":
        name = str(args.get("name") or "")
        return {"id": f"pl-{_stable_int(token, name):08x}", "name": name, "addressFamily": "IPv4",
                "arn": f"arn:aws:ec2:{region}:aws:prefix-list/pl-{_stable_int(token, name):08x}",
                "maxEntries": 1, "ownerId": "AWS", "entries": [], "version": 1, "filters": [], "tags": {}}
    if token == "gcp:organizations/getClientConfig:getClientConfig":
        return {"id": "mock", "project": gcp_project, "region": "us-central1", "zone": "us-central1-a",
                "accessToken": "mock-token"}
    if token == "azure-native:authorization:getClientConfig":
        zero = "00000000-0000-0000-0000-000000000000"
        return {"clientId": zero, "objectId": zero, "subscriptionId": zero, "tenantId": zero}
    return None


# Physical names the clouds require to be unique

#: GCP resources whose names are unique per region (zone) rather than per project
_GCP_REGIONAL = {"gcp:compute/address:Address", "gcp:compute/router:Router", "gcp:compute/subnetwork:Subnetwork",
                 "gcp:compute/regionNetworkFirewallPolicy:RegionNetworkFirewallPolicy"}
_GCP_ZONAL = {"gcp:compute/instance:Instance"}
#: GCP resources named inside a parent resource (the input naming the parent)
_GCP_CHILD = {"gcp:compute/routerNat:RouterNat": "router",
              "gcp:compute/networkFirewallPolicyAssociation:NetworkFirewallPolicyAssociation": "firewallPolicy"}
#: GCP resources identified by something other than a name (policy rules: by priority in the policy)
_GCP_UNNAMED = {"gcp:compute/networkFirewallPolicyRule:NetworkFirewallPolicyRule",
                "gcp:compute/regionNetworkFirewallPolicyRule:RegionNetworkFirewallPolicyRule",
                "gcp:compute/firewallPolicyRule:FirewallPolicyRule"}
#: AWS: names AWS itself requires unique per account and region (Network Firewall: firewalls, policies,
#: rule groups per type; SSM parameters) and security-group names, unique per VPC. Route 53 Resolver DNS
#: Firewall names and prefix-list names are not required to be unique, so they are not checked.
_AWS_UNIQUE = {"aws:networkfirewall/firewall:Firewall": (), "aws:networkfirewall/firewallPolicy:FirewallPolicy": (),
               "aws:networkfirewall/ruleGroup:RuleGroup": ("type",), "aws:ec2/securityGroup:SecurityGroup": ("vpcId",),
               "aws:ssm/parameter:Parameter": ()}
#: AWS: names unique in the whole account, every region (IAM roles and instance profiles)
_AWS_GLOBAL = {"aws:iam/role:Role", "aws:iam/instanceProfile:InstanceProfile"}
#: azure-native: the input holding a resource's own name, where it is not ``<lowerCamel type>Name``
_AZURE_OWN = {"PublicIPAddress": "publicIpAddressName", "PublicIPPrefix": "publicIpPrefixName",
              "VirtualMachine": "vmName", "FirewallPolicyRuleCollectionGroup": "ruleCollectionGroupName"}


def physical_name(type_token: str, inputs: Mapping[str, Any], *, region: str = "us-east-1",
                  gcp_project: str = "mock-project") -> tuple[str, str] | None:
    """``(scope, name)`` when the cloud requires ``name`` to be unique in ``scope``; ``None`` otherwise.

    - GCP: a resource's ``name`` is unique per type in its project (and region or zone for regional or
      zonal resources; inside its parent for a router's NAT or a policy's association).
    - Azure: the resource's own ``<type>Name`` input is unique per type in its resource group (and in its
      parent resource: an NSG's rules, a VNet's subnets, a policy's rule collection groups).
    - AWS: Network Firewall firewalls, policies and rule groups, and SSM parameters, in the account and
      region; IAM roles and instance profiles in the account; security groups in their VPC.

    A name that is absent (the provider auto-names the resource) or unknown during a preview is ``None``.
    """
    pkg = type_token.split(":", 1)[0]
    if pkg == "gcp":
        name = inputs.get("name")
        if type_token in _GCP_UNNAMED or not isinstance(name, str) or name == COMPUTED:
            return None
        scope = f"gcp project {inputs.get('project') or gcp_project}"
        if type_token in _GCP_REGIONAL:
            scope += f" region {inputs.get('region') or '(provider default)'}"
        if type_token in _GCP_ZONAL:
            scope += f" zone {inputs.get('zone') or '(provider default)'}"
        if type_token in _GCP_CHILD:
            parent = inputs.get(_GCP_CHILD[type_token])
            if parent == COMPUTED:
                return None  # unknown parent: the double cannot tell
            scope += f" {_GCP_CHILD[type_token]} {parent}"
        return scope, name
    if pkg == "azure-native":
        kind = type_token.rsplit(":", 1)[-1]
        own = _AZURE_OWN.get(kind, kind[0].lower() + kind[1:] + "Name")
        name = inputs.get(own)
        if not isinstance(name, str) or name == COMPUTED:
            return None
        parents = {k: v for k, v in sorted(inputs.items()) if k.endswith("Name") and k != own and isinstance(v, str)}
        if COMPUTED in parents.values():
            return None
        return "azure " + " ".join(f"{k} {v}" for k, v in parents.items()), name
    if pkg == "aws" and type_token in _AWS_GLOBAL:
        name = inputs.get("name")
        return None if not isinstance(name, str) or name == COMPUTED else ("aws account 123456789012", name)
    if pkg == "aws" and type_token in _AWS_UNIQUE:
        name = inputs.get("name")
        if not isinstance(name, str) or name == COMPUTED:
            return None
        if any(inputs.get(k) == COMPUTED for k in _AWS_UNIQUE[type_token]):
            return None
        extra = "".join(f" {k} {inputs.get(k)}" for k in _AWS_UNIQUE[type_token])
        return f"aws account 123456789012 region {region}{extra}", name
    return None
