// Spirit egress for an SBC, from TypeScript: `pulumi package add ../../components` generates the SDK in
// sdks/spirit and adds "@pulumi/spirit" to package.json (see README.md).
import * as pulumi from "@pulumi/pulumi";
import * as spirit from "@pulumi/spirit";

const config = new pulumi.Config();
const vpcId = config.get("vpcId") ?? "vpc-0123456789abcdef0";

// AWS: the SBC's security groups (attach every id) and the Network Firewall for the FQDN flows
const groups = new spirit.AwsSecurityGroups("sbc", {
    vpcId: vpcId,
    profile: "sbc",
    fqdnFirewall: true,
    overrides: { extraSpiritCidrs: ["203.0.113.0/24"], sbcSipPorts: "5060-5061" },
});

const firewall = new spirit.AwsNetworkFirewall("sbc-fw", {
    profile: "sbc",
    vpcId: vpcId,
    dnsFirewall: true,
});

// Azure: the NSG of the same profile, in a priority band of its own
const nsg = new spirit.AzureNsg("sbc-nsg", {
    profile: "sbc",
    resourceGroupName: config.get("resourceGroup") ?? "spirit-rg",
    priorityStart: 1000,
    priorityWidth: 2000,
});

export const securityGroupIds = groups.securityGroupIds;
export const prefixListId = groups.prefixListId;
export const firewallPolicyArn = firewall.firewallPolicyArn;
export const nsgId = nsg.nsgId;
export const nsgPriorities = nsg.priorities;
export const warnings = groups.warnings;
