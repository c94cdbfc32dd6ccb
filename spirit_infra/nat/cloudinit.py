"""The QoS NAT instance's cloud-init (#cloud-config) and its live payload (pure, deterministic).

The instance's boot user data (:func:`render_boot_cloud_init`) never carries the catalogue: it installs
the live-reload agent (:mod:`.agent`: script, config naming its channel, systemd service), a closed
initial ruleset (forwarding dropped until the first payload), ``ip_forward``, nf_conntrack loaded early
(so ``net.netfilter.*`` exists when systemd-sysctl runs), the modprobe blacklist that refuses the SIP
ALG module, and the FQDN resolver (script and units; its sets come with the payload). It is therefore
byte-identical across catalogue, override and profile-flow edits, and the instance is never replaced.

What does change, the ruleset, its sysctls (UDP conntrack timeouts) and the FQDN sets, is the
:func:`payload`, which each cloud delivers through a channel that changes in place (AWS SSM parameter,
GCP instance metadata, Azure VM userData) and the agent applies in one ``nft -f`` transaction.

:func:`render_cloud_init` is the stand-alone form (``spirit-infra nat render --format cloud-init``): the
same boot document with the payload written to a local file the agent watches.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from ..profiles import Profile
from . import agent
from .ruleset import TABLE, NatOptions, fqdn_sets, render_ruleset

__all__ = ["render_cloud_init", "render_boot_cloud_init", "cloud_init_files", "boot_files", "payload",
           "encoded_payload", "sysctls", "SYSCTL_FILE", "MODPROBE_FILE", "RESOLVER_PATH", "RESOLVER_CONFIG",
           "NFTABLES_CONF", "AGENT_PATH", "AGENT_CONFIG", "PAYLOAD_FILE", "CLOSED_RULESET"]

NFTABLES_CONF = "/etc/nftables.conf"
SYSCTL_FILE = "/etc/sysctl.d/90-spirit-nat.conf"
MODULES_FILE = "/etc/modules-load.d/spirit-nat.conf"
MODPROBE_FILE = "/etc/modprobe.d/spirit-nat-no-sip-alg.conf"
RESOLVER_PATH = "/usr/local/sbin/spirit-nat-resolver"
RESOLVER_CONFIG = "/etc/spirit-nat/fqdn-sets.json"
AGENT_PATH = "/usr/local/sbin/spirit-nat-agent"
AGENT_CONFIG = "/etc/spirit-nat/agent.json"
PAYLOAD_FILE = "/etc/spirit-nat/payload"
UNIT_DIR = "/etc/systemd/system"
#: what the instance enforces from boot until the agent applied its first payload: nothing is forwarded
CLOSED_RULESET = (f"table ip {TABLE}\ndelete table ip {TABLE}\ntable ip {TABLE} {{\n"
                  "    chain forward {\n"
                  "        type filter hook forward priority filter; policy drop;\n"
                  "    }\n}\n")


def sysctls(options: NatOptions) -> dict[str, int]:
    """The kernel settings the gateway needs (also used by the namespace tests)."""
    return {
        "net.ipv4.ip_forward": 1,
        "net.netfilter.nf_conntrack_udp_timeout": int(options.udp_timeout),
        "net.netfilter.nf_conntrack_udp_timeout_stream": int(options.udp_timeout),
    }


def payload(profile: Profile, options: NatOptions) -> dict:
    """What the agent applies: the ruleset, its sysctls and the FQDN resolver's sets (agent.FORMAT)."""
    sets = fqdn_sets(profile)
    return {
        "format": agent.FORMAT,
        "ruleset": render_ruleset(profile, options),
        "sysctls": sysctls(options),
        "fqdn": {"table": TABLE, "refresh": options.fqdn_refresh_seconds, "sets": sets} if sets else None,
    }


def encoded_payload(profile: Profile, options: NatOptions) -> str:
    """:func:`payload` as a channel holds it (``gz:`` + base64 of deterministic gzip JSON)."""
    return agent.encode(payload(profile, options))


def _source(module: str) -> str:
    return Path(__file__).with_name(module).read_text(encoding="utf-8")


def _resolver_files(refresh: int = 300) -> list[dict]:
    return [
        {"path": RESOLVER_PATH, "permissions": "0755", "content": _source("resolver.py")},
        {"path": f"{UNIT_DIR}/spirit-nat-resolver.service", "permissions": "0644", "content": (
            "[Unit]\nDescription=Fill the Spirit QoS NAT FQDN sets from DNS\n"
            "After=nftables.service network-online.target\nWants=network-online.target\n"
            "Requires=nftables.service\n"
            f"ConditionPathExists={RESOLVER_CONFIG}\n\n"
            f"[Service]\nType=oneshot\nExecStart=/usr/bin/python3 {RESOLVER_PATH} --config {RESOLVER_CONFIG}\n")},
        {"path": f"{UNIT_DIR}/spirit-nat-resolver.timer", "permissions": "0644", "content": (
            "[Unit]\nDescription=Refresh the Spirit QoS NAT FQDN sets\n\n"
            f"[Timer]\nOnBootSec=10s\nOnUnitActiveSec={refresh}s\nAccuracySec=5s\n\n"
            "[Install]\nWantedBy=timers.target\n")},
        {"path": f"{UNIT_DIR}/nftables.service.d/spirit-nat-resolver.conf", "permissions": "0644",
         # systemd 252 (Debian 12) has no ExecReloadPost= (it ignores it): a second ExecReload= runs
         # after the unit's own `nft -f`, so a reload refills the sets too
         "content": "# a (re)loaded ruleset has empty FQDN sets: refill them at once\n[Service]\n"
                    "ExecStartPost=-/usr/bin/systemctl start --no-block spirit-nat-resolver.service\n"
                    "ExecReload=-/usr/bin/systemctl start --no-block spirit-nat-resolver.service\n"},
    ]


