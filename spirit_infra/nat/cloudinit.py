"""The QoS NAT instance's cloud-init (#cloud-config), rendered from a profile (pure, deterministic).

It installs the nftables ruleset as /etc/nftables.conf, forwarding and conntrack-timeout sysctls (with
nf_conntrack loaded early so ``net.netfilter.*`` exists when systemd-sysctl runs), the modprobe
blacklist that refuses the SIP ALG module, and the FQDN resolver (script, config, systemd service and
timer, plus an nftables.service drop-in that refills the sets after every ruleset reload).
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from ..profiles import Profile
from .ruleset import TABLE, NatOptions, fqdn_sets, render_ruleset

__all__ = ["render_cloud_init", "cloud_init_files", "sysctls", "SYSCTL_FILE", "MODPROBE_FILE",
           "RESOLVER_PATH", "RESOLVER_CONFIG", "NFTABLES_CONF"]

NFTABLES_CONF = "/etc/nftables.conf"
SYSCTL_FILE = "/etc/sysctl.d/90-spirit-nat.conf"
MODULES_FILE = "/etc/modules-load.d/spirit-nat.conf"
MODPROBE_FILE = "/etc/modprobe.d/spirit-nat-no-sip-alg.conf"
RESOLVER_PATH = "/usr/local/sbin/spirit-nat-resolver"
RESOLVER_CONFIG = "/etc/spirit-nat/fqdn-sets.json"
UNIT_DIR = "/etc/systemd/system"


def sysctls(options: NatOptions) -> dict[str, int]:
    """The kernel settings the gateway needs (also used by the namespace tests)."""
    return {
        "net.ipv4.ip_forward": 1,
        "net.netfilter.nf_conntrack_udp_timeout": int(options.udp_timeout),
        "net.netfilter.nf_conntrack_udp_timeout_stream": int(options.udp_timeout),
    }


def _resolver_source() -> str:
    return Path(__file__).with_name("resolver.py").read_text(encoding="utf-8")


def cloud_init_files(profile: Profile, options: NatOptions) -> list[dict]:
    """``write_files`` entries (path, permissions, content), in a fixed order."""
    files = [
        {"path": NFTABLES_CONF, "permissions": "0755",
         "content": "#!/usr/sbin/nft -f\nflush ruleset\n\n" + render_ruleset(profile, options)},
        {"path": MODULES_FILE, "permissions": "0644", "content": "nf_conntrack\n"},
        {"path": SYSCTL_FILE, "permissions": "0644",
         "content": "# spirit-infra QoS NAT: forwarding, and UDP conntrack timeouts that outlive the SIP keepalive "
                    f"({options.sip_keepalive_seconds} s)\n"
                    + "".join(f"{k} = {v}\n" for k, v in sysctls(options).items())},
    ]
    if options.refuse_sip_helper:
        files.append({"path": MODPROBE_FILE, "permissions": "0644",
                      "content": "# spirit-infra: the SIP ALG rewrites SIP and breaks calls; never load it\n"
                                 "install nf_conntrack_sip /bin/false\ninstall nf_nat_sip /bin/false\n"})
    sets = fqdn_sets(profile)
    if sets:
        cfg = {"table": TABLE, "refresh": options.fqdn_refresh_seconds, "sets": sets}
        files += [
            {"path": RESOLVER_PATH, "permissions": "0755", "content": _resolver_source()},
            {"path": RESOLVER_CONFIG, "permissions": "0644",
             "content": json.dumps(cfg, indent=2, sort_keys=True) + "\n"},
            {"path": f"{UNIT_DIR}/spirit-nat-resolver.service", "permissions": "0644", "content": (
                "[Unit]\nDescription=Fill the Spirit QoS NAT FQDN sets from DNS\n"
                "After=nftables.service network-online.target\nWants=network-online.target\n"
                "Requires=nftables.service\n\n"
                f"[Service]\nType=oneshot\nExecStart=/usr/bin/python3 {RESOLVER_PATH} --config {RESOLVER_CONFIG}\n")},
            {"path": f"{UNIT_DIR}/spirit-nat-resolver.timer", "permissions": "0644", "content": (
                "[Unit]\nDescription=Refresh the Spirit QoS NAT FQDN sets\n\n"
                f"[Timer]\nOnBootSec=10s\nOnUnitActiveSec={options.fqdn_refresh_seconds}s\nAccuracySec=5s\n\n"
                "[Install]\nWantedBy=timers.target\n")},
            {"path": f"{UNIT_DIR}/nftables.service.d/spirit-nat-resolver.conf", "permissions": "0644",
             # systemd 252 (Debian 12) has no ExecReloadPost= (it ignores it): a second ExecReload= runs
             # after the unit's own `nft -f`, so a reload refills the sets too
             "content": "# a (re)loaded ruleset has empty FQDN sets: refill them at once\n[Service]\n"
                        "ExecStartPost=-/usr/bin/systemctl start --no-block spirit-nat-resolver.service\n"
                        "ExecReload=-/usr/bin/systemctl start --no-block spirit-nat-resolver.service\n"},
        ]
    return files


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, data: str):
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str)


def render_cloud_init(profile: Profile, options: NatOptions) -> str:
    """A complete ``#cloud-config`` document for the NAT instance."""
    sets = fqdn_sets(profile)
    runcmd = [
        ["modprobe", "nf_conntrack"],
        ["sysctl", "--system"],
        ["systemctl", "daemon-reload"],
        ["systemctl", "enable", "--now", "nftables.service"],
        ["systemctl", "restart", "nftables.service"],
    ]
    if sets:
        runcmd += [["systemctl", "enable", "--now", "spirit-nat-resolver.timer"],
                   ["systemctl", "start", "spirit-nat-resolver.service"]]
    doc = {
        "package_update": True,  # fresh images may have empty apt lists
        "packages": ["nftables", "conntrack", "python3"],
        "write_files": cloud_init_files(profile, options),
        "runcmd": runcmd,
    }
    body = yaml.dump(doc, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=4096,
                     allow_unicode=True)
    return f"#cloud-config\n# spirit-infra QoS NAT gateway, profile {profile.name}\n" + body
