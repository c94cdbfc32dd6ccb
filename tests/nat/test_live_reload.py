"""Live reload of the QoS NAT (issue 12 §4), on a real kernel with real packets.

The agent under test is the file the boot cloud-init writes (/usr/local/sbin/spirit-nat-agent), taken
from the rendered document and run inside the nat namespace. Payloads come from a file, or from fake
metadata services (GCP wait_for_change, Azure IMDS userData, AWS IMDSv2 + SSM GetParameter with a SigV4
signature checked by botocore) running on 127.0.0.1 inside the nat namespace.
"""

from __future__ import annotations

import json
import os
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from spirit_infra import Overrides, build_profile
from spirit_infra.nat import DROP_COUNTER, TABLE, NatOptions, agent
from spirit_infra.nat.cloudinit import AGENT_PATH, payload, render_boot_cloud_init

from .netns import Topology, tcp_exchange, udp_exchange

pytestmark = pytest.mark.netns

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
SP1 = Topology.SPIRIT_IPS[0]
CS0, CS3, EF = 0, 24, 46
OPTS = NatOptions(lan_if=Topology.lan_if, wan_if=Topology.wan_if)
REMOVED = "communicator-messaging"  # tcp any -> 103.80.244.0/22:5222, a box no other flow covers


def _agent_file(tmp_path: Path, channel: dict | None = None) -> Path:
    """The agent exactly as the boot cloud-init writes it."""
    doc = yaml.safe_load(render_boot_cloud_init(channel or {"channel": "file", "path": "/dev/null"}))
    content = next(f["content"] for f in doc["write_files"] if f["path"] == AGENT_PATH)
    path = tmp_path / "spirit-nat-agent"
    path.write_text(content)
    path.chmod(0o755)
    return path


def _without(tmp_path: Path, flow_id: str) -> Overrides:
    """A catalogue variant (temp file) without one flow."""
    doc = yaml.safe_load((ROOT / "spirit_infra/catalogue/spirit.yaml").read_text())
    doc["flows"] = [f for f in doc["flows"] if f["id"] != flow_id]
    path = tmp_path / f"catalogue-without-{flow_id}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return Overrides(catalogue=str(path))


def _payload(overrides: Overrides | None = None, profile: str = "communicator") -> dict:
    return payload(build_profile(profile, overrides), OPTS)


def _paths(tmp_path: Path) -> list[str]:
    return ["--nft-conf", str(tmp_path / "nftables.conf"), "--sysctl-file", str(tmp_path / "sysctl.conf"),
            "--fqdn-config", str(tmp_path / "fqdn.json"), "--no-systemd"]


def _apply(topo: Topology, tmp_path: Path, body: dict | str) -> subprocess.CompletedProcess:
    src = tmp_path / "payload"
    src.write_text(body if isinstance(body, str) else agent.encode(body))
    return topo.exec("nat", sys.executable, str(_agent_file(tmp_path)), *_paths(tmp_path), "apply", str(src),
                     check=False)


def _dropped(topo: Topology) -> int:
    return int(re.search(r"packets (\d+)", topo.nft("list", "counter", "ip", TABLE, DROP_COUNTER)).group(1))


