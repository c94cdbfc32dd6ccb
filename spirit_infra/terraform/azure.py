"""Azure as Terraform: the plans of :mod:`spirit_infra.azure.rules`, :mod:`~spirit_infra.azure.fqdn`
and :mod:`~spirit_infra.azure.nat` as ``hashicorp/azurerm`` resources (pure).

The Pulumi components use azure-native, whose inputs are not azurerm's attributes, so the mapping is
written once here, both ways (:func:`rule_to_tf` / :func:`rule_from_tf`, :func:`collection_to_tf` /
:func:`collection_from_tf`), and the exactness tests read the module back through it with the
project's readers:

- **rules**: ``azurerm_network_security_group`` and one ``azurerm_network_security_rule`` per rule of
  the NSG plan, with the plan's priorities (hashed per flow, direction and transport into the band, so
  an edit never moves another flow's rule) and names; the address is the rule's name. The rules' local
  side is the ``application_security_group_ids`` input when given, else ``*`` (the NICs or subnet the
  NSG is attached to);
- **fqdn-firewall**: ``azurerm_firewall_policy`` (DNS proxy on, required by FQDN network rules) and one
  ``azurerm_firewall_policy_rule_collection_group`` holding a network or application rule collection
  per flow, with the plan's collection priorities;
- **nat**: a Standard public IP and NAT gateway with the planner's TCP idle timeout (Azure's UDP idle
  timeout is fixed at 240 s), associated with every subnet of the ``nat_subnet_ids`` input; the NAT is
  created when that input is not empty (``for_each`` over the one key ``voice``).
"""

from __future__ import annotations

from .. import marks
from ..azure import fqdn, nat, rules
from ..errors import CapabilityError
from .core import (
    Parts,
    TfResource,
    address,
    each_matches,
    parse_tags_expr,
    ref,
    tags_expr,
    tags_variable,
    validation,
    var,
)

PROVIDER = ("azurerm", "hashicorp/azurerm", ">= 4.0, < 5.0")

NSG, RULE = "azurerm_network_security_group", "azurerm_network_security_rule"
POLICY, GROUP = "azurerm_firewall_policy", "azurerm_firewall_policy_rule_collection_group"
_NAT_KEY = "voice"
#: the rules' local side: the application security groups input when given, else "*"
_ASG_NONE = "${length(var.application_security_group_ids) > 0 ? null : \"*\"}"
_ASG_SOME = "${length(var.application_security_group_ids) > 0 ? var.application_security_group_ids : null}"
_NAT_EACH = f"${{length(var.nat_subnet_ids) > 0 ? toset([\"{_NAT_KEY}\"]) : toset([])}}"

#: azure-native SecurityRule input -> azurerm_network_security_rule attribute (same values)
RULE_FIELDS = {
    "securityRuleName": "name", "priority": "priority", "direction": "direction", "access": "access",
    "protocol": "protocol", "description": "description",
    "sourcePortRange": "source_port_range", "sourcePortRanges": "source_port_ranges",
    "destinationPortRange": "destination_port_range", "destinationPortRanges": "destination_port_ranges",
    "sourceAddressPrefix": "source_address_prefix", "sourceAddressPrefixes": "source_address_prefixes",
    "destinationAddressPrefix": "destination_address_prefix",
    "destinationAddressPrefixes": "destination_address_prefixes",
}
#: application security groups: azure-native takes ``[{"id": ...}]``, azurerm a list of ids
RULE_ASG = {"sourceApplicationSecurityGroups": "source_application_security_group_ids",
            "destinationApplicationSecurityGroups": "destination_application_security_group_ids"}
#: firewall policy rules (network and application) -> azurerm ``rule`` blocks
NET_RULE_FIELDS = {"name": "name", "description": "description", "ipProtocols": "protocols",
                   "sourceAddresses": "source_addresses", "destinationAddresses": "destination_addresses",
                   "destinationFqdns": "destination_fqdns", "destinationPorts": "destination_ports"}
APP_RULE_FIELDS = {"name": "name", "description": "description", "sourceAddresses": "source_addresses",
                   "targetFqdns": "destination_fqdns"}


