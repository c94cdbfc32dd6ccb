"""Zones and the NAT's place, keyed by names, never by list positions (pure; no pulumi import).

How zones are named: a zone is the region's zone *suffix*, one lower-case letter (``a`` for AWS
``ap-southeast-2a``, GCP ``australia-southeast1-a``). The program does not ask the cloud for the region's
zones: the list is the stack key ``spirit:zones`` (default ``a, b, c``), so a preview needs no account
and a zone the cloud adds later moves nothing. Regions whose zones differ (GCP ``us-east1`` and
``europe-west1`` have ``b, c, d``) set the key.

A site's default zone is a stable function of its name alone: rendezvous (highest-random-weight)
hashing of ``(site, zone)`` over the zone list, so adding, removing or reordering *sites* never moves
another site, and adding or removing a *zone* moves only the sites that hash to it.

The NAT never sits in a site's subnet: on every cloud it has an edge subnet of its own, so adding or
removing a site cannot move it. Its zone is ``spirit:natZone`` (default: the first zone in alphabetical
order, a function of the zone list, never of the sites).

Address plan of the reserved top of the network (AWS): the edge subnet of the zone with letter index
``k`` (``a`` = 0) is the ``/28`` at ``last - 15 - 32 k``; the Network Firewall subnet is the ``/28`` just
below the ``a`` edge. An edge subnet's CIDR depends on its zone letter only.
"""

from __future__ import annotations

import hashlib
import string

import netaddr

__all__ = ["DEFAULT_ZONES", "default_zone", "edge_cidr", "firewall_cidr", "is_zone", "zone_name"]

DEFAULT_ZONES = ("a", "b", "c")


def is_zone(z: object) -> bool:
    return isinstance(z, str) and len(z) == 1 and z in string.ascii_lowercase


def default_zone(site: str, zones: tuple[str, ...] | list[str]) -> str:
    """The zone a site gets when it names none: rendezvous hashing of its name over ``zones``."""
    if not zones:
        raise ValueError("no zones")
    return max(sorted(set(zones)), key=lambda z: hashlib.sha256(f"{site}\0{z}".encode()).digest())


def zone_name(cloud: str, region: str, zone: str) -> str:
    """The cloud's full zone name: ``ap-southeast-2a`` (AWS) or ``australia-southeast1-a`` (GCP)."""
    return f"{region}{zone}" if cloud == "aws" else f"{region}-{zone}"


def edge_cidr(network_cidr: str, zone: str = "a") -> str:
    """The edge (public, NAT) subnet of ``zone``: a /28 near the top of the network, by zone letter."""
    net = netaddr.IPNetwork(network_cidr)
    k = string.ascii_lowercase.index(zone)
    first = net.last - 15 - 32 * k
    if first < net.first:
        raise ValueError(f"{net} has no room for the edge subnet of zone {zone!r}")
    return str(netaddr.IPNetwork(f"{netaddr.IPAddress(first)}/28").cidr)


def firewall_cidr(network_cidr: str) -> str:
    """The Network Firewall endpoint subnet: the /28 below the zone-``a`` edge subnet."""
    net = netaddr.IPNetwork(network_cidr)
    return str(netaddr.IPNetwork(f"{netaddr.IPAddress(net.last - 31)}/28").cidr)
