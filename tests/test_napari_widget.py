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
from unetlab.inference.predict import labels_from_probabilities, predict_image  # noqa: E402
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


def test_a_channels_layer_predicts_the_channel_chosen(qtbot, tmp_path):
    """A (2, H, W) fluorescence layer whose axis labels name its channels and a grey model
    that records channel 1: the widget offers axis 0 as channels and channel 1, says what
    the model takes, and predicts that channel, as predicting it alone does; channel 0 is
    predicted when chosen."""
    model = UNet(1, 2, depth=2, base_channels=4, padding="same").eval()
    model.classes = ["background", "nucleus"]
    cyx = np.random.default_rng(5).integers(0, 4000, (2, 48, 40), dtype=np.uint16)
    expected = [labels_from_probabilities(predict_image(model, plane)) for plane in cyx]
    assert not np.array_equal(*expected)  # the channel taken matters
    viewer = ViewerModel()
    viewer.add_image(cyx, name="cells", scale=(1.0, 0.5, 0.25), axis_labels="cyx")
    widget = PredictWidget(viewer)
    qtbot.addWidget(widget)
    widget.checkpoint.setText(str(save_model(tmp_path / "dapi.pt", model, channel=1)))
    assert widget.status.text() == (
        "model: takes 1 channel (grey), trained on channel 1 of its images; "
        "2 classes (background, nucleus)"
    )
    assert widget.channel_axis.currentData() == 0 and widget.channel.currentData() == 1
    assert widget.reading.text() == "2 channels on axis 0, as its axis labels say"
    assert [widget.channel.itemText(i) for i in range(widget.channel.count())] == [
        "all",
        "0",
        "1",
    ]
    _predict(qtbot, widget, viewer)
    assert widget.status.text() == "cells: done"
    labels = viewer.layers["cells classes"]
    assert np.array_equal(labels.data, expected[1]) and tuple(labels.scale) == (0.5, 0.25)
    assert widget.bar.value() == widget.bar.maximum() > 0
    viewer.layers.remove(labels)
    widget.channel.setCurrentIndex(widget.channel.findData(0))
    _predict(qtbot, widget, viewer)
    assert np.array_equal(viewer.layers["cells classes"].data, expected[0])
    widget.channel.setCurrentIndex(widget.channel.findData(None))
    _predict(qtbot, widget, viewer)
    assert widget.status.text() == (
        "the layer has 2 channels (axis 0), the model takes 1: choose the channel to predict"
    )


def test_channel_axis_of_a_zcyx_layer_and_napari_axis_labels(qtbot, checkpoint):
    viewer = ViewerModel()
    viewer.add_image(np.zeros((3, 2, 32, 32), np.uint8), name="zcyx")
    viewer.add_image(np.zeros((2, 5, 32, 32), np.uint8), name="czyx", axis_labels="czyx")
    viewer.add_image(np.zeros((2, 32, 32), np.uint8), name="zyx", axis_labels="zyx")
    widget = PredictWidget(viewer)
    qtbot.addWidget(widget)
    widget.checkpoint.setText(str(checkpoint))
    axes = {}
    for name in ("zcyx", "czyx", "zyx"):
        widget.layer.setCurrentText(name)
        items = [widget.channel_axis.itemText(i) for i in range(widget.channel_axis.count())]
        axes[name] = widget.channel_axis.currentData(), items, widget.reading.text()
    # a layer that names no axes is planes, and the widget says so
    assert axes["zcyx"] == (
        None,
        ["none", "0 (3)", "1 (2)"],
        "3 x 2 planes (axes 0, 1): nothing names the layer's axes; if one holds channels, "
        "choose it as the channel axis",
    )
    assert axes["czyx"] == (
        0,
        ["none", "0 c (2)", "1 z (5)"],
        "2 channels on axis 0, as its axis labels say",
    )
    assert axes["zyx"] == (None, ["none", "0 z (2)"], "2 planes (axis 0), as its axis labels say")
    widget.layer.setCurrentText("zcyx")
    widget.channel_axis.setCurrentIndex(widget.channel_axis.findData(1))
    assert widget.reading.text() == "2 channels on axis 1, as chosen"
    widget.channel.setCurrentIndex(widget.channel.findData(0))
    _predict(qtbot, widget, viewer)
    assert viewer.layers["zcyx classes"].data.shape == (3, 32, 32)


def test_the_channel_axis_of_a_layer_read_from_an_imagej_file(qtbot, checkpoint, tmp_path):
    """napari's reader gives an ImageJ ZCYX hyperstack as a (Z, C, Y, X) layer with no axis
    labels: the file's axes say which axis holds channels; a layer napari split from it by
    channel_axis is one channel, its axis Z planes."""
    import npe2

    npe2.PluginManager.instance().discover()
    tifffile = pytest.importorskip("tifffile")
    path = tmp_path / "cells.tif"
    zcyx = np.zeros((2, 3, 32, 32), np.uint16)
    tifffile.imwrite(path, zcyx, imagej=True, metadata={"axes": "ZCYX"})
    viewer = ViewerModel()
    whole = viewer.open(path)[0]
    split = viewer.open(path, channel_axis=1)[0]
    assert whole.data.shape == zcyx.shape and split.data.shape == (2, 32, 32)
    widget = PredictWidget(viewer)
    qtbot.addWidget(widget)
    widget.checkpoint.setText(str(checkpoint))
    widget.layer.setCurrentText(whole.name)
    assert widget.channel_axis.currentData() == 1
    assert widget.reading.text() == "3 channels on axis 1, as the file's axes ZCYX say"
    widget.layer.setCurrentText(split.name)
    assert widget.channel_axis.currentData() is None
    assert (
        widget.reading.text()
        == "2 planes (axis 0): one channel of a ZCYX file, split off by napari"
    )


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
        viewer.window.resize(1200, 640)  # room for the canvas beside both docks
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
