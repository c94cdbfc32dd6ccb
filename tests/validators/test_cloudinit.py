"""Every cloud-init document the program registers passes ``cloud-init schema``, and every file it writes
passes the validator for its kind: ``bash -n``, ``py_compile``, ``nft -c -f`` (in a throwaway network
namespace), ``systemd-analyze verify`` (systemd 252, Debian 12's: unknown directives are failures)."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

import pytest

from . import cloudinit, matrix
from .cloudinit import Document, WrittenFile

NAT_CASES = [c for c in matrix.case_ids() if matrix.config(c).nat == "qos-instance"]


def test_the_matrix_has_qos_nat_cases_on_every_cloud():
    assert {matrix.config(c).cloud for c in NAT_CASES} == {"aws", "azure", "gcp"}
    assert len(NAT_CASES) >= 24


@pytest.mark.parametrize("case_id", NAT_CASES)
def test_every_cloud_init_document_and_file_is_valid(case_id):
    docs = cloudinit.documents(matrix.case(case_id))
    assert docs, f"{case_id}: a qos-instance stack registers the NAT instance's cloud-init"
    for doc in docs:
        assert cloudinit.schema(doc.text) == (), f"{case_id}: {doc.where}"
        files = cloudinit.written_files(doc)
        assert files, doc.where
        findings = [x for f in files for x in cloudinit.check_file(f)] + list(cloudinit.check_units(tuple(files)))
        assert findings == [], f"{case_id}: {doc.where}:\n" + "\n".join(findings)
        kinds = {cloudinit.kind(f) for f in files}
        assert "nft" in kinds and "unknown" not in kinds, kinds
        # the live-reload agent and its unit are among what was validated (py_compile, systemd-analyze)
        by_path = {f.path: cloudinit.kind(f) for f in files}
        assert by_path.get("/usr/local/sbin/spirit-nat-agent") == "python", by_path
        assert by_path.get("/etc/systemd/system/spirit-nat-agent.service") == "systemd-unit", by_path
        assert by_path.get("/etc/spirit-nat/agent.json") == "json", by_path


@pytest.mark.parametrize("case_id", NAT_CASES)
def test_every_nft_ruleset_registered_anywhere_passes_nft_check(case_id):
    found = cloudinit.rulesets(matrix.case(case_id))
    assert found, f"{case_id}: the QoS NAT's ruleset"
    for f in found:
        assert cloudinit.check_file(WrittenFile("/etc/nftables.conf", f.content, "0644")) == (), f.path
    # the boot document's closed ruleset, and the live one the channel carries (the one that forwards)
    live = [f for f in found if "forward" in f.content and "accept" in f.content]
    assert live and all(".userDataBase64" not in f.path and ".customData" not in f.path for f in live), \
        [f.path for f in found]


def test_documents_are_found_plain_base64_and_gzipped():
    text = "#cloud-config\npackages: [nftables]\n"
    gz = base64.b64encode(gzip.compress(text.encode(), mtime=0)).decode()

    class R:  # a registration as the matrix gives it
        def __init__(self, name, inputs):
            self.name, self.inputs = name, inputs

    class C:
        registrations = (R("a", {"userData": text}), R("b", {"x": {"customData": base64.b64encode(text.encode())
                                                                        .decode()}}),
                         R("c", {"meta": [{"v": gz}]}), R("d", {"userData": "#!/bin/sh\necho hi\n"}))

    assert [(d.where, d.text) for d in cloudinit.documents(C)] == [
        ("a.userData", text), ("b.x.customData", text), ("c.meta[0].v", text)]


def test_rulesets_are_found_outside_cloud_init_too():
    rs = "#!/usr/sbin/nft -f\nflush ruleset\n"
    payload = json.dumps({"format": "spirit-nat/1", "ruleset": "table ip t {\n}\n"})
    gz = "gz:" + base64.b64encode(gzip.compress(payload.encode(), mtime=0)).decode()

    class R:
        name, inputs = "ch", {"value": base64.b64encode(gzip.compress(rs.encode(), mtime=0)).decode(),
                              "description": "tables and chains", "payload": gz,
                              "userData": base64.b64encode(gz.encode()).decode(), "plain": payload,
                              "other": json.dumps({"ruleset": 3})}

    class C:
        registrations = (R(),)

    assert [(f.path, f.content) for f in cloudinit.rulesets(C)] == [
        ("ch.value", rs), ("ch.payload", "table ip t {\n}\n"), ("ch.userData", "table ip t {\n}\n"),
        ("ch.plain", "table ip t {\n}\n")]


# ---- each validator bites ----------------------------------------------------------------------------

def test_a_good_document_passes_and_a_bad_key_fails():
    assert cloudinit.schema("#cloud-config\nwrite_files:\n- {path: /etc/x, content: y}\n") == ()
    bad = cloudinit.schema("#cloud-config\nwrite_files:\n- {path: /etc/x, contents: y}\n")
    assert any("'contents' was unexpected" in ln for ln in bad), bad
    assert cloudinit.schema("#cloud-config\nruncmd: 3\n")


def _one(path: str, content: str) -> tuple[str, ...]:
    return cloudinit.check_file(WrittenFile(path, content, "0644"))


@pytest.mark.parametrize("path,good,bad,expect", [
    ("/usr/local/sbin/x", "#!/bin/bash\nif true; then echo ok; fi\n", "#!/bin/bash\nif true; then echo ok\n",
     "syntax error"),
    ("/usr/local/sbin/y", "#!/usr/bin/python3\nprint('ok')\n", "#!/usr/bin/python3\ndef f(:\n", "SyntaxError"),
    ("/usr/local/sbin/z", "#!/usr/bin/env python3\nprint(r'\\d')\n", "#!/usr/bin/env python3\nprint('\\d')\n",
     "invalid escape sequence"),
    ("/etc/nftables.conf", "#!/usr/sbin/nft -f\nflush ruleset\ntable inet t {\n chain c { type filter hook "
     "forward priority 0; policy drop; }\n}\n", "#!/usr/sbin/nft -f\ntable inet t {\n chain c { type filter hook "
     "forward priority 0; policy dorp; }\n}\n", "syntax error"),
    ("/etc/spirit-nat/x.json", '{"a": 1}\n', '{"a": 1,}\n', "invalid JSON"),
    ("/etc/sysctl.d/9.conf", "net.ipv4.ip_forward = 1\n", "net.ipv4.ip_forward 1\n", "not a sysctl line"),
])
def test_each_file_validator_passes_good_and_fails_bad(path, good, bad, expect):
    assert _one(path, good) == ()
    findings = _one(path, bad)
    assert any(expect in ln for ln in findings), findings


def test_a_file_no_validator_knows_fails():
    assert "no validator knows" in _one("/etc/mystery.bin", "x")[0]


SERVICE = WrittenFile("/etc/systemd/system/s.service", "[Unit]\nDescription=s\n\n[Service]\nType=oneshot\n"
                      "ExecStart=/usr/bin/true\n", "0644")


def test_a_valid_unit_passes():
    assert cloudinit.check_units((SERVICE,)) == ()


def test_a_drop_in_with_exec_reload_post_fails_on_systemd_252():
    dropin = WrittenFile("/etc/systemd/system/nftables.service.d/x.conf",
                         "[Service]\nExecReloadPost=-/usr/bin/true\n", "0644")
    findings = cloudinit.check_units((dropin,))
    assert any("Unknown key" in ln and "ExecReloadPost" in ln for ln in findings), findings
    ok = WrittenFile(dropin.path, "[Service]\nExecReload=-/usr/bin/true\n", "0644")
    assert cloudinit.check_units((ok,)) == ()


def test_a_unit_with_a_typo_or_a_missing_command_fails():
    typo = WrittenFile(SERVICE.path, SERVICE.content.replace("ExecStart=", "ExecStrat="), "0644")
    assert any("Unknown key" in ln for ln in cloudinit.check_units((typo,)))
    missing = WrittenFile(SERVICE.path, SERVICE.content.replace("/usr/bin/true", "/usr/bin/no-such-tool"), "0644")
    assert any("no-such-tool" in ln for ln in cloudinit.check_units((missing,)))


def test_a_drop_in_for_an_unknown_unit_fails():
    dropin = WrittenFile("/etc/systemd/system/nope.service.d/x.conf", "[Service]\nExecReload=/usr/bin/true\n", "0644")
    assert "neither written nor a known image unit" in cloudinit.check_units((dropin,))[0]


def test_written_files_decode_their_encoding():
    text = "#!/bin/sh\necho hi\n"
    doc = Document("d", "#cloud-config\nwrite_files:\n"
                   f"- {{path: /a.sh, content: {base64.b64encode(text.encode()).decode()}, encoding: b64}}\n"
                   f"- {{path: /b.sh, content: {base64.b64encode(gzip.compress(text.encode())).decode()}, "
                   "encoding: gz+b64}\n- {path: /c.sh, content: plain}\n")
    assert [(f.path, f.content) for f in cloudinit.written_files(doc)] == [
        ("/a.sh", text), ("/b.sh", text), ("/c.sh", "plain")]


def test_the_nftables_drop_in_refills_the_sets_on_reload_too():
    # systemd 252 ignores ExecReloadPost=; a drop-in's ExecReload= is appended to the unit's own, so it runs
    # after the image's `nft -f` (which must exist: else our command would be the whole reload)
    doc = cloudinit.documents(matrix.case("stack-aws-phones"))[0]
    dropin = next(f for f in cloudinit.written_files(doc) if cloudinit.kind(f) == "systemd-dropin")
    assert dropin.path == "/etc/systemd/system/nftables.service.d/spirit-nat-resolver.conf"
    lines = dropin.content.splitlines()
    start = "-/usr/bin/systemctl start --no-block spirit-nat-resolver.service"
    assert f"ExecStartPost={start}" in lines and f"ExecReload={start}" in lines
    assert "ExecReload=" not in lines  # an empty assignment would drop the unit's own reload command
    image = Path(cloudinit.IMAGE_UNITS["nftables.service"]).read_text(encoding="utf-8").splitlines()
    assert any(ln.startswith("ExecReload=") and "nft" in ln and "-f" in ln for ln in image), image
