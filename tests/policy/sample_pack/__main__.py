"""Sample CrossGuard pack for the runner tests (spirit_infra.policy.runner): one resource policy, one stack policy.

``no-open-sip`` takes the SIP port only from its config: the CLI always sends schema defaults through
``Configure``, so the pack relies on that (and the runner tests prove the runner does the same).
"""

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
OPEN = {"0.0.0.0/0"}
# "-1" is AWS's "all protocols"; numbers arrive as floats over the wire (protobuf Struct).
SIP_PROTOCOLS = {"-1", "all", "tcp", "udp", "6", "17"}


def _covers(rule: dict, port: int) -> bool:
    protocol = str(rule.get("protocol", "")).lower()
    if protocol not in SIP_PROTOCOLS:
        return False
    if protocol in {"-1", "all"}:
        return True
    return float(rule.get("fromPort", -1)) <= port <= float(rule.get("toPort", -1))


def no_open_sip(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != SECURITY_GROUP:
        return
    port = int(args.get_config()["sipPort"])
    for index, rule in enumerate(args.props.get("ingress") or []):
        if OPEN & set(rule.get("cidrBlocks") or []) and _covers(rule, port):
            report_violation(f"ingress[{index}] opens port {port} to 0.0.0.0/0")


def require_security_group(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    if not any(r.resource_type == SECURITY_GROUP for r in args.resources):
        report_violation(f"the stack has {len(args.resources)} resources and no {SECURITY_GROUP}")


PolicyPack(
    name="spirit-sample",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        ResourceValidationPolicy(
            name="no-open-sip",
            description="SIP must not be open to the whole internet.",
            validate=no_open_sip,
            config_schema=PolicyConfigSchema(
                properties={"sipPort": {"type": "integer", "minimum": 1, "maximum": 65535, "default": 5060}},
            ),
        ),
        StackValidationPolicy(
            name="require-security-group",
            description="A Spirit stack declares at least one security group.",
            enforcement_level=EnforcementLevel.ADVISORY,
            validate=require_security_group,
        ),
    ],
)
