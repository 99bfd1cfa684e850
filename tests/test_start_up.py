"""What a command loads before its work: a semantic ``unetlab predict`` of PNGs with a .pt
checkpoint imports no scipy (0.3 s of its 2 s start on 2 cores: :mod:`unetlab.deferred`),
and no PyYAML or tifffile (10 and 15 ms: it reads no YAML and no TIFF)."""

from __future__ import annotations

import subprocess
import sys
import types

import numpy as np
import pytest
from scipy import ndimage

from unetlab.checkpoint import save_model
from unetlab.data.io import write_png
from unetlab.deferred import deferred
from unetlab.models import UNet

#: one PNG predicted by a semantic net's .pt checkpoint (written beforehand, by this process:
#: saving one writes YAML) from a script's ``main([...])``, the process's first import of
#: torch; then the heavy modules the process holds, its collector's frozen count and state,
#: and whether torch was first imported in main
PREDICT_ONE = """
import gc, sys
from unetlab.cli import main

torch_first = "torch" not in sys.modules
assert main(["predict", "--checkpoint", "m.pt", "--input", "a.png", "--output", "out"]) == 0
heavy = {"scipy", "skimage", "matplotlib", "yaml", "tifffile"}
print(sorted({m.split(".")[0] for m in sys.modules} & heavy))
print(gc.get_freeze_count(), gc.isenabled(), torch_first)
"""


@pytest.fixture(scope="module")
def predicted_one(tmp_path_factory):
    """The folder :data:`PREDICT_ONE` ran in, and its child process's result."""
    folder = tmp_path_factory.mktemp("predict_one")
    save_model(folder / "m.pt", UNet(1, 2, depth=2, base_channels=4, padding="same"))
    write_png(folder / "a.png", np.zeros((32, 32), np.uint8))
    done = subprocess.run(
        [sys.executable, "-c", PREDICT_ONE], cwd=folder, capture_output=True, text=True
    )
    return folder, done


def test_a_semantic_predict_of_pngs_loads_no_scipy_yaml_or_tifffile(predicted_one):
    folder, done = predicted_one
    assert done.returncode == 0, done.stderr
    assert (folder / "out" / "a.png").is_file()
    assert done.stdout.split("\n")[-3] == "[]", done.stdout


def test_a_deferred_module_reads_as_the_module(monkeypatch):
    nd = deferred("scipy.ndimage")
    assert "imported at its first use" in repr(nd)
    assert nd.label is ndimage.label
    monkeypatch.setattr(ndimage, "label", "patched")  # seen after the first read too
    assert nd.label == "patched"
    assert deferred("scipy.sparse").csgraph.connected_components  # the module's __getattr__
    with pytest.raises(AttributeError):
        nd.no_such_function  # noqa: B018
    assert np.array_equal(nd.generate_binary_structure(2, 1), [[0, 1, 0], [1, 1, 1], [0, 1, 0]])
    own = types.ModuleType("named_own")
    own._name, own.x = "json", 1  # a module's own _name: not the stand-in's
    monkeypatch.setitem(sys.modules, "named_own", own)
    stand_in = deferred("named_own")
    assert stand_in.x == 1 and "named_own" in repr(stand_in)
    with pytest.raises(AttributeError, match="'named_own' has no attribute 'dumps'"):
        stand_in.dumps  # noqa: B018


@pytest.mark.parametrize("first_use", ["__version__", "dir"])
def test_a_deferred_module_s_version_and_dir_import_it(tmp_path, monkeypatch, first_use):
    """A stand-in answers ``__version__`` and ``dir()`` as its module does, importing it at
    that first use (they raised AttributeError and listed the stand-in's own names); the
    other dunders that copy and doctest probe import nothing."""
    (tmp_path / "versioned_own.py").write_text('__version__ = "1.2"\ndef shown(): pass\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "versioned_own", raising=False)
    stand_in = deferred("versioned_own")
    assert not hasattr(stand_in, "__wrapped__") and "versioned_own" not in sys.modules
    if first_use == "dir":
        assert {"shown", "__version__"} <= set(dir(stand_in))
    else:
        assert stand_in.__version__ == "1.2"
    assert "versioned_own" in sys.modules
    assert (stand_in.__version__, stand_in.__name__, dir(stand_in)) == (
        "1.2",
        "versioned_own",
        dir(sys.modules["versioned_own"]),
    )


@pytest.mark.parametrize(
    ("call", "owned"), [("run()", True), ("main()", False), ("main(['env'])", False)]
)
def test_the_command_freezes_torch_s_objects_and_a_script_s_main_does_not(call, owned):
    """The process's own command (the console script's run()) imports torch with the
    collector off and freezes what is there (its full collections then skip them: 0.19 s of
    a one-file predict), and keeps its heap tuned; ``main()`` from a script or a test, its
    sys.argv set or not, freezes nothing (its garbage of the moment would stay forever: a
    200 MB cycle, review s61) and tunes for each prediction's time only (a notebook keeps
    its peak heap otherwise)."""
    code = "import atexit, gc, sys; sys.argv = ['unetlab', 'env']\n"  # runtime loads torch
    code += "kept = lambda: sys.modules['unetlab.runtime']._kept\n"
    code += "atexit.register(lambda: print(gc.get_freeze_count(), gc.isenabled(), kept()))\n"
    code += f"from unetlab.cli import main, run; {call}"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    count, enabled, kept = done.stdout.split()[-3:]
    assert (int(count) > 100_000, enabled, kept) == (owned, "True", str(owned))


def test_a_script_s_main_freezes_nothing(predicted_one):
    """``main([...])`` from a script or a test, the process's first import of torch, freezes
    nothing (its garbage of the moment would stay forever): :data:`PREDICT_ONE`'s child."""
    _, done = predicted_one
    assert done.returncode == 0, done.stderr
    count, enabled, torch_first = done.stdout.split()[-3:]
    assert (int(count) > 100_000, enabled, torch_first) == (False, "True", "True")
