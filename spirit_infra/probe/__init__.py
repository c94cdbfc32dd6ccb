"""From inside a deployment: does every flow really work?

- :func:`run_probe` tests every flow of a profile (DNS as the client does it, then TCP, TLS, SIP
  OPTIONS, NTP, and media through a reflector) and gives a verdict per flow.
- :class:`Reflector` is the echo service a user runs outside the NAT (``spirit-infra probe reflect``).
- :func:`check_catalogue` resolves every catalogue name and reports drift (``spirit-infra dns check``).

Needs dnspython (a dependency of spirit-infra). Nothing here imports pulumi.
"""

from .checks import Check
from .dns import Resolution, Resolver, Target
from .drift import DnsCheck, NameCheck, check_catalogue
from .reflector import Reflector
from .run import FAIL, NOT_TESTED, PASS, FlowResult, ProbeOptions, ProbeResult, run_probe

__all__ = ["Check", "DnsCheck", "FAIL", "FlowResult", "NOT_TESTED", "NameCheck", "PASS", "ProbeOptions",
           "ProbeResult", "Reflector", "Resolution", "Resolver", "Target", "check_catalogue", "run_probe"]
