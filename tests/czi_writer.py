"""Small Zeiss CZI files written with Zeiss' pylibCZIrw as ZEN lays them out: planes of
channels, z and time points, scenes, mosaics of tiles at stage positions (for
tests/test_czi.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def write_czi(
    path: Path,
    planes: dict[tuple[int, int, int], np.ndarray],
    *,
    names: list[str] | None = None,
    metres: tuple[float, float, float] = (0.0, 0.0, 0.0),
    at: tuple[int, int] = (0, 0),
) -> Path:
    """A CZI of ``planes`` ((t, z, c) -> (H, W) or (H, W, 3) blue-green-red) at ``at``
    (x, y), its channels named ``names``, its pixel size ``metres`` (x, y, z)."""
    return write_tiles(path, [(at, 0, key, data) for key, data in planes.items()], names=names,
                       metres=metres)  # fmt: skip


def write_tiles(path: Path, tiles: list, *, names=None, metres=(0.0, 0.0, 0.0)) -> Path:
    """A CZI of ``tiles``: ((x, y), scene, (t, z, c), data) each."""
    from pylibCZIrw import czi as pyczi

    with pyczi.create_czi(str(path), exist_ok=True) as w:
        for (x, y), scene, (t, z, c), data in tiles:
            w.write(data=data, plane={"T": t, "Z": z, "C": c}, location=(x, y), scene=scene)
        named = None if names is None else dict(enumerate(names))
        x, y, z = metres
        w.write_metadata(channel_names=named, scale_x=x, scale_y=y, scale_z=z)
    return path


def name_scenes(path: Path, names: list[str]) -> Path:
    """``path`` (a CZI) with its scenes named ``names`` as ZEN names them in its metadata
    (``Dimensions/S/Scenes/Scene`` of ``Index`` and ``Name``), edited in place."""
    import xml.etree.ElementTree as ET

    from pylibCZIrw import czi as pyczi

    with pyczi.edit_czi(str(path)) as editor, editor.edit_session() as builder:
        root = ET.fromstring(builder.get_xml())
        dimensions = root.find("Metadata/Information/Image/Dimensions")
        scenes = ET.SubElement(ET.SubElement(dimensions, "S"), "Scenes")
        for i, name in enumerate(names):
            ET.SubElement(scenes, "Scene", Index=str(i), Name=name)
        builder.set_xml(ET.tostring(root, encoding="unicode"))
    return path