def rule_to_tf(inputs: dict) -> dict:
    out = {}
    for k, v in inputs.items():
        if k in RULE_FIELDS:
            out[RULE_FIELDS[k]] = v
        elif k in RULE_ASG:
            out[RULE_ASG[k]] = [a["id"] for a in v]
        elif k != "networkSecurityGroupName":
            raise CapabilityError(f"terraform: azure rule input {k!r} has no azurerm mapping")  # pragma: no cover
    return out


def rule_from_tf(body: dict) -> dict:
    inverse = {v: k for k, v in RULE_FIELDS.items()}
    inverse_asg = {v: k for k, v in RULE_ASG.items()}
    out = {}
    for k, v in body.items():
        if k in inverse:
            out[inverse[k]] = v
        elif k in inverse_asg:  # a list of ids, or the module's expression choosing them
            out[inverse_asg[k]] = [{"id": i} for i in v] if isinstance(v, list) else v
    return out


def collection_to_tf(c: dict) -> tuple[str, dict]:
    """A ruleCollection as ``(block name, block)``: network_rule_collection or application_rule_collection."""
    app = bool(c["rules"]) and c["rules"][0]["ruleType"] == "ApplicationRule"
    out_rules = []
    for r in c["rules"]:
        fields = APP_RULE_FIELDS if app else NET_RULE_FIELDS
        block = {fields[k]: v for k, v in r.items() if k in fields}
        if app:
            block["protocols"] = [{"type": p["protocolType"], "port": p["port"]} for p in r["protocols"]]
        out_rules.append(block)
    return (("application_rule_collection" if app else "network_rule_collection"),
            {"name": c["name"], "priority": c["priority"], "action": c["action"]["type"], "rule": out_rules})


def collection_from_tf(kind: str, block: dict) -> dict:
    app = kind == "application_rule_collection"
    fields = {v: k for k, v in (APP_RULE_FIELDS if app else NET_RULE_FIELDS).items()}
    out_rules = []
    for r in block.get("rule", []):
        rule = {fields[k]: v for k, v in r.items() if k in fields}
        rule["ruleType"] = "ApplicationRule" if app else "NetworkRule"
        if app:
            rule["protocols"] = [{"protocolType": p["type"], "port": p["port"]} for p in r.get("protocols", [])]
        out_rules.append(rule)
    return {"ruleCollectionType": "FirewallPolicyFilterRuleCollection", "name": block["name"],
            "priority": block["priority"], "action": {"type": block["action"]}, "rules": out_rules}


#: an Azure resource id of a Microsoft.Network type (case-insensitive, as ARM is)
_ARM_ID = "(?i)^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft.Network/{}/[^/]+$"


def _located(extra: dict | None = None) -> dict:
    return {"resource_group_name": var("resource_group_name"), "location": var("location"), **(extra or {})}