def boot_files(channel: dict, *, refuse_sip_helper: bool = True, initial_ruleset: str = CLOSED_RULESET) -> list[dict]:
    """``write_files`` of the boot document, in a fixed order. ``channel`` is the agent's config."""
    files = [
        {"path": NFTABLES_CONF, "permissions": "0755", "content": "#!/usr/sbin/nft -f\n" + initial_ruleset},
        {"path": MODULES_FILE, "permissions": "0644", "content": "nf_conntrack\n"},
        {"path": SYSCTL_FILE, "permissions": "0644",
         "content": "# spirit-infra QoS NAT: forwarding (the agent adds the UDP conntrack timeouts of its payload)\n"
                    "net.ipv4.ip_forward = 1\n"},
    ]
    if refuse_sip_helper:
        files.append({"path": MODPROBE_FILE, "permissions": "0644",
                      "content": "# spirit-infra: the SIP ALG rewrites SIP and breaks calls; never load it\n"
                                 "install nf_conntrack_sip /bin/false\ninstall nf_nat_sip /bin/false\n"})
    files += _resolver_files()
    files += [
        {"path": AGENT_PATH, "permissions": "0755", "content": _source("agent.py")},
        {"path": AGENT_CONFIG, "permissions": "0644", "content": json.dumps(channel, indent=2, sort_keys=True) + "\n"},
        {"path": f"{UNIT_DIR}/spirit-nat-agent.service", "permissions": "0644", "content": (
            "[Unit]\nDescription=Apply the Spirit QoS NAT ruleset delivered through the "
            f"{channel['channel']} channel\n"
            "After=nftables.service network-online.target\nWants=network-online.target\n\n"
            f"[Service]\nType=simple\nExecStart=/usr/bin/python3 {AGENT_PATH} --config {AGENT_CONFIG} run\n"
            "Restart=always\nRestartSec=5\n\n"
            "[Install]\nWantedBy=multi-user.target\n")},
    ]
    return files


def cloud_init_files(profile: Profile, options: NatOptions) -> list[dict]:
    """``write_files`` of the stand-alone document: the boot files, the ruleset in force from boot, and the
    payload in a local file the agent watches."""
    body = payload(profile, options)
    files = boot_files({"channel": "file", "path": PAYLOAD_FILE, "poll": 10},
                       refuse_sip_helper=options.refuse_sip_helper, initial_ruleset=body["ruleset"])
    return files + [{"path": PAYLOAD_FILE, "permissions": "0644",
                      "content": json.dumps(body, indent=2, sort_keys=True) + "\n"}]


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, data: str):
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str)


_RUNCMD = [
    ["modprobe", "nf_conntrack"],
    ["sysctl", "--system"],
    ["systemctl", "daemon-reload"],
    ["systemctl", "enable", "--now", "nftables.service"],
    ["systemctl", "restart", "nftables.service"],
    ["systemctl", "enable", "--now", "spirit-nat-agent.service"],
]


def _document(files: list[dict], title: str) -> str:
    # Nothing is installed at boot (issue 13 §4): under its own strict egress the NAT may never reach a
    # package mirror. The default image of each cloud carries what it needs at run time: cloud-init (which
    # reads this document), nftables (`nft` and nftables.service) and python3 (the agent and the resolver,
    # standard library only: IMDS and SigV4 by hand, DNS via the system resolver). The conntrack CLI is not
    # needed (the kernel's conntrack is; its sysctls are set through /proc). See DEFAULT_AMI / DEFAULT_IMAGE in
    # spirit_infra/{aws,azure,gcp}/qos_nat.py; tests/nat/test_boot_installs_nothing.py proves it per cloud.
    doc = {
        "write_files": files,
        "runcmd": _RUNCMD,
    }
    body = yaml.dump(doc, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=4096,
                     allow_unicode=True)
    return f"#cloud-config\n# {title}\n" + body


def render_boot_cloud_init(channel: dict, *, refuse_sip_helper: bool = True) -> str:
    """The boot ``#cloud-config`` of a cloud NAT instance: a function of the channel only, never of the
    catalogue (the ruleset arrives through ``channel``)."""
    return _document(boot_files(channel, refuse_sip_helper=refuse_sip_helper),
                     f"spirit-infra QoS NAT gateway; its ruleset arrives live through the {channel['channel']} channel")


def render_cloud_init(profile: Profile, options: NatOptions) -> str:
    """A complete stand-alone ``#cloud-config`` document for a NAT instance of ``profile``."""
    return _document(cloud_init_files(profile, options), f"spirit-infra QoS NAT gateway, profile {profile.name}")
