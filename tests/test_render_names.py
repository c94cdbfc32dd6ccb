"""Honest names (issue 14 §1 "every render returns a Plan"): in the three cloud packages, every public
function or method whose name starts with ``render`` (and every module-level one starting with ``plan``)
is annotated to return a :class:`spirit_infra.plan.Plan`. The builders of the per-cloud models that the
layers turn into Plans are named ``model*`` (``rules.model``, ``fqdn.model_firewall``, ``nat.model_nat``, ...)."""
from __future__ import annotations

import importlib
import inspect
import pkgutil
import typing

import pytest

from spirit_infra.plan import Plan

PACKAGES = ("aws", "azure", "gcp")


def _modules():
    for cloud in PACKAGES:
        pkg = importlib.import_module(f"spirit_infra.{cloud}")
        yield pkg
        for info in pkgutil.iter_modules(pkg.__path__, f"{pkg.__name__}."):
            yield importlib.import_module(info.name)


def _public_renders(module):
    """(qualified name, callable) of each public render*/plan* function of ``module`` (its own or re-exported
    from another cloud module) and each public render* method of the classes it defines."""
    for name, obj in vars(module).items():
        if name.startswith("_"):
            continue
        if inspect.isfunction(obj) and name.startswith(("render", "plan")) and _ours(obj):
            yield f"{module.__name__}.{name}", obj
        elif inspect.isclass(obj) and obj.__module__ == module.__name__:
            for mname, meth in vars(obj).items():
                if mname.startswith("render") and inspect.isfunction(meth):
                    yield f"{module.__name__}.{obj.__name__}.{mname}", meth


def _ours(obj) -> bool:
    """Defined in a cloud package (the shared helpers it imports, e.g. planning.planned, are not renders)."""
    return obj.__module__.split(".")[:2] in (["spirit_infra", c] for c in PACKAGES)


def _returns_plan(fn) -> bool:
    return typing.get_type_hints(fn).get("return") is Plan


def _found():
    return sorted({q: fn for m in _modules() for q, fn in _public_renders(m)}.items())


def test_every_public_render_returns_a_plan():
    found = _found()
    wrong = [q for q, fn in found if not _returns_plan(fn)]
    assert not wrong, f"public render*/plan* not annotated -> Plan (name it model* instead): {wrong}"
    names = {q for q, _ in found}
    # the walk sees the layers' renders, the managed NATs', the networks' and the QoS NAT Args' render
    for cloud in PACKAGES:
        assert f"spirit_infra.{cloud}.layers.render_managed_nat" in names
        assert any(q.startswith(f"spirit_infra.{cloud}.qos_nat.") and q.endswith(".render") for q in names)
        assert f"spirit_infra.{cloud}.network.render_network" in names


@pytest.mark.parametrize("cloud, module, name", [
    ("aws", "rules", "model"), ("aws", "fqdn", "model_firewall"), ("aws", "nat", "model_nat"),
    ("azure", "rules", "model"), ("azure", "fqdn", "model"), ("azure", "nat", "model_nat"),
    ("gcp", "rules", "model"), ("gcp", "fqdn", "model_policy"), ("gcp", "nat", "model_nat"),
    ("gcp", "nat", "model_nat_specs"),
])
def test_the_model_builders_are_named_so(cloud, module, name):
    """The per-cloud model functions exist under their model* name and do not return a Plan."""
    fn = getattr(importlib.import_module(f"spirit_infra.{cloud}.{module}"), name)
    assert not _returns_plan(fn)


def test_the_check_bites(monkeypatch):
    """A model function published under a render name is caught."""
    from spirit_infra.gcp import rules

    monkeypatch.setattr(rules, "render", rules.model, raising=False)
    wrong = [q for q, fn in _found() if not _returns_plan(fn)]
    assert wrong == ["spirit_infra.gcp.rules.render"]
