"""The mutation corpus: each case is a good example stack with exactly one defect, and the one policy that
must flag it (``expect``; ``mentions`` are words the violation must contain, e.g. the missing flow ids)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

INGRESS = "spirit-no-open-voice-ingress"
INGRESS_PL = "spirit-no-open-voice-ingress-via-prefix-list"
COVERS = "spirit-egress-covers-profile"
BROADER = "spirit-egress-not-broader"
NAT = "spirit-nat-voice-safe"
MANAGED_NAT = "spirit-managed-nat-keepalive"
QUOTA = "spirit-sg-quota"

SG = "aws:ec2/securityGroup:SecurityGroup"
SG_IN = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SG_OUT = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
PL = "aws:ec2/managedPrefixList:ManagedPrefixList"
NSG = "azure-native:network:NetworkSecurityGroup"
NSG_RULE = "azure-native:network:SecurityRule"
FW = "gcp:compute/firewall:Firewall"
POLICY_RULE = "gcp:compute/networkFirewallPolicyRule:NetworkFirewallPolicyRule"
ROUTER_NAT = "gcp:compute/routerNat:RouterNat"


@dataclass(frozen=True)
class Case:
    id: str
    stack: str
    defect: str
    mutate: Callable[[list[dict]], list[dict]]
    expect: str
    level: str = "mandatory"
    mentions: tuple[str, ...] = ()
    config: dict = field(default_factory=dict)


# ---- helpers -----------------------------------------------------------------------------------------

def one(rs: list[dict], type_: str, pred: Callable[[dict], bool] = lambda r: True) -> dict:
    found = [r for r in rs if r["type"] == type_ and pred(r)]
    assert found, f"no {type_} matching"
    return found[0]


def add(rs: list[dict], type_: str, name: str, inputs: dict) -> list[dict]:
    urn = f"urn:pulumi:corpus::spirit-infra::{type_}::{name}"
    return rs + [{"urn": urn, "type": type_, "name": name, "parent": None, "inputs": inputs}]


def drop(rs: list[dict], pred: Callable[[dict], bool]) -> list[dict]:
    out = [r for r in rs if not pred(r)]
    assert len(out) < len(rs), "nothing dropped"
    return out


def flows_of(r: dict) -> set[str]:
    from spirit_infra.marks import parse_description

    return set(parse_description((r["inputs"] or {}).get("description")).get("spirit-flow", "").split(",")) - {""}


def sg_id(rs: list[dict]) -> str:
    return one(rs, SG)["name"] + "-id"


def nsg_name(rs: list[dict]) -> str:
    return one(rs, NSG)["name"]


def edit(rs: list[dict], type_: str, change: Callable[[dict], None], pred=lambda r: True) -> list[dict]:
    change(one(rs, type_, pred)["inputs"])
    return rs


# ---- defects -----------------------------------------------------------------------------------------

def sip_open_inline(rs):
    return edit(rs, SG, lambda i: i.setdefault("ingress", []).append(
        {"protocol": "udp", "fromPort": 5060, "toPort": 5061, "cidrBlocks": ["0.0.0.0/0"]}))


def sip_open_inline_halves(rs):
    return edit(rs, SG, lambda i: i.setdefault("ingress", []).append(
        {"protocol": "tcp", "fromPort": 5061, "toPort": 5061, "cidrBlocks": ["0.0.0.0/1", "128.0.0.0/1"]}))


def sip_open_ingress_rule(rs):
    return add(rs, SG_IN, "open-sip", {"securityGroupId": sg_id(rs), "ipProtocol": "udp", "fromPort": 5060,
                                       "toPort": 5060, "cidrIpv4": "0.0.0.0/0"})


def sip_open_sg_rule(rs):
    return add(rs, SG_RULE, "open-sip-legacy", {"type": "ingress", "securityGroupId": sg_id(rs), "protocol": "tcp",
                                                "fromPort": 5060, "toPort": 5061, "cidrBlocks": ["0.0.0.0/0"]})


def rtp_open_ipv6(rs):
    return add(rs, SG_IN, "open-rtp-v6", {"securityGroupId": sg_id(rs), "ipProtocol": "udp", "fromPort": 16384,
                                          "toPort": 32767, "cidrIpv6": "::/0"})


def all_open_protocol_all(rs):
    return add(rs, SG_RULE, "open-everything", {"type": "ingress", "securityGroupId": sg_id(rs), "protocol": "-1",
                                                "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]})


def sip_open_via_prefix_list(rs):
    rs = add(rs, PL, "world-list", {"addressFamily": "IPv4", "maxEntries": 1, "entries": [{"cidr": "0.0.0.0/0"}]})
    return add(rs, SG_IN, "sip-from-list", {"securityGroupId": sg_id(rs), "ipProtocol": "udp", "fromPort": 5060,
                                            "toPort": 5061, "prefixListId": "world-list-id"})


def drop_flows(type_: str, *flows: str):
    return lambda rs: drop(rs, lambda r: r["type"] == type_ and bool(flows_of(r) & set(flows)))


def aws_over_quota_prefix_list(rs):
    return edit(rs, PL, lambda i: i.update(maxEntries=70))


def aws_over_quota_inline(rs):
    # inside the Spirit range, on the XSI port: over the quota, not broader than the profile
    cidrs = [f"103.80.244.{i}/32" for i in range(61)]
    return edit(rs, SG, lambda i: i.setdefault("egress", []).append(
        {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": cidrs}))


def aws_broader_all_tcp(rs):
    pl = one(rs, PL)["name"] + "-id"
    return add(rs, SG_OUT, "all-tcp-to-spirit", {"securityGroupId": sg_id(rs), "ipProtocol": "tcp", "fromPort": 0,
                                                 "toPort": 65535, "prefixListId": pl})


def nsg_inline_star(rs):
    return edit(rs, NSG, lambda i: i.setdefault("securityRules", []).append(
        {"name": "sip-from-anywhere", "priority": 3500, "direction": "Inbound", "access": "Allow", "protocol": "Udp",
         "sourceAddressPrefix": "*", "sourcePortRange": "*", "destinationAddressPrefix": "*",
         "destinationPortRange": "5060-5061"}))


def nsg_rule_internet(rs):
    return add(rs, NSG_RULE, "rtp-from-internet", {
        "networkSecurityGroupName": nsg_name(rs), "resourceGroupName": "rg", "priority": 3600,
        "direction": "Inbound", "access": "Allow", "protocol": "Udp", "sourceAddressPrefix": "Internet",
        "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRanges": ["16384-32767"]})


def nsg_broader(rs):
    return add(rs, NSG_RULE, "all-tcp-to-spirit", {
        "networkSecurityGroupName": nsg_name(rs), "resourceGroupName": "rg", "priority": 150,
        "direction": "Outbound", "access": "Allow", "protocol": "Tcp", "sourceAddressPrefix": "*",
        "sourcePortRange": "*", "destinationAddressPrefix": "45.64.148.0/22", "destinationPortRange": "*"})


def azure_nat_gateway(rs):
    return add(rs, "azure-native:network:NatGateway", "natgw", {
        "resourceGroupName": "rg", "sku": {"name": "Standard"}, "idleTimeoutInMinutes": 4})


def gcp_fw_ingress_world(rs):
    return add(rs, FW, "sip-from-world", {"name": "sip-from-world", "network": gcp_network(rs), "direction": "INGRESS",
                                          "sourceRanges": ["0.0.0.0/0"], "allows": [{"protocol": "udp",
                                                                                     "ports": ["5060"]}]})


def gcp_fw_ingress_default_source(rs):
    return add(rs, FW, "tls-sip-default-source", {"name": "tls-sip", "network": gcp_network(rs),
                                                  "allows": [{"protocol": "tcp", "ports": ["5061"]}]})


def gcp_policy_ingress(rs):
    return add(rs, POLICY_RULE, "sip-from-world", {
        "firewallPolicy": one(rs, "gcp:compute/networkFirewallPolicy:NetworkFirewallPolicy")["inputs"]["name"],
        "priority": 500, "action": "allow", "direction": "INGRESS",
        "match": {"srcIpRanges": ["0.0.0.0/0"], "layer4Configs": [{"ipProtocol": "udp", "ports": ["5060-5062"]}]}})


def gcp_network(rs: list[dict]) -> str:
    return one(rs, FW)["inputs"]["network"]


def gcp_broader(rs):
    """An unmarked rule on the same network without targets: it applies to the Spirit VMs too."""
    return add(rs, FW, "all-tcp-to-spirit", {"name": "all-tcp-to-spirit", "network": gcp_network(rs),
                                             "direction": "EGRESS",
                                             "priority": 900, "destinationRanges": ["103.80.244.0/22"],
                                             "allows": [{"protocol": "tcp"}]})


def nat_edit(change):
    return lambda rs: edit(rs, ROUTER_NAT, change)


CASES: tuple[Case, ...] = (
    Case("aws-sip-prefix-list", "aws-sbc", "SIP opened through a prefix list that holds 0.0.0.0/0",
         sip_open_via_prefix_list, INGRESS_PL, mentions=("0.0.0.0/0",)),
    Case("aws-sip-inline", "aws-sbc", "SIP opened to the world with an inline security-group rule",
         sip_open_inline, INGRESS, mentions=("0.0.0.0/0", "SIP ports 5060-5061")),
    Case("aws-sip-inline-halves", "aws-sbc", "SIP/TLS open to 0.0.0.0/1 + 128.0.0.0/1 (the world in halves)",
         sip_open_inline_halves, INGRESS, mentions=("0.0.0.0/0",)),
    Case("aws-sip-ingress-rule", "aws-sbc", "SIP opened with a separate aws.vpc.SecurityGroupIngressRule",
         sip_open_ingress_rule, INGRESS, mentions=("SIP ports 5060",)),
    Case("aws-sip-sg-rule", "aws-sbc", "SIP opened with a separate aws.ec2.SecurityGroupRule (type ingress)",
         sip_open_sg_rule, INGRESS),
    Case("aws-rtp-ipv6", "aws-sbc", "RTP range open to ::/0", rtp_open_ipv6, INGRESS, mentions=("::/0",)),
    Case("aws-all-protocols", "aws-communicator", "protocol -1 ingress from 0.0.0.0/0 (all ports)",
         all_open_protocol_all, INGRESS),
    Case("aws-rtp-missing", "aws-sbc", "the SBC's RTP egress rule removed",
         drop_flows(SG_OUT, "sbc-audio-out"), COVERS, mentions=("sbc-audio-out", "sbc-video-out")),
    Case("aws-xsi-missing", "aws-communicator", "XSI (tcp 443) egress removed",
         drop_flows(SG_OUT, "communicator-xsi"), COVERS, mentions=("communicator-xsi",)),
    Case("aws-ntp-missing", "aws-phones", "the NTP (FQDN) egress rule removed from the security group",
         drop_flows(SG_OUT, "phone-ntp"), COVERS, mentions=("phone-ntp",)),
    Case("aws-quota-prefix-list", "aws-sbc", "prefix list maxEntries 70: each rule counts 70 against 60",
         aws_over_quota_prefix_list, QUOTA, level="advisory", mentions=("210 egress ipv4", "210 ingress ipv4")),
    Case("aws-quota-inline", "aws-communicator", "61 inline egress CIDRs on one security group",
         aws_over_quota_inline, QUOTA, level="advisory", mentions=("68 egress ipv4",)),
    Case("aws-broader", "aws-sbc", "all TCP ports to the Spirit prefix list",
         aws_broader_all_tcp, BROADER, level="advisory", mentions=("tcp",)),
    Case("aws-nat-keepalive-350", "aws-communicator", "SIP keepalive 350 s behind an AWS NAT gateway (350 s fixed)",
         lambda rs: rs, MANAGED_NAT, level="advisory", mentions=("350",),
         config={"spirit-managed-nat-keepalive": {"sipKeepaliveSeconds": 350},
                 "spirit-nat-voice-safe": {"sipKeepaliveSeconds": 350}}),
    Case("azure-nsg-inline-star", "azure-sbc", "NSG inline securityRules: SIP inbound from '*'",
         nsg_inline_star, INGRESS, mentions=("SIP ports 5060-5061",)),
    Case("azure-rule-internet", "azure-sbc", "separate SecurityRule: RTP inbound from 'Internet'",
         nsg_rule_internet, INGRESS, mentions=("media ports 16384-32767",)),
    Case("azure-rtp-missing", "azure-sbc", "the SBC's RTP (audio and video) egress rules removed",
         drop_flows(NSG_RULE, "sbc-audio-out", "sbc-video-out"), COVERS, mentions=("sbc-audio-out", "sbc-video-out")),
    Case("azure-xsi-missing", "azure-communicator", "XSI and the other tcp/443 rules removed",
         drop_flows(NSG_RULE, "communicator-xsi", "communicator-config", "communicator-desktop-sharing"), COVERS,
         mentions=("communicator-xsi",)),
    Case("azure-broader", "azure-communicator", "all TCP ports to another Spirit range",
         nsg_broader, BROADER, level="advisory", mentions=("45.64.148.0/22",)),
    Case("azure-nat-keepalive-240", "azure-communicator", "SIP keepalive 240 s behind an Azure NAT gateway",
         azure_nat_gateway, MANAGED_NAT, level="advisory", mentions=("240",),
         config={"spirit-managed-nat-keepalive": {"sipKeepaliveSeconds": 240}}),
    Case("gcp-nat-udp-30", "gcp-communicator", "Cloud NAT UDP idle timeout 30 s (keepalive 30 s)",
         nat_edit(lambda i: i.update(udpIdleTimeoutSec=30)), NAT, mentions=("udpIdleTimeoutSec 30",)),
    Case("gcp-nat-udp-unset", "gcp-communicator", "Cloud NAT UDP idle timeout unset (GCP default 30 s)",
         nat_edit(lambda i: i.pop("udpIdleTimeoutSec")), NAT, mentions=("unset",)),
    Case("gcp-nat-eim-off", "gcp-communicator", "Cloud NAT endpoint-independent mapping off",
         nat_edit(lambda i: i.update(enableEndpointIndependentMapping=False)), NAT, mentions=("off",)),
    Case("gcp-fw-ingress-world", "gcp-sbc", "VPC firewall ingress 0.0.0.0/0 to udp 5060",
         gcp_fw_ingress_world, INGRESS, mentions=("SIP ports 5060",)),
    Case("gcp-fw-ingress-default-source", "gcp-sbc", "VPC firewall ingress without sourceRanges (GCP: 0.0.0.0/0)",
         gcp_fw_ingress_default_source, INGRESS),
    Case("gcp-policy-ingress", "gcp-phones", "network firewall policy rule: ingress from 0.0.0.0/0 to SIP",
         gcp_policy_ingress, INGRESS),
    Case("gcp-rtp-missing", "gcp-sbc", "the SBC's RTP (audio and video) egress rules removed",
         drop_flows(FW, "sbc-audio-out", "sbc-video-out"), COVERS, mentions=("sbc-audio-out", "sbc-video-out")),
    Case("gcp-ztp-missing", "gcp-phones", "the VPC rule for ZTP removed (the strict VPC deny drops it first)",
         drop_flows(FW, "phone-ztp"), COVERS, mentions=("phone-ztp",)),
    Case("gcp-broader", "gcp-communicator", "all TCP ports to the Spirit range", gcp_broader, BROADER,
         level="advisory", mentions=("103.80.244.0/22",)),
)
