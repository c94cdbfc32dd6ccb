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
"""

import base64
import re
from dataclasses import dataclass, field
from typing import NotRequired

import pulumi

from .. import marks
from ..args import ProfileName, args_of, register_declared
from ..errors import ConfigError
from ..extras import sdk
from ..nat.instance import LivePlan, QosNatSettings

azure = sdk("azure")  # one line naming the extra when it is not installed

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
        missing = [k for k in ("publisher", "offer", "sku", "version") if not self.image.get(k)]
        if missing:
            raise ConfigError(f"image reference lacks {', '.join(missing)}", field="image")
        self.plan()

    def plan(self) -> LivePlan:
        """The boot customData (constant) and the userData payload, size-checked before anything is registered."""
        return self.plan_live(self.profile, self.interface, {"channel": "azure", "poll": POLL_SECONDS}, gzipped=True,
                              boot_limit=CUSTOM_DATA_LIMIT, boot_what="the gzipped cloud-init (customData)",
                              payload_limit=USER_DATA_LIMIT, payload_what="the ruleset payload (userData)")


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
        plan = args.plan()
        custom_data, user_data = plan.boot, base64.b64encode(plan.payload.encode()).decode()
        super().__init__("spirit:index:AzureQosNat", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = {**dict(args.tags), **marks.tags(args.profile)}
        rg, loc = args.resource_group_name, args.location
        self.public_ip_address = azure.network.PublicIPAddress(
            f"{name}-pip", resource_group_name=rg, location=loc,
            sku=azure.network.PublicIPAddressSkuArgs(name="Standard", tier="Regional"),
            public_ip_allocation_method="Static", public_ip_address_version="IPv4", tags=tags, opts=child)
        self.nic = azure.network.NetworkInterface(
            f"{name}-nic", resource_group_name=rg, location=loc,
            enable_ip_forwarding=True,
            ip_configurations=[azure.network.NetworkInterfaceIPConfigurationArgs(
                name="ipconfig1", primary=True, private_ip_allocation_method="Dynamic",
                subnet=azure.network.SubnetArgs(id=args.subnet_id),
                public_ip_address=azure.network.PublicIPAddressArgs(id=self.public_ip_address.id))],
            network_security_group=(azure.network.NetworkSecurityGroupArgs(id=args.network_security_group_id)
                                    if args.network_security_group_id else None),
            tags=tags, opts=child)
        self.vm = azure.compute.VirtualMachine(
            f"{name}-vm", resource_group_name=rg, location=loc,
            hardware_profile=azure.compute.HardwareProfileArgs(vm_size=args.vm_size),
            os_profile=azure.compute.OSProfileArgs(
                computer_name=f"{name}-qos-nat"[:64], admin_username=args.admin_username, custom_data=custom_data,
                linux_configuration=azure.compute.LinuxConfigurationArgs(
                    disable_password_authentication=True,
                    ssh=azure.compute.SshConfigurationArgs(public_keys=[azure.compute.SshPublicKeyArgs(
                        path=f"/home/{args.admin_username}/.ssh/authorized_keys",
                        key_data=args.ssh_public_key)]))),
            storage_profile=azure.compute.StorageProfileArgs(
                image_reference=azure.compute.ImageReferenceArgs(**dict(args.image)),
                os_disk=azure.compute.OSDiskArgs(
                    create_option="FromImage", delete_option="Delete",
                    managed_disk=azure.compute.ManagedDiskParametersArgs(storage_account_type="StandardSSD_LRS"))),
            network_profile=azure.compute.NetworkProfileArgs(network_interfaces=[
                azure.compute.NetworkInterfaceReferenceArgs(id=self.nic.id, primary=True)]),
            user_data=user_data, tags=tags, opts=child)
        self.route_table = azure.network.RouteTable(
            f"{name}-rt", resource_group_name=rg, location=loc, disable_bgp_route_propagation=True, tags=tags,
            opts=child)
        private_ip = self.nic.ip_configurations.apply(
            lambda cfgs: (cfgs or [None])[0] and cfgs[0].private_ip_address)
        self.route = azure.network.Route(
            f"{name}-default", resource_group_name=rg, route_table_name=self.route_table.name,
            route_name="spirit-qos-nat-default", address_prefix="0.0.0.0/0",
            next_hop_type="VirtualAppliance", next_hop_ip_address=private_ip, opts=child)
        self.private_ip = private_ip
        self.route_table_id = self.route_table.id
        self.vm_id = self.vm.id
        self.public_ip = self.public_ip_address.ip_address
        register_declared(self)
