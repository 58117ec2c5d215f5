"""`make bench` measures the shipped diagram as the service runs it: the bare-engine lifecycle
must run to the matter in force on the current package (its checks, operations and forms), or
the benchmark silently measures nothing. No timing is asserted here (that is `make bench`)."""

from __future__ import annotations

from bench import ceiling


def test_the_bare_engine_lifecycle_runs_the_shipped_diagram_to_in_force() -> None:
    report = ceiling.run(1)
    assert report["lifecycles"] == 1
    assert report["state_json_bytes"] > 0
