"""Issue 13 §4: the QoS NAT boots with no Internet beyond its flows. Its boot cloud-init installs nothing.

The default image of each cloud already carries what the NAT needs at run time (cloud-init, nftables,
python3: see ``DEFAULT_AMI`` / ``DEFAULT_IMAGE`` in spirit_infra/{aws,azure,gcp}/qos_nat.py), so the
document has no ``packages``, no ``package_update``/``package_upgrade``, no apt/snap/yum sources, and no
command in ``runcmd``/``bootcmd`` or in a written script that fetches or installs software. This renders
the boot user data exactly as each cloud's component registers it (every profile, strict on and off) and
the stand-alone document of ``spirit-infra nat render``, and checks each one; the checker is shown to bite.
"""

from __future__ import annotations

import base64
import gzip
import re

import pytest
import yaml

from spirit_infra import build_profile
from spirit_infra.nat import NatOptions, render_cloud_init

PROFILES = ("phones", "communicator", "sbc")
#: cloud-config keys that install or upgrade software, or add package sources
INSTALL_KEYS = {"packages", "package_update", "package_upgrade", "package_reboot_if_required", "apt", "snap",
                "yum_repos", "zypper", "apk_repos", "ansible", "puppet", "chef", "salt_minion", "landscape",
                "ubuntu_pro", "ubuntu_advantage", "drivers"}
#: a command that fetches or installs software (as a word: 'apt' in 'aptitude' or a path counts too)
INSTALLER = re.compile(r"(?<![\w-])(apt|apt-get|aptitude|dpkg|snap|pip3?|python3? -m pip|curl|wget|yum|dnf|"
                       r"apk|zypper|ensurepip|easy_install)(?![\w-])")


def _commands(doc: dict) -> list[str]:
    out = []
    for key in ("runcmd", "bootcmd"):
        for cmd in doc.get(key) or []:
            out.append(" ".join(cmd) if isinstance(cmd, list) else str(cmd))
    return out


def findings(text: str) -> list[str]:
    """What in a ``#cloud-config`` document installs or fetches software (empty: nothing)."""
    assert text.startswith("#cloud-config\n"), text[:40]
    doc = yaml.safe_load(text)
    found = [f"key {k}" for k in sorted(INSTALL_KEYS & set(doc))]
    found += [f"{where}: {cmd}" for where, cmd in (("command", c) for c in _commands(doc)) if INSTALLER.search(cmd)]
    for f in doc.get("write_files") or []:
        content = f.get("content", "")
        for n, line in enumerate(content.splitlines(), 1):
            code = line.split("#", 1)[0] if not f["path"].endswith(".json") else line
            # a script that runs an installer: a shell word, or a subprocess argument ("curl", ...)
            if INSTALLER.search(code) and (re.search(r"subprocess|os\.system|Popen|\[\s*[\"']", code)
                                           or not content.startswith("#!/usr/bin/env python")):
                found.append(f"{f['path']}:{n}: {line.strip()}")
    return found


def _boot(cloud: str, profile: str, strict: bool) -> str:
    if cloud == "aws":
        from spirit_infra.aws.qos_nat import AwsQosNatArgs

        plan = AwsQosNatArgs(profile=profile, subnet_id="subnet-1", region="ap-southeast-2", strict=strict)\
            .plan("spirit-qos-nat")
        return gzip.decompress(base64.b64decode(plan.boot)).decode()
    if cloud == "azure":
        from spirit_infra.azure.qos_nat import AzureQosNatArgs

        plan = AzureQosNatArgs(profile=profile, resource_group_name="rg", subnet_id="s", strict=strict,
                               ssh_public_key="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample").plan()
        return gzip.decompress(base64.b64decode(plan.boot)).decode()
    from spirit_infra.gcp.qos_nat import GcpQosNatArgs

    return GcpQosNatArgs(profile=profile, network="n", subnetwork="s", zone="australia-southeast1-a",
                         route_tags=("spirit",), strict=strict).plan().boot


CASES = [(c, p, s) for c in ("aws", "azure", "gcp") for p in PROFILES for s in (True, False)]


@pytest.mark.parametrize("cloud,profile,strict", CASES, ids=[f"{c}-{p}-{'strict' if s else 'open'}" for c, p, s in CASES])
def test_the_boot_cloud_init_installs_nothing(cloud, profile, strict):
    text = _boot(cloud, profile, strict)
    assert findings(text) == []
    doc = yaml.safe_load(text)
    # it still sets the NAT up from what the image carries: nftables' unit and the agent (python3)
    assert ["systemctl", "enable", "--now", "nftables.service"] in doc["runcmd"]
    assert any(f["content"].startswith("#!/usr/bin/env python3") for f in doc["write_files"])


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("strict", (True, False))
def test_the_stand_alone_cloud_init_installs_nothing(profile, strict):
    opts = NatOptions(lan_if="eth1", wan_if="eth0", strict=strict, refuse_sip_helper=profile != "sbc")
    assert findings(render_cloud_init(build_profile(profile), opts)) == []


@pytest.mark.parametrize("bad,expect", [
    ("packages: [nftables]\n", "key packages"),
    ("package_update: true\n", "key package_update"),
    ("package_upgrade: true\n", "key package_upgrade"),
    ("apt: {sources: {x: {source: 'deb http://example.invalid stable main'}}}\n", "key apt"),
    ("runcmd:\n- [apt-get, install, -y, conntrack]\n", "command: apt-get install -y conntrack"),
    ("runcmd:\n- curl -fsSL https://example.invalid/x | sh\n", "command: curl"),
    ("bootcmd:\n- [pip3, install, boto3]\n", "command: pip3 install boto3"),
    ("write_files:\n- {path: /usr/local/sbin/x, content: \"#!/bin/sh\\nwget -q http://example.invalid/a\\n\"}\n",
     "/usr/local/sbin/x:2: wget"),
    ("write_files:\n- {path: /usr/local/sbin/y, content: \"#!/usr/bin/env python3\\nimport subprocess\\n"
     "subprocess.run(['apt-get', 'install', 'awscli'])\\n\"}\n", "/usr/local/sbin/y:3:"),
])
def test_the_checker_bites(bad, expect):
    found = findings("#cloud-config\n" + bad)
    assert any(expect in f for f in found), found
