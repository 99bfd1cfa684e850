"""``unetlab env`` and ``--version`` for a bug report; the bench JSON names the machine as run
folders do, and carries the unetlab version (audit s30 ops 6)."""

from __future__ import annotations

import json

import pytest

from unetlab import bench
from unetlab.cli import main
from unetlab.provenance import SPEED_FLAGS, cpu_flags, cpu_model, machine


def test_version_is_one_line_with_the_commit_of_a_checkout(capsys):
    from unetlab import __version__

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    line = capsys.readouterr().out
    assert line.startswith(f"unetlab {__version__}") and line.count("\n") == 1


def test_env_names_versions_devices_and_the_cpu(capsys):
    assert main(["env"]) == 0
    text = capsys.readouterr().out
    for word in ("unetlab", "python", "torch", "numpy", "tifffile", "zarr", "threads"):
        assert word in text
    assert f"cpu {cpu_model()}" in text
    assert main(["env", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["machine"] == machine() | {"threads": found["machine"]["threads"]}
    assert {"cuda_available", "mps_available", "cpu_capability"} <= set(found["torch"])
    assert found["code"]["unetlab"] and "zarr" in found["packages"]


def test_cpu_flags_are_the_ones_that_decide_speed():
    flags = cpu_flags()
    assert flags is None or set(flags) <= set(SPEED_FLAGS)


def test_bench_json_names_the_cpu_as_run_folders_do_and_the_code():
    record = json.loads(bench.json_text([], command="x"))
    assert record["machine"]["cpu"] == machine()["cpu"] == cpu_model()
    assert record["machine"]["cpu_flags"] == cpu_flags()
    assert record["code"]["unetlab"] and "commit" in record["code"]
