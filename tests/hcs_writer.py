"""Small OME-Zarr HCS plates (``plate.ome.zarr/<row>/<column>/<field>/``) as ome-zarr-py and
bioformats2raw write them: NGFF 0.4 in zarr v2 (``plate``/``well``/``multiscales`` at the
top of the attributes) or NGFF 0.5 in zarr v3 (under ``ome``); each field a uint16
(c, z, y, x) image of blob-like nuclei with a pixel size (for tests/test_hcs_plate.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from unetlab.data.synthetic import synthetic_nuclei

#: micrometres a pixel of the fields written
PIXEL_SIZE = 0.65


def _ome(attrs: dict, version: str) -> dict:
    return {"ome": {"version": version, **attrs}} if version == "0.5" else attrs


def _image_attrs(name: str, version: str) -> dict:
    axes = [{"name": "c", "type": "channel"}, {"name": "z", "type": "space"}]
    axes += [{"name": a, "type": "space", "unit": "micrometer"} for a in "yx"]
    scale = [1.0, 1.0, PIXEL_SIZE, PIXEL_SIZE]
    level = {"path": "0", "coordinateTransformations": [{"type": "scale", "scale": scale}]}
    scales = {"name": name, "axes": axes, "datasets": [level]}
    return _ome(
        {"multiscales": [scales | ({} if version == "0.5" else {"version": "0.4"})]}, version
    )


def write_field(group, size: int, seed: int, version: str, name: str) -> np.ndarray:
    """One field's image (1, 1, size, size) uint16 in ``group``; its instance ids returned."""
    image, ids = synthetic_nuclei(size, seed, bit_depth=16)
    chunks = (1, 1, min(size, 256), min(size, 256))
    level = group.create_array("0", shape=(1, 1, size, size), dtype="uint16", chunks=chunks)
    level[:] = image[None, None]
    group.attrs.update(_image_attrs(name, version))
    return ids


def write_plate(
    path: Path,
    wells: list[str],
    fields: int = 2,
    *,
    size: int = 64,
    version: str = "0.4",
    rows: str = "ABCDEFGH",
    columns: int = 12,
) -> Path:
    """A plate at ``path`` of ``wells`` (``"A/1"``, in that order in its metadata), each of
    ``fields`` fields ``0``, ``1``, ... of ``size``² px; NGFF ``version`` 0.4 (zarr v2) or
    0.5 (zarr v3). Returns ``path``."""
    import zarr

    fmt = 3 if version == "0.5" else 2
    root = zarr.open_group(path, mode="w", zarr_format=fmt)
    row_names, column_names = list(rows), [str(c) for c in range(1, columns + 1)]
    listed = []
    for i, well in enumerate(wells):
        row, column = well.split("/")
        entry = {"path": well, "rowIndex": row_names.index(row)}
        listed.append(entry | {"columnIndex": column_names.index(column)})
        group = root.create_group(well)
        images = [{"path": str(f), "acquisition": 0} for f in range(fields)]
        group.attrs.update(_ome({"well": {"images": images, "version": version}}, version))
        for f in range(fields):
            write_field(group.create_group(str(f)), size, 100 * i + f, version, f"{well}/{f}")
    plate = {"name": path.name, "version": version, "field_count": fields, "wells": listed}
    plate |= {"rows": [{"name": r} for r in row_names]}
    plate |= {"columns": [{"name": c} for c in column_names]}
    plate |= {"acquisitions": [{"id": 0, "name": "scan"}]}
    root.attrs.update(_ome({"plate": plate}, version))
    return path
