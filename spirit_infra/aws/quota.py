"""AWS security-group quota planning (pure).

AWS counts rules per security group *per direction* and *per address family* (60 inbound IPv4, 60
outbound IPv4, 60 inbound IPv6, ... by default), and a rule that references a customer-managed prefix
list counts as the list's **maximum entries**, not its current size. At most ``groups_per_interface``
groups (5 by default, up to 16) can be attached to one network interface, and AWS requires
``rules per group x groups per interface <= 1000``.

:func:`pack` places quota items into as few groups as the limits allow, deterministically: first fit in
the caller's order. The security-group render passes the rules in **content-hash order** (each rule's
rank is a hash of what it allows, independent of flow names and of the other rules), so:

- with one group (every default profile) no rule can move;
- adding or removing a rule never moves a rule whose group still has room for it: only a rule that no
  longer fits where it was (its group's quota in its direction and family is used up by rules ranked
  before it) overflows to the next group, and the render names each rule outside the first group and why
  (:func:`overflow_notes`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError
from ..settings import GROUPS_PER_INTERFACE, QUOTA

__all__ = ["DEFAULT_QUOTA", "DEFAULT_GROUPS_PER_INTERFACE", "MAX_GROUPS_PER_INTERFACE", "MAX_RULES_PER_INTERFACE",
           "QuotaItem", "pack", "check_limits", "dims_total", "overflow_notes"]

DEFAULT_QUOTA = QUOTA.default
DEFAULT_GROUPS_PER_INTERFACE = GROUPS_PER_INTERFACE.default
MAX_GROUPS_PER_INTERFACE = GROUPS_PER_INTERFACE.le
#: AWS: rules per security group x security groups per network interface may not exceed 1000.
MAX_RULES_PER_INTERFACE = 1000

Dim = tuple[str, str]  # (direction, family): ("egress", "ipv4")


@dataclass(frozen=True, order=True)
class QuotaItem:
    """One rule resource as AWS counts it: its name, its (direction, family), its cost and its rank (a
    stable hash of its content; the render sorts by it)."""

    name: str
    dim: Dim
    cost: int
    rank: str = ""


def check_limits(quota: int, groups_per_interface: int) -> None:
    """Validate the two quota parameters (ConfigError naming the option): each by its declaration, then
    AWS's limit on their product."""
    QUOTA.check(quota)
    GROUPS_PER_INTERFACE.check(groups_per_interface)
    if quota * groups_per_interface > MAX_RULES_PER_INTERFACE:
        raise ConfigError(f"quota {quota} x {groups_per_interface} groups per interface = "
                          f"{quota * groups_per_interface} exceeds AWS's {MAX_RULES_PER_INTERFACE} rules per "
                          "network interface", field="quota")


def dims_total(items: list[QuotaItem]) -> dict[Dim, int]:
    out: dict[Dim, int] = {}
    for it in items:
        out[it.dim] = out.get(it.dim, 0) + it.cost
    return out


def pack(items: list[QuotaItem], quota: int, max_groups: int) -> list[list[QuotaItem]] | None:
    """First-fit ``items`` (in the given order) into at most ``max_groups`` groups of ``quota`` per dim.

    Returns the groups (non-empty, in creation order) or ``None`` when they do not fit.
    """
    groups: list[dict[Dim, int]] = []
    placed: list[list[QuotaItem]] = []
    for it in items:
        if it.cost > quota:
            return None
        for i, used in enumerate(groups):
            if used.get(it.dim, 0) + it.cost <= quota:
                used[it.dim] = used.get(it.dim, 0) + it.cost
                placed[i].append(it)
                break
        else:
            if len(groups) == max_groups:
                return None
            groups.append({it.dim: it.cost})
            placed.append([it])
    return placed or [[]]


def overflow_notes(groups: list[list[QuotaItem]], quota: int, group_names: list[str]) -> list[str]:
    """One line per rule placed outside the first group: which group, and which earlier group was full."""
    notes = []
    used: list[dict[Dim, int]] = [{} for _ in groups]
    where = {it.name: i for i, members in enumerate(groups) for it in members}
    for it in sorted((it for members in groups for it in members), key=lambda it: (it.rank, it.name)):
        i = where[it.name]
        if i:
            full = ", ".join(f"{group_names[j]} {used[j].get(it.dim, 0)}/{quota}" for j in range(i))
            notes.append(f"quota: rule {it.name} is in {group_names[i]}: {it.dim[0]} {it.dim[1]} has no room "
                         f"for its {it.cost} in {full} (first fit in content-hash order)")
        used[i][it.dim] = used[i].get(it.dim, 0) + it.cost
    return notes
