"""Generate tests/malformed/*.yaml from a small valid base. The files are committed; rerun after editing:
    python tests/malformed/generate.py
"""
from pathlib import Path

BASE = """version: 1
assumptions:
  - id: any-port
    text: any port
flows:
  - id: phone-sip
    client: phone
    provenance: {table: phones, row: 1}
    application: Call signalling
    protocols: [SIP]
    transports: [tcp, udp]
    dscp: CS3
    client_ports: [[5060, 8060]]
    dns:
      - {name: phreg.access4.com.au, type: NAPTR}
    server_cidrs: [103.80.244.0/22]
    server_ports: [[5060, 5062]]
    assumptions: [any-port]
"""
# line numbers below count the one-line '# expect:' header (base line + 1)
SECOND = """  - id: phone-xsi
    client: phone
    provenance: {table: phones, row: 2}
    application: XSI
    protocols: [XSI]
    transports: [tcp]
    dscp: "0"
    client_ports: null
    dns: []
    server_cidrs: [103.80.244.0/22]
    server_ports: [[443, 443]]
"""
out = Path(__file__).resolve().parent

def cat(name, expect, old=None, new=None, text=None):
    body = text if text is not None else BASE.replace(old, new, 1)
    assert text is not None or old in BASE, name
    (out / f"catalogue-{name}.yaml").write_text(f"# expect: {expect}\n" + body)

cat("cidr-bad-prefix", ":17: flows[0].server_cidrs[0]: '103.80.244.0/33' is not a valid CIDR",
    "103.80.244.0/22", "103.80.244.0/33")
cat("cidr-garbage", ":17: flows[0].server_cidrs[0]: 'not-an-address' is not a valid CIDR",
    "103.80.244.0/22", "not-an-address")
cat("cidr-host-bits", ":17: flows[0].server_cidrs[0]: '103.80.244.1/22' has host bits set",
    "103.80.244.0/22", "103.80.244.1/22")
cat("cidr-leading-zero", ":17: flows[0].server_cidrs[0]: '010.0.0.0/8' is not a valid CIDR",
    "103.80.244.0/22", "010.0.0.0/8")
cat("cidr-not-a-string", ":17: flows[0].server_cidrs[0]: expected string, got an integer",
    "[103.80.244.0/22]", "[1234]")
cat("spirit-range-host-bits", ":3: spirit_ranges[0]: '45.64.148.1/22' has host bits set",
    "version: 1\n", "version: 1\nspirit_ranges: [45.64.148.1/22]\n")
cat("port-zero", ":14: flows[0].client_ports[0][0]: 0 is out of range", "[[5060, 8060]]", "[[0, 8060]]")
cat("port-70000", ":14: flows[0].client_ports[0][1]: 70000 is out of range", "[[5060, 8060]]", "[[5060, 70000]]")
cat("port-negative", ":18: flows[0].server_ports[0][0]: -1 is out of range", "[[5060, 5062]]", "[[-1, 5062]]")
cat("port-float", ":14: flows[0].client_ports[0][0]: expected integer, got a number (5060.5)", "[[5060, 8060]]", "[[5060.5, 8060]]")
cat("port-float-whole", ":14: flows[0].client_ports[0][0]: port 5060.0 must be an integer", "[[5060, 8060]]", "[[5060.0, 8060]]")
cat("port-reversed", ":14: flows[0].client_ports[0]: reversed range [8060, 5060]", "[[5060, 8060]]", "[[8060, 5060]]")
cat("port-reversed-server", ":18: flows[0].server_ports[0]: reversed range [5062, 5060]", "[[5060, 5062]]", "[[5062, 5060]]")
cat("port-range-one-item", ":14: flows[0].client_ports[0]: expected 2 item(s) at least, got 1", "[[5060, 8060]]", "[[5060]]")
cat("port-range-three-items", ":14: flows[0].client_ports[0]: expected 2 item(s) at most, got 3", "[[5060, 8060]]", "[[5060, 8060, 9000]]")
cat("ports-string", ":14: flows[0].client_ports: expected null or array, got a string ('5060-8060')", "[[5060, 8060]]", '"5060-8060"')
cat("ports-flat-list", ":14: flows[0].client_ports[0]: expected array, got an integer (5060)", "[[5060, 8060]]", "[5060, 8060]")
cat("ports-empty-list", ":14: flows[0].client_ports: expected 1 item(s) at least, got 0", "[[5060, 8060]]", "[]")
cat("ports-boolean", ":14: flows[0].client_ports[0][0]: expected integer, got a boolean", "[[5060, 8060]]", "[[true, 8060]]")
cat("dscp-unknown", ":13: flows[0].dscp: 'AF42' is not one of: CS3, EF, AF41, 0", "dscp: CS3", "dscp: AF42")
cat("dscp-unquoted-zero", ':13: flows[0].dscp: 0 is not one of: CS3, EF, AF41, 0 (quote it', "dscp: CS3", "dscp: 0")
cat("transport-unknown", ":12: flows[0].transports[1]: 'sctp' is not one of: tcp, udp", "[tcp, udp]", "[tcp, sctp]")
cat("transport-int", ":12: flows[0].transports: expected array, got an integer (6)", "[tcp, udp]", "6")
cat("transport-string", ":12: flows[0].transports: expected array, got a string ('tcp')", "[tcp, udp]", "tcp")
cat("transport-duplicate", ":12: flows[0].transports: items must be unique", "[tcp, udp]", "[tcp, tcp]")
cat("transport-empty", ":12: flows[0].transports: expected 1 item(s) at least, got 0", "[tcp, udp]", "[]")
cat("duplicate-flow-id", ":20: flows[1].id: duplicate flow id 'phone-sip' (first at flows[0])",
    text=BASE + SECOND.replace("id: phone-xsi", "id: phone-sip"))
