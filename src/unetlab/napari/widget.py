"""The napari dock widget: pick a checkpoint and an image layer (and, for a layer of channels,
its channel axis and the channel to predict), predict it in a worker thread with a progress bar
and a Cancel button, and add the classes (and objects) as labels layers.
The work is in :mod:`unetlab.napari.core`; this module only wires Qt to it."""

from __future__ import annotations

import threading
from pathlib import Path

from napari.layers import Image
from napari.qt.threading import create_worker
from qtpy.QtCore import QObject, Signal
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from unetlab.data.tiffmeta import series_axes
from unetlab.errors import CheckpointError, UnetlabError, first_line
from unetlab.inference.pages import stains_of
from unetlab.napari.core import (
    PredictionCancelled,
    axis_names,
    channel_axis_choices,
    channel_problem,
    chosen_axes,
    count_tiles,
    default_channel,
    layer_axes,
    layer_tuples,
    load_for_widget,
    model_summary,
    plane_geometry,
    predict_planes,
    read_layer_axes,
    spatial_scale,
)
from unetlab.packages import is_package


class _Progress(QObject):
    """Carries tile counts from the worker thread to the progress bar (a queued signal)."""

    advanced = Signal(int)


class PredictWidget(QWidget):
    """U-Net prediction of the selected image layer (napari dock widget)."""

    def __init__(self, napari_viewer):
        super().__init__()
        self.viewer = napari_viewer
        self.worker = None
        self.expects = (1, None)  # the chosen model's (in_channels, channel): the defaults
        # the channel axis the layer's own metadata gives, and the line saying why
        self.default_axis, self.reading_line = None, ""
        self._cancel = threading.Event()
        self._progress = _Progress()
        self._progress.advanced.connect(lambda n: self.bar.setValue(self.bar.value() + n))

        self._make_controls()
        self._lay_out()
        for event in (self.viewer.layers.events.inserted, self.viewer.layers.events.removed):
            event.connect(self._refresh_layers)
        self._refresh_layers()

    def _make_controls(self) -> None:
        """The widget's fields and buttons, connected to their handlers."""
        self.browse = QPushButton("Browse...")
        self.browse.clicked.connect(self._browse)
        self.checkpoint = QLineEdit(placeholderText="checkpoint .pt or bioimage.io package")
        self.checkpoint.textChanged.connect(self._checkpoint_changed)
        self.layer = QComboBox()
        self.layer.currentTextChanged.connect(self._layer_changed)
        self.channel_axis = QComboBox()
        self.channel_axis.currentIndexChanged.connect(self._axis_changed)
        self.channel = QComboBox()
        self.reading = QLabel("")  # how the layer's axes are read, and why
        self.reading.setWordWrap(True)
        self.objects = QCheckBox("also objects (instances)")
        self.run_button = QPushButton("Predict")
        self.run_button.clicked.connect(self.predict)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self._cancel.set)
        self.bar = QProgressBar()
        self.status = QLabel("")
        self.status.setWordWrap(True)

    def _lay_out(self) -> None:
        """Place the controls: model, image layer, channel, objects, buttons, progress."""
        row = QHBoxLayout()
        row.addWidget(self.checkpoint)
        row.addWidget(self.browse)
        channels = QHBoxLayout()
        for item in (QLabel("channel axis"), self.channel_axis, QLabel("channel"), self.channel):
            channels.addWidget(item)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        for item in (
            QLabel("model"),
            row,
            QLabel("image layer"),
            self.layer,
            channels,
            self.reading,
            self.objects,
            buttons,
            self.bar,
            self.status,
        ):
            layout.addLayout(item) if isinstance(item, QHBoxLayout) else layout.addWidget(item)
        layout.addStretch()

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "U-Net model", "", "unetlab models (*.pt *.zip *.yaml);;all files (*)"
        )
        if path:
            self.checkpoint.setText(path)

    def _refresh_layers(self, *_) -> None:
        current = self.layer.currentText()
        self.layer.blockSignals(True)
        self.layer.clear()
        self.layer.addItems([lay.name for lay in self.viewer.layers if isinstance(lay, Image)])
        if current:
            self.layer.setCurrentText(current)
        self.layer.blockSignals(False)
        if self.layer.currentText() != current:
            self._layer_changed()

    def _image(self) -> Image | None:
        name = self.layer.currentText()
        return next((lay for lay in self.viewer.layers if lay.name == name), None)

    def _checkpoint_changed(self, text: str) -> None:
        """A checkpoint chosen (typed, pasted or browsed): its expectations in the status
        line, and the channel defaults for them; a partly typed path says nothing."""
        path = Path(text.strip())
        if not text.strip() or not (path.is_file() or (path.exists() and is_package(path))):
            return
        try:
            model = load_for_widget(path)
        except (UnetlabError, CheckpointError, OSError) as exc:
            self.status.setText(first_line(exc))
            return
        self._use_model(model)
        self.status.setText(model_summary(model))

    def _use_model(self, model) -> None:
        self.expects = (model.in_channels, getattr(model, "channel", None))
        self._layer_changed()

    def _layer_changed(self, *_) -> None:
        """The channel axis choices of the layer, set to what its own metadata says
        (:func:`~unetlab.napari.core.read_layer_axes`), and the line saying why."""
        image = self._image()
        self.channel_axis.blockSignals(True)
        self.channel_axis.clear()
        self.channel_axis.addItem("none", None)
        self.default_axis, self.reading_line = None, ""
        if image is not None:
            shape = image.data.shape
            labels = axis_names(getattr(image, "axis_labels", None), len(shape))
            for axis in channel_axis_choices(shape, rgb=image.rgb):
                name = f" {labels[axis]}" if labels else ""
                self.channel_axis.addItem(f"{axis}{name} ({shape[axis]})", axis)
            in_channels, channel = self.expects
            reading = read_layer_axes(
                shape,
                rgb=image.rgb,
                axis_labels=labels,
                file_axes=series_axes(getattr(getattr(image, "source", None), "path", None)),
                in_channels=in_channels,
                channel=channel,
            )
            self.default_axis, self.reading_line = reading.axis, reading.why
            self.channel_axis.setCurrentIndex(max(self.channel_axis.findData(reading.axis), 0))
        self.channel_axis.blockSignals(False)
        self._axis_changed()

    def _axis_changed(self, *_) -> None:
        """The channels of the chosen axis, set to the one the model records; the line
        saying how the layer's axes are read."""
        image, axis = self._image(), self.channel_axis.currentData()
        self.channel.clear()
        self.channel.addItem("all", None)
        if image is not None and axis != self.default_axis:
            self.reading.setText(chosen_axes(image.data.shape, axis))
        else:
            self.reading.setText(self.reading_line)
        if image is None or axis is None:
            return
        count = image.data.shape[axis]
        for c in range(count):
            self.channel.addItem(str(c), c)
        in_channels, channel = self.expects
        chosen = default_channel(count, in_channels=in_channels, channel=channel)
        self.channel.setCurrentIndex(max(self.channel.findData(chosen), 0))

    def predict(self) -> None:
        """Start predicting the selected layer; the result is added when the worker returns."""
        try:
            model = load_for_widget(self.checkpoint.text())
        except (UnetlabError, FileNotFoundError) as exc:
            self.status.setText(first_line(exc))
            return
        if not self.layer.currentText():
            self.status.setText("add an image layer first")
            return
        if self.expects != (model.in_channels, getattr(model, "channel", None)):
            self._use_model(model)  # a file changed since it was chosen: its own defaults
        image = self._image()
        axis, channel = self.channel_axis.currentData(), self.channel.currentData()
        shape = image.data.shape
        recorded = getattr(model, "channel", None)
        bands = recorded if isinstance(recorded, (list, tuple)) else None
        how = dict(channel=channel, in_channels=model.in_channels, bands=bands)
        how |= dict(stains=stains_of(model))  # a grey layer refused as predict refuses it
        problem = channel_problem(shape, rgb=image.rgb, channel_axis=axis, **how)
        if problem:
            self.status.setText(problem)
            return
        stack, plane = plane_geometry(shape, rgb=image.rgb, channel_axis=axis)
        self.bar.setRange(0, count_tiles(model, plane, stack))
        self.bar.setValue(0)
        self._cancel.clear()
        # an "errored" handler of our own replaces the default one, which re-raises
        handlers = {
            "returned": lambda result: self._add(result, image, axis),
            "errored": self._failed,
            "finished": self._finished,
        }
        self.worker = create_worker(
            predict_planes,
            model,
            image.data,
            rgb=image.rgb,
            objects=self.objects.isChecked(),
            progress=self._progress.advanced.emit,
            cancelled=self._cancel.is_set,
            channel_axis=axis,
            channel=channel,
            _connect=handlers,
            _start_thread=False,
        )
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.status.setText(f"predicting {image.name} ...")
        self.worker.start()

    def _add(self, result, image, axis) -> None:
        ndim = result.labels.ndim
        scale = spatial_scale(image.scale, channel_axis=axis, ndim=ndim)
        named = (getattr(image, "axis_labels", None), getattr(image, "units", None))
        axes = layer_axes(*named, channel_axis=axis, ndim=ndim)  # napari >= 0.5's
        for data, kwargs, _ in layer_tuples(result, name=image.name, scale=scale, axes=axes):
            self.viewer.add_labels(data, **kwargs)
        self.status.setText(f"{image.name}: done")

    def _failed(self, exc: Exception) -> None:
        if isinstance(exc, PredictionCancelled):
            self.status.setText("cancelled")
        elif isinstance(exc, UnetlabError):
            self.status.setText(first_line(exc))
        else:
            self.status.setText(f"failed: {type(exc).__name__}: {exc}")
            raise exc

    def _finished(self) -> None:
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
