"""AWS as Terraform: the specs of :mod:`spirit_infra.aws.rules`, :mod:`~spirit_infra.aws.fqdn` and
:mod:`~spirit_infra.aws.nat` as ``hashicorp/aws`` resources (pure).

Terraform attribute names are the snake_case of the bridged provider's Pulumi inputs, except the
repeated blocks Pulumi pluralises (:data:`RENAMES`). What Terraform needs that a Pulumi spec leaves to
Pulumi's auto-naming (a security group's ``name_prefix``, a Network Firewall rule group's or policy's
``name``) is ``<name_prefix>-<profile>-<spec name>``.

- **rules**: ``aws_security_group`` (no inline rules: Terraform, like Pulumi, then removes the allow-all
  egress AWS adds), one ``aws_vpc_security_group_egress_rule``/``ingress_rule`` per rule content, and
  ``aws_ec2_managed_prefix_list`` for the Spirit ranges;
- **fqdn-firewall**: the Network Firewall rule groups and policy, a firewall per zone of the
  ``firewall_subnet_ids`` input (one endpoint each; none while it is empty: then attach
  ``network_firewall_policy_arn`` to your own), their alert logging to ``firewall_log_group_name`` when
  given, and the Route 53 Resolver DNS Firewall (domain list, rule group, allow rule, VPC association).
  Routing egress through the endpoints (``network_firewall_endpoint_ids``) is the network owner's;
- **nat**: an Elastic IP and a NAT gateway per availability zone, ``for_each`` over the
  ``nat_public_subnet_ids`` input (keys are the zone labels; empty, the default: no NAT), and the
  planner's default route for each private route table of ``nat_private_route_tables`` (label ->
  route table id and zone) to the gateway of its zone.
"""

from __future__ import annotations

from ..aws import fqdn, nat, rules
from ..errors import CapabilityError
from ..naming import AWS_NAME_MAX
from ..settings import SIP_KEEPALIVE
from .core import (
    SENTINEL,
    Parts,
    TfResource,
    address,
    each_matches,
    read_back_bridged,
    ref,
    sentinel_names,
    substitute_prefix,
    tags_expr,
    tags_variable,
    to_tf,
    validation,
    var,
)

PROVIDER = ("aws", "hashicorp/aws", ">= 5.40, < 7.0")

TYPES = {
    rules.TYPE_SG: "aws_security_group",
    rules.TYPE_EGRESS: "aws_vpc_security_group_egress_rule",
    rules.TYPE_INGRESS: "aws_vpc_security_group_ingress_rule",
    rules.TYPE_PREFIX_LIST: "aws_ec2_managed_prefix_list",
    fqdn.TYPE_RULE_GROUP: "aws_networkfirewall_rule_group",
    fqdn.TYPE_POLICY: "aws_networkfirewall_firewall_policy",
    fqdn.TYPE_FIREWALL: "aws_networkfirewall_firewall",
    fqdn.TYPE_DNS_DOMAIN_LIST: "aws_route53_resolver_firewall_domain_list",
    fqdn.TYPE_DNS_RULE_GROUP: "aws_route53_resolver_firewall_rule_group",
    fqdn.TYPE_DNS_RULE: "aws_route53_resolver_firewall_rule",
    fqdn.TYPE_DNS_ASSOCIATION: "aws_route53_resolver_firewall_rule_group_association",
    nat.TYPE_EIP: "aws_eip",
    nat.TYPE_NAT_GATEWAY: "aws_nat_gateway",
}
PULUMI_TYPES = {v: k for k, v in TYPES.items()}
#: written by this module alone (no Pulumi spec): the firewalls' alert logging, the NAT routes
PULUMI_TYPES["aws_networkfirewall_logging_configuration"] = "aws:networkfirewall/loggingConfiguration:LoggingConfiguration"
PULUMI_TYPES["aws_route"] = nat.TYPE_ROUTE
#: Pulumi input -> Terraform block name, where it is not the snake_case
RENAMES = {"entries": "entry", "subnetMappings": "subnet_mapping",
           "statefulRuleGroupReferences": "stateful_rule_group_reference"}
