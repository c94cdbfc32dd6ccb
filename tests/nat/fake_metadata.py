"""Fake instance metadata services for the NAT agent's channels, on 127.0.0.1 (run inside a namespace).

``--kind gcp``      GET /computeMetadata/v1/instance/attributes/<key>?wait_for_change=true&last_etag=E
                    (requires ``Metadata-Flavor: Google``): answers at once when the value's ETag differs
                    from E, else waits (bounded by timeout_sec) for the value to change; ETag header.
``--kind azure``    GET /metadata/instance/compute/userData?api-version=...&format=text (requires
                    ``Metadata: true``): base64 of the value.
``--kind aws-ssm``  IMDSv2 (PUT /latest/api/token, GET /latest/meta-data/iam/security-credentials/[role],
                    token required) and SSM GetParameter (POST /, X-Amz-Target AmazonSSM.GetParameter),
                    whose SigV4 signature is recomputed with botocore and logged as ``signature_ok``.

The value served is the content of --value, re-read on every request. Every request is appended to --log
(JSON lines). Prints ``{"ready": true}`` once listening.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN = "imds-token-1"
ROLE = "spirit-qos-nat-role"
CREDS = {"AccessKeyId": "ASIAFAKEKEY00000001", "SecretAccessKey": "fake/secret/key/for/tests",
         "Token": "fake-session-token", "Code": "Success"}


def _signature_ok(method: str, url: str, headers: dict, body: bytes) -> bool:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    auth = headers.get("Authorization", "")
    sig = auth.rpartition("Signature=")[2]
    signed = auth.partition("SignedHeaders=")[2].partition(",")[0].split(";")
    scope = auth.partition("Credential=")[2].partition(",")[0].split("/")
    req = AWSRequest(method=method, url=url, data=body,
                     headers={k: v for k, v in headers.items() if k.lower() in signed and k.lower() != "host"})
    req.context["timestamp"] = headers["X-Amz-Date"]
    signer = SigV4Auth(Credentials(CREDS["AccessKeyId"], CREDS["SecretAccessKey"], CREDS["Token"]), scope[3], scope[2])
    canonical = signer.canonical_request(req)
    expected = signer.signature(signer.string_to_sign(req, canonical), req)
    return scope[0] == CREDS["AccessKeyId"] and expected == sig


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--kind", choices=("gcp", "azure", "aws-ssm"), required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--value", required=True)
    p.add_argument("--log", required=True)
    a = p.parse_args()

    def value() -> bytes:
        with open(a.value, "rb") as f:
            return f.read()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            pass

        def _log(self, **extra):
            u = urllib.parse.urlsplit(self.path)
            rec = {"method": self.command, "path": u.path, "query": urllib.parse.parse_qs(u.query),
                   "headers": dict(self.headers), **extra}
            with open(a.log, "a", encoding="utf-8") as f:
                f.write(json.dumps(rec, sort_keys=True) + "\n")

        def _send(self, code: int, body: bytes, headers: dict | None = None):
            self.send_response(code)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):  # noqa: N802
            u = urllib.parse.urlsplit(self.path)
            q = urllib.parse.parse_qs(u.query)
            self._log()
            if a.kind == "gcp":
                if self.headers.get("Metadata-Flavor") != "Google":
                    return self._send(403, b"missing Metadata-Flavor")
                if not u.path.startswith("/computeMetadata/v1/instance/attributes/"):
                    return self._send(404, b"")
                last = q.get("last_etag", [""])[0]
                deadline = time.monotonic() + min(float(q.get("timeout_sec", ["60"])[0]), 60)
                while True:
                    v = value()
                    etag = hashlib.sha256(v).hexdigest()[:16]
                    if q.get("wait_for_change") != ["true"] or etag != last or time.monotonic() >= deadline:
                        return self._send(200, v, {"ETag": etag})
                    time.sleep(0.1)
            if a.kind == "azure":
                if self.headers.get("Metadata") != "true" or u.path != "/metadata/instance/compute/userData":
                    return self._send(400, b"")
                return self._send(200, base64.b64encode(value()))
            if self.headers.get("X-aws-ec2-metadata-token") != TOKEN:
                return self._send(401, b"")
            if u.path == "/latest/meta-data/iam/security-credentials/":
                return self._send(200, ROLE.encode())
            if u.path == f"/latest/meta-data/iam/security-credentials/{ROLE}":
                return self._send(200, json.dumps(CREDS).encode())
            return self._send(404, b"")

        def do_PUT(self):  # noqa: N802
            self._log()
            if a.kind == "aws-ssm" and self.path == "/latest/api/token" and \
                    self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
                return self._send(200, TOKEN.encode())
            return self._send(400, b"")

        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            url = f"http://{self.headers['Host']}{self.path}"
            ok = _signature_ok("POST", url, dict(self.headers), body)
            self._log(body=json.loads(body or b"null"), signature_ok=ok)
            if a.kind != "aws-ssm" or self.headers.get("X-Amz-Target") != "AmazonSSM.GetParameter" or not ok:
                return self._send(400, b'{"__type": "SignatureDoesNotMatch"}')
            name = json.loads(body)["Name"]
            out = {"Parameter": {"Name": name, "Type": "String", "Value": value().decode(), "Version": 1}}
            return self._send(200, json.dumps(out).encode(), {"Content-Type": "application/x-amz-json-1.1"})

    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    sys.stdout.write(json.dumps({"ready": True}) + "\n")
    sys.stdout.flush()
    srv.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
