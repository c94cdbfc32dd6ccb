"""GCP as Terraform: the specs of :mod:`spirit_infra.gcp.rules`, :mod:`~spirit_infra.gcp.fqdn` and
:mod:`~spirit_infra.gcp.nat` as ``hashicorp/google`` resources (pure).

Terraform attribute names are the snake_case of the bridged provider's Pulumi inputs, except the
repeated blocks Pulumi pluralises (:data:`RENAMES`). A spec's ``refs`` (``arg:network``,
``res:policy.name``) become ``var.network`` and references to the other resources.

- **rules**: one ``google_compute_firewall`` per flow and peer kind, plus the strict deny-all egress
  rules; their targets are the ``target_tags`` input (default ``spirit-<role>``), or the
  ``target_service_accounts`` input when it is not empty;
- **fqdn-firewall**: ``google_compute_network_firewall_policy``, its rules
  (``google_compute_network_firewall_policy_rule``, ``match.dest_fqdns`` for the DNS-name flows) and its
  association with the network;
- **nat**: Cloud Router, static addresses and Cloud NAT (endpoint-independent mapping, the UDP idle
  timeout and min ports per VM the voice planner chooses), ``for_each`` over the ``nat_regions`` input
  (empty, the default: no NAT).
"""

from __future__ import annotations

from .. import marks
from ..gcp import fqdn, nat, rules
from ..gcp.common import NAME_MAX
from .core import (
    SENTINEL,
    Parts,
    TfResource,
    address,
    each_matches,
    read_back_bridged,
    ref,
    sentinel_names,
    snake,
    substitute_prefix,
    to_tf,
    validation,
    var,
)

PROVIDER = ("google", "hashicorp/google", ">= 5.0, < 8.0")

TYPES = {
    rules.FIREWALL_TYPE: "google_compute_firewall",
    fqdn.POLICY_TYPE: "google_compute_network_firewall_policy",
    fqdn.POLICY_RULE_TYPE: "google_compute_network_firewall_policy_rule",
    fqdn.ASSOCIATION_TYPE: "google_compute_network_firewall_policy_association",
    nat.ADDRESS_TYPE: "google_compute_address",
    nat.ROUTER_TYPE: "google_compute_router",
    nat.ROUTER_NAT_TYPE: "google_compute_router_nat",
}
PULUMI_TYPES = {v: k for k, v in TYPES.items()}
RENAMES = {"allows": "allow", "denies": "deny", "subnetworks": "subnetwork",
           "sourceIpRangesToNats": "source_ip_ranges_to_nat"}
#: a GCP network tag (RFC 1035 label)
TAG_PATTERN = "^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$"
NAME_PATTERN = "^[a-z]([-a-z0-9]*[a-z0-9])?$"
_TARGETS = ("targetTags", "targetServiceAccounts")
#: the policy is associated with the network (its rules, the deny-all egress too, then apply) only for
#: named service accounts, or for every instance of the network when the caller says so
_ASSOCIATE_WHEN = ('${length(var.target_service_accounts) > 0 || var.firewall_policy_for_every_instance ? '
                   'toset(["policy"]) : toset([])}')


def _convert(specs, layer: str, parts: Parts, per_region: bool = False) -> list[str]:
    type_of = {s["name"]: TYPES[s["type"]] for s in specs}
    key = "each.key" if per_region else None

    def refer(text: str) -> str:
        kind, _, rest = text.partition(":")
        if kind == "arg":
            return var(rest)
        name, _, attr = rest.partition(".")
        return ref(type_of[name], address(name), snake(attr), key)

    names = []
    for s in specs:
        tf_type = TYPES[s["type"]]
        inputs = {k: v for k, v in s["inputs"].items() if k not in _TARGETS}
        body = to_tf(inputs, RENAMES, lambda v: v)
        for k, v in (s.get("refs") or {}).items():
            body[snake(k)] = [refer(x) for x in v] if isinstance(v, list) else refer(v)
        if any(k in s["inputs"] for k in _TARGETS) or tf_type == "google_compute_network_firewall_policy_rule":
            body["target_service_accounts"] = ("${length(var.target_service_accounts) > 0 ? "
                                               "var.target_service_accounts : null}")
        if "targetTags" in s["inputs"]:
            body["target_tags"] = "${length(var.target_service_accounts) > 0 ? null : var.target_tags}"
        if per_region:
            body["for_each"] = var("nat_regions")
            body["region"] = "${each.key}"
        if tf_type == "google_compute_network_firewall_policy_association":
            body["for_each"] = _ASSOCIATE_WHEN
        for k in ("name", "rule_name"):
            if k in body:
                names.append(body[k])
        flows = tuple(sorted({f for f in _flows(s["inputs"].get("description")).split(",") if f}))
        parts.add(TfResource(tf_type, address(s["name"]), substitute_prefix(body), flows, layer))
    return names


def _flows(description: str | None) -> str:
    return marks.parse_description(description).get(marks.FLOW_KEY, "")


