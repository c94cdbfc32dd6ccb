"""Physical names: derived from the stack's and the component's names, within each cloud's limits (pure).

A cloud refuses a second resource with a name already taken in its scope (GCP: 409 ``alreadyExists``
in the project; Azure: the resource group; AWS: the account and region for Network Firewall rule
groups, policies and firewalls). A fixed name such as ``spirit-nat-router`` therefore collides as soon
as two stacks, or two components of one stack, share a project. Every name spirit-infra chooses starts
with :func:`physical_prefix`, a function of the stack's name and the component's logical name only, so:

- two stacks (``prod``, ``staging``) or two components (``edge-fw``, ``lab-fw``) never collide;
- the name is stable: it changes only when the stack or the component is renamed;
- it fits the cloud: :func:`fit` lower-cases, replaces characters the cloud does not allow, and, when
  the result is too long, keeps the head and appends a hash of the whole, so two long names that share
  their head still differ.

Limits (documented by each cloud):

- GCP (RFC 1035 labels, Compute Engine): ``[a-z]([-a-z0-9]*[a-z0-9])?``, at most 63 characters.
- AWS Network Firewall names: ``[a-zA-Z0-9-]``, 1-128; Route 53 Resolver DNS Firewall names: at most 64
  (letters, digits, ``-``, ``_``, space); managed prefix list names: at most 255. spirit-infra writes
  ``[a-z0-9-]`` only and keeps every AWS name it writes within :data:`AWS_NAME_MAX` (64).
- Azure names spirit-infra writes are children of a resource that is auto-named (NSG rules, rule
  collection groups, routes) and need no prefix; see :mod:`spirit_infra.azure`.
"""

from __future__ import annotations

import hashlib
import re

__all__ = ["GCP_NAME_MAX", "AWS_NAME_MAX", "PREFIX_MAX", "fit", "join", "physical_prefix", "current_stack"]

GCP_NAME_MAX = 63
#: the strictest AWS limit among the names spirit-infra writes (Route 53 Resolver DNS Firewall: 64)
AWS_NAME_MAX = 64
#: room left after the prefix for what the renders append (``-<flow>-<hash>``, ``-nat-router``, ...)
PREFIX_MAX = 30

_BAD = re.compile(r"[^a-z0-9-]+")
_DASHES = re.compile(r"-{2,}")


def _hash(text: str, n: int = 6) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:n]


def fit(name: str, limit: int = GCP_NAME_MAX) -> str:
    """``name`` as a valid RFC 1035 label of at most ``limit`` characters (lower case, ``-`` for the rest).

    Deterministic; a name that is already valid and short enough is returned unchanged. A longer one
    keeps its head and ends with ``-<hash of the whole name>``.
    """
    clean = _DASHES.sub("-", _BAD.sub("-", name.lower())).strip("-") or "spirit"
    if not clean[0].isalpha():
        clean = "s-" + clean
    if len(clean) <= limit:
        return clean
    tail = _hash(name)
    return clean[: limit - len(tail) - 1].rstrip("-") + "-" + tail


def join(head: str, tail: str, limit: int = AWS_NAME_MAX) -> str:
    """``<head>-<tail>`` without stutter (``test-spirit`` + ``spirit-ipv4`` is ``test-spirit-ipv4``), fitted."""
    h, t = head.split("-"), tail.split("-")
    overlap = next((k for k in range(min(len(h), len(t)), 0, -1) if h[-k:] == t[:k]), 0)
    return fit("-".join(h + t[overlap:]), limit)


def physical_prefix(stack: str, component: str, limit: int = PREFIX_MAX) -> str:
    """The prefix of every physical name a component chooses: ``<stack>-<component>``, fitted.

    Stutter is dropped (a component ``spirit-fw`` in stack ``spirit`` gives ``spirit-fw``, not
    ``spirit-spirit-fw``), and an empty stack name gives the component's name alone.
    """
    s, c = fit(stack, limit) if stack else "", fit(component, limit)
    if not s or c == s or c.startswith(s + "-"):
        joined = c
    elif s.endswith("-" + c):
        joined = s
    else:
        joined = f"{s}-{c}"
    return fit(joined, limit)


def current_stack() -> str:
    """The running Pulumi stack's name ('' outside a Pulumi program). Imports pulumi lazily."""
    try:
        import pulumi
    except ImportError:  # pragma: no cover - the components always have pulumi
        return ""
    try:
        return pulumi.get_stack() or ""
    except Exception:  # noqa: BLE001 - no stack outside a program run
        return ""
