#!/usr/bin/env python3
"""spirit-nat-resolver: fill the QoS NAT's FQDN sets from DNS (shipped verbatim by the cloud-init).

Standard library only; cloud-init installs this file as /usr/local/sbin/spirit-nat-resolver and a
systemd timer runs it every ``refresh`` seconds. The config (JSON) names the nftables table, the sets
and their DNS names::

    {"table": "spirit_nat", "refresh": 300, "sets": {"fqdn_phone_ntp": ["pool.ntp.org"]}}

Each run resolves every name (A records, through the system resolver) and replaces each set's contents
in ONE nft transaction (flush + add), so a packet never sees a half-filled set. Elements carry a
timeout of three refresh periods: if the resolver stops, stale addresses expire (fail closed). A set
whose names all fail to resolve this run is left untouched (its old elements keep their timeouts). A set
where only some names fail is not flushed: the addresses that did resolve are added, and the failed
names' old addresses stay until their timeouts, so one vendor's DNS outage never drops it at once.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import socket
import subprocess
import sys
from collections.abc import Callable

DEFAULT_CONFIG = "/etc/spirit-nat/fqdn-sets.json"


def resolve_a(name: str) -> list[str]:
    """IPv4 addresses of ``name`` via the system resolver (getaddrinfo; honours /etc/hosts)."""
    infos = socket.getaddrinfo(name, None, socket.AF_INET, socket.SOCK_STREAM)
    return sorted({info[4][0] for info in infos}, key=lambda a: ipaddress.IPv4Address(a))


def partial_sets(sets: dict[str, list[str]], errors: list[str]) -> set[str]:
    """The sets with at least one name that failed to resolve this run."""
    failed = {line.split(":", 1)[0] for line in errors}
    return {s for s, names in sets.items() if failed & set(names)}


def resolve_sets(sets: dict[str, list[str]], resolve: Callable[[str], list[str]] = resolve_a
                 ) -> tuple[dict[str, list[str]], list[str]]:
    """Set -> sorted unique addresses (sets with no resolvable name are omitted), and error lines."""
    out: dict[str, list[str]] = {}
    errors: list[str] = []
    for set_name in sorted(sets):
        addrs: set[str] = set()
        for name in sets[set_name]:
            try:
                found = resolve(name)
            except (OSError, UnicodeError) as e:
                errors.append(f"{name}: {e}")
                continue
            for a in found:
                ip = ipaddress.ip_address(a)
                if ip.version == 4 and not (ip.is_unspecified or ip.is_loopback or ip.is_multicast):
                    addrs.add(str(ip))
        if addrs:
            out[set_name] = sorted(addrs, key=ipaddress.IPv4Address)
    return out, errors


def nft_script(table: str, resolved: dict[str, list[str]], timeout: int, keep: set[str] | frozenset = frozenset()
               ) -> str:
    """The nft transaction replacing each resolved set's elements (sets in ``keep`` are only added to)."""
    lines = []
    for set_name, addrs in sorted(resolved.items()):
        if set_name not in keep:
            lines.append(f"flush set ip {table} {set_name}")
        elems = ", ".join(f"{a} timeout {timeout}s" for a in addrs)
        lines.append(f"add element ip {table} {set_name} {{ {elems} }}")
    return "\n".join(lines) + ("\n" if lines else "")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="spirit-nat-resolver", description=__doc__.splitlines()[0])
    p.add_argument("--config", default=DEFAULT_CONFIG)
    p.add_argument("--dry-run", action="store_true", help="print the nft transaction instead of applying it")
    args = p.parse_args(argv)
    try:
        with open(args.config, encoding="utf-8") as fh:
            cfg = json.load(fh)
        table, sets, refresh = cfg["table"], cfg["sets"], int(cfg.get("refresh", 300))
    except (OSError, ValueError, KeyError, TypeError) as e:
        sys.stderr.write(f"error: {args.config}: {e}\n")
        return 2
    resolved, errors = resolve_sets(sets)
    for line in errors:
        sys.stderr.write(f"warning: {line}\n")
    script = nft_script(table, resolved, 3 * refresh, partial_sets(sets, errors))
    if args.dry_run:
        sys.stdout.write(script)
        return 0
    if not script:
        return 1 if errors else 0
    res = subprocess.run(["nft", "-f", "-"], input=script.encode(), capture_output=True)
    if res.returncode != 0:
        sys.stderr.write(f"error: nft: {res.stderr.decode(errors='replace').strip()}\n")
        return 1
    print(f"spirit-nat-resolver: {sum(len(v) for v in resolved.values())} addresses in {len(resolved)} sets")
    return 0


if __name__ == "__main__":
    sys.exit(main())