def render(profile, layers: tuple[str, ...], parts: Parts) -> None:
    """Add the GCP resources, inputs and outputs of ``layers`` for ``profile`` to ``parts``."""
    role = f"spirit-{marks.ROLE_FOR_PROFILE[profile.name]}"
    parts.variables["network"] = {"type": "string", "description": "The VPC network (name or self link) the "
                                  "firewall rules, the policy association and the Cloud Router belong to.",
                                  "validation": validation("length(trimspace(var.network)) > 0",
                                                           "The network must not be empty.")}
    names: list[str] = []
    if "rules" in layers:
        vpc = rules.model(profile, rules.VpcOptions(name_prefix=SENTINEL))
        names += _convert(vpc.specs, "rules", parts)
        parts.notes.extend(f"{w.flow}: {w.dimension} {w.before} is widened to {w.after} on the VPC firewall rules"
                           + (" (the firewall policy keeps the names)" if "fqdn-firewall" in layers else "")
                           for w in vpc.widened)
        parts.variables["target_tags"] = {
            "type": "list(string)", "default": [role],
            "description": "The network tags of the instances the VPC firewall rules apply to (unused when "
                           "target_service_accounts is set).",
            "validation": validation(f"length(var.target_tags) > 0 && {each_matches('target_tags', TAG_PATTERN)}",
                                     "The target_tags must not be empty (VPC firewall rules without targets apply to "
                                     "every instance of the network); each is 1-63 lower-case letters, digits or "
                                     "'-', starting with a letter.")}
        parts.outputs["firewall_rule_names"] = {
            "description": "The VPC firewall rules' names.",
            "value": [ref("google_compute_firewall", address(s["name"]), "name") for s in vpc.specs]}
    if "fqdn-firewall" in layers:
        pol = fqdn.model_policy(profile, fqdn.PolicyOptions(name_prefix=SENTINEL))
        names += _convert(pol.specs, "fqdn-firewall", parts)
        parts.notes.extend(f"{w.flow}: {w.dimension} {w.before} is widened to {w.after} on the firewall policy"
                           for w in pol.widened)
        parts.outputs["firewall_policy_id"] = {
            "description": "The global network firewall policy (associated with the network when "
                           "target_service_accounts is set or firewall_policy_for_every_instance is true).",
            "value": ref("google_compute_network_firewall_policy", "policy")}
        parts.variables["firewall_policy_for_every_instance"] = {
            "type": "bool", "default": False,
            "description": "Without target_service_accounts the firewall policy's rules, its deny-all egress "
                           "too, would apply to every instance of the network (network firewall policies take "
                           "no network tags): it is associated with the network only when this is true (a "
                           "network of Spirit clients only) or target_service_accounts is set."}
    parts.variables["target_service_accounts"] = {
        "type": "list(string)", "default": [],
        "description": "Service accounts of the instances the rules apply to. Empty: the VPC rules use "
                       "target_tags, and the firewall policy is associated with the network only if "
                       "firewall_policy_for_every_instance is true (its rules then apply to every instance).",
        "validation": validation(each_matches("target_service_accounts", "^[^@ ]+@[^@ ]+[.][a-z]+$"),
                                 "Each target_service_accounts entry must be a service account's e-mail address.")}
    if "nat" in layers:
        plan, specs = nat.model_nat_specs(nat.NatOptions(name_prefix=SENTINEL, profile=profile.name))
        names += _convert(specs, "nat", parts, per_region=True)
        parts.notes += [f"Cloud NAT {k}: {v}" for k, v in sorted(plan.reasons.items())]
        parts.variables["nat_regions"] = {
            "type": "set(string)", "default": [],
            "description": "Regions to run the voice-tuned Cloud NAT in (a router, static address and NAT each). "
                           "Empty: no NAT.",
            "validation": validation(each_matches("nat_regions", "^[a-z]+-[a-z]+[0-9]+$"),
                                     "Each nat_regions entry must be a GCP region (e.g. australia-southeast1).")}
        parts.outputs["nat_addresses"] = {
            "description": "The Cloud NAT static addresses by region (for Spirit's allowlist).",
            "value": "${{for r, a in google_compute_address.nat-ip-0 : r => a.address}}"}
    room = sentinel_names(names, NAME_MAX, "name_prefix") if names else 30
    parts.variables["name_prefix"] = {
        "type": "string", "default": "spirit",
        "description": "The first part of every GCP name the module chooses (rules, policy, router, NAT).",
        "validation": [{"condition": f"${{can(regex(\"{NAME_PATTERN}\", var.name_prefix)) && "
                                     f"length(var.name_prefix) <= {room}}}",
                        "error_message": f"The name_prefix must start with a lower-case letter and hold lower-case "
                                         f"letters, digits and '-', at most {room} characters (GCP names are at "
                                         f"most {NAME_MAX})."}]}


def read_back(main: dict) -> list[dict]:
    """The module's resources as the readers take them (Pulumi type token, camelCase inputs, ``$ref``)."""
    return read_back_bridged(main, PULUMI_TYPES, RENAMES, ("for_each",))
