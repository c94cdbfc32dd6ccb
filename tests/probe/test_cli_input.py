"""Bad input to ``probe``, ``probe reflect`` and ``dns check``: exit 2 and one line naming the flag and value
(no traceback, nothing sent)."""

from __future__ import annotations

import pytest

from spirit_infra.cli import main

CASES = [
    (["dns", "check", "--resolver", "10.0.0"], "error: --resolver: '10.0.0' is not an IPv4 address or IP:PORT"),
    (["dns", "check", "--resolver", "10.0.0.1:70000"], "error: --resolver: '10.0.0.1:70000' is not an IPv4 address"),
    (["dns", "check", "--timeout", "0"], "error: --timeout: '0' is not a number of seconds in (0, 60]"),
    (["dns", "check", "--timeout", "abc"], "error: --timeout: 'abc' is not a number of seconds"),
    (["dns", "check", "--overrides", "/nonexistent/ov.yaml"], "/nonexistent/ov.yaml"),
    (["probe"], "error: --profile: is required (phones, communicator or sbc)"),
    (["probe", "--profile", "phones", "--only", "phone-nope"], "error: --only: 'phone-nope' is not a flow of profile"),
    (["probe", "--profile", "phones", "--reflector", "198.51.100.7"],
     "error: --reflector: '198.51.100.7' is not ADDR:PORT"),
    (["probe", "--profile", "phones", "--reflector", "198.51.100.7:5060"], "error: --token: --reflector needs --token"),
    (["probe", "--profile", "phones", "--reflector", "198.51.100.7:5060", "--token", "short"],
     "error: --token: 'short' is not a reflector token"),
    (["probe", "--profile", "phones", "--binding-max", "60"], "error: --binding-max: 60 needs --reflector"),
    (["probe", "--profile", "phones", "--reflector", "198.51.100.7:5060", "--token", "a" * 32, "--binding-max",
      "10"], "error: --binding-max: 10 is shorter than the SIP keepalive (30 s)"),
    (["probe", "--profile", "phones", "--ca-file", "/nonexistent/ca.pem"],
     "error: --ca-file: '/nonexistent/ca.pem': no such file"),
    (["probe", "--profile", "phones", "--report", "/nonexistent/dir/r.md"],
     "error: --report: '/nonexistent/dir/r.md': directory '/nonexistent/dir' does not exist"),
    (["probe", "--profile", "nope"], "invalid choice: 'nope'"),
    (["probe", "reflect", "--listen", "0.0.0.0"], "error: --listen: '0.0.0.0' is not ADDR:PORT"),
    (["probe", "reflect", "--listen", "0.0.0.0:5060", "--token", "x!"], "error: --token: 'x!' is not a reflector token"),
    (["probe", "reflect", "--listen", "192.0.2.77:5060", "--token", "a" * 32, "--duration", "1"],
     "error: --listen: cannot listen on 192.0.2.77:5060"),
]


@pytest.mark.parametrize("argv, expected", CASES, ids=[" ".join(c[0])[:60] for c in CASES])
def test_bad_input_exits_2_with_one_line(argv, expected, capsys):
    try:
        rc = main(argv)
    except SystemExit as e:  # argparse's own errors (a choice) exit through the CLI's parser
        rc = e.code
    assert rc == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], err
    assert "Traceback" not in err


def test_a_udp_flow_without_a_protocol_the_probe_speaks_is_not_tested(tmp_path, capsys):
    """(A catalogue or customer flow over UDP to a port the probe has no check for: never a TCP check, never a pass.)"""
    import json
    from pathlib import Path

    import yaml

    import spirit_infra

    cat = yaml.safe_load((Path(spirit_infra.__file__).parent / "catalogue" / "spirit.yaml").read_text())
    row = dict(next(f for f in cat["flows"] if f["id"] == "phone-xsi"), id="phone-stun", protocols=["STUN"],
               transports=["udp"], server_ports=[[3478, 3478]])
    row["provenance"] = {"table": "phones", "row": 99}
    cat["flows"].append(row)
    path = tmp_path / "cat.yaml"
    path.write_text(yaml.safe_dump(cat, sort_keys=False))
    rc = main(["probe", "--profile", "phones", "--catalogue", str(path), "--resolver", "127.0.0.1:1", "--only",
               "phone-stun", "--json"])
    flow = json.loads(capsys.readouterr().out)["flows"][0]
    assert rc == 0 and flow["flow"] == "phone-stun" and flow["verdict"] == "not tested"
    assert flow["reason"].startswith("UDP without a protocol the probe speaks") and flow["checks"] == []
