"""The library's own test double: run a Pulumi program under a recording mock runtime, assert on what it
registered (httpx ships ``httpx.MockTransport`` in the same spirit)::

    from spirit_infra import testing

    rec = testing.run(lambda: SpiritFirewall("edge", args), config={"spirit:cloud": "aws"})
    sg = rec.get("edge-sg")
    assert sg.type == "aws:ec2/securityGroup:SecurityGroup"
    assert sg.parent == rec.get("edge").urn

It is the engine the offline preview runs on (:mod:`spirit_infra.preview.engine`; what it does and what
it refuses as a real engine would is documented there), offered as a small public surface: :func:`run`,
the :class:`Recording` it returns, :class:`EngineError`, the :data:`COMPUTED` placeholder, and the fake
cloud's answers (:func:`default_outputs`, :func:`default_call_results`, :func:`physical_name`) for
tests that extend them through ``run(outputs_for=..., call_for=...)``.
"""

from __future__ import annotations

from .preview.cloud_state import default_call_results, default_outputs, physical_name
from .preview.engine import run
from .preview.recording import COMPUTED, EngineError, RecordedInvoke, RecordedResource, Recording

__all__ = [
    "COMPUTED",
    "EngineError",
    "RecordedInvoke",
    "RecordedResource",
    "Recording",
    "default_call_results",
    "default_outputs",
    "physical_name",
    "run",
]
