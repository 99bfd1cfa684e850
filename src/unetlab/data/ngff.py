"""The OME-Zarr (NGFF) ``multiscales`` metadata of a Zarr group, checked before it is used:
damaged metadata (``multiscales`` not a list, ``datasets`` without paths, ``axes`` of the
wrong kind or count, a ``scale`` that is no list of numbers) is one read error naming the
folder, what is wrong and its file, not a KeyError or TypeError from deep inside the reader
(s54 badinput4: a fuzz of damaged ``.zattrs`` and ``zarr.json`` gave 250 tracebacks)."""

from __future__ import annotations

import os
from numbers import Real
from pathlib import Path

from unetlab.data.tiffmeta import MICROMETRES
from unetlab.errors import ImageReadError


def multiscale(path: str | os.PathLike, attrs: dict, *, scales: bool = True) -> dict | None:
    """The first ``multiscales`` entry of a Zarr group's attributes ``attrs`` (at the top, or
    under ``ome`` as NGFF 0.5 writes it), its ``datasets`` and their ``scale`` transforms
    checked (not the latter without ``scales``: for a reader of its arrays' axes alone);
    None where it has none (a group without OME-Zarr metadata); ImageReadError naming
    ``path`` where they are damaged. Its ``axes``: :func:`axis_names`."""
    ome = attrs.get("ome")
    found = attrs.get("multiscales") or (ome.get("multiscales") if isinstance(ome, dict) else None)
    if not found:
        return None
    if not isinstance(found, list) or not isinstance(found[0], dict):
        raise damaged(path, "'multiscales' is not a list of objects")
    datasets = found[0].get("datasets")
    if not isinstance(datasets, list) or not datasets:
        raise damaged(path, "'datasets' is not a list of levels")
    if not all(isinstance(d, dict) and isinstance(d.get("path"), str) for d in datasets):
        raise damaged(path, "a level of 'datasets' has no 'path' (the name of its array)")
    for level, dataset in enumerate(datasets if scales else ()):
        _check_transforms(path, level, dataset.get("coordinateTransformations", []))
    return found[0]


def _check_transforms(path, level: int, transforms) -> None:
    """ImageReadError where the ``coordinateTransformations`` of level ``level`` are not a
    list of objects each with a ``type``, a ``scale`` one a list of numbers."""
    where = f"the 'coordinateTransformations' of level {level}"
    if not isinstance(transforms, list) or not all(isinstance(t, dict) for t in transforms):
        raise damaged(path, f"{where} are not a list of objects")
    for t in transforms:
        if "type" not in t:
            raise damaged(path, f"{where} hold one without a 'type'")
        if t["type"] == "scale" and "scale" not in t and isinstance(t.get("path"), str):
            raise ImageReadError(_scale_by_path(path, where, t["path"]))
        scale = t.get("scale") if t["type"] == "scale" else []
        if not isinstance(scale, list) or not all(_number(v) for v in scale):
            raise damaged(path, f"{where} hold a 'scale' that is not a list of numbers")


def _scale_by_path(path, where: str, data: str) -> str:
    """Why an NGFF 0.4 ``scale`` given by ``path`` (to binary data in the container: valid,
    review s54 C7, which called it damaged) is not read, and the fix."""
    return (
        f"{path}: {where} give their scale by 'path' ({data}), binary data NGFF 0.4 allows "
        "but unetlab does not read; write the scale as a list of numbers ('scale': [...]) "
        f"in its {_held(path)}"
    )


def _number(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def axis_names(path: str | os.PathLike, scales: dict, ndim: int) -> list[str]:
    """The names of the ``ndim`` axes of a level's array as ``scales`` (:func:`multiscale`)
    gives them (objects with a ``name``, or names: NGFF 0.3), else NGFF's ``tczyx`` of that
    many; ImageReadError naming ``path`` where they are of the wrong kind, unnamed, named
    twice, not one an axis of the array, or without y and x."""
    if "axes" not in scales and ndim > 5:
        raise damaged(path, f"it has no 'axes', and its arrays have {ndim} (NGFF's: t, c, z, y, x)")
    axes = scales.get("axes", list("tczyx"[-ndim:]))
    if not isinstance(axes, list):
        raise damaged(path, "'axes' is not a list of axes")
    names = [a.get("name") if isinstance(a, dict) else a for a in axes]
    if not all(isinstance(n, str) and n for n in names):
        raise damaged(path, "an axis of 'axes' has no name")
    if len(names) != ndim:
        raise damaged(path, f"'axes' names {len(names)} axes, its arrays have {ndim}")
    if len({n[0].lower() for n in names}) != len(names):
        raise damaged(path, f"'axes' names an axis twice ({', '.join(names)})")
    if not {"y", "x"} <= {n[0].lower() for n in names}:
        raise damaged(path, f"'axes' ({', '.join(names)}) have no y and x")
    return names


def axis_units(scales: dict) -> list[str | None]:
    """The unit each axis of ``scales`` (:func:`multiscale`) names, None where it names
    none (an axis given by its name alone: NGFF 0.3)."""
    axes = scales.get("axes", [])
    return [str(a["unit"]) if isinstance(a, dict) and a.get("unit") else None for a in axes]


def micrometres(unit: str | None) -> float | None:
    """Micrometres in one ``unit`` an OME-Zarr axis names (NGFF's ``micrometer``,
    ``nanometer``: a tomogram's outputs', s73; ``angstrom``...), None where it names none or
    one unknown: the one conversion of the napari reader, the slide reader and
    :func:`~unetlab.data.ome.output_pages` (s73 review: three, each its own)."""
    return MICROMETRES.get(unit.lower()) if unit else None


def damaged(path: str | os.PathLike, what: str) -> ImageReadError:
    """The read error of the OME-Zarr folder ``path`` whose metadata is damaged: ``what``,
    in which file (``zarr.json``: Zarr v3; ``.zattrs``: v2)."""
    return ImageReadError(
        f"{path}: damaged OME-Zarr metadata: {what} (in its {_held(path)}); write the Zarr again, "
        "or mend its metadata as the OME-Zarr (NGFF) specification says"
    )


def _held(path: str | os.PathLike) -> str:
    """The file of a Zarr group's attributes: ``zarr.json`` (Zarr v3) or ``.zattrs`` (v2)."""
    return "zarr.json" if (Path(path) / "zarr.json").exists() else ".zattrs"
