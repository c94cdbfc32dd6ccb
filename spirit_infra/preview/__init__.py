"""The offline preview, as the product runs it: ``spirit-infra preview`` and ``preview --policy-pack``.

- :mod:`.stack`: preview one stack of a project (run its program, judge what it registered) and its
  JSON contract and text;
- :mod:`.engine`: the mock-runtime engine the program runs on (:func:`~.engine.run`), with
  :mod:`.recording` (what it records), :mod:`.cloud_state` (the fake cloud it answers with) and
  :mod:`.pulumi_gaps` (the three places Pulumi's public mocks API is not enough, each worked around once).

:mod:`spirit_infra.testing` is the public test double over the engine.
"""

from __future__ import annotations

from .stack import (
    PreviewResult,
    ProgramError,
    find_project,
    load_stack,
    preview_stack,
    render_text,
    stack_names,
)

__all__ = ["ProgramError", "PreviewResult", "find_project", "stack_names", "load_stack", "preview_stack", "render_text"]