cat("duplicate-assumption-id", ":6: assumptions[1].id: duplicate assumption id 'any-port'",
    "    text: any port\n", "    text: any port\n  - id: any-port\n    text: again\n")
cat("empty-destination-null", ":17: flows[0].server_cidrs: empty destination",
    "    dns:\n      - {name: phreg.access4.com.au, type: NAPTR}\n    server_cidrs: [103.80.244.0/22]\n",
    "    dns:\n      - {name: phreg.access4.com.au, type: NAPTR}\n    server_cidrs: null\n".replace(
        "      - {name: phreg.access4.com.au, type: NAPTR}\n", "      []\n").replace("    dns:\n      []\n", "    dns: []\n    # (no names)\n"))
cat("empty-destination-list", ":17: flows[0].server_cidrs: empty list: use null",
    "server_cidrs: [103.80.244.0/22]", "server_cidrs: []")
cat("empty-destination-list-no-dns", ":17: flows[0].server_cidrs: empty destination",
    "    dns:\n      - {name: phreg.access4.com.au, type: NAPTR}\n    server_cidrs: [103.80.244.0/22]\n",
    "    dns: []\n    # (no names)\n    server_cidrs: []\n")
cat("yaml-syntax-flow", ":9: (syntax): YAML syntax error", "client: phone", "client: [phone")
cat("yaml-syntax-tab", ":8: (syntax): YAML syntax error: found character '\\t'", "    client: phone", "\tclient: phone")
cat("yaml-undefined-alias", ":20: (syntax): YAML syntax error: found undefined alias", "    assumptions: [any-port]\n",
    "    assumptions: [any-port]\nsource: *nowhere\n")
cat("yaml-bad-tagged-value", ":2: version: cannot read value: 'x' is not a valid float", "version: 1", "version: !!float x")
cat("yaml-python-tag", ":20: source: cannot read value: could not determine a constructor", "    assumptions: [any-port]\n",
    "    assumptions: [any-port]\nsource: !!python/name:os.system\n")