#: the zone label the NAT planner renders with; its resources become ``for_each`` over the zones
_ZONE = "zone"
NAME_PATTERN = "^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"
#: an AWS resource id: its prefix and 8 (older) or 17 hexadecimal digits
_ID = "^{}-[0-9a-f]{{8}}([0-9a-f]{{9}})?$"
#: the NAT planner's zone labels (nat.model_nat refuses any other)
LABEL_PATTERN = "^[a-z0-9-]{1,32}$"


def _convert(specs, profile: str, layer: str, parts: Parts, template: str | None = None) -> None:
    type_of = {s["name"]: TYPES[s["type"]] for s in specs}

    def resolve(v: dict):
        if "$ref" in v:
            name = v["$ref"]
            if template and name.endswith("-" + template):
                return ref(type_of[name], address(name.removesuffix("-" + template)), v.get("attr", "id"),
                           "each.key")
            return ref(type_of[name], address(name), v.get("attr", "id"))
        if v.get("$param") == "vpcId":
            return var("vpc_id")
        if v.get("$param") == "subnetIds" and template and v.get("key") == template:
            return "${each.value}"
        if "$managedPrefixList" in v:  # looked up by name, as the Pulumi component does (get_managed_prefix_list)
            name = v["$managedPrefixList"]
            parts.data.setdefault("aws_ec2_managed_prefix_list", {})[address(name)] = {"name": name}
            return f"${{data.aws_ec2_managed_prefix_list.{address(name)}.id}}"
        raise CapabilityError(f"terraform: cannot render the reference {v!r}")  # pragma: no cover

    for s in specs:
        tf_type = TYPES[s["type"]]
        name = s["name"].removesuffix("-" + template) if template else s["name"]
        inputs = dict(s["inputs"])
        tags = inputs.pop("tags", None)
        if tf_type == "aws_networkfirewall_firewall":
            inputs.pop("subnetMappings")  # the render's one placeholder: a dynamic block instead (_firewall)
        body = to_tf(inputs, RENAMES, resolve)
        if tags is not None:
            body["tags"] = tags_expr(tags)
        if tf_type == "aws_security_group":
            body["name_prefix"] = f"{SENTINEL}-{profile}-{name}-"
        elif tf_type in ("aws_networkfirewall_rule_group", "aws_networkfirewall_firewall_policy"):
            body["name"] = f"{SENTINEL}-{profile}-{name}"
        elif tf_type == "aws_networkfirewall_firewall":
            _firewall(body, f"{SENTINEL}-{profile}-{name}")
        if template:
            body["for_each"] = var("nat_public_subnet_ids")
        flows = tuple(sorted({f for f in ((tags or {}).get("spirit-flow") or "").split(",") if f}))
        parts.add(TfResource(tf_type, address(name), substitute_prefix(body), flows, layer))


def _subnets_by_zone(name: str, description: str) -> dict:
    """An input of subnet ids keyed by zone label (empty by default), both validated."""
    return {"type": "map(string)", "default": {}, "description": description,
            "validation": validation(each_matches(name, _ID.format("subnet"), LABEL_PATTERN),
                                     f"Each {name} key must be a zone label of 1-32 lower-case letters, digits or '-' "
                                     "(e.g. a), each value a subnet id (subnet- and 8 or 17 hexadecimal digits).")}


def _firewall(body: dict, name: str) -> None:
    """The Network Firewall, one per availability zone of the ``firewall_subnet_ids`` input (``for_each``:
    none while it is empty), each with one endpoint in that zone's subnet. Not one firewall with a
    ``dynamic "subnet_mapping"`` block: Checkov 3.3.30 fails to add a JSON module holding one to its
    graph (no CKV2 check runs on the module then) and crashes on the block in its resource checks.
    AWS bills Network Firewall per endpoint, so a firewall per zone costs the same as one firewall
    with an endpoint per zone; they share the one policy."""
    body["name"] = name + "-${each.key}"
    body["for_each"] = var("firewall_subnet_ids")
    body["delete_protection"] = var("firewall_delete_protection")
    body["subnet_mapping"] = [{"subnet_id": "${each.value}"}]


