"""DNS as a Spirit client does it (dnspython): NAPTR -> SRV -> A (RFC 3263), SRV -> A, plain A.

Every lookup is recorded as an evidence line (``NAPTR phreg.example 10 10 "s" "SIP+D2U" -> _sip._udp...``)
so a report shows the whole chain. The order of the resulting targets is the order a client tries them:
NAPTR order then preference, then per SRV name RFC 2782's priority and weighted selection (its random
draw seeded by the name, so a report is repeatable).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import netaddr

from ..errors import ConfigError, SpiritError

__all__ = ["Target", "Resolution", "Resolver", "srv_order", "naptr_order", "SIP_SERVICES", "parse_resolver"]

#: NAPTR services a SIP client understands (RFC 3263 section 4.1) -> transport
SIP_SERVICES = {"SIP+D2U": "udp", "SIP+D2T": "tcp", "SIPS+D2T": "tls"}
#: RFC 3263 section 4.1: without NAPTR records, query these SRV names in this order
SRV_FALLBACK = (("_sips._tcp.", "tls"), ("_sip._tcp.", "tcp"), ("_sip._udp.", "udp"))


@dataclass(frozen=True)
class Target:
    """One address a client would contact, with how DNS led there."""

    name: str               # the catalogue name resolved
    host: str               # the host name whose A record gave the address (SRV target or the name)
    address: str
    transport: str | None   # udp | tcp | tls from NAPTR/SRV; None for a plain A name
    port: int | None        # from SRV; None for a plain A name
    via: tuple[str, ...]    # the chain of records that led here

    def to_json(self) -> dict:
        return {"name": self.name, "host": self.host, "address": self.address, "transport": self.transport,
                "port": self.port, "via": list(self.via)}


@dataclass(frozen=True)
class Resolution:
    """What one catalogue name resolved to; ``error`` (NXDOMAIN, timeout, no address) when nothing."""

    name: str
    type: str
    targets: tuple[Target, ...]
    evidence: tuple[str, ...]
    error: str | None = None
    problems: tuple[str, ...] = field(default=())   # partial failures (one SRV target without an address)

    def to_json(self) -> dict:
        return {"name": self.name, "type": self.type, "error": self.error, "problems": list(self.problems),
                "targets": [t.to_json() for t in self.targets], "evidence": list(self.evidence)}


def parse_resolver(value: str, flag: str = "--resolver") -> tuple[str, int]:
    """``IP`` or ``IP:PORT`` (IPv4) -> (ip, port); bad input is a ConfigError naming the flag."""
    host, sep, port_s = value.rpartition(":") if value.count(":") == 1 else (value, "", "")
    try:
        ip = str(netaddr.IPAddress(host, version=4, flags=netaddr.INET_PTON))
        port = int(port_s) if sep else 53
        if not 1 <= port <= 65535:
            raise ValueError
    except (netaddr.AddrFormatError, ValueError):
        raise ConfigError(f"{value!r} is not an IPv4 address or IP:PORT", field=flag) from None
    return ip, port


def srv_order(records, rng: random.Random) -> list:
    """RFC 2782: ascending priority; within a priority, repeatedly pick by running weight sum
    (zero-weight records first in the list so they keep a small chance, as the RFC says)."""
    out = []
    for prio in sorted({r.priority for r in records}):
        group = sorted((r for r in records if r.priority == prio), key=lambda r: (r.weight != 0, str(r.target), r.port))
        while group:
            total = sum(r.weight for r in group)
            pick = rng.randint(0, total) if total else 0
            running = 0
            for i, r in enumerate(group):
                running += r.weight
                if running >= pick:
                    out.append(group.pop(i))
                    break
    return out


def naptr_order(records) -> list:
    """RFC 3403/3263: ascending order, then ascending preference (ties by service and replacement)."""
    return sorted(records, key=lambda r: (r.order, r.preference, r.service.decode(), str(r.replacement)))


def _txt(name) -> str:
    return str(name).rstrip(".").lower()


class Resolver:
    """Lookups through one server (``nameserver``) or the host's resolver configuration (None)."""

    def __init__(self, nameserver: tuple[str, int] | None = None, timeout: float = 3.0):
        try:
            import dns.resolver
        except ImportError:
            raise SpiritError("the probe needs dnspython, a dependency of spirit-infra: reinstall it "
                              "(pip install -e . or make setup)") from None

        self._dns = dns
        if nameserver is None:
            try:
                self._r = dns.resolver.Resolver(configure=True)
            except dns.resolver.NoResolverConfiguration:
                raise ConfigError("this host has no resolver configured (/etc/resolv.conf): give --resolver IP",
                                  field="--resolver") from None
        else:
            self._r = dns.resolver.Resolver(configure=False)
            self._r.nameservers = [nameserver[0]]
            self._r.port = nameserver[1]
        self._r.lifetime = timeout
        self._r.timeout = timeout
        self._r.cache = None
        self.server = "system resolver" if nameserver is None else f"{nameserver[0]}:{nameserver[1]}"

    # one query: (answer or None, error text or None); NoAnswer is (None, None)
    def _query(self, name: str, rdtype: str):
        import dns.exception
        import dns.resolver

        try:
            return self._r.resolve(name, rdtype, search=False), None
        except dns.resolver.NXDOMAIN:
            return None, "NXDOMAIN"
        except dns.resolver.NoAnswer:
            return None, None
        except dns.resolver.NoNameservers as e:
            return None, f"no answer from {self.server} ({_first_reason(e)})"
        except dns.exception.Timeout:
            return None, f"timeout (no answer from {self.server})"

    def addresses(self, host: str, evidence: list[str]) -> tuple[list[str], str | None]:
        ans, err = self._query(host, "A")
        if ans is None:
            err = err or "no A record"
            evidence.append(f"A {host}: {err}")
            return [], err
        for rrset in ans.response.answer:
            if rrset.rdtype == self._dns.rdatatype.CNAME:
                evidence.append(f"CNAME {_txt(rrset.name)} -> {_txt(rrset[0].target)}")
        addrs = sorted({r.address for r in ans}, key=lambda a: netaddr.IPAddress(a))
        evidence.append(f"A {_txt(ans.canonical_name)} -> {', '.join(addrs)}")
        return addrs, None

    def _srv(self, name: str, srv_name: str, transport: str | None, via: tuple[str, ...], evidence: list[str],
             problems: list[str]) -> tuple[list[Target], str | None]:
        ans, err = self._query(srv_name, "SRV")
        if ans is None:
            return [], err or "no SRV record"
        out = []
        for r in srv_order(list(ans), random.Random(srv_name)):
            host = _txt(r.target)
            line = f"SRV {srv_name} {r.priority} {r.weight} {r.port} {host}"
            evidence.append(line)
            if host == "":
                problems.append(f"{srv_name}: service explicitly not available (target '.')")
                continue
            addrs, aerr = self.addresses(host, evidence)
            if aerr:
                problems.append(f"{host} (SRV target of {srv_name}): {aerr}")
            out += [Target(name, host, a, transport, r.port, (*via, line, f"A {host} {a}")) for a in addrs]
        return out, None

    def resolve(self, name: str, rtype: str) -> Resolution:
        """Resolve a catalogue name of type NAPTR, SRV or A/CNAME."""
        evidence: list[str] = []
        problems: list[str] = []
        name = name.lower().rstrip(".")
        targets: list[Target] = []
        error = None
        if rtype == "NAPTR":
            targets, error = self._naptr(name, evidence, problems)
        elif rtype == "SRV":
            targets, error = self._srv(name, name, "tls" if name.startswith("_sips.") else
                                       "udp" if "._udp." in name else "tcp", (), evidence, problems)
            if error:
                evidence.append(f"SRV {name}: {error}")
        else:
            addrs, error = self.addresses(name, evidence)
            targets = [Target(name, name, a, None, None, (f"A {name} {a}",)) for a in addrs]
        if not targets and error is None:
            error = problems[0] if problems else "no address"
        return Resolution(name, rtype, tuple(targets), tuple(evidence), error if not targets else None,
                          tuple(problems))

    def _naptr(self, name: str, evidence: list[str], problems: list[str]) -> tuple[list[Target], str | None]:
        ans, err = self._query(name, "NAPTR")
        if err:
            evidence.append(f"NAPTR {name}: {err}")
            return [], err
        targets: list[Target] = []
        if ans is None:
            # RFC 3263 4.1: no NAPTR records -> SRV for each transport, then A
            evidence.append(f"NAPTR {name}: no records (RFC 3263 fallback to SRV)")
            for prefix, transport in SRV_FALLBACK:
                found, _ = self._srv(name, prefix + name, transport, (), evidence, problems)
                targets += found
            if not targets:
                evidence.append(f"SRV {name}: none (RFC 3263 fallback to A)")
                addrs, aerr = self.addresses(name, evidence)
                targets = [Target(name, name, a, "udp", 5060, (f"A {name} {a}",)) for a in addrs]
                return targets, aerr
            return targets, None
        for r in naptr_order(list(ans)):
            service = r.service.decode()
            flags = r.flags.decode().lower()
            line = (f"NAPTR {name} {r.order} {r.preference} \"{r.flags.decode()}\" \"{service}\" -> "
                    f"{_txt(r.replacement)}")
            evidence.append(line)
            transport = SIP_SERVICES.get(service.upper())
            if transport is None or flags != "s":
                evidence.append(f"  skipped: {'flags ' + repr(flags) if flags != 's' else 'service'} not used by a SIP client")
                continue
            found, serr = self._srv(name, _txt(r.replacement), transport, (line,), evidence, problems)
            if serr:
                evidence.append(f"SRV {_txt(r.replacement)}: {serr}")
                problems.append(f"{_txt(r.replacement)} (NAPTR {service}): {serr}")
            targets += found
        return targets, None


def _first_reason(e) -> str:
    """SERVFAIL / REFUSED / the socket error from a NoNameservers exception."""
    import dns.rcode

    for item in (getattr(e, "kwargs", {}) or {}).get("errors") or []:
        err, response = (item[3], item[4]) if len(item) >= 5 else (item[-1], None)
        if response is not None:
            return dns.rcode.to_text(response.rcode())
        if err is not None:
            return str(err)
    return "server failure"
