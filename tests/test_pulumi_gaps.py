"""The three gaps in Pulumi's public mocks API the offline engine works around (spirit_infra/preview/pulumi_gaps.py):
each gap is shown to be real in the installed pulumi, and its workaround to close it. No module patches a
private or name-mangled Pulumi attribute."""

from __future__ import annotations

import asyncio
import contextvars
import re
import threading
from pathlib import Path

import pulumi
from pulumi.runtime import settings

import spirit_infra
from spirit_infra import testing
from spirit_infra.preview import pulumi_gaps


def _fresh(fn, *args):
    return contextvars.Context().run(fn, *args)


def _project_elsewhere() -> str:
    """The project a context that never configured Pulumi sees."""
    return _fresh(lambda: settings.SETTINGS.project)


def test_gap_1_is_real_settings_set_in_a_fresh_context_leak_to_every_other():
    before = _project_elsewhere()
    with pulumi_gaps.settings_left_as_found():  # so this test leaves no leak behind itself
        _fresh(lambda: setattr(settings.SETTINGS, "project", "leaked-from-a-run"))
        assert _project_elsewhere() == "leaked-from-a-run"  # Pulumi's ContextProperty made it the default
    assert _project_elsewhere() == before


def test_gap_1_closed_a_run_leaves_the_defaults_as_found():
    before = pulumi_gaps.settings_defaults()
    testing.run(lambda: pulumi.export("p", pulumi.get_project()), project="gap-project", stack="gap-stack")
    after = pulumi_gaps.settings_defaults()
    assert after.keys() == before.keys() and {"monitor", "project", "stack", "dry_run"} <= after.keys()
    assert all(after[k] is before[k] for k in before), [k for k in before if after[k] is not before[k]]
    assert _project_elsewhere() != "gap-project"


def test_no_module_touches_a_name_mangled_or_private_pulumi_attribute():
    mangled = re.compile(r"\b_[A-Z]\w*__\w+|\._data\b|__default\b")
    found = [str(p) for p in Path(spirit_infra.__file__).parent.rglob("*.py") if mangled.search(p.read_text())]
    assert found == [], found
    assert mangled.search("prop._ContextProperty__default = value")  # the pattern bites


def test_gap_2_inside_apply_is_known_only_under_the_watch():
    seen: list[tuple[str, bool]] = []

    def program():
        seen.append(("outside", pulumi_gaps.inside_apply()))
        pulumi.export("x", pulumi.Output.from_input(1).apply(lambda v: seen.append(("inside", pulumi_gaps.inside_apply()))
                                                            or v))

    testing.run(program)
    assert sorted(seen) == [("inside", True), ("outside", False)]
    original = pulumi.Output.apply
    with pulumi_gaps.apply_watch():
        assert pulumi.Output.apply is not original
    assert pulumi.Output.apply is original  # the watch ends with the block


def test_gap_3_an_executor_threads_loop_is_closed_the_engines_own_is_not():
    loops = {}

    def worker(name: str):
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        pulumi_gaps.close_thread_loop(keep="the-engine")
        loops[name] = loop

    for name in ("pool-thread", "the-engine"):
        t = threading.Thread(target=worker, args=(name,), name=name)
        t.start()
        t.join()
    assert loops["pool-thread"].is_closed()
    assert not loops["the-engine"].is_closed()
    loops["the-engine"].close()