cat("wrong-type-application", ":10: flows[0].application: expected string, got an integer (42)", "application: Call signalling", "application: 42")
cat("wrong-type-flows", ":3: flows: expected array, got a mapping", text="version: 1\nflows: {id: phone-sip}\n")
cat("wrong-type-dns", ":15: flows[0].dns: expected array, got a string", "    dns:\n      - {name: phreg.access4.com.au, type: NAPTR}\n", "    dns: phreg.access4.com.au\n    # (one name)\n")
cat("wrong-type-server-cidrs", ":17: flows[0].server_cidrs: expected null or array, got a string", "server_cidrs: [103.80.244.0/22]", "server_cidrs: 103.80.244.0/22")
cat("wrong-type-row", ":9: flows[0].provenance.row: expected integer, got a string ('one')", "row: 1}", "row: one}")
cat("unknown-key-top", ":3: colour: unknown key 'colour'", "version: 1\n", "version: 1\ncolour: red\n")
cat("unknown-key-flow", ":14: flows[0].colour: unknown key 'colour'", "    dscp: CS3\n", "    dscp: CS3\n    colour: red\n")
cat("unknown-key-dns", ":16: flows[0].dns[0].ttl: unknown key 'ttl' (allowed: name, type)", "type: NAPTR}", "type: NAPTR, ttl: 300}")
cat("unknown-key-provenance", ":9: flows[0].provenance.page: unknown key 'page'", "row: 1}", "row: 1, page: 2}")
cat("missing-key-dscp", ":7: flows[0].dscp: required key is missing", "    dscp: CS3\n", "")
cat("missing-key-flows", ":2: flows: required key is missing", text="version: 1\nsource: nothing else\n")
cat("missing-key-dns-type", ":16: flows[0].dns[0].type: required key is missing", "{name: phreg.access4.com.au, type: NAPTR}", "{name: phreg.access4.com.au}")
cat("duplicate-yaml-key", ":14: flows[0].dscp: duplicate key 'dscp'", "    dscp: CS3\n", "    dscp: CS3\n    dscp: EF\n")
cat("duplicate-yaml-key-top", ":20: version: duplicate key 'version'", "    assumptions: [any-port]\n", "    assumptions: [any-port]\nversion: 1\n")
cat("unknown-assumption", ":19: flows[0].assumptions[0]: unknown assumption 'nope'", "assumptions: [any-port]", "assumptions: [nope]")
cat("dns-name-spaces", ":16: flows[0].dns[0].name: 'bad name.com.au' is not a valid DNS name", "phreg.access4.com.au", "bad name.com.au")
cat("dns-name-single-label", ":16: flows[0].dns[0].name: 'localhost' is not a valid DNS name", "phreg.access4.com.au", "localhost")
cat("dns-name-long-label", ":16: flows[0].dns[0].name: '" + "a" * 64 + ".au' is not a valid DNS name", "phreg.access4.com.au", "a" * 64 + ".au")
cat("dns-name-is-an-address", ":16: flows[0].dns[0].name: '192.0.2.1' is an IP address, not a DNS name", "phreg.access4.com.au", "192.0.2.1")
cat("dns-type-unknown", ":16: flows[0].dns[0].type: 'MX' is not one of: NAPTR, SRV, A/CNAME", "type: NAPTR", "type: MX")
cat("bad-flow-id", ":7: flows[0].id: 'Phone_SIP' does not match", "id: phone-sip", "id: Phone_SIP")
cat("version-2", ":2: version: 2 must be 1", "version: 1", "version: 2")
cat("client-unknown", ":8: flows[0].client: 'fax' is not one of: phone, communicator", "client: phone", "client: fax")
cat("empty-file", ":1: (document): the document is empty", text="")
cat("comments-only", ":1: (document): the document is empty", text="# nothing here\n")
cat("not-a-mapping-list", ":2: (document): the catalogue must be a mapping", text="- version: 1\n- flows: []\n")
cat("not-a-mapping-scalar", ":2: (document): the catalogue must be a mapping", text="just a string\n")
cat("no-flows", ":3: flows: expected 1 item(s) at least, got 0", text="version: 1\nflows: []\n")
cat("multiple-documents", ":3: (syntax): YAML syntax error: expected a single document in the stream, but found another document", text="version: 1\n---\nversion: 1\n")
# non-UTF-8: header stays ASCII, the body has a Latin-1 byte
(out / "catalogue-not-utf8.yaml").write_bytes(b"# expect: : (file): not UTF-8 text\nversion: 1\nsource: caf\xe9\n")

def ov(name, expect, body, profile="phones"):
    (out / f"override-{name}.yaml").write_text(f"# expect: {expect}\n# profile: {profile}\n{body}")

ov("cidr-bad", ":3: extra_spirit_cidrs[0]: '10.0.0.0/33' is not a valid CIDR", "extra_spirit_cidrs: [10.0.0.0/33]\n")
ov("cidr-host-bits", ":5: extra_spirit_cidrs[1]: '10.0.0.1/8' has host bits set",
   "extra_spirit_cidrs:\n  - 192.0.2.0/24\n  - 10.0.0.1/8\n".replace("extra_spirit_cidrs:\n  - 192", "extra_spirit_cidrs:\n  - 192", 1))
ov("cidr-everything", ":3: extra_spirit_cidrs[0]: '0.0.0.0/0' is not a Spirit range", "extra_spirit_cidrs: [0.0.0.0/0]\n", "sbc")
ov("cidr-everything-in-halves", ":3: extra_spirit_cidrs: together these cover every address",
   "extra_spirit_cidrs: [0.0.0.0/1, 128.0.0.0/1]\n", "sbc")
