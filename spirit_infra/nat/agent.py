#!/usr/bin/env python3
"""spirit-nat-agent: apply the QoS NAT's ruleset delivered live through an in-place channel.

Standard library only; the boot cloud-init installs this file verbatim as /usr/local/sbin/spirit-nat-agent
with its config /etc/spirit-nat/agent.json and a systemd service that runs ``spirit-nat-agent run``. The
boot user data never carries the ruleset, so a catalogue or profile edit changes no boot input: the
instance is never replaced or rebooted. The ruleset reaches it through a channel that changes in place:

``aws-ssm``   an SSM parameter, read with the instance role's credentials (IMDSv2), polled
``gcp``       an instance metadata key, watched with ``?wait_for_change=true&last_etag=``
``azure``     the VM's ``userData``, read from IMDS (``/metadata/instance/compute/userData``), polled
``file``      a local file (stand-alone NATs, tests), polled

The payload (what the channel holds) is ``gz:`` + base64(gzip(JSON)) or plain JSON::

    {"format": "spirit-nat/1", "ruleset": "<nft -f input>", "sysctls": {"net.ipv4.ip_forward": 1, ...},
     "fqdn": {"table": "spirit_nat", "refresh": 300, "sets": {...}} or null}

Applying it: parse, then ``nft -c -f`` (check against the running kernel); a payload that does not parse
or check is refused and the ruleset in force stays. Then the sysctls, then ONE ``nft -f`` transaction
(the ruleset replaces only its own table: ``table ip T`` / ``delete table ip T`` / ``table ip T {...}``),
so no packet ever sees a half-loaded ruleset and conntrack entries (with their class in the conntrack
mark) survive. The applied ruleset becomes /etc/nftables.conf, so a reboot starts from it.

Commands: ``run`` (loop: fetch, apply what changed), ``apply FILE`` (apply one payload), ``fetch``
(print what the channel holds, decoded). Exit status of ``apply``: 0 applied, 3 refused.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import gzip
import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

FORMAT = "spirit-nat/1"
DEFAULT_CONFIG = "/etc/spirit-nat/agent.json"
REFUSED = 3
_SYSCTL = re.compile(r"^net\.(ipv4\.ip_forward|netfilter\.nf_conntrack_[a-z_]+)$")


class Refused(Exception):
    """A payload that must not be applied (the ruleset in force stays)."""


def log(msg: str) -> None:
    sys.stderr.write(f"spirit-nat-agent: {msg}\n")
    sys.stderr.flush()


# ---- the payload -----------------------------------------------------------------------------------------

def decode(raw: bytes | str) -> dict:
    """The payload as a dict; :class:`Refused` when it is not one this agent understands."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    text = text.strip()
    try:
        if text.startswith("gz:"):
            text = gzip.decompress(base64.b64decode(text[3:], validate=True)).decode("utf-8")
        doc = json.loads(text)
    except (ValueError, OSError, EOFError) as e:
        raise Refused(f"payload does not decode: {e}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise Refused(f"payload is not {FORMAT}")
    if not isinstance(doc.get("ruleset"), str) or not doc["ruleset"].strip():
        raise Refused("payload has no ruleset")
    sysctls = doc.get("sysctls") or {}
    if not isinstance(sysctls, dict):
        raise Refused("sysctls must be a mapping")
    for k, v in sysctls.items():
        if not isinstance(k, str) or not _SYSCTL.match(k) or isinstance(v, bool) or not isinstance(v, int):
            raise Refused(f"sysctl {k!r} = {v!r} is not one the agent sets")
    fqdn = doc.get("fqdn")
    if fqdn is not None and not (isinstance(fqdn, dict) and isinstance(fqdn.get("sets"), dict)):
        raise Refused("fqdn must be null or a mapping with 'sets'")
    return doc


def encode(doc: dict) -> str:
    """What a channel holds: ``gz:`` + base64 of the deterministic gzip (mtime 0) of the sorted JSON."""
    data = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    return "gz:" + base64.b64encode(gzip.compress(data, compresslevel=9, mtime=0)).decode()


# ---- applying -------------------------------------------------------------------------------------------

def _write_atomic(path: str, text: str, mode: int = 0o644) -> None:
    d = os.path.dirname(path) or "."
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".spirit-nat-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _nft(nft: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([nft, *args], capture_output=True, text=True, timeout=60)


def apply(doc: dict, *, nft: str = "/usr/sbin/nft", nft_conf: str = "/etc/nftables.conf",
          sysctl_file: str = "/etc/sysctl.d/90-spirit-nat.conf", proc_sys: str = "/proc/sys",
          fqdn_config: str = "/etc/spirit-nat/fqdn-sets.json", systemd: bool = True) -> None:
    """Check, then apply ``doc`` in one nft transaction; :class:`Refused` (nothing changed) if it fails the check."""
    ruleset = doc["ruleset"]
    with tempfile.NamedTemporaryFile("w", suffix=".nft", prefix="spirit-nat-", delete=False) as f:
        f.write(ruleset)
        candidate = f.name
    try:
        res = _nft(nft, "-c", "-f", candidate)
        if res.returncode != 0:
            raise Refused("nft -c refused the ruleset; the one in force stays: "
                          + " | ".join(res.stderr.strip().splitlines()[:6]))
        sysctls = doc.get("sysctls") or {}
        for k, v in sorted(sysctls.items()):
            with open(os.path.join(proc_sys, *k.split(".")), "w", encoding="ascii") as p:
                p.write(f"{v}\n")
        res = _nft(nft, "-f", candidate)
        if res.returncode != 0:  # the transaction is all or nothing: the old ruleset is still in force
            raise Refused("nft -f failed; the ruleset in force stays: " + res.stderr.strip())
    finally:
        os.unlink(candidate)
    if sysctl_file:
        _write_atomic(sysctl_file, "# spirit-infra QoS NAT (written by spirit-nat-agent)\n"
                      + "".join(f"{k} = {v}\n" for k, v in sorted(sysctls.items())))
    _write_atomic(nft_conf, "#!/usr/sbin/nft -f\n" + ruleset, 0o755)  # a reboot starts from this ruleset
    fqdn = doc.get("fqdn")
    if fqdn and fqdn.get("sets"):
        _write_atomic(fqdn_config, json.dumps(fqdn, indent=2, sort_keys=True) + "\n")
        if systemd:  # a reloaded table has empty FQDN sets: refill them now, and keep the timer running
            subprocess.run(["systemctl", "enable", "--now", "spirit-nat-resolver.timer"], check=False)
            subprocess.run(["systemctl", "start", "--no-block", "spirit-nat-resolver.service"], check=False)
    elif systemd:
        subprocess.run(["systemctl", "disable", "--now", "spirit-nat-resolver.timer"], check=False,
                       capture_output=True)


# ---- channels -------------------------------------------------------------------------------------------

def _http(req: urllib.request.Request, timeout: float) -> tuple[bytes, dict]:
    with urllib.request.urlopen(req, timeout=timeout) as r:  # noqa: S310 (link-local metadata endpoints)
        return r.read(), dict(r.headers)


class FileChannel:
    def __init__(self, cfg: dict):
        self.path, self.poll = cfg["path"], float(cfg.get("poll", 10))
        self.first = True

    def fetch(self) -> bytes:
        if not self.first:
            time.sleep(self.poll)
        self.first = False
        with open(self.path, "rb") as f:
            return f.read()


class GcpChannel:
    """Instance metadata attribute, long-polled: the request returns when the value's ETag changes."""

    def __init__(self, cfg: dict):
        self.base = cfg.get("metadata_url", "http://metadata.google.internal/computeMetadata/v1")
        self.key = cfg.get("key", "spirit-nat-ruleset")
        self.timeout = int(cfg.get("wait_seconds", 300))
        self.etag = "0"

    def fetch(self) -> bytes:
        url = (f"{self.base}/instance/attributes/{urllib.parse.quote(self.key)}?wait_for_change=true"
               f"&timeout_sec={self.timeout}&last_etag={urllib.parse.quote(self.etag)}")
        body, headers = _http(urllib.request.Request(url, headers={"Metadata-Flavor": "Google"}), self.timeout + 10)
        self.etag = headers.get("ETag", headers.get("etag", self.etag))
        return body


class AzureChannel:
    """The VM's userData (base64 in IMDS), polled."""

    def __init__(self, cfg: dict):
        self.base = cfg.get("imds_url", "http://169.254.169.254")
        self.poll = float(cfg.get("poll", 30))
        self.first = True

    def fetch(self) -> bytes:
        if not self.first:
            time.sleep(self.poll)
        self.first = False
        url = f"{self.base}/metadata/instance/compute/userData?api-version=2021-01-01&format=text"
        body, _ = _http(urllib.request.Request(url, headers={"Metadata": "true"}), 10)
        return base64.b64decode(body)


def _sign(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def sigv4_headers(*, method: str, url: str, body: bytes, headers: dict, region: str, service: str,
                  access_key: str, secret_key: str, token: str | None, now: datetime.datetime) -> dict:
    """AWS Signature Version 4 (the headers to add): canonical request, string to sign, signature."""
    u = urllib.parse.urlsplit(url)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    h = {k.lower(): v.strip() for k, v in headers.items()}
    h["host"] = u.netloc
    h["x-amz-date"] = amz_date
    if token:
        h["x-amz-security-token"] = token
    signed = ";".join(sorted(h))
    canonical = "\n".join([method, u.path or "/", u.query, "".join(f"{k}:{h[k]}\n" for k in sorted(h)), signed,
                           hashlib.sha256(body).hexdigest()])
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    k = _sign(("AWS4" + secret_key).encode(), amz_date[:8])
    for part in (region, service, "aws4_request"):
        k = _sign(k, part)
    sig = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    out = {"X-Amz-Date": amz_date,
           "Authorization": f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, SignedHeaders={signed}, Signature={sig}"}
    if token:
        out["X-Amz-Security-Token"] = token
    return out


class AwsSsmChannel:
    """An SSM parameter, read with the instance role's credentials from IMDSv2, polled."""

    def __init__(self, cfg: dict):
        self.name, self.region = cfg["parameter"], cfg["region"]
        self.imds = cfg.get("imds_url", "http://169.254.169.254")
        self.endpoint = cfg.get("ssm_endpoint", f"https://ssm.{self.region}.amazonaws.com/")
        self.poll = float(cfg.get("poll", 30))
        self.first = True

    def _credentials(self) -> dict:
        token, _ = _http(urllib.request.Request(f"{self.imds}/latest/api/token", method="PUT",
                                                headers={"X-aws-ec2-metadata-token-ttl-seconds": "300"}), 5)
        h = {"X-aws-ec2-metadata-token": token.decode()}
        base = f"{self.imds}/latest/meta-data/iam/security-credentials/"
        role, _ = _http(urllib.request.Request(base, headers=h), 5)
        creds, _ = _http(urllib.request.Request(base + role.decode().split()[0], headers=h), 5)
        return json.loads(creds)

    def fetch(self) -> bytes:
        if not self.first:
            time.sleep(self.poll)
        self.first = False
        c = self._credentials()
        body = json.dumps({"Name": self.name}).encode()
        headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AmazonSSM.GetParameter"}
        headers |= sigv4_headers(method="POST", url=self.endpoint, body=body, headers=headers, region=self.region,
                                 service="ssm", access_key=c["AccessKeyId"], secret_key=c["SecretAccessKey"],
                                 token=c.get("Token"), now=datetime.datetime.now(datetime.UTC))
        out, _ = _http(urllib.request.Request(self.endpoint, data=body, method="POST", headers=headers), 15)
        return json.loads(out)["Parameter"]["Value"].encode()


CHANNELS = {"file": FileChannel, "gcp": GcpChannel, "azure": AzureChannel, "aws-ssm": AwsSsmChannel}


def channel(cfg: dict):
    kind = cfg.get("channel")
    if kind not in CHANNELS:
        raise SystemExit(f"spirit-nat-agent: unknown channel {kind!r} (known: {', '.join(CHANNELS)})")
    return CHANNELS[kind](cfg)


# ---- the command ----------------------------------------------------------------------------------------

def _apply_kwargs(a: argparse.Namespace) -> dict:
    return {"nft": a.nft, "nft_conf": a.nft_conf, "sysctl_file": a.sysctl_file, "proc_sys": a.proc_sys,
            "fqdn_config": a.fqdn_config, "systemd": not a.no_systemd}


def _apply_raw(raw: bytes, a: argparse.Namespace) -> bool:
    try:
        apply(decode(raw), **_apply_kwargs(a))
    except Refused as e:
        log(f"refused: {e}")
        return False
    log("applied the new ruleset")
    return True


def run(a: argparse.Namespace) -> int:
    with open(a.config, encoding="utf-8") as f:
        ch = channel(json.load(f))
    last = None
    for _ in range(a.iterations or sys.maxsize):
        try:
            raw = ch.fetch()
        except (OSError, ValueError, KeyError) as e:
            log(f"channel unavailable ({e}); the ruleset in force stays")
            time.sleep(min(30.0, getattr(ch, "poll", 10)))
            continue
        digest = hashlib.sha256(raw).hexdigest()
        if digest != last:
            _apply_raw(raw, a)  # a refused payload is not retried until it changes
            last = digest
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="spirit-nat-agent", description=__doc__.split("\n\n")[0])
    p.add_argument("--config", default=DEFAULT_CONFIG)
    p.add_argument("--nft", default="/usr/sbin/nft")
    p.add_argument("--nft-conf", default="/etc/nftables.conf")
    p.add_argument("--sysctl-file", default="/etc/sysctl.d/90-spirit-nat.conf")
    p.add_argument("--proc-sys", default="/proc/sys")
    p.add_argument("--fqdn-config", default="/etc/spirit-nat/fqdn-sets.json")
    p.add_argument("--no-systemd", action="store_true", help="do not start the resolver units")
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--iterations", type=int, default=0, help="stop after N fetches (0: never)")
    ap = sub.add_parser("apply")
    ap.add_argument("payload")
    sub.add_parser("fetch")
    a = p.parse_args(argv)
    if a.cmd == "apply":
        with open(a.payload, "rb") as f:
            return 0 if _apply_raw(f.read(), a) else REFUSED
    if a.cmd == "fetch":
        with open(a.config, encoding="utf-8") as f:
            raw = channel(json.load(f)).fetch()
        try:
            sys.stdout.write(json.dumps(decode(raw), indent=2, sort_keys=True) + "\n")
        except Refused as e:
            log(f"refused: {e}")
            return REFUSED
        return 0
    return run(a)


if __name__ == "__main__":
    sys.exit(main())
