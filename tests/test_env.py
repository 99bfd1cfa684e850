"""``unetlab env`` and ``--version`` for a bug report; the bench JSON names the machine as run
folders do, and carries the unetlab version (audit s30 ops 6)."""

from __future__ import annotations

import json

import pytest

from unetlab import bench
from unetlab.cli import main
from unetlab.provenance import cpu_flags, cpu_model, machine


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


CPUINFO = """processor\t: 0
model name\t: Example CPU 9000
flags\t\t: fpu sse2 avx2 fma avx512f avx512_bf16 amx_tile sha_ni

processor\t: 1
model name\t: Example CPU 9000
flags\t\t: fpu sse2 avx2 fma avx512f avx512_bf16 amx_tile sha_ni
"""


def test_cpu_flags_are_the_ones_that_decide_speed(tmp_path, monkeypatch):
    from unetlab import provenance

    info = tmp_path / "cpuinfo"
    info.write_text(CPUINFO)
    monkeypatch.setattr(provenance, "CPUINFO", str(info))
    assert cpu_flags() == ["avx2", "fma", "avx512f", "avx512_bf16", "amx_tile"]
    assert cpu_model() == "Example CPU 9000"
    info.write_text("processor\t: 0\nflags\t\t: fpu sse2\n")
    assert cpu_flags() == []
    monkeypatch.setattr(provenance, "CPUINFO", str(tmp_path / "none"))  # not Linux
    assert cpu_flags() is None


def test_bench_json_names_the_cpu_as_run_folders_do_and_the_code():
    record = json.loads(bench.json_text([], command="x"))
    assert record["machine"]["cpu"] == machine()["cpu"] == cpu_model()
    assert record["machine"]["cpu_flags"] == cpu_flags()
    assert record["code"]["unetlab"] and "commit" in record["code"]