ov("cidr-string", ":3: extra_spirit_cidrs: expected array, got a string", "extra_spirit_cidrs: 10.0.0.0/8\n")
ov("ztp-unknown-vendor", ":5: ztp_vendors_drop[1]: 'ztp.nokia.com' is not a ZTP vendor name",
   "ztp_vendors_drop:\n  - ztp.polycom.com\n  - ztp.nokia.com\n")
ov("ztp-not-ztp", ":4: ztp_vendors_drop[0]: 'pool.ntp.org' is not a ZTP vendor name",
   "ztp_vendors_drop:\n  - pool.ntp.org\n")
ov("ztp-bad-name", ":3: ztp_vendors_drop[0]: 'not a name' is not a valid DNS name", "ztp_vendors_drop: [not a name]\n")
ov("sbc-overlap", ":5: sbc.media_ports: the media range overlaps the SIP ports",
   "sbc:\n  sip_ports: [[5060, 5061]]\n  media_ports: [[5000, 6000]]\n", "sbc")
ov("sbc-reversed", ":4: sbc.sip_ports[0]: reversed range [5061, 5060]", "sbc:\n  sip_ports: [[5061, 5060]]\n", "sbc")
ov("sbc-port-zero", ":4: sbc.media_ports[0][0]: 0 is out of range", "sbc:\n  media_ports: [[0, 100]]\n", "sbc")
ov("sbc-unknown-key", ":4: sbc.rtp_ports: unknown key 'rtp_ports' (allowed: media_ports, sip_ports)",
   "sbc:\n  rtp_ports: [[10000, 20000]]\n", "sbc")
ov("unknown-key", ":3: colour: unknown key 'colour'", "colour: red\n")
ov("not-a-mapping", ":3: (document): overrides must be a mapping", "- extra_spirit_cidrs: []\n")
ov("empty", ":1: (document): the document is empty", "")
ov("yaml-syntax", ":4: (syntax): YAML syntax error", "extra_spirit_cidrs: [10.0.0.0/8\nsbc: {}\n")
ov("duplicate-key", ":4: sbc: duplicate key 'sbc'", "sbc: {}\nsbc: {}\n", "sbc")
# an override naming its own catalogue: the error points into that catalogue file
ov("own-catalogue-bad", "catalogue-cidr-host-bits.yaml:17: flows[0].server_cidrs[0]: '103.80.244.1/22' has host bits set",
   "catalogue: catalogue-cidr-host-bits.yaml\n")
ov("own-catalogue-missing", ":3: catalogue: ", "catalogue: no-such-catalogue.yaml\n")
# IPv6 while the catalogue declares itself IPv4 only (issue 11 section 5)
V4ONLY = BASE.replace("    text: any port\n", "    text: any port\n  - id: ipv4-only\n    text: IPv4 only\n", 1)
cat("cidr-ipv6-while-ipv4-only", ":19: flows[0].server_cidrs[1]: '2001:db8::/32' is IPv6, but this catalogue is IPv4 only",
    text=V4ONLY.replace("[103.80.244.0/22]", "[103.80.244.0/22, 2001:db8::/32]", 1))
ov("cidr-ipv6", ":5: extra_spirit_cidrs[1]: '2001:db8::/32' is IPv6, but the catalogue is IPv4 only",
   "extra_spirit_cidrs:\n  - 192.0.2.0/24\n  - 2001:db8::/32\n")

# hostile YAML (issue 11 section 5): refused on the event stream, before any node is built
BOMB = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'] + [
    f"{n}: &{n} [" + ",".join([f"*{p}"] * 9) + "]" for p, n in zip("abcdefgh", "bcdefghi", strict=True)]
cat("yaml-alias-bomb", ":6: (document): more than 50000 values once aliases are expanded", text="\n".join(BOMB) + "\n")
ov("yaml-alias-bomb", ":7: (document): more than 50000 values once aliases are expanded", "\n".join(BOMB) + "\n")
cat("yaml-recursive-alias", ":3: (document): alias *flows refers to a node that contains it",
    text="version: 1\nflows: &flows [*flows]\n")
cat("yaml-deep-nesting-flow", ":2: (document): nested deeper than 64 levels", text="flows: " + "[" * 5000 + "]" * 5000 + "\n")
cat("yaml-deep-nesting-block", ":66: (document): nested deeper than 64 levels",
    text="flows:\n" + "".join(" " * i + "-\n" for i in range(1, 100)))
cat("yaml-control-character", ":3: (syntax): YAML syntax error: unacceptable character #x0007",
    text='version: 1\nflows: "\x07"\n')
print(len(list(out.glob("*.yaml"))))
