"""SANDBOX_EXTRA_INSTANCES: more SmartTrace instances (a fleet for benchmarks), seeded like the built-in ones."""
from __future__ import annotations

from sandbox.smarttrace import SEEDED_INSTANCES, SmartTraceSurface


def test_extra_instances_from_the_environment(monkeypatch):
    monkeypatch.setenv("SANDBOX_EXTRA_INSTANCES", "fleet-01, fleet-02,,acme")
    surface = SmartTraceSurface(directory=None)
    assert surface.endpoint_fields()["instances"] == list(SEEDED_INSTANCES) + ["fleet-01", "fleet-02"]
    assert sorted(surface.snapshot()["instances"]) == sorted(list(SEEDED_INSTANCES) + ["fleet-01", "fleet-02"])


def test_no_extra_instances_by_default(monkeypatch):
    monkeypatch.delenv("SANDBOX_EXTRA_INSTANCES", raising=False)
    surface = SmartTraceSurface(directory=None)
    assert surface.endpoint_fields()["instances"] == list(SEEDED_INSTANCES)
    surface.reset()
    assert sorted(surface.snapshot()["instances"]) == sorted(SEEDED_INSTANCES)