class Session:
    """One long-lived flow (tests/nat/session.py): a server in the spirit namespace, a client in client."""

    def __init__(self, topo: Topology, proto: str, sport: int, dport: int, tos: int = 0):
        py = [sys.executable, "-S", str(HERE / "session.py")]
        self.server = subprocess.Popen(
            [*topo._ns_cmd("spirit"), *py, "serve", "--proto", proto, "--addr", SP1, "--port", str(dport),
             "--timeout", "60"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        topo._procs.append(self.server)
        self._ready(self.server)
        self.client = subprocess.Popen(
            [*topo._ns_cmd("client"), *py, "client", "--proto", proto, "--dst", SP1, "--dport", str(dport),
             "--sport", str(sport), "--tos", str(tos)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)
        topo._procs.append(self.client)
        self._ready(self.client)

    @staticmethod
    def _line(proc: subprocess.Popen, limit: float = 10) -> dict:
        ready, _, _ = select.select([proc.stdout], [], [], limit)
        line = proc.stdout.readline() if ready else b""
        if not line:
            proc.kill()
            raise AssertionError(f"session process gave no output: {proc.stderr.read().decode(errors='replace')}")
        return json.loads(line)

    def _ready(self, proc):
        assert self._line(proc).get("ready")

    def say(self, text: str) -> str | None:
        self.client.stdin.write(text.encode() + b"\n")
        self.client.stdin.flush()
        return self._line(self.client).get("reply")

    def close(self) -> list[dict]:
        self.client.communicate(timeout=10)
        out, err = self.server.communicate(input=b"", timeout=10)
        return json.loads(out.decode().strip().splitlines()[-1])["records"]


def _conntrack_ids(topo: Topology, proto: str, dport: int) -> set[str]:
    out = topo.conntrack("-L", "-p", proto, "--dport", str(dport), "-o", "id", check=False)
    return set(re.findall(r"id=(\d+)", out))


def test_calls_established_before_a_reload_that_adds_a_flow_survive_with_their_dscp(topology, tmp_path):
    v1, v2 = _payload(_without(tmp_path, REMOVED)), _payload()
    res = _apply(topology, tmp_path, v1)
    assert res.returncode == 0, res.stderr
    assert not tcp_exchange(topology, 40013, SP1, 5222, b"<stream>").reply_received  # not in v1
    call = Session(topology, "udp", 8500, 20000)  # communicator audio: EF
    sip = Session(topology, "tcp", 40011, 5062)  # communicator SIP over TCP: CS3
    try:
        assert call.say("rtp-1") == "ECHO:rtp-1" and sip.say("REGISTER-1") == "ECHO:REGISTER-1"
        ids = {"udp": _conntrack_ids(topology, "udp", 20000), "tcp": _conntrack_ids(topology, "tcp", 5062)}
        assert all(len(v) == 1 for v in ids.values()), ids
        res = _apply(topology, tmp_path, v2)  # adds communicator-messaging
        assert res.returncode == 0, res.stderr
        assert "5222" in topology.nft("list", "set", "ip", TABLE, "allowed")
        assert call.say("rtp-2") == "ECHO:rtp-2" and sip.say("REGISTER-2") == "ECHO:REGISTER-2"
        # the same conntrack entries: nothing was flushed or re-created
        assert _conntrack_ids(topology, "udp", 20000) == ids["udp"]
        assert _conntrack_ids(topology, "tcp", 5062) == ids["tcp"]
    finally:
        call_records, sip_records = call.close(), sip.close()
    assert [(r["payload"], r["tos"] >> 2) for r in call_records] == [("rtp-1", EF), ("rtp-2", EF)]
    assert [(r["payload"], r["tos"] >> 2) for r in sip_records] == [("REGISTER-1", CS3), ("REGISTER-2", CS3)]
    # and the added flow now passes for new connections
    assert tcp_exchange(topology, 40014, SP1, 5222, b"<stream>").reply_received
    # the applied ruleset is what a reboot loads
    assert (tmp_path / "nftables.conf").read_text() == "#!/usr/sbin/nft -f\n" + v2["ruleset"]


def test_a_removed_flow_is_dropped_for_new_connections(topology, tmp_path):
    assert _apply(topology, tmp_path, _payload()).returncode == 0
    assert tcp_exchange(topology, 40020, SP1, 5222, b"<stream>").reply_received
    res = _apply(topology, tmp_path, _payload(_without(tmp_path, REMOVED)))
    assert res.returncode == 0, res.stderr
    before = _dropped(topology)
    assert not tcp_exchange(topology, 40021, SP1, 5222, b"<stream>").reply_received
    assert _dropped(topology) > before
    assert udp_exchange(topology, 40022, SP1, 5060, b"OPTIONS").dscp == CS3  # the rest still passes, marked


def test_a_bad_ruleset_is_refused_and_the_old_one_stays(topology, tmp_path):
    good = _payload()
    assert _apply(topology, tmp_path, good).returncode == 0
    in_force = topology.nft("list", "table", "ip", TABLE)
    conf = (tmp_path / "nftables.conf").read_text()
    timeouts = topology.conntrack_timeouts()
    bad = dict(good, ruleset=good["ruleset"].replace("ip dscp set ef", "ip dscp set not-a-class"),
               sysctls={**good["sysctls"], "net.netfilter.nf_conntrack_udp_timeout": 31})
    for body, why in ((bad, "nft -c refused"), ("gz:not base64 at all", "does not decode"),
                      ('{"format": "something-else"}', "is not spirit-nat/1")):
        res = _apply(topology, tmp_path, body)
        assert res.returncode == agent.REFUSED and why in res.stderr, (body, res.stderr)
        assert topology.nft("list", "table", "ip", TABLE) == in_force
        assert (tmp_path / "nftables.conf").read_text() == conf
        assert topology.conntrack_timeouts() == timeouts  # the sysctls of a refused payload are not applied
    obs = udp_exchange(topology, 8500, SP1, 20000, b"rtp")
    assert obs.reply_received and obs.dscp == EF


def test_the_payload_sysctls_are_applied(topology, tmp_path):
    body = payload(build_profile("phones"), NatOptions(Topology.lan_if, Topology.wan_if, sip_keepalive_seconds=240))
    assert _apply(topology, tmp_path, body).returncode == 0
    t = topology.conntrack_timeouts()
    assert t["udp_timeout"] == t["udp_timeout_stream"] == 480
    assert "net.netfilter.nf_conntrack_udp_timeout = 480" in (tmp_path / "sysctl.conf").read_text()
    assert json.loads((tmp_path / "fqdn.json").read_text())["sets"] == body["fqdn"]["sets"]


# ---- channels: the agent's own loop against fake metadata services in the nat namespace -------------

class FakeMetadata:
    """tests/nat/fake_metadata.py on 127.0.0.1 in the nat namespace; ``set(value)`` changes what it serves."""

    def __init__(self, topo: Topology, tmp_path: Path, kind: str, port: int):
        self.value = tmp_path / f"{kind}-value"
        self.value.write_text("")
        self.log = tmp_path / f"{kind}-requests.jsonl"
        self.proc = subprocess.Popen(
            [*topo._ns_cmd("nat"), sys.executable, str(HERE / "fake_metadata.py"), "--kind", kind, "--port", str(port),
             "--value", str(self.value), "--log", str(self.log)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        topo._procs.append(self.proc)
        line = Session._line(self.proc)
        assert line.get("ready"), line
        self.url = f"http://127.0.0.1:{port}"

    def set(self, text: str) -> None:
        tmp = self.value.with_suffix(".tmp")
        tmp.write_text(text)
        os.replace(tmp, self.value)

    def requests(self) -> list[dict]:
        return [json.loads(x) for x in self.log.read_text().splitlines()] if self.log.exists() else []

    def stop(self) -> str:
        self.proc.kill()
        _out, err = self.proc.communicate(timeout=10)
        return err.decode(errors="replace")


CHANNELS = {
    "gcp": lambda url: {"channel": "gcp", "key": "spirit-nat-ruleset", "metadata_url": f"{url}/computeMetadata/v1",
                        "wait_seconds": 5},
    "azure": lambda url: {"channel": "azure", "imds_url": url, "poll": 0.5},
    "aws-ssm": lambda url: {"channel": "aws-ssm", "parameter": "/spirit-infra/p/s/nat", "region": "ap-southeast-2",
                            "imds_url": url, "ssm_endpoint": f"{url}/", "poll": 0.5},
}


def _wait(pred, limit: float = 20.0) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.2)
    return pred()


@pytest.mark.parametrize("kind", sorted(CHANNELS))
def test_the_agent_follows_its_channel(kind, topology, tmp_path):
    """Boot-time closed ruleset -> first payload applied -> a new value applied live -> a bad value refused."""
    port = {"gcp": 18080, "azure": 18081, "aws-ssm": 18082}[kind]
    fake = FakeMetadata(topology, tmp_path, kind, port)
    cfg = tmp_path / "agent.json"
    cfg.write_text(json.dumps(CHANNELS[kind](fake.url)))
    v1, v2 = _payload(_without(tmp_path, REMOVED)), _payload()
    fake.set(agent.encode(v1))
    proc = subprocess.Popen([*topology._ns_cmd("nat"), sys.executable, str(_agent_file(tmp_path)), "--config", str(cfg),
                             *_paths(tmp_path), "run"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    topology._procs.append(proc)
    try:
        def listing():
            try:
                return topology.nft("list", "set", "ip", TABLE, "allowed")
            except Exception:
                return ""
        assert _wait(lambda: "5060" in listing()), fake.stop()
        assert "5222" not in listing()
        fake.set(agent.encode(v2))
        assert _wait(lambda: "5222" in listing()), fake.stop()
        assert tcp_exchange(topology, 40030, SP1, 5222, b"<stream>").reply_received
        fake.set("gz:garbage")
        assert _wait(lambda: b"refused" in b"".join(_peek(proc)), 15)
        assert "5222" in listing()  # the bad value changed nothing
    finally:
        proc.kill()
        _out, err = proc.communicate(timeout=10)
        fake.stop()
    reqs = fake.requests()
    if kind == "gcp":  # long-polled: every request after the first waits for a change of the ETag it saw
        assert all(r["headers"].get("Metadata-Flavor") == "Google" for r in reqs)
        assert reqs[0]["query"]["last_etag"] == ["0"] and any(r["query"]["last_etag"] != ["0"] for r in reqs)
        assert all(r["query"]["wait_for_change"] == ["true"] for r in reqs)
    elif kind == "azure":
        assert all(r["headers"].get("Metadata") == "true" for r in reqs)
    else:  # every GetParameter was signed with the role's credentials (checked by botocore in the fake)
        ssm = [r for r in reqs if r["path"] == "/"]
        assert ssm and all(r["signature_ok"] for r in ssm), ssm
        assert all(r["body"] == {"Name": "/spirit-infra/p/s/nat"} for r in ssm)


_PEEKED: dict[int, list[bytes]] = {}


def _peek(proc: subprocess.Popen) -> list[bytes]:
    """What the agent wrote to stderr so far (non-blocking)."""
    buf = _PEEKED.setdefault(proc.pid, [])
    while True:
        ready, _, _ = select.select([proc.stderr], [], [], 0)
        if not ready:
            return buf
        chunk = os.read(proc.stderr.fileno(), 65536)
        if not chunk:
            return buf
        buf.append(chunk)
