"""World files beside the PNG and JPEG outputs of a georeferenced input, so that QGIS lays
them over the map.

A PNG carries no GeoTIFF tags. An ESRI world file beside it (``labels.pgw`` for
``labels.png``, ``.jgw`` for a JPEG: six lines, the pixel's x size, two rotations, its y
size and the map point of the top-left pixel's centre) gives QGIS and GDAL its place; the
CRS is not in it (QGIS asks, or takes the project's). :func:`world_files` writes one beside
each such output of an input whose GeoTIFF tags place its pixels
(:func:`unetlab.data.geotiff.map_grid`), of the input's grid or of a downsampled copy that
records its step (a large image's overlay), each of the pyramid level it was predicted at
(``--level``, as a picture's record says, or a TIFF output's size: :func:`tiff_level`; a
level's pixels span the input's times its downsample).
An input placed by its own world file (a PNG's or JPEG's ``.pgw``, ``.jgw``, ``.wld``:
:mod:`unetlab.data.world_file`) passes it on: its PNG outputs get one, and so do its TIFF
outputs (``.tfw``: they carry no GeoTIFF tags); so does a TIFF placed by a ``.tfw`` alone,
and so do the TIFF outputs of a GeoTIFF that carry none of its tags (one in degrees or
placed by ModelTransformation alone: no pixel size in metres to record).
Beside each output that carries a world file, the input's CRS where it is known
(:func:`crs_texts`): the WKT of the input's own ``.prj`` or ``.aux.xml`` as a ``.prj``
(ArcGIS) and in GDAL's ``labels.png.aux.xml`` (QGIS reads a PNG's CRS there, not in a
``.prj``), or a GeoTIFF's EPSG code in the ``.aux.xml`` and, for a UTM zone, its ESRI WKT
as the ``.prj`` (:mod:`unetlab.data.esri_wkt`; another code gets none, said once); so QGIS
does not ask for it. A GeoTIFF whose GeoKeys name no EPSG code (a user-defined CRS) passes
on the WKT of GDAL's ``.aux.xml`` beside it, also beside its TIFF outputs that carry its
tags (:func:`_beside_tags`). (A GeoTIFF's
TIFF outputs that carry its tags carry its GeoKeys, the CRS with them.)
These are written atomically, and listed in the output folder's manifest as made from the
same input by the same key as its picture (so that the folder stays unetlab's for the
next run); a world file or CRS file there already that the manifest does not list is left
as it is, with a warning where it says otherwise (not this command's).

Where a GeoTIFF is in degrees, or placed by ModelTransformation alone (no tie point and
pixel scale), no pixel size is read from it, so its TIFF outputs carry no GeoTIFF tags and
its tables no metres: what is carried and what is not is said once (:func:`say_carried`).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape

from unetlab.atomic import atomic_path, folder_sync_deferred
from unetlab.data.esri_wkt import esri_wkt
from unetlab.data.geotiff import MapGrid, map_grid, read_geotags, say_once, world_path
from unetlab.data.world_file import (
    epsg_text,
    input_grid,
    read_world_file,
    sidecar_prj,
    sidecar_wkt,
)
from unetlab.inference.records import TIFF_KEY as RECORD_KEY
from unetlab.inference.records import tiff_record
from unetlab.inference.slide_overlay import SCALE_KEY
from unetlab.manifest import PENDING, confirm, made_from, record, recorded_keys, writers_of

log = logging.getLogger(__name__)

#: the outputs that get a world file (TIFF outputs carry the GeoTIFF tags themselves)
PICTURES = (".png", ".jpg", ".jpeg")
#: TIFF outputs, which get one (.tfw) where they carry no GeoTIFF tags that place them (an
#: input placed by its own world file; a GeoTIFF in degrees or placed by ModelTransformation
#: alone, whose outputs record no pixel size: :func:`_tagless`)
TIFFS = (".tif", ".tiff")
#: the command whose manifest lines list the world files (predict's)
COMMAND = "predict"


def world_files(source: str | os.PathLike, written: Sequence[str | os.PathLike]) -> list[Path]:
    """Write a world file beside each PNG / JPEG of ``written`` (the outputs of the input
    ``source``), and each TIFF that carries no GeoTIFF tags placing it (:func:`_tagless`),
    where ``source``'s GeoTIFF tags, or its own world file (a PNG's, JPEG's or TIFF's:
    :func:`~unetlab.data.world_file.read_world_file`), place its pixels, and beside each
    the CRS where the input names it (:func:`crs_texts`, :func:`_placed`); returns those
    written (none for an input placed by neither)."""
    tags = read_geotags(source) if Path(source).is_file() else ()
    grid = map_grid(tags) if tags else read_world_file(source)  # a PNG's own world file
    if grid is None:
        if tags and any(Path(p).suffix.lower() in PICTURES for p in written):
            say_once(
                "unplaced",
                "%s: its GeoTIFF tags hold neither a tie point with a pixel scale nor a "
                "ModelTransformation (ground control points?): its outputs get no world file; "
                "warp it first (QGIS: Raster > Projections > Warp, or gdalwarp) (said once)",
                Path(source).name,
                logger=log,
            )
        return []
    keyed, crs = grid, None  # as its GeoKeys or world file say; the CRS's files, once wanted
    if grid.how != "world file" and grid.epsg is None:  # a user-defined CRS: beside it?
        grid = input_grid(source)
    say_carried(source, grid)
    levels: dict[int, tuple] = {}  # the (shape, downsample) of each level predicted
    planned = []
    for image in (Path(p) for p in written):
        tagged = image.suffix.lower() not in PICTURES and not _tagless(image)
        if tagged and keyed.epsg is not None:  # its GeoKeys name the CRS
            continue
        if crs is None:  # a .prj and GDAL's .aux.xml, where the CRS is known
            crs = crs_texts(source, keyed)
        if tagged:
            planned += _beside_tags(image, crs, tags)
            continue
        if image.suffix.lower() in PICTURES:
            level = picture_level(image)
        else:
            level = tiff_level(source, image, levels)
        if level not in levels:
            levels[level] = _level(source, level)
        planned += _placed(image, grid, *levels[level], crs)
    return _write_all(planned)


def tiff_level(source: str | os.PathLike, image: Path, levels: dict[int, tuple]) -> int:
    """The pyramid level of the TIFF ``source`` that the TIFF output ``image`` was predicted
    at (``--level N``): as the record it carries says (``model.level``); for one that
    carries none, the level whose (H, W) its first page is (its outputs are of that
    level's size, and record no step), 0 where it is level 0's, or no level's (said by
    :func:`_placed`). ``levels``: the ``(shape, downsample)`` of each level read so far
    (:func:`_level`), added to."""
    import tifffile

    recorded = _recorded_level(tiff_record(image))
    if recorded is not None:  # the output's own word: the input not opened for it
        return recorded
    with tifffile.TiffFile(image) as tif:
        page = tif.pages[0]
        shape = (int(page.imagelength), int(page.imagewidth))
    if 0 not in levels:
        levels[0] = _level(source, 0)
    if tuple(levels[0][0] or ()) == shape or Path(source).suffix.lower() not in TIFFS:
        return 0
    from unetlab.data.slides import open_slide

    with open_slide(source) as slide:
        count = slide.levels
    for level in range(1, count):
        if level not in levels:
            levels[level] = _level(source, level)
        if tuple(levels[level][0] or ()) == shape:
            return level
    return 0


def _beside_tags(image: Path, crs: dict[str, str], tags: tuple) -> list[tuple]:
    """The ``.aux.xml`` of ``crs`` beside a TIFF output ``image`` that carries the GeoTIFF
    ``tags`` of an input whose GeoKeys name no EPSG code (a user-defined CRS, its WKT
    beside the input: GDAL reads it there first), so that GDAL and QGIS read the CRS
    there too; none for other outputs (their GeoKeys name the CRS), as :func:`_placed`."""
    grid = map_grid(tags) if tags and image.suffix.lower() in TIFFS else None
    if grid is None or grid.epsg is not None or AUX not in crs:
        return []
    path = image.with_name(image.name + AUX)
    return [(image, path, crs[AUX])] if _wanted(image, path, crs[AUX]) else []


def _tagless(image: Path) -> bool:
    """True for a TIFF output whose GeoTIFF tags do not place it (it gets a .tfw)."""
    return image.suffix.lower() in TIFFS and map_grid(read_geotags(image)) is None


def crs_texts(source: str | os.PathLike, grid: MapGrid) -> dict[str, str]:
    """The files that name the CRS of ``source`` (placed on ``grid``, as its GeoKeys or
    world file say) beside an output with a world file, by suffix: ``.aux.xml``, GDAL's
    PAM file (QGIS reads the CRS of a PNG there, not in a .prj: GDAL 3.6's gdalinfo places
    ``labels.png`` by ``labels.pgw`` and names no CRS from ``labels.prj``), and ``.prj``
    (ArcGIS and GeoServer read a raster's .prj). An input placed by its world file, or a
    GeoTIFF whose GeoKeys name no EPSG code (a user-defined CRS): the CRS beside it
    (:func:`~unetlab.data.world_file.sidecar_wkt`, as GDAL reads it), as it is in the
    .aux.xml and as the .prj its own .prj (:func:`_prj_text`). A GeoTIFF's EPSG code
    (``EPSG:32633``, which GDAL takes) in the .aux.xml, and its ESRI WKT as the .prj where
    it follows from the code (:func:`_prj_text`). {} where the CRS is not known."""
    if grid.how == "world file" or grid.epsg is None:
        wkt = sidecar_wkt(source)
        if wkt is None:
            return {}
        prj = _prj_text(source, sidecar_prj(source) or wkt)
        return {**({PRJ: prj} if prj else {}), AUX: pam_text(wkt)}
    prj = _prj_text(source, f"EPSG:{grid.epsg}")
    return {**({PRJ: prj} if prj else {}), AUX: pam_text(f"EPSG:{grid.epsg}")}


def _prj_text(source: str | os.PathLike, srs: str) -> str | None:
    """The ``.prj`` of ``srs`` (the CRS of ``source``: WKT, or ``EPSG:<code>``): WKT as it
    is; a code's ESRI WKT where unetlab can spell it (a UTM zone of WGS 84, ETRS89 or
    NAD83, their geographic CRS: :func:`~unetlab.data.esri_wkt.esri_wkt`), else None (no
    .prj, said once: unetlab carries no EPSG database, and GDAL and QGIS read the code
    from the .aux.xml)."""
    epsg = epsg_text(srs)
    if epsg is None:
        return srs
    esri = esri_wkt(epsg)
    if esri is None:
        say_once(
            f"no prj {epsg}",
            "%s is in EPSG:%d: its outputs with a world file get no .prj (unetlab spells "
            "the ESRI WKT of UTM zones only); QGIS and GDAL read the code from the .aux.xml "
            "beside each; for ArcGIS, write one (gdalsrsinfo -o wkt1_esri EPSG:%d > "
            "<output>.prj) (said once)",
            Path(source).name,
            epsg,
            epsg,
            logger=log,
        )
    return esri


def pam_text(srs: str) -> str:
    """A GDAL ``.aux.xml`` (PAM) that names the CRS ``srs`` (WKT, or ``EPSG:<code>``)."""
    return f"<PAMDataset>\n  <SRS>{escape(srs.strip())}</SRS>\n</PAMDataset>\n"


def _placed(image: Path, grid: MapGrid, shape, downsample, crs: dict[str, str]) -> list[tuple]:
    """What to write beside the picture ``image`` of a level of (H, W) ``shape`` and
    ``downsample`` on ``grid`` (``(image, path, text)`` each, :func:`_write_all`): its world
    file, and the files of ``crs`` that name the input's CRS (:func:`crs_texts`: QGIS asks
    for the CRS without them) where the world file there is (or will be) this one; none
    that are there already (:func:`_wanted`)."""
    step = picture_step(image, shape)
    if step is None:
        log.warning(
            "%s: its size is not its input's and it records no step: no world file", image.name
        )
        return []
    text, path = sampled_grid(grid, step, downsample).world_file(), world_path(image)
    wanted = _wanted(image, path, text, WORLD_CLASH)
    carried = wanted or path.read_text(encoding="utf-8", errors="replace") == text
    planned = [(image, path, text)] if wanted else []
    for suffix, crs_text in crs.items() if carried else ():  # beside this input's world file
        crs_path = image.with_suffix(PRJ) if suffix == PRJ else image.with_name(image.name + AUX)
        planned += [(image, crs_path, crs_text)] if _wanted(image, crs_path, crs_text) else []
    return planned


def sampled_grid(grid: MapGrid, step: float, downsample=(1.0, 1.0)) -> MapGrid:
    """The map grid of a picture sampled every ``step`` pixels of a pyramid level whose
    pixels are ``downsample`` ((y, x)) of the input's (``grid``: level 0's): a column
    spans ``step * x`` input columns, a row ``step * y`` input rows, as GDAL places an
    overview (the level's size over the input's extent)."""
    return grid.level(tuple(float(v) * step for v in downsample))


def picture_level(image: Path) -> int:
    """The pyramid level the picture ``image`` was predicted at (``--level``), as what made
    it records it in its PNG text; 0 where it records none."""
    from PIL import Image

    with Image.open(image) as im:
        text = dict(getattr(im, "text", None) or {})
    try:
        made = json.loads(text[RECORD_KEY])
    except (KeyError, ValueError):
        return 0
    return _recorded_level(made) or 0


def _recorded_level(made) -> int | None:
    """The pyramid level an output's record ``made`` says it was predicted at
    (``model.level``); None where it says none."""
    model = made.get("model") if isinstance(made, dict) else None
    level = model.get("level") if isinstance(model, dict) else None
    if isinstance(level, bool) or not isinstance(level, int) or level < 0:
        return None
    return level


#: the files that name the CRS beside an output with a world file: ``labels.prj`` (ESRI's)
#: and ``labels.png.aux.xml`` (GDAL's, which QGIS reads)
PRJ, AUX = ".prj", ".aux.xml"
#: what is said of a world file, and of a CRS file, there already that unetlab did not write
WORLD_CLASH = (
    "%s: a world file there already places %s elsewhere; left as it is (not written by "
    "unetlab): delete it and predict again for this input's"
)
CRS_CLASH = (
    "%s: a file there already names another CRS for %s (or says more); left as it is (not "
    "written by unetlab): delete it and predict again for this input's"
)


def _wanted(image: Path, path: Path, text: str, clash: str = CRS_CLASH) -> bool:
    """Whether to write ``text`` to ``path`` beside the output ``image``: not where a file
    there says it already, nor where one there says otherwise that the folder's manifest
    does not list (not this command's: kept, with the warning ``clash``)."""
    if not os.path.lexists(path):
        return True
    if path.read_text(encoding="utf-8", errors="replace") == text:
        return False
    if path.name in writers_of(image.parent):
        return True
    log.warning(clash, path.name, image.name)
    return False


def _write_all(planned: Sequence[tuple[Path, Path, str]]) -> list[Path]:
    """Write each ``(image, path, text)`` of ``planned`` (a file beside the output
    ``image``: :func:`_placed`) atomically, listed in the folder's manifest as ``image`` is
    (same input, same key): in each folder, their lines added before the files are written
    and confirmed once they all are, and the folder flushed once (nine files beside three
    outputs: one manifest rewrite, not nine); returns their paths."""
    by_folder: dict[Path, list[tuple[Path, Path, str]]] = {}
    for image, path, text in planned:
        by_folder.setdefault(image.parent, []).append((image, path, text))
    made = []
    for folder, files in by_folder.items():
        inputs, keys = made_from(folder, COMMAND), recorded_keys(folder, COMMAND)
        sources = {p.name: inputs[i.name] for i, p, _ in files if inputs.get(i.name)}
        made_by = {p.name: k for i, p, _ in files if (k := _key(keys.get(i.name)))}
        names = [path.name for _, path, _ in files]
        record(folder, names, command=COMMAND, sources=sources or None, made_by=made_by or None)
        with folder_sync_deferred(folder):
            for _, path, text in files:
                with atomic_path(path) as tmp:
                    Path(tmp).write_text(text, encoding="utf-8")
        if made_by:
            confirm(folder, made_by, COMMAND)
        made += [path for _, path, _ in files]
    return made


def _key(recorded: str | None) -> str | None:
    """The key of what made an output, as its manifest line records it (not PENDING)."""
    return (recorded or "").removeprefix(PENDING) or None


def picture_step(image: Path, shape: tuple[int, int] | None) -> float | None:
    """Input pixels per pixel of the picture ``image``: 1 where it is the input's (H, W)
    ``shape``, else the step its PNG text records (a downsampled overlay); None where
    neither says. A TIFF (objects, probabilities): 1 where its first page is of ``shape``."""
    if image.suffix.lower() in TIFFS:
        import tifffile

        with tifffile.TiffFile(image) as tif:
            page = tif.pages[0]
            same = (int(page.imagelength), int(page.imagewidth)) == tuple(shape or ())
        return 1.0 if same else None
    from PIL import Image

    with Image.open(image) as im:
        size, text = im.size, dict(getattr(im, "text", None) or {})
    if shape is not None and (size[1], size[0]) == tuple(shape):
        return 1.0
    try:
        step = json.loads(text[SCALE_KEY])["step"]
    except (KeyError, ValueError, TypeError):
        return None
    return float(step) if isinstance(step, (int, float)) and step > 0 else None


def _level(source: str | os.PathLike, level: int) -> tuple[tuple[int, int] | None, tuple]:
    """``(shape, downsample)``: the (H, W) of pyramid level ``level`` of the TIFF ``source``
    and its (y, x) level-0 pixels per pixel (:class:`~unetlab.data.slides.Slide`)."""
    if level == 0 and Path(source).suffix.lower() in PICTURES:  # a PNG with a world file
        from PIL import Image

        with Image.open(source) as im:
            return (im.size[1], im.size[0]), (1.0, 1.0)
    if level == 0:
        import tifffile

        with tifffile.TiffFile(source) as tif:
            page = tif.pages[0]
            return (int(page.imagelength), int(page.imagewidth)), (1.0, 1.0)
    from unetlab.data.slides import open_slide

    with open_slide(source, level=level) as slide:
        return tuple(slide.layout.plane), tuple(slide.downsample)


def say_carried(source: str | os.PathLike, grid: MapGrid) -> None:
    """Say once, for a GeoTIFF in degrees or placed by ModelTransformation alone, what its
    outputs carry of its place and what not (an input placed by its own world file:
    :func:`say_world_file`)."""
    if grid.how == "world file":
        say_world_file(source, grid)
        return
    if grid.how == "tiepoint" and grid.metres is not None:
        return
    from unetlab.data.tiffmeta import read_pixel_size

    if grid.how == "transformation":
        why = "is placed by ModelTransformation alone (no ModelTiepoint and ModelPixelScale)"
        fix = "write it north-up with a tie point and pixel scale (gdalwarp; QGIS: Raster > "
        fix += "Projections > Warp)"
    else:
        why = "is in degrees (a geographic CRS), or in a linear unit unetlab does not know"
        fix = "warp it to a projected CRS in metres (gdalwarp -t_srs EPSG:<code>; QGIS: "
        fix += "Raster > Projections > Warp)"
    tiffs = (
        "its TIFF outputs carry its GeoTIFF tags, but its objects table has no metres"
        if read_pixel_size(source) is not None
        else "its TIFF outputs (probabilities, objects) carry no GeoTIFF tags but get a "
        "world file (.tfw), and its objects table is in pixels (no pixel size in metres)"
    )
    say_once(
        grid.how if grid.metres is not None else "degrees",
        "%s %s: its PNG outputs get a world file (.pgw) and its outlines (--outlines "
        "geojson) are in its map coordinates, %s; for all of it, %s (said once)",
        Path(source).name,
        why,
        tiffs,
        fix,
        logger=log,
    )


def say_world_file(source: str | os.PathLike, grid: MapGrid) -> None:
    """Say once what the outputs of an input placed by its own world file carry: a world
    file names no CRS or unit, so its tables are in metres only where a ``.prj`` or
    ``.aux.xml`` beside it names a CRS in a known linear unit
    (:func:`~unetlab.data.world_file.sidecar_crs`)."""
    from unetlab.data.world_file import world_file_of

    name, placed = Path(source).name, world_file_of(source)
    where = f"{name} is placed by its world file {placed.name if placed else ''}"
    shared = "its PNG outputs get a world file (.pgw), and its outlines (--outlines geojson) "
    shared += "and its objects table's centroid_x_map, centroid_y_map are in its map coordinates"
    if grid.metres is not None and grid.north_up:
        crs = f"EPSG:{grid.epsg}" if grid.epsg is not None else "a CRS"
        say_once(
            "world file",
            "%s (%s in metres, from the .prj or .aux.xml beside it): %s; its objects table "
            "is in metres (said once)",
            *(where, crs, shared),
            logger=log,
        )
        return
    why = "names no CRS or unit, and no .prj or .aux.xml beside it says one in metres"
    if grid.epsg is not None:
        why = f"is in EPSG:{grid.epsg} (from the .prj or .aux.xml beside it), not in metres"
    if grid.metres is not None:  # not north-up: its pixel is no (y, x) size
        why = "turns the image (its rotation terms are not 0), so its pixels have no size"
    say_once(
        "world file alone",
        "%s, which %s: %s (the GeoJSON names %s), but its objects table stays in pixels; "
        "for areas in m², put the CRS beside it as %s (gdalsrsinfo -o wkt EPSG:<code>) "
        "or warp it to a projected CRS in metres (said once)",
        *(where, why, shared, "no CRS: QGIS asks" if grid.epsg is None else "it"),
        Path(source).with_suffix(".prj").name,
        logger=log,
    )