def render(profile, layers: tuple[str, ...], parts: Parts) -> None:
    """Add the AWS resources, inputs and outputs of ``layers`` for ``profile`` to ``parts``."""
    pname = profile.name
    parts.variables["vpc_id"] = {"type": "string", "description": "The VPC the security groups (and the DNS "
                                 "Firewall association) belong to.",
                                 "validation": validation(f'can(regex("{_ID.format("vpc")}", var.vpc_id))',
                                                          "The vpc_id must be a VPC id: vpc- and 8 or 17 hexadecimal "
                                                          "digits.")}
    names: list[str] = []
    if "rules" in layers:
        sg = rules.model(profile, rules.SgOptions(name=SENTINEL, fqdn_firewall="fqdn-firewall" in layers))
        _convert(sg.resources, pname, "rules", parts)
        parts.notes.extend(sg.warnings)
        parts.outputs["security_group_ids"] = {
            "description": "The security groups' ids by group (attach every one to the SBC's or clients' "
                           "network interfaces).",
            "value": {g["name"]: ref("aws_security_group", address(g["name"])) for g in sg.groups}}
        parts.outputs["prefix_list_ids"] = {
            "description": "The Spirit ranges' customer-managed prefix lists by family.",
            "value": {p["name"]: ref("aws_ec2_managed_prefix_list", address(p["name"])) for p in sg.prefix_lists}}
        names += [p["inputs"]["name"] for p in sg.prefix_lists]
    if "fqdn-firewall" in layers:
        fw = fqdn.model_firewall(profile, fqdn.FirewallOptions(dns_firewall=True, name=SENTINEL, subnet_count=1))
        _convert(fw.resources, pname, "fqdn-firewall", parts)
        parts.notes.extend(fw.warnings)
        groups = [s for s in fw.resources if s["type"] == fqdn.TYPE_RULE_GROUP]
        parts.outputs["network_firewall_policy_arn"] = {
            "description": "The Network Firewall policy (the module's firewall uses it; or give it to your own).",
            "value": ref("aws_networkfirewall_firewall_policy", "nfw-policy", "arn")}
        parts.outputs["network_firewall_endpoint_ids"] = {
            "description": "The Network Firewall endpoint by zone label (empty without firewall_subnet_ids): "
                           "route the SBC's or clients' egress through the one of their zone.",
            "value": "${{for k, f in aws_networkfirewall_firewall.nfw : "
                     "k => tolist(f.firewall_status[0].sync_states)[0].attachment[0].endpoint_id}}"}
        parts.variables["firewall_subnet_ids"] = _subnets_by_zone(
            "firewall_subnet_ids", "The Network Firewall's endpoint subnets, one per availability zone, keyed by a "
            "stable zone label (e.g. {a = \"subnet-...\"}; dedicated subnets, not the SBC's or clients'): a firewall "
            "with one endpoint per key, all with the module's policy. Empty: none (give network_firewall_policy_arn "
            "to your own).")
        parts.add(TfResource("aws_networkfirewall_logging_configuration", "nfw-alerts", {
            "for_each": '${{for k, v in var.firewall_subnet_ids : k => v if var.firewall_log_group_name != ""}}',
            "firewall_arn": ref("aws_networkfirewall_firewall", "nfw", "arn", "each.key"),
            "logging_configuration": {"log_destination_config": [{
                "log_destination": {"logGroup": var("firewall_log_group_name")},
                "log_destination_type": "CloudWatchLogs", "log_type": "ALERT"}]}}, (), "fqdn-firewall"))
        parts.variables["firewall_log_group_name"] = {
            "type": "string", "default": "",
            "description": "An existing CloudWatch Logs group for the Network Firewall's alerts (what the strict "
                           "policy drops). Empty: no logging.",
            "validation": validation('var.firewall_log_group_name == "" || can(regex("^[-._/#A-Za-z0-9]{1,512}$", '
                                     'var.firewall_log_group_name))',
                                     "The firewall_log_group_name must be a log group name: 1-512 letters, digits "
                                     "or . _ - / #.")}
        parts.variables["firewall_delete_protection"] = {
            "type": "bool", "default": True,
            "description": "Refuse to delete the Network Firewall (set false before destroying it)."}
        parts.outputs["network_firewall_rule_group_arns"] = {
            "description": "The stateful rule groups by role.",
            "value": {g["name"]: ref("aws_networkfirewall_rule_group", address(g["name"]), "arn") for g in groups}}
        parts.outputs["dns_firewall_rule_group_id"] = {
            "description": "The Route 53 Resolver DNS Firewall rule group (associated with the VPC).",
            "value": ref("aws_route53_resolver_firewall_rule_group", "dnsfw-group")}
        names += [s["inputs"]["name"] for s in fw.resources if "name" in s["inputs"]]
        names += [f"{SENTINEL}-{pname}-{g['name']}" for g in groups] + [f"{SENTINEL}-{pname}-nfw-policy",
                                                                        f"{SENTINEL}-{pname}-nfw-{'z' * 32}"]
    if "nat" in layers:
        gateways = nat.model_nat(pname, [_ZONE], route_tables={_ZONE: _ZONE})
        route = next(r for r in gateways.resources if r["type"] == nat.TYPE_ROUTE)
        _convert([r for r in gateways.resources if r is not route], pname, "nat", parts, template=_ZONE)
        # the planner's route, per private route table of the input, to the gateway of the table's zone
        parts.add(TfResource("aws_route", "route", {
            "for_each": var("nat_private_route_tables"), "route_table_id": "${each.value.route_table_id}",
            "destination_cidr_block": route["inputs"]["destinationCidrBlock"],
            "nat_gateway_id": ref("aws_nat_gateway", "natgw", "id", "each.value.zone")}, (), "nat"))
        parts.variables["nat_private_route_tables"] = {
            "type": "map(object({route_table_id = string, zone = string}))", "default": {},
            "description": "Private route tables to send to the internet through the NAT gateway of their zone, "
                           "keyed by a stable label (e.g. {app-a = {route_table_id = \"rtb-...\", zone = \"a\"}}): "
                           "a 0.0.0.0/0 route each. A zone must be a key of nat_public_subnet_ids (Terraform "
                           "refuses the plan otherwise: no gateway by that key). Empty: no routes.",
            "validation": validation(
                "alltrue([for k, rt in var.nat_private_route_tables : "
                f'can(regex("{LABEL_PATTERN}", k)) && can(regex("{LABEL_PATTERN}", rt.zone)) && '
                f'can(regex("{_ID.format("rtb")}", rt.route_table_id))])',
                "Each nat_private_route_tables key and zone must be a label of 1-32 lower-case letters, digits or "
                "'-', each route_table_id a route table id (rtb- and 8 or 17 hexadecimal digits).")}
        parts.notes.extend(gateways.warnings)
        parts.notes.append(f"the NAT gateway's idle timeout is {nat.NAT_IDLE_TIMEOUT_SECONDS} s (fixed by "
                           f"AWS): keep SIP keepalives shorter ({SIP_KEEPALIVE.default} s is typical)")
        parts.variables["nat_public_subnet_ids"] = _subnets_by_zone(
            "nat_public_subnet_ids", "A public subnet per availability zone for the managed NAT, keyed by a stable "
            "zone label (e.g. {a = \"subnet-...\"}): one Elastic IP and NAT gateway per key. Empty: no NAT.")
        parts.outputs["nat_gateway_ids"] = {"description": "The NAT gateways by zone label.",
                                            "value": "${{for k, g in aws_nat_gateway.natgw : k => g.id}}"}
        parts.outputs["nat_public_ips"] = {"description": "The NAT gateways' public addresses by zone label "
                                           "(for Spirit's allowlist).",
                                           "value": "${{for k, e in aws_eip.eip : k => e.public_ip}}"}
    room = sentinel_names(names, AWS_NAME_MAX, "name_prefix") if names else 30
    parts.variables["name_prefix"] = {
        "type": "string", "default": "spirit",
        "description": "The first part of every name the module chooses (prefix lists, rule groups, the DNS "
                       "Firewall, security groups' name prefixes).",
        "validation": [{"condition": f"${{can(regex(\"{NAME_PATTERN}\", var.name_prefix)) && "
                                     f"length(var.name_prefix) <= {room}}}",
                        "error_message": f"The name_prefix must be lower-case letters, digits and '-', at most "
                                         f"{room} characters (AWS names are at most {AWS_NAME_MAX})."}]}
    parts.variables["tags"] = tags_variable(
        'length(k) >= 1 && length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:")',
        "AWS tag keys are 1-128 characters and do not start with aws:, values at most 256.")


def read_back(main: dict) -> list[dict]:
    """The module's resources as the readers take them (Pulumi type token, camelCase inputs, ``$ref``)."""
    return read_back_bridged(main, PULUMI_TYPES, RENAMES, ("for_each", "name_prefix"))
