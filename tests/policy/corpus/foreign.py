"""Hand-written stacks not built with spirit-infra: raw security groups, NSGs and GCP firewall rules, marked by
hand (or not at all), each with the policies that must flag it (empty: it must pass)."""

from __future__ import annotations

SPIRIT = ["103.80.244.0/22", "45.64.148.0/22"]
SBC_TAGS = {"spirit-role": "sbc", "Name": "my-sbc"}


def _r(type_: str, name: str, inputs: dict) -> dict:
    return {"urn": f"urn:pulumi:prod::voice::{type_}::{name}", "type": type_, "name": name, "parent": None,
            "inputs": inputs}


def aws_sg(ingress_from: list[str]) -> list[dict]:
    """A raw aws.ec2.SecurityGroup with inline rules for an SBC (what a hand-written stack looks like)."""
    return [_r("aws:ec2/securityGroup:SecurityGroup", "sbc-sg", {
        "vpcId": "vpc-1", "description": "SBC", "tags": SBC_TAGS,
        "ingress": [
            {"protocol": "udp", "fromPort": 5060, "toPort": 5061, "cidrBlocks": ingress_from},
            {"protocol": "tcp", "fromPort": 5060, "toPort": 5061, "cidrBlocks": SPIRIT},
            {"protocol": "udp", "fromPort": 16384, "toPort": 32767, "cidrBlocks": SPIRIT},
            {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]},  # web UI: not voice
        ],
        "egress": [
            {"protocol": "udp", "fromPort": 5060, "toPort": 5062, "cidrBlocks": SPIRIT},
            {"protocol": "tcp", "fromPort": 5060, "toPort": 5062, "cidrBlocks": SPIRIT},
            {"protocol": "udp", "fromPort": 0, "toPort": 65535, "cidrBlocks": SPIRIT},
        ],
    })]


def azure_nsg(ingress_from: str, with_video: bool = True) -> list[dict]:
    def rule(name, prio, direction, proto, src, dst, ports):
        return {"name": name, "priority": prio, "direction": direction, "access": "Allow", "protocol": proto,
                "sourceAddressPrefix" if isinstance(src, str) else "sourceAddressPrefixes": src,
                "sourcePortRange": "*",
                "destinationAddressPrefix" if isinstance(dst, str) else "destinationAddressPrefixes": dst,
                "destinationPortRange": ports}

    rules = [
        rule("sip-in", 100, "Inbound", "Udp", ingress_from, "*", "5060-5061"),
        rule("sip-tls-in", 110, "Inbound", "Tcp", SPIRIT, "*", "5060-5061"),
        rule("rtp-in", 120, "Inbound", "Udp", SPIRIT, "*", "16384-32767"),
        rule("sip-out", 200, "Outbound", "*", "*", SPIRIT, "5060-5062"),
        rule("rtp-out", 210, "Outbound", "Udp", "*", SPIRIT, "*") if with_video else
        rule("rtp-out", 210, "Outbound", "Udp", "*", SPIRIT, "20000-20001"),
        {"name": "deny-internet", "priority": 4000, "direction": "Outbound", "access": "Deny", "protocol": "*",
         "sourceAddressPrefix": "*", "sourcePortRange": "*", "destinationAddressPrefix": "Internet",
         "destinationPortRange": "*"},
    ]
    return [_r("azure-native:network:NetworkSecurityGroup", "sbc-nsg", {
        "resourceGroupName": "voice", "tags": {"spirit-role": "sbc"}, "securityRules": rules})]


def gcp_firewall(source: list[str] | None) -> list[dict]:
    mark = "SBC spirit-role=sbc"
    ingress = {"name": "sbc-sip-in", "network": "voice", "direction": "INGRESS", "description": mark,
               "targetTags": ["sbc"], "allows": [{"protocol": "udp", "ports": ["5060-5061"]},
                                                 {"protocol": "tcp", "ports": ["5060-5061"]}]}
    if source is not None:
        ingress["sourceRanges"] = source
    return [
        _r("gcp:compute/firewall:Firewall", "sbc-sip-in", ingress),
        _r("gcp:compute/firewall:Firewall", "sbc-rtp-in", {
            "name": "sbc-rtp-in", "network": "voice", "direction": "INGRESS", "description": mark,
            "targetTags": ["sbc"], "sourceRanges": SPIRIT, "allows": [{"protocol": "udp", "ports": ["16384-32767"]}]}),
        _r("gcp:compute/firewall:Firewall", "sbc-out", {
            "name": "sbc-out", "network": "voice", "direction": "EGRESS", "description": mark, "priority": 900,
            "targetTags": ["sbc"], "destinationRanges": SPIRIT,
            "allows": [{"protocol": "udp"}, {"protocol": "tcp", "ports": ["5060-5062"]}]}),
        _r("gcp:compute/firewall:Firewall", "deny-out", {
            "name": "deny-out", "network": "voice", "direction": "EGRESS", "targetTags": ["sbc"], "priority": 65000,
            "destinationRanges": ["0.0.0.0/0"], "denies": [{"protocol": "all"}]}),
    ]


def unmarked_web() -> list[dict]:
    """No Spirit marks, no profile configured: a web server open on 443 is none of the pack's business."""
    return [_r("aws:ec2/securityGroup:SecurityGroup", "web", {
        "vpcId": "vpc-1", "description": "web",
        "ingress": [{"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]}],
        "egress": [{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}]})]


INGRESS = "spirit-no-open-voice-ingress"
COVERS = "spirit-egress-covers-profile"

#: (id, resources, profile for the pack config ("" = from the marks), expected policies)
FOREIGN = (
    ("aws-inline-good", aws_sg(SPIRIT), "sbc", set()),
    ("aws-inline-open-sip", aws_sg(["0.0.0.0/0"]), "sbc", {INGRESS}),
    ("aws-inline-good-profile-from-marks", aws_sg(SPIRIT), "", set()),
    ("azure-inline-good", azure_nsg("103.80.244.0/22"), "sbc", set()),
    ("azure-inline-any", azure_nsg("Any"), "sbc", {INGRESS}),
    ("azure-inline-rtp-narrow", azure_nsg("103.80.244.0/22", with_video=False), "", {COVERS}),
    ("gcp-firewall-good", gcp_firewall(SPIRIT), "sbc", set()),
    ("gcp-firewall-world", gcp_firewall(["0.0.0.0/0"]), "sbc", {INGRESS}),
    ("gcp-firewall-no-source", gcp_firewall(None), "sbc", {INGRESS}),
    ("unmarked-web", unmarked_web(), "", set()),
)
