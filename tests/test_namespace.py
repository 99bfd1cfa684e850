"""What a notebook's tab completion shows of ``unetlab`` (audit s32 notebook 11)."""

from __future__ import annotations

import subprocess
import sys


def test_dir_lists_the_api_and_drawing_but_not_the_packages_helpers():
    code = (
        "import unetlab; names = dir(unetlab); "
        "print('importlib' in names, 'plots' in names, 'runtime' in names, "
        "'pooled_object_scores' in names, 'write_dataset' in names); "
        "print(callable(unetlab.plots.object_overlay), callable(unetlab.plots.prediction_overlay), "
        "callable(unetlab.runtime.tune_allocator))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True", "True", "True", "True", "True", "True", "True"]
