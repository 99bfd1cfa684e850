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
    tiles = [(at, 0, key, data) for key, data in planes.items()]
    return write_tiles(path, tiles, names=names, metres=metres)


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


def name_scenes(path: Path, names: list[str], wells: list[str] | None = None) -> Path:
    """``path`` (a CZI) with its scenes named ``names`` as ZEN names them in its metadata
    (``Dimensions/S/Scenes/Scene`` of ``Index`` and ``Name``; a plate's: ``wells`` their
    ``ArrayName``s), edited in place."""
    import xml.etree.ElementTree as ET

    from pylibCZIrw import czi as pyczi

    with pyczi.edit_czi(str(path)) as editor, editor.edit_session() as builder:
        root = ET.fromstring(builder.get_xml())
        dimensions = root.find("Metadata/Information/Image/Dimensions")
        scenes = ET.SubElement(ET.SubElement(dimensions, "S"), "Scenes")
        for i, name in enumerate(names):
            scene = ET.SubElement(scenes, "Scene", Index=str(i), Name=name)
            if wells:
                ET.SubElement(scene, "ArrayName").text = wells[i]
        builder.set_xml(ET.tostring(root, encoding="unicode"))
    return path


def as_pyramid_tile(path: Path, x: int, size, at: tuple[int, int] = (0, 0)) -> Path:
    """``path`` (a CZI) with its subblock at ``x`` made a pyramid tile as ZEN writes a slide
    scan's (its pixels stored zoomed out): placed at ``at`` (x, y), ``size`` x ``size`` (or
    (w, h)) pixels of the image stored in its own, by its directory entry and its segment's
    copy, edited in place."""
    import struct

    sizes = (size, size) if isinstance(size, int) else size
    data = bytearray(path.read_bytes())
    for entry in _subblock_entries(data):
        dims = _entry_dims(data, entry)
        if dims["X"][1] != x:
            continue
        segment = struct.unpack_from("<q", data, entry + 6)[0]
        for entry_at in (entry, segment + 48):  # its copy: after the segment's header, sizes
            data[entry_at + 22] = 1  # PyramidType: SingleSubblock
            dims = _entry_dims(data, entry_at)
            for axis, start, extent in zip("XY", at, sizes, strict=True):
                struct.pack_into("<iif", data, dims[axis][0] + 4, start, extent, 0.0)
    path.write_bytes(bytes(data))
    return path


def _subblock_entries(data: bytearray) -> list[int]:
    """Where the directory entries (DV) of a CZI's subblock directory segment start."""
    import struct

    offset, found = 0, []
    while offset + 32 <= len(data):
        name = bytes(data[offset : offset + 16]).rstrip(b"\0")
        allocated = struct.unpack_from("<q", data, offset + 16)[0]
        if name == b"ZISRAWDIRECTORY":
            entry = offset + 32 + 128
            for _ in range(struct.unpack_from("<i", data, offset + 32)[0]):
                found.append(entry)
                entry += 32 + 20 * struct.unpack_from("<i", data, entry + 28)[0]
        offset += 32 + allocated
    return found


def _entry_dims(data: bytearray, entry: int) -> dict[str, tuple[int, int]]:
    """A DV directory entry's dimensions: name -> (where its entry starts, its start)."""
    import struct

    assert data[entry : entry + 2] == b"DV"
    dims = {}
    for k in range(struct.unpack_from("<i", data, entry + 28)[0]):
        at = entry + 32 + 20 * k
        start = struct.unpack_from("<i", data, at + 4)[0]
        dims[bytes(data[at : at + 4]).rstrip(b"\0").decode()] = (at, start)
    return dims
