"""The napari widget, headless (pytest-qt, Qt's offscreen platform): it predicts an image
layer in a worker thread and adds labels of the image's shape; Cancel stops it. Runs only
where napari and pytest-qt are installed (``pip install "unetlab[napari-test]"``).

``UNETLAB_NAPARI_SCREENSHOT=FILE`` (with a display with OpenGL, e.g. under ``xvfb-run``) also
saves a screenshot of a napari window showing the result: the README's picture."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before Qt starts
napari = pytest.importorskip("napari", reason="napari not installed (unetlab[napari-test])")
pytest.importorskip("pytestqt", reason="pytest-qt not installed (unetlab[napari-test])")

from napari.components import ViewerModel  # noqa: E402
from qtpy.QtCore import Qt  # noqa: E402

from unetlab.checkpoint import save_model  # noqa: E402
from unetlab.data.synthetic import synthetic_em  # noqa: E402
from unetlab.models import UNet  # noqa: E402
from unetlab.napari.widget import PredictWidget  # noqa: E402


@pytest.fixture
def checkpoint(tmp_path):
    model = UNet(1, 2, depth=2, base_channels=4, padding="same")
    model.classes = ["membrane", "cell"]
    return save_model(tmp_path / "m.pt", model)


def _predict(qtbot, widget, viewer):
    qtbot.mouseClick(widget.run_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: widget.run_button.isEnabled(), timeout=60_000)


def test_widget_predicts_a_layer_and_adds_labels(qtbot, checkpoint):
    viewer = ViewerModel()
    image = synthetic_em((96, 128), np.random.default_rng(0))[0]
    viewer.add_image(image, name="em", scale=(0.5, 0.5))
    widget = PredictWidget(viewer)
    qtbot.addWidget(widget)
    assert widget.layer.currentText() == "em"
    _predict(qtbot, widget, viewer)
    assert widget.status.text() == "choose a checkpoint (.pt) or a bioimage.io package first"
    widget.checkpoint.setText(str(checkpoint))
    widget.objects.setChecked(True)
    _predict(qtbot, widget, viewer)
    assert widget.status.text() == "em: done"
    labels = viewer.layers["em classes"]
    assert labels.data.shape == image.shape and tuple(labels.scale) == (0.5, 0.5)
    assert list(labels.features["class"]) == ["membrane", "cell"]
    assert viewer.layers["em objects"].data.shape == image.shape
    assert widget.bar.value() == widget.bar.maximum() > 0


def test_cancel_stops_a_stack(qtbot, checkpoint):
    viewer = ViewerModel()
    viewer.add_image(np.zeros((12, 64, 64), np.uint8), name="stack")
    widget = PredictWidget(viewer)
    qtbot.addWidget(widget)
    widget.checkpoint.setText(str(checkpoint))
    qtbot.mouseClick(widget.run_button, Qt.LeftButton)
    qtbot.mouseClick(widget.cancel_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: widget.run_button.isEnabled(), timeout=60_000)
    assert widget.status.text() == "cancelled"
    assert "stack classes" not in viewer.layers


def test_screenshot_for_the_readme(qtbot, checkpoint, tmp_path):
    target = os.environ.get("UNETLAB_NAPARI_SCREENSHOT")
    if not target:
        pytest.skip("set UNETLAB_NAPARI_SCREENSHOT=FILE (and a display with OpenGL) to save it")
    from unetlab.config import load_config
    from unetlab.data.synthetic import write_synthetic_dataset
    from unetlab.demo import QUICK, demo_overrides
    from unetlab.train import fit

    # a model worth looking at: the demo's recipe, ~100 steps of 64-px tiles
    write_synthetic_dataset(tmp_path / "data", n_train=8, n_val=1, size=128, seed=0)
    plan = {**QUICK, "epochs": 12, "tiles": 64, "tile": 64, "batch": 8}
    overrides = demo_overrides(tmp_path / "data", plan, minutes=2.0, seed=0)
    trained = fit(
        load_config(None, [*overrides, "train.device=cpu"]),
        run_dir=tmp_path / "run",
        progress=False,
    )
    viewer = napari.Viewer(show=False)
    try:
        image = synthetic_em(256, np.random.default_rng(1))[0]
        viewer.add_image(image, name="em")
        widget = PredictWidget(viewer)
        viewer.window.add_dock_widget(widget, name="U-Net prediction")
        widget.checkpoint.setText(str(trained["best_checkpoint"]))
        _predict(qtbot, widget, viewer)
        assert viewer.layers["em classes"].data.shape == image.shape
        viewer.screenshot(target, canvas_only=False)
    finally:
        viewer.close()


def test_manifest_validates_with_npe2():
    npe2 = pytest.importorskip("npe2", reason="npe2 not installed (unetlab[napari-test])")
    from pathlib import Path

    import unetlab.napari

    manifest = npe2.PluginManifest.from_file(Path(unetlab.napari.__file__).with_name("napari.yaml"))
    manifest.validate_imports()  # every python_name imports
    assert [w.display_name for w in manifest.contributions.widgets] == ["U-Net prediction"]
