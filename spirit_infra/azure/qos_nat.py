"""AzureQosNat: the QoS NAT gateway as a Linux VM (imports pulumi and pulumi_azure_native).

Registers: a Standard static ``PublicIPAddress``, a ``NetworkInterface`` with IP forwarding on, a
``VirtualMachine`` whose customData is the (gzipped, base64) boot cloud-init of
:mod:`spirit_infra.nat.cloudinit` and whose ``userData`` is the ruleset payload, a ``RouteTable`` and a
``Route`` 0.0.0.0/0 with next hop VirtualAppliance at the NIC's private address.

customData cannot change on an existing VM, so it carries no catalogue input and never changes with a
catalogue edit. ``userData`` can be updated in place and is readable from IMDS: the agent on the VM polls
it and applies each new value in one nft transaction.
Associate the route table with the private subnets by setting their ``route_table`` to
``component.route_table.id`` (azure-native has no separate association resource; declaring the
subnets here would fight whoever owns the virtual network).

The component is a thin shell: its Args validate, :func:`spirit_infra.azure.nat.render_qos_nat` (pure) renders
every resource as a :class:`~spirit_infra.plan.Plan` before anything is registered, and the one binder
(:func:`spirit_infra.binder.bind`) registers it; the ids known only at bind time are the plan's Params.
"""

import re
from dataclasses import dataclass, field
from typing import NotRequired

import pulumi

from ..args import ProfileName, args_of, register_declared
from ..binder import bind, output
from ..errors import ConfigError
from ..nat.instance import LivePlan, QosNatSettings
from ..plan import Plan
from ..planning import planned
from .components import CLASSES
from .nat import PRIVATE_IP, render_qos_nat

__all__ = ["AzureQosNat", "AzureQosNatArgs", "DEFAULT_IMAGE", "DEFAULT_VM_SIZE"]

DEFAULT_VM_SIZE = "Standard_B2s"
#: Debian 12 (bookworm), Debian's own Azure image (``az vm image list --publisher Debian --offer debian-12``):
#: provisioned by cloud-init (Azure datasource: customData), with nftables (priority "important": in every
#: Debian 12 image) and python3 (cloud-init's own interpreter). Nothing is installed at boot.
DEFAULT_IMAGE = {"publisher": "Debian", "offer": "debian-12", "sku": "12", "version": "latest"}
#: customData: at most 64 KB once decoded.
CUSTOM_DATA_LIMIT = 65535
#: how often the agent polls userData (seconds)
POLL_SECONDS = 30
#: userData: at most 64 KB (base64 of it is what the API takes)
USER_DATA_LIMIT = 48 * 1024
_USER = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")


@dataclass
class AzureQosNatArgs(QosNatSettings):
    """Arguments of :class:`AzureQosNat`.

    profile              phones | communicator | sbc
    resource_group_name  resource group of everything the component creates
    subnet_id            subnet of the NAT's NIC (not one of the subnets routed through it)
    ssh_public_key       the admin's OpenSSH public key (password login is disabled)
    location             Azure region (default: the resource group's)
    vm_size              VM size (default Standard_B2s)
    image                image reference: publisher, offer, sku, version (default Debian 12)
    admin_username       admin user (default spiritadmin)
    network_security_group_id  NSG for the NIC (optional; it must admit the private subnets' traffic)
    interface            the VM's interface as the OS names it (default eth0)
    overrides, snat_address, strict, sip_keepalive_seconds, udp_timeout: as for the ruleset
    tags                 extra tags (the spirit-* marks are always set)
    """

    profile: ProfileName
    resource_group_name: pulumi.Input[str]
    subnet_id: pulumi.Input[str]
    ssh_public_key: str
    location: NotRequired[pulumi.Input[str]] = None
    vm_size: NotRequired[str] = DEFAULT_VM_SIZE
    image: NotRequired[dict[str, str]] = field(default_factory=lambda: dict(DEFAULT_IMAGE))
    admin_username: NotRequired[str] = "spiritadmin"
    network_security_group_id: NotRequired[pulumi.Input[str]] = None
    interface: NotRequired[str] = "eth0"
    tags: NotRequired[dict[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.resource_group_name:
            raise ConfigError("a resource group is required", field="resource_group_name")
        if not self.subnet_id:
            raise ConfigError("a subnet id is required", field="subnet_id")
        if not isinstance(self.ssh_public_key, str) or not self.ssh_public_key.startswith(("ssh-", "ecdsa-")):
            raise ConfigError("an OpenSSH public key (ssh-ed25519/ssh-rsa/ecdsa-...) is required",
                              field="ssh_public_key")
        if not _USER.match(self.admin_username or "") or self.admin_username in ("root", "admin"):
            raise ConfigError(f"{self.admin_username!r} is not an allowed admin user name", field="admin_username")
        self.render("spirit-qos-nat")

    def plan(self) -> LivePlan:
        """The boot customData (constant) and the userData payload, size-checked before anything is registered."""
        return self.plan_live(self.profile, self.interface, {"channel": "azure", "poll": POLL_SECONDS}, gzipped=True,
                              boot_limit=CUSTOM_DATA_LIMIT, boot_what="the gzipped cloud-init (customData)",
                              payload_limit=USER_DATA_LIMIT, payload_what="the ruleset payload (userData)")

    def render(self, name: str) -> Plan:
        """Every resource of the component ``name`` (:func:`~spirit_infra.azure.nat.render_qos_nat`; cached)."""
        return planned(self, ("render", name), lambda: render_qos_nat(
            name, self.plan(), profile=self.profile, vm_size=self.vm_size, image=self.image,
            admin_username=self.admin_username, ssh_public_key=self.ssh_public_key,
            network_security_group=bool(self.network_security_group_id), tags=self.tags))


class AzureQosNat(pulumi.ComponentResource):
    """A QoS NAT VM with a static public IP, and a route table sending 0.0.0.0/0 to it."""

    public_ip: pulumi.Output[str]
    """The static public address (what Spirit allowlists)."""
    private_ip: pulumi.Output[str]
    """The NIC's private address (the route's next hop)."""
    route_table_id: pulumi.Output[str]
    """The route table sending 0.0.0.0/0 to the VM: associate it with the private subnets."""
    vm_id: pulumi.Output[str]
    """The VM's id."""

    def __init__(self, name: str, args: AzureQosNatArgs, opts: pulumi.ResourceOptions | None = None):
        args = args_of(AzureQosNatArgs, args)
        plan = args.render(name)
        super().__init__("spirit:index:AzureQosNat", name, None, opts)
        created = bind(plan, self, name, CLASSES, {
            "resourceGroupName": args.resource_group_name, "location": args.location, "subnetId": args.subnet_id,
            "networkSecurityGroupId": args.network_security_group_id})
        self.private_ip = output(created, PRIVATE_IP)
        self.route_table_id = created["rt"].id
        self.vm_id = created["vm"].id
        self.public_ip = created["pip"].ip_address
        register_declared(self)
