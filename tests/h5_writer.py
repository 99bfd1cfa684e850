"""Small HDF5 files in the layouts of ilastik's exports, Imaris' .ims and BigDataViewer's .h5,
written with h5py as those programs lay them out (for tests/test_h5*.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def _h5py():
    import h5py

    return h5py


def axistags(keys: str) -> str:
    """ilastik's ``axistags`` attribute of the axes ``keys`` (``"yxc"``)."""
    axes = [{"key": k, "typeFlags": 2 if k in "xyz" else 1, "resolution": 0} for k in keys]
    return json.dumps({"axes": axes})


def write_ilastik(path: Path, data: np.ndarray, keys: str | None = "yxc", **more) -> Path:
    """An ilastik export: ``exported_data`` of axes ``keys`` (None: no axistags), chunked,
    and ``more`` datasets beside it (name -> array)."""
    with _h5py().File(path, "w") as f:
        chunks = tuple(min(n, 32) for n in data.shape)
        d = f.create_dataset("exported_data", data=data, chunks=chunks, compression="gzip")
        if keys is not None:
            d.attrs["axistags"] = axistags(keys)
        for name, array in more.items():
            f.create_dataset(name, data=array)
    return path


def _attr(text) -> np.ndarray:
    """An Imaris attribute: its text as an array of one-byte strings."""
    return np.array([c.encode() for c in str(text)], dtype="S1")


def write_imaris(
    path: Path,
    channels: list[np.ndarray],
    voxel=(2.0, 0.5, 0.25),
    unit="um",
    chunk=16,
    times=1,
    depth=1,
) -> Path:
    """An Imaris file of ``times`` time points (time point t holds ``channels`` // (t + 1)):
    ``channels`` (each (Z, Y, X)) at level 0, each padded to whole chunks (``depth`` planes
    of ``chunk`` x ``chunk``, gzip-compressed) as Imaris writes them, and a level 1 of half the rows and
    columns; ``voxel`` (z, y, x) in ``unit``."""
    z, y, x = channels[0].shape
    with _h5py().File(path, "w") as f:
        info = f.create_group("DataSetInfo/Image")
        for key, n in zip("XYZ", (x, y, z)):
            info.attrs[key] = _attr(n)
        for i, (n, v) in enumerate(zip((x, y, z), voxel[::-1])):
            info.attrs[f"ExtMin{i}"] = _attr(-3)
            info.attrs[f"ExtMax{i}"] = _attr(f"{-3 + n * v:g}")
        info.attrs["Unit"] = _attr(unit)
        for level, step, t in ((lv, 2**lv, t) for lv in (0, 1) for t in range(times)):
            for c, data in enumerate(channels):
                group = f.create_group(f"DataSet/ResolutionLevel {level}/TimePoint {t}/Channel {c}")
                part = data[:, ::step, ::step] // (t + 1)
                for key, n in zip("XYZ", part.shape[::-1]):
                    group.attrs[f"ImageSize{key}"] = _attr(n)
                chunks = (depth, chunk, chunk)
                store = np.zeros([-(-n // c) * c for n, c in zip(part.shape, chunks)], data.dtype)
                store[: part.shape[0], : part.shape[1], : part.shape[2]] = part
                group.create_dataset("Data", data=store, chunks=chunks, compression="gzip")
    return path


def write_bdv(
    path: Path, channels: list[np.ndarray], voxel=(1.5, 0.2, 0.2), views: list | None = None
) -> Path:
    """A BigDataViewer file of one time point: each channel a setup (uint16 stored as
    int16, as BigDataViewer does), levels 0 and 1 (factors 1 and 2 in x and y), and its
    ``.xml`` beside it giving ``voxel`` (z, y, x) µm; ``views``: each setup's ViewSetup
    attributes ({"channel": 0, "tile": 1}: BigStitcher's), where given."""
    factors = np.array([[1, 1, 1], [2, 2, 1]], float)
    with _h5py().File(path, "w") as f:
        for s, data in enumerate(channels):
            f.create_dataset(f"s{s:02d}/resolutions", data=factors)
            f.create_dataset(f"s{s:02d}/subdivisions", data=np.array([[16, 16, 4]] * 2))
            for level, (fx, fy, _) in enumerate(factors.astype(int)):
                cells = data[:, ::fy, ::fx].view(np.int16)
                f.create_dataset(f"t00000/s{s:02d}/{level}/cells", data=cells, chunks=True)
    size = " ".join(f"{v:g}" for v in voxel[::-1])
    setups = "".join(
        f"<ViewSetup><id>{s}</id><voxelSize><unit>µm</unit><size>{size}</size></voxelSize>"
        + "".join(f"<{k}>{v}</{k}>" for k, v in (views or [{}])[s].items()).join(
            ("<attributes>", "</attributes>") if views else ("", "")
        )
        + "</ViewSetup>"
        for s in range(len(views or [None]))
    )
    path.with_suffix(".xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?><SpimData version="0.2"><SequenceDescription>'
        f"<ImageLoader format='bdv.hdf5'><hdf5 type='relative'>{path.name}</hdf5></ImageLoader>"
        f"<ViewSetups>{setups}</ViewSetups></SequenceDescription></SpimData>",
        encoding="utf-8",
    )
    return path


def write_keras(path: Path, keras: bool = True) -> Path:
    """A Keras model saved as HDF5 (``unet_membrane.hdf5``): groups of float kernels and
    biases, the root's ``keras_version`` (``keras``: else those datasets alone, 1-D)."""
    with _h5py().File(path, "w") as f:
        if keras:
            f.attrs["keras_version"], f.attrs["backend"] = "2.2.4", "tensorflow"
        for name, shape in (("conv2d_1", (3, 3, 1, 8)), ("conv2d_2", (3, 3, 8, 8))):
            group = f.create_group(f"model_weights/{name}/{name}")
            if keras:
                group.create_dataset("kernel:0", data=np.zeros(shape, np.float32))
            group.create_dataset("bias:0", data=np.zeros(shape[-1], np.float32))
    return path


def write_cremi(path: Path, raw: np.ndarray, ids: np.ndarray, void: int | None = None) -> Path:
    """A CREMI sample (``sample_A.hdf``): ``volumes/raw`` (uint8 zyx, its ``resolution``
    (40, 4, 4) nm), ``volumes/labels/neuron_ids`` (uint64 ids, 0 turned ``void`` where
    given: CREMI's 0xffffffffffffffff) and ``volumes/labels/clefts``, as CREMI lays them out."""
    with _h5py().File(path, "w") as f:
        data = f.create_dataset("volumes/raw", data=raw, chunks=True, compression="gzip")
        data.attrs["resolution"] = np.array([40.0, 4.0, 4.0])
        labels = ids.astype(np.uint64)
        if void is not None:
            labels[ids == 0] = np.uint64(void)
        f.create_dataset("volumes/labels/neuron_ids", data=labels, chunks=True)
        f["volumes/labels/neuron_ids"].attrs["resolution"] = np.array([40.0, 4.0, 4.0])
        clefts = np.full(ids.shape, np.iinfo(np.uint64).max, np.uint64)
        f.create_dataset("volumes/labels/clefts", data=clefts)
    return path
