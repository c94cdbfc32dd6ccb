"""Where Pulumi's public mocks API is not enough for the offline engine, and the one workaround for each.

The engine (:mod:`spirit_infra.preview.engine`) runs a program with Pulumi's own ``MockMonitor`` and
``MockEngine`` (``pulumi.runtime.mocks``), configured as :func:`pulumi.runtime.set_mocks` would. Three
things that API does not do are done here, and only here (each is tested in ``tests/test_pulumi_gaps.py``,
which also shows the gap is real in the installed pulumi):

1. **Settings outlive the run.** Pulumi keeps its runtime settings (monitor, engine, project, stack, dry
   run, ...) in ``ContextProperty`` descriptors (``pulumi/_utils.py``); the first value set in a context
   where a property has no value also becomes its process-wide default. So configuring the mocks in the
   engine's fresh context leaves the mock monitor, stack and project visible to every other context
   afterwards, and there is no public way to reset them. :func:`settings_left_as_found` reads each
   default before the run and writes it back after, each in a fresh :class:`contextvars.Context`,
   through the descriptor's own ``fget`` / ``fset`` (``fset`` where the property has no value is
   precisely what sets the default). No private or name-mangled attribute is touched.
2. **Resources created inside ``Output.apply``.** A real engine would not show them in a preview; the
   mocks accept them and offer no hook to tell. While :func:`apply_watch` is active, ``Output.apply`` wraps
   each callback (and any awaitable it returns) so that :func:`inside_apply` is true while it runs; the
   monitor refuses a registration made then.
3. **Event loops left open.** ``MockMonitor`` runs calls on executor threads, each of which gets an asyncio
   event loop (``_ensure_event_loop``) that nothing closes: at interpreter exit the garbage collector
   prints ``Exception ignored in BaseEventLoop.__del__``. :func:`close_thread_loop` closes the idle loop
   of such a thread after each call.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pulumi
from pulumi.runtime import settings as _psettings

__all__ = ["settings_left_as_found", "apply_watch", "inside_apply", "close_thread_loop"]


def _properties() -> dict[str, Any]:
    """Pulumi's per-context settings: the ``ContextProperty`` descriptors of ``Settings``."""
    return {name: prop for name, prop in vars(_psettings.Settings).items()
            if type(prop).__name__ == "ContextProperty" and callable(getattr(prop, "fget", None))
            and callable(getattr(prop, "fset", None))}


def _fresh(fn, *args):
    return contextvars.Context().run(fn, *args)


def settings_defaults() -> dict[str, Any]:
    """What a context that never set Pulumi's settings sees (the process-wide defaults)."""
    return {name: _fresh(prop.fget) for name, prop in _properties().items()}


@contextmanager
def settings_left_as_found() -> Iterator[None]:
    """Pulumi's process-wide settings defaults after the block are what they were before it (gap 1)."""
    saved = settings_defaults()
    try:
        yield
    finally:
        props = _properties()
        for name, value in saved.items():
            _fresh(props[name].fset, value)


_IN_APPLY: contextvars.ContextVar[int] = contextvars.ContextVar("spirit_infra_in_apply", default=0)
_ORIGINAL_APPLY = pulumi.Output.apply


def inside_apply() -> bool:
    """Whether the code running is (called from) an ``Output.apply`` callback, under :func:`apply_watch`."""
    return _IN_APPLY.get() > 0


def _watched_apply(self, func, run_with_unknowns: bool = False):
    def marked(value):
        token = _IN_APPLY.set(_IN_APPLY.get() + 1)
        try:
            result = func(value)
        finally:
            _IN_APPLY.reset(token)
        if asyncio.isfuture(result) or asyncio.iscoroutine(result):
            return _marked_await(result)
        return result

    return _ORIGINAL_APPLY(self, marked, run_with_unknowns)


async def _marked_await(awaitable):
    token = _IN_APPLY.set(_IN_APPLY.get() + 1)
    try:
        return await awaitable
    finally:
        _IN_APPLY.reset(token)


@contextmanager
def apply_watch() -> Iterator[None]:
    """While active, :func:`inside_apply` tells whether an ``Output.apply`` callback is running (gap 2).

    Callers hold one lock around it (the engine runs one program at a time)."""
    pulumi.Output.apply = _watched_apply  # type: ignore[method-assign]
    try:
        yield
    finally:
        pulumi.Output.apply = _ORIGINAL_APPLY  # type: ignore[method-assign]


def close_thread_loop(keep: str) -> None:
    """Close the idle event loop of the current executor thread (gap 3); the main thread's and the thread
    named ``keep`` (the engine's own) are left alone."""
    if threading.current_thread() is threading.main_thread() or threading.current_thread().name == keep:
        return
    try:
        loop = asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:
        return
    if not loop.is_running():
        loop.close()
        asyncio.set_event_loop(None)