def render(profile, layers: tuple[str, ...], parts: Parts) -> None:
    """Add the Azure resources, inputs and outputs of ``layers`` for ``profile`` to ``parts``."""
    pname = profile.name
    parts.variables["resource_group_name"] = {
        "type": "string", "description": "The resource group of every resource the module creates.",
        "validation": validation('length(var.resource_group_name) >= 1 && length(var.resource_group_name) <= 90 && '
                                 '!endswith(var.resource_group_name, ".")',
                                 "The resource_group_name must be 1-90 characters, not ending with '.'.")}
    parts.variables["location"] = {"type": "string", "description": "The Azure region (e.g. australiaeast).",
                                   "validation": validation('length(trimspace(var.location)) > 0',
                                                            "The location must not be empty.")}
    if "rules" in layers:
        plan = rules.model(profile, rules.NsgOptions())
        parts.add(TfResource(NSG, "nsg", _located({"name": f"${{var.name_prefix}}-{pname}",
                                                    "tags": tags_expr(plan.nsg_inputs["tags"])}), (), "rules"))
        for r in plan.rules:
            body = rule_to_tf(r.inputs)
            here = "source" if r.direction == "Outbound" else "destination"  # the local side: the NICs
            if body.get(f"{here}_address_prefix") != "*":  # pragma: no cover - the plan renders "*" without an ASG
                raise CapabilityError(f"terraform: rule {r.name}: unexpected local side {body!r}")
            body[f"{here}_address_prefix"] = _ASG_NONE
            body[f"{here}_application_security_group_ids"] = _ASG_SOME
            body["resource_group_name"] = var("resource_group_name")
            body["network_security_group_name"] = ref(NSG, "nsg", "name")
            parts.add(TfResource(RULE, address(r.name), body, (r.flow,) if r.flow else (), "rules"))
        parts.notes.extend(f"{w.flow}: {w.dimension} {w.before} is widened to {w.after} on the NSG"
                           + (" (the firewall policy keeps the names)" if "fqdn-firewall" in layers else "")
                           for w in plan.widened)
        parts.variables["application_security_group_ids"] = {
            "type": "list(string)", "default": [],
            "description": "Application security groups of the SBC's or clients' NICs: the rules' local side "
                           "(source of outbound, destination of inbound rules). Empty: \"*\", whatever the NSG is "
                           "attached to.",
            "validation": validation(each_matches("application_security_group_ids", _ARM_ID.format(
                "applicationSecurityGroups")), "Each application_security_group_ids entry must be an application "
                "security group's resource id (/subscriptions/.../providers/Microsoft.Network/"
                "applicationSecurityGroups/<name>).")}
        parts.outputs["network_security_group_id"] = {
            "description": "The NSG: associate it with the SBC's or clients' subnet or NICs.",
            "value": ref(NSG, "nsg")}
        parts.outputs["network_security_group_name"] = {"description": "The NSG's name.",
                                                        "value": ref(NSG, "nsg", "name")}
    if "fqdn-firewall" in layers:
        fw = fqdn.model(profile, fqdn.FirewallOptions())
        pin = fw.policy_inputs
        body = _located({"name": f"${{var.name_prefix}}-{pname}-policy", "sku": pin["sku"]["tier"],
                         "tags": tags_expr(pin["tags"])})
        if pin.get("dnsSettings", {}).get("enableProxy"):
            body["dns"] = {"proxy_enabled": True}
        parts.add(TfResource(POLICY, "policy", body, (), "fqdn-firewall"))
        group: dict = {"name": f"{pname}-rules", "firewall_policy_id": ref(POLICY, "policy"),
                       "priority": fw.group_priority}
        for c in fw.collections:
            kind, block = collection_to_tf(c)
            group.setdefault(kind, []).append(block)
        flows = tuple(sorted({f for c in fw.collections for r in c["rules"]
                              for f in marks.parse_description(r.get("description")).get(marks.FLOW_KEY, "").split(",")
                              if f}))
        parts.add(TfResource(GROUP, "policy-rules", group, flows, "fqdn-firewall"))
        parts.notes.extend(f"{w.flow}: {w.dimension} {w.before} is widened to {w.after} on the firewall policy"
                           for w in fw.widened)
        parts.outputs["firewall_policy_id"] = {
            "description": "The Azure Firewall Policy: give it to your azurerm_firewall and route egress through it.",
            "value": ref(POLICY, "policy")}
    if "nat" in layers:
        gateway = nat.model_nat(nat.NatOptions(profile=pname))
        each = {"for_each": _NAT_EACH}
        for spec in gateway.resources:
            i = spec["inputs"]
            tags = {"tags": tags_expr(i["tags"])} if "tags" in i else {}
            if spec["type"] == nat.PUBLIC_IP_TYPE:
                parts.add(TfResource("azurerm_public_ip", spec["name"], _located({
                    **each, "name": f"${{var.name_prefix}}-{pname}-nat-{spec['name']}",
                    "allocation_method": i["publicIPAllocationMethod"], "sku": i["sku"]["name"],
                    "sku_tier": i["sku"]["tier"], "ip_version": i["publicIPAddressVersion"], **tags}), (), "nat"))
                parts.add(TfResource("azurerm_nat_gateway_public_ip_association", spec["name"], {
                    **each, "nat_gateway_id": ref("azurerm_nat_gateway", "natgw", "id", "each.key"),
                    "public_ip_address_id": ref("azurerm_public_ip", spec["name"], "id", "each.key")}, (), "nat"))
            elif spec["type"] == nat.NAT_GATEWAY_TYPE:
                parts.add(TfResource("azurerm_nat_gateway", "natgw", _located({
                    **each, "name": f"${{var.name_prefix}}-{pname}-natgw", "sku_name": i["sku"]["name"],
                    "idle_timeout_in_minutes": i["idleTimeoutInMinutes"], **tags}), (), "nat"))
        parts.add(TfResource("azurerm_subnet_nat_gateway_association", "subnet", {
            "for_each": var("nat_subnet_ids"), "subnet_id": "${each.value}",
            "nat_gateway_id": ref("azurerm_nat_gateway", "natgw", "id", f"\"{_NAT_KEY}\"")}, (), "nat"))
        parts.notes.extend(gateway.warnings)
        parts.notes.append(f"the NAT gateway's TCP idle timeout is {gateway.tcp_idle_timeout_minutes} min; its UDP idle "
                           f"timeout is {gateway.udp_idle_timeout_seconds} s (fixed by Azure): keep SIP keepalives shorter")
        parts.variables["nat_subnet_ids"] = {
            "type": "map(string)", "default": {},
            "description": "Subnets to send through the voice NAT gateway, keyed by a stable label. Empty: no NAT.",
            "validation": validation(each_matches("nat_subnet_ids", _ARM_ID.format("virtualNetworks/[^/]+/subnets")),
                                     "Each nat_subnet_ids value must be a subnet's resource id (/subscriptions/.../"
                                     "providers/Microsoft.Network/virtualNetworks/<vnet>/subnets/<name>).")}
        parts.outputs["nat_gateway_ids"] = {"description": "The NAT gateway (empty when there is none).",
                                            "value": "${[for g in azurerm_nat_gateway.natgw : g.id]}"}
    parts.variables["name_prefix"] = {
        "type": "string", "default": "spirit",
        "description": "The first part of the names of the NSG, the firewall policy and the NAT resources.",
        "validation": [{"condition": "${can(regex(\"^[A-Za-z0-9]([A-Za-z0-9_.-]{0,38}[A-Za-z0-9_])?$\", "
                                     "var.name_prefix))}",
                        "error_message": "The name_prefix must be 1-40 letters, digits, '_', '.' or '-', starting "
                                         "with a letter or digit and not ending with '.' or '-'."}]}
    parts.variables["tags"] = tags_variable(
        'length(k) >= 1 && length(k) <= 512 && length(v) <= 256 && !can(regex("[<>%&?/]", k))',
        "Azure tag names are 1-512 characters without < > % & ? /, values at most 256.")


def read_back(main: dict) -> list[dict]:
    """The module's NSG and firewall policy as the readers take them (azure-native types and inputs)."""
    res = main.get("resource", {})
    out = []
    for addr, body in sorted(res.get(NSG, {}).items()):
        out.append({"type": rules.NSG_TYPE, "name": addr, "inputs": {"tags": parse_tags_expr(body.get("tags"))}})
    for addr, body in sorted(res.get(RULE, {}).items()):
        inputs = rule_from_tf(body)
        inputs["networkSecurityGroupName"] = "nsg"
        out.append({"type": rules.SECURITY_RULE_TYPE, "name": addr, "inputs": inputs})
    for addr, body in sorted(res.get(POLICY, {}).items()):
        out.append({"type": fqdn.POLICY_TYPE, "name": addr, "inputs": {"sku": {"tier": body["sku"]}}})
    for addr, body in sorted(res.get(GROUP, {}).items()):
        cols = [collection_from_tf(kind, b) for kind in ("network_rule_collection", "application_rule_collection")
                for b in body.get(kind, [])]
        out.append({"type": fqdn.GROUP_TYPE, "name": addr,
                    "inputs": {"priority": body["priority"], "ruleCollections": cols, "firewallPolicyName": "policy"}})
    return out
