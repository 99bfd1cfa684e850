"""The napari dock widget: pick a checkpoint and an image layer, predict it in a worker thread
with a progress bar and a Cancel button, and add the classes (and objects) as labels layers.
The work is in :mod:`unetlab.napari.core`; this module only wires Qt to it."""

from __future__ import annotations

import threading

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

from unetlab.errors import UnetlabError
from unetlab.napari.core import (
    PredictionCancelled,
    count_tiles,
    layer_tuples,
    load_for_widget,
    predict_planes,
)


class _Progress(QObject):
    """Carries tile counts from the worker thread to the progress bar (a queued signal)."""

    advanced = Signal(int)


class PredictWidget(QWidget):
    """U-Net prediction of the selected image layer (napari dock widget)."""

    def __init__(self, napari_viewer):
        super().__init__()
        self.viewer = napari_viewer
        self.worker = None
        self._cancel = threading.Event()
        self._progress = _Progress()
        self._progress.advanced.connect(lambda n: self.bar.setValue(self.bar.value() + n))

        self.checkpoint = QLineEdit(placeholderText="checkpoint .pt or bioimage.io package")
        browse = QPushButton("Browse...")
        browse.clicked.connect(self._browse)
        self.layer = QComboBox()
        self.objects = QCheckBox("also objects (instances)")
        self.run_button = QPushButton("Predict")
        self.run_button.clicked.connect(self.predict)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self._cancel.set)
        self.bar = QProgressBar()
        self.status = QLabel("")
        self.status.setWordWrap(True)

        row = QHBoxLayout()
        row.addWidget(self.checkpoint)
        row.addWidget(browse)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        for item in (
            QLabel("model"),
            row,
            QLabel("image layer"),
            self.layer,
            self.objects,
            buttons,
            self.bar,
            self.status,
        ):
            layout.addLayout(item) if isinstance(item, QHBoxLayout) else layout.addWidget(item)
        layout.addStretch()
        for event in (self.viewer.layers.events.inserted, self.viewer.layers.events.removed):
            event.connect(self._refresh_layers)
        self._refresh_layers()

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "U-Net model", "", "unetlab models (*.pt *.zip *.yaml);;all files (*)"
        )
        if path:
            self.checkpoint.setText(path)

    def _refresh_layers(self, *_) -> None:
        current = self.layer.currentText()
        self.layer.clear()
        self.layer.addItems([lay.name for lay in self.viewer.layers if isinstance(lay, Image)])
        if current:
            self.layer.setCurrentText(current)

    def predict(self) -> None:
        """Start predicting the selected layer; the result is added when the worker returns."""
        try:
            model = load_for_widget(self.checkpoint.text())
        except (UnetlabError, FileNotFoundError) as exc:
            self.status.setText(str(exc).splitlines()[0])
            return
        if not self.layer.currentText():
            self.status.setText("add an image layer first")
            return
        image = self.viewer.layers[self.layer.currentText()]
        shape = image.data.shape[:-1] if image.rgb else image.data.shape
        stack = shape[0] if len(shape) == 3 else 1
        self.bar.setRange(0, count_tiles(model, tuple(shape[-2:]), stack))
        self.bar.setValue(0)
        self._cancel.clear()
        # an "errored" handler of our own replaces the default one, which re-raises
        handlers = {
            "returned": lambda result: self._add(result, image),
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
            _connect=handlers,
            _start_thread=False,
        )
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.status.setText(f"predicting {image.name} ...")
        self.worker.start()

    def _add(self, result, image) -> None:
        scale = image.scale[-2:] if result.labels.ndim == 2 else image.scale[-3:]
        for data, kwargs, _ in layer_tuples(result, name=image.name, scale=scale):
            self.viewer.add_labels(data, **kwargs)
        self.status.setText(f"{image.name}: done")

    def _failed(self, exc: Exception) -> None:
        if isinstance(exc, PredictionCancelled):
            self.status.setText("cancelled")
        elif isinstance(exc, UnetlabError):
            self.status.setText(str(exc).splitlines()[0])
        else:
            self.status.setText(f"failed: {type(exc).__name__}: {exc}")
            raise exc

    def _finished(self) -> None:
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
