"""`make bench` measures the shipped diagram as the service runs it: the bare-engine lifecycle
must run to the matter in force on the current package (its checks, operations and forms), or
the benchmark silently measures nothing. No timing is asserted here (that is `make bench`)."""

from __future__ import annotations

import os
import subprocess
import sys

from bench import ceiling, http


def test_the_bare_engine_lifecycle_runs_the_shipped_diagram_to_in_force() -> None:
    report = ceiling.run(1)
    assert report["lifecycles"] == 1
    assert report["state_json_bytes"] > 0


def test_the_http_bench_counts_a_child_server_s_cpu_apart_from_the_clients() -> None:
    """The HTTP bench starts gunicorn as its own child: the clients' CPU is this process
    alone, or gunicorn's time would be counted twice (and the machine more than busy)."""
    code = (
        "import sys, time\n"
        "while time.process_time() < 0.3: pass\n"
        "print('burnt', flush=True)\n"
        "sys.stdin.read()\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    groups = {"clients": (os.getpid(), False), "server": (child.pid, True)}
    try:
        before = http.cpu_seconds(groups)
        assert child.stdout is not None and child.stdout.readline() == "burnt\n"
        after = http.cpu_seconds(groups)
        with_children = http.cpu_seconds({"all": (os.getpid(), True)})["all"]
    finally:
        child.kill()
        child.wait()
    server = after["server"] - before["server"]
    assert server >= 0.2
    assert after["clients"] - before["clients"] < server / 2
    # Counted as a tree, this process does include its child.
    assert with_children >= after["clients"] + after["server"] - 0.05
