"""README's "Verify a deployment" sample report is a real run: the probe through the QoS NAT ruleset with the
kernel's SIP helper attached (so the sample shows a detection), compared with the README after masking what
changes between runs (time, host, RTTs, offsets, client ports, SIP branch ids). ``--update-golden`` rewrites it."""

from __future__ import annotations

import re

import pytest

from spirit_infra.probe.reflector import new_token

from .deployment import REFLECTOR_IP, REFLECTOR_PORT, REPO, RESOLVER
from .test_reflector import ALG

pytestmark = pytest.mark.netns

README = REPO / "README.md"
BEGIN, END = "<!-- BEGIN SAMPLE: probe-report -->\n", "<!-- END SAMPLE: probe-report -->"
FLOWS = ("phone-sip", "phone-xsi", "phone-ntp", "phone-audio", "path-sip-alg")
_VOLATILE = [
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"), "<time>"),
    (re.compile(r"host: `[^`]*`"), "host: `<host>`"),
    (re.compile(r"\bon \S+ \("), "on <host> ("),
    (re.compile(r"rtt \d+\.\d+ ms"), "rtt <ms>"),
    (re.compile(r"offset_ms -?\d+\.\d+"), "offset_ms <ms>"),
    (re.compile(r"\(exit (\d)\), \d+\.\d+ s"), r"(exit \1), <s> s"),
    (re.compile(r"(10\.20\.0\.10|100\.64\.0\.1):\d+"), r"\1:<port>"),
    (re.compile(r"(branch=z9hG4bK-spirit-)[0-9a-f]+"), r"\1<id>"),
]


def normalise(text: str) -> str:
    for pat, rep in _VOLATILE:
        text = pat.sub(rep, text)
    return text


def _sample(readme: str) -> tuple[int, int]:
    start = readme.index(BEGIN) + len(BEGIN)
    return start, readme.index(END, start)


def test_readme_sample_report_is_what_the_probe_writes(deployment, tmp_path, request):
    token = new_token()
    deployment.load_nat("phones", extra=ALG)
    deployment.start_reflector(token)
    try:
        rc, out, err = deployment.run(
            "probe", "--profile", "phones", "--resolver", RESOLVER, "--ca-file", deployment.ca, "--timeout", "2",
            "--reflector", f"{REFLECTOR_IP}:{REFLECTOR_PORT}", "--token", token, "--only", *FLOWS,
            "--report", str(tmp_path / "report.md"))
    finally:
        deployment.stop("reflector")
    assert rc == 1, out + err  # the SIP ALG
    report = (tmp_path / "report.md").read_text().replace(deployment.ca, "ca.pem")
    fenced = "````markdown\n" + report + "````\n"
    readme = README.read_text(encoding="utf-8")
    start, end = _sample(readme)
    if request.config.getoption("--update-golden"):
        README.write_text(readme[:start] + fenced + readme[end:], encoding="utf-8")
        return
    assert normalise(readme[start:end]) == normalise(fenced), \
        "README's sample probe report differs from a real run (rerun with --update-golden if intended)"


def test_the_normalisation_keeps_what_matters():
    a = "| phone-sip | Call signalling | pass |  |\nrtt 1.5 ms from 10.20.0.10:5060"
    assert normalise(a) != normalise(a.replace("pass", "FAIL"))
    assert normalise(a) == normalise(a.replace("1.5", "2.7").replace(":5060", ":5071"))
