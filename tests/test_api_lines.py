"""The public API's INFO decisions reach a notebook that set no logging up, once, and the
CLI's lines stay as they were (api_lines)."""

from __future__ import annotations

import logging
import subprocess
import sys

import numpy as np
import tifffile

from unetlab.api_lines import api_lines

_SAID = "read as object ids"


def _ids_folders(tmp_path):
    """Object-id masks beside predicted object ids: evaluate says it reads them as ids."""
    ids = np.repeat(np.arange(1, 41, dtype=np.uint16), 8)[None].repeat(8, 0)
    ids[:, ::8] = 0
    for name in ("gt", "pred"):
        (tmp_path / name).mkdir()
    tifffile.imwrite(tmp_path / "gt" / "a.tif", ids)
    tifffile.imwrite(tmp_path / "pred" / "a_objects.tif", ids)
    return tmp_path / "pred", tmp_path / "gt"


def _run(code: str, *args) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, check=True
    )
    return done.stderr


_EVALUATE = "import sys; from unetlab import evaluate_predictions as e; e(sys.argv[1], sys.argv[2])"


def test_a_notebook_without_logging_sees_the_decision_once(tmp_path):
    err = _run(_EVALUATE, *_ids_folders(tmp_path))
    assert err.count(_SAID) == 1, err


def test_a_configured_log_says_it_once_and_keeps_its_level(tmp_path):
    folders = _ids_folders(tmp_path)
    setup = "import logging; logging.basicConfig(level=logging.INFO, format='%(message)s'); "
    assert _run(setup + _EVALUATE, *folders).count(_SAID) == 1
    warnings_only = "import logging; logging.basicConfig(); "
    assert _SAID not in _run(warnings_only + _EVALUATE, *folders)


def test_the_cli_says_it_once(tmp_path):
    pred, gt = _ids_folders(tmp_path)
    cli = "import sys; from unetlab.cli import main; sys.exit(main(sys.argv[1:]))"
    assert _run(cli, "evaluate", "--pred", pred, "--gt", gt).count(_SAID) == 1


def test_nested_calls_add_one_handler_and_put_the_package_back():
    package = logging.getLogger("unetlab")
    root = logging.getLogger()
    kept, root.handlers = root.handlers, []  # as in a notebook: nothing set up
    try:
        with api_lines(), api_lines():
            assert len(package.handlers) == 1 and package.level == logging.INFO
        assert package.handlers == [] and package.level == logging.NOTSET
    finally:
        root.handlers = kept


_PREDICT = """
import sys
from pathlib import Path
import numpy as np, torch, unetlab
from unetlab.data.io import write_png
images = Path(sys.argv[1]) / "images"
images.mkdir()
write_png(images / "a.png", np.arange(1600, dtype=np.uint8).reshape(40, 40))
torch.manual_seed(0)
net = unetlab.UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
outputs = unetlab.OutputOptions(objects=unetlab.ObjectOptions.for_model)
unetlab.predict_folder(net, images, Path(sys.argv[1]) / "out", outputs)
"""


def test_predict_folder_says_its_lines_in_a_notebook(tmp_path):
    err = _run(_PREDICT, tmp_path)
    assert err.count("a.png records no usable pixel size") == 1, err


_OBJECTS = """
import numpy as np, torch, unetlab
torch.manual_seed(0)
net = unetlab.UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
unetlab.predict_objects(net, np.arange(1600, dtype=np.uint8).reshape(40, 40), objects_3d=True)
"""


def test_predict_objects_says_its_2d_note_in_a_notebook():
    assert _run(_OBJECTS).count("objects_3d=True joined no planes") == 1
