"""Objects of a streamed slide: one id per object over an image larger than memory.

While a slide's probabilities stream past in row blocks, they become provisional ids (unique
over the page, with gaps), staged chunk by chunk: a semantic model's regions
(:class:`~unetlab.inference.semantic_bands.SemanticBands`: the objects of the image read
whole, exactly, whatever their size), else bands post-processed with a margin of context
(:func:`objects_in_bands`: an object crossing a band seam is one object where it is no
taller than the margin). A second pass over row bands renumbers them 1..n per page
into ``<stem>_objects`` (OME-TIFF or OME-Zarr, like the labels, uint16 or uint32) and sums
the per-object measures into ``<stem>_objects.csv``; on request, their outlines, traced
window by window from the renumbered ids and written as they are traced (memory grows with a
window's objects, not the slide's), into ``<stem>_objects.geojson`` (level-0 pixels) and
``<stem>_objects_rois.zip`` (ImageJ ROIs, in the level's pixels, as the ids). A semantic model's
objects of several classes get their ``class`` (and ``class_name``) columns from the staged
labels as in an image read whole (:meth:`SlideObjects.classify`). Object ids must
agree across bands, so one process handles the whole page.
"""

from __future__ import annotations

import collections
import contextlib
import json
import logging
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np

from unetlab.atomic import atomic_path, remove_tree
from unetlab.data import ome
from unetlab.data.geotiff import MapGrid, grid_length_unit
from unetlab.data.io import write_csv
from unetlab.data.large_ids import id_dtype
from unetlab.data.nodata import either, touched_ids
from unetlab.data.object_sizes import first_pixels, raster_ranks
from unetlab.data.regions import value_ids
from unetlab.data.tiff_files import is_tiff_name
from unetlab.data.world_file import grid_pixel_size, input_grid
from unetlab.errors import OutputError
from unetlab.inference.measure import (
    TableSums,
    class_areas,
    class_counts,
    named_channels,
    pixel_pair,
    plane_columns,
    with_map_centroids,
    with_micrometres,
)
from unetlab.inference.merged_objects import streamed_counts, tally_merged, unsplit
from unetlab.inference.objects import ObjectOptions, objects_in_bands
from unetlab.inference.outlines import (
    Polygons,
    boxed_polygons,
    imagej_positions,
    roi_zip,
    write_planes,
)
from unetlab.inference.semantic_bands import SemanticBands, exact_in_bands
from unetlab.inference.slide_axes import slide_page_axes
from unetlab.inference.slide_outputs import Together, seal
from unetlab.inference.table_extras import SaturationCounts, appended_columns
from unetlab.words import twelve_digits
from unetlab.zip_damage import (
    MEMBER_DAMAGE,
    before_start,
    damaged_zip,
    raise_if_disk,
)

log = logging.getLogger(__name__)

#: Fewest rows of a band that are turned into objects (a band also gets a margin of context
#: above and below: ``ObjectOptions.margin``); the most a semantic model's regions are
#: found in at a time (no margin: :class:`SemanticBands`).
OBJECT_BAND_ROWS = 256
#: Rows read at a time when object ids are renumbered and measured (whole chunk rows) ...
STREAM_ROWS = 512
#: ... in pieces of about this many pixels (whole chunk columns), so that memory does not
#: grow with the slide's width: a 16384-px-wide band of 1024 rows measured at once took
#: about 1.1 GB (bench/README.md, whole-slide images).
PIECE_PIXELS = 2**21
#: The most pixels of a band's window (band and margins) its objects are found in, where
#: they reach the window's cut edges (:func:`widest_margin`).
WINDOW_PIXELS = 2**23


def id_staging(objects: Path) -> Path:
    """Where the provisional ids of the objects output ``objects`` are staged."""
    return objects.parent / f".{objects.name}.ids.partial"


def lookup_path(stage: Path, page: int) -> Path:
    """Where the lookup from a page's provisional ids (staged at ``stage``) to its objects'
    ids is staged, where the page has one (:meth:`SlideObjects.add_page`)."""
    return stage / f"lookup_{page}.npz"


def seams_path(stage: Path, page: int) -> Path:
    """Where a page's count of objects that may differ at its band seams is staged with
    its provisional ids (staged at ``stage``), for the run that publishes them to say
    (:meth:`SlideObjects.add_page`)."""
    return stage / f"seams_{page}.json"


class SlideObjects:
    """Objects of one streamed slide: :meth:`add_page` as its probabilities stream past,
    then :meth:`publish` writes ``objects`` (ids) and ``table`` (CSV), and after
    :meth:`outline` ``geojson`` (outlines), atomically."""

    def __init__(
        self,
        options: ObjectOptions,
        record: dict | None,
        labels: ome.OutputSpec,
        finals: dict[str, Path],
        output_format: str,
    ):
        self.options, self.record, self.finals = options, record, finals
        self.output_format = output_format
        # uint32, widened to uint64 only where a page's ids pass it (_fitted)
        self.spec = replace(labels, dtype=np.dtype(np.uint32), colormap=None, classes=None)
        self.stage = id_staging(finals["objects"])
        self.ids = None  # the staged array of provisional ids: staged()
        self.luts: list[tuple] = []  # after publish: each page's provisional -> final ids
        self.counts: list[int] = []
        self.classes: dict[str, int] = {}  # after publish: a semantic model's, of each class
        self.areas: dict[str, float] = {}  # and their area in m² on a map
        self.labels: Callable[[int, slice, slice], np.ndarray] | None = None  # classify()
        self.kinds: dict = {}  # the table's class keywords but the labels: classify()
        self.outlined: tuple | None = None  # (the class QuPath files them under, colours)
        self.formats: tuple[str, ...] = ()  # the outlines written: "geojson", "rois"
        self.channels: list[str] = []  # the slide's channel names: the CSV's column names
        # the input's name: the table ends with saturated_fraction (an integer slide) and
        # image, as an image read whole (:mod:`unetlab.inference.table_extras`); None: not
        self.name: str | None = None
        self.position: int | None = None  # and position (of a multi-position file)
        self.saturated: list[np.ndarray | None] = []  # each page's, by row (_renumber)
        # the pixels of a raw window at (row, column) of its page that are no sample ((r, W)
        # bool or None: nodata, alpha 0, a CZI mosaic's gaps;
        # :mod:`unetlab.inference.slide_nodata`): objects beside them touch the border
        self.invalid: Callable[[np.ndarray, tuple], np.ndarray | None] | None = None
        # the pixels of no class of a window (page, rows, cols) of the slide's labels
        # (:func:`~unetlab.inference.objects.no_class_pixels`): objects beside them too
        self.no_class: Callable[[int, slice, slice], np.ndarray | None] | None = None

    def staged(self, *, new: bool = True):
        """The staged array of provisional ids, created (``new``) or reopened (a resumed
        slide's, or one created with the slide's other staged arrays; in its dtype: one
        widened before the stop is uint64, :meth:`_fitted`)."""
        self.ids = ome.create(self.stage, self.spec) if new else ome.open_level(self.stage)
        self.spec = replace(self.spec, dtype=np.dtype(self.ids.dtype))
        return self.ids

    def check_staged(self, pages: int) -> None:
        """Open the zip directory of each lookup a stopped run staged of its done pages (of
        ``pages``: :func:`lookup_path`), as a resumed run begins: one cut short is refused in
        one line (:func:`_lookup_read`) before any tile is predicted, where it was refused
        once the pages left were predicted, as it was published (review s62). A page cannot
        be done again alone (a resumed slide goes on from its first row not done): the fix
        says to predict the slide afresh. Only the directories are read: a lookup is written
        by atomic_path, so a crash leaves it whole or cut short (its directory, at its end,
        gone); reading the arrays too cost ~1 ms a page (10000 pages: 8-10 s, s62 review).
        A bad CRC within (the disk's damage since) is refused as its page is published.
        One process reads them: a slide's objects are found in one (a group is refused)."""
        for page in range(pages):
            if (staged := lookup_path(self.stage, page)).exists():
                with open(staged, "rb") as file, _lookup_read(staged), zipfile.ZipFile(file) as z:
                    _check_members(z)

    def _fitted(self, ids: np.ndarray, sink) -> np.ndarray:
        """A band's provisional ``ids`` in the staged dtype (:func:`staged_ids`), the staged
        array first widened where they pass it (:func:`staged_id_dtype`: the ids really
        given, not a bound from the page's size) and ``sink`` writing to the wider one."""
        largest = int(ids.max(initial=0))  # scanned once: staged_ids checks it too
        dtype = staged_id_dtype(largest, self.ids.dtype)
        if dtype != self.ids.dtype:
            log.info(
                "%s: its provisional object ids pass 2**32 - 1: staged as %s from here on",
                self.finals["objects"].name,
                dtype,
            )
            self.spec = replace(self.spec, dtype=dtype)
            self.ids = widened(self.stage, self.ids, self.spec, (sink.page, sink.flushed))
            sink.array = self.ids
        return staged_ids(ids, self.ids.dtype, largest)

    def classify(
        self,
        labels: Callable[[int, slice, slice], np.ndarray],
        *,
        class_names: list[str] | None = None,
        background: int | None = None,
    ) -> None:
        """Give the objects the ``class`` (and ``class_name`` by ``class_names``) columns
        of :func:`~unetlab.inference.measure.object_table` (a semantic model's of several
        object classes: :func:`~unetlab.inference.objects.measured_classes`): ``labels(page,
        rows, cols)`` reads the class indices of a window of the slide's labels; after
        :meth:`publish`, ``classes`` holds the objects of each class."""
        self.labels = labels
        self.kinds = dict(class_names=class_names, background=background)

    def outline(
        self, name: str | None, colours: dict | None = None, formats: tuple = ("geojson",)
    ) -> None:
        """Also publish the objects' outlines, of class ``name`` (QuPath's), in ``formats``
        (``"geojson"``, ``"rois"``: ImageJ ROIs in the level's pixels, as the ids), the
        classes in ``colours`` (by name: the overlay's,
        :func:`~unetlab.inference.outlines.outline_colours`)."""
        self.outlined, self.formats = (name, colours), tuple(formats)

    def outline_paths(self) -> list[Path]:
        """The outlines' outputs, as :meth:`outline` asked for them (none where not)."""
        return [self.finals[kind] for kind in self.formats] if self.outlined else []

    def add_page(
        self,
        page: int,
        rows: Iterable[tuple[int, np.ndarray]],
        height: int,
        slide=None,
        raw=None,
        noted: Callable[[int, int], None] | None = None,
    ) -> None:
        """Provisional ids of one page from its ``(y, (K, r, W) probabilities)`` rows (and,
        for a semantic model's, their lookup to the ids of the page read whole, staged
        with them: :func:`lookup_path`). ``slide``: the slide the rows are of, whose
        :attr:`invalid` pixels (nodata) cut the objects beside them for their least sizes,
        as ``outside`` does read whole
        (:func:`~unetlab.inference.objects.objects_from_probabilities`); ``raw``: the page
        as its tiles read it (``raw[rows]``: a :class:`~unetlab.data.slides.SlidePage`,
        which keeps the band of rows it read last, as the rows' nodata was blanked from
        it), where a semantic model's regions read the rows' raw pixels instead of from the
        slide again (bands with a margin read rows before the kept band: from the slide).
        ``noted(row, height)``: called as each band's ids are written, the rows before
        ``row`` done (the tile bar says it: the work between two rows of tiles)."""
        sink = ome.RowSink(self.ids, self.spec, page, 0, height)
        if noted is not None:
            sink = _Noted(self.ids, self.spec, page, height, noted)
        if exact_in_bands(self.options):
            self._add_regions(sink, page, rows, height, self._outside(slide, page, raw))
        else:
            self._add_bands(sink, page, rows, height, self._outside(slide, page))

    def _add_regions(self, sink: ome.RowSink, page: int, rows, height: int, outside) -> None:
        """:meth:`add_page` where :class:`SemanticBands` finds the objects exactly (a semantic
        model's, :func:`exact_in_bands`): the rows' regions' ids into ``sink``, and
        their lookup to the objects of the page read whole staged (:func:`lookup_path`)."""
        regions = SemanticBands(self.options, height, self.spec.shape[-1])
        for y, block in rows:  # in bands of OBJECT_BAND_ROWS at most: less memory
            for top in range(0, block.shape[1], OBJECT_BAND_ROWS):
                band = block[:, top : top + OBJECT_BAND_ROWS]
                y0 = y + top
                ids = regions.add(y0, band, outside(y0, y0 + band.shape[1]))
                sink.write(y0, self._fitted(ids, sink))
        sink.close()
        log.info(  # after the tiles' 100%: their regions are joined into objects
            "%s: finding the objects of %d regions (holes, least sizes)",
            self.finals["objects"].name,
            regions.count,
        )
        keys, values = regions.lookup()
        # staged as small as they go, and so held while publishing: int64 pairs of a dense
        # slide's millions of regions were twice the memory
        values = values.astype(id_dtype(int(values.max(initial=0))))
        # atomically: a run killed while writing it left a damaged one (s61)
        with atomic_path(lookup_path(self.stage, page)) as tmp:
            np.savez(tmp, keys=keys.astype(self.ids.dtype), values=values)

    def _add_bands(self, sink: ome.RowSink, page: int, rows, height: int, outside) -> None:
        """:meth:`add_page` otherwise: the objects of bands with a margin of
        context (:func:`objects_in_bands`) into ``sink``, and how sure their seams are
        staged (:func:`seams_path`)."""
        margin = self.options.margin(self.record)
        widest = widest_margin(margin, self.spec.shape[-1])
        unsure: list[int] = []
        bands = objects_in_bands(
            rows,
            height=height,
            options=self.options,
            margin=margin,
            band_rows=band_rows(margin),
            outside=outside,
            max_margin=widest,
            unsure=unsure,
        )
        for y, ids in bands:
            sink.write(y, self._fitted(ids, sink))
        sink.close()
        # staged with the ids: a rerun that only publishes them says the same line
        with atomic_path(seams_path(self.stage, page)) as tmp:
            tmp.write_text(json.dumps({"unsure": sum(unsure), "widest": widest}))

    def _seams(self, pages: int) -> tuple[int, int]:
        """``(unsure, widest)``: the objects of the ``pages`` that may differ at their band
        seams and the widest margin of their bands, as staged (:func:`seams_path`)."""
        unsure, widest = 0, 0
        for page in range(pages):
            path = seams_path(self.stage, page)
            if path.exists():
                found = json.loads(path.read_text())
                unsure, widest = unsure + found["unsure"], max(widest, found["widest"])
        return unsure, widest

    def _outside(self, slide, page: int, raw=None):
        """``outside(top, bottom)``: the (rows, W) pixels of rows ``[top, bottom)`` of
        ``page`` that are no sample (:attr:`invalid` of the raw rows: of ``raw[top:bottom]``
        where given, else read from ``slide``), or None."""
        if (slide is None and raw is None) or self.invalid is None:
            return lambda top, bottom: None
        if raw is not None:
            return lambda top, bottom: self.invalid(raw[top:bottom], (top, 0))
        cols = slice(0, self.spec.shape[-1])
        return lambda top, bottom: self.invalid(
            slide.read(page, slice(top, bottom), cols), (top, 0)
        )

    def publish(self, slide, together: Together | None = None, *, told=None) -> list[Path]:
        """Renumber, measure and publish; returns the objects and table paths. ``counts``:
        then the objects of each page (and ``classes`` of each class, where classified:
        :meth:`classify`). ``together``: the slide's outputs written into its
        temporaries (:class:`~unetlab.inference.slide_outputs.Together`), published with the
        others when it ends (default: each put in place as written). ``told(name)``: the
        function that says how far the work on output ``name`` is (:data:`~unetlab.data.
        ome.Told`), or None."""
        own = together is None
        with Together(self.output_format) if own else contextlib.nullcontext(together) as at:
            if own:
                fmt = self.output_format
                at.reserve(self.finals["objects"], folder=fmt == "ome-zarr")
                at.reserve(self.finals["table"])
                for outlines in self.outline_paths():
                    at.reserve(outlines)
            return self._publish(slide, at, told or (lambda name: _untold))

    def _publish(self, slide, at: Together, told) -> list[Path]:
        """:meth:`publish` into ``at``. The staged ids go once published where ``at`` has no
        publishing folder; with one they stay (a stop keeps them for the rerun to publish
        again), and go with the slide's other stagings once the outputs are in place
        (:func:`~unetlab.inference.slide_outputs.finish`)."""
        try:
            shown = self._written(slide, at, told)
        finally:
            if at.folder is None:
                remove_tree(self.stage, ignore_errors=True)
        table = {k: np.concatenate([t[k] for t in shown]) for k in shown[0]}
        write_csv(at.at(self.finals["table"]), table)
        self.classes, self.areas = class_counts(table), class_areas(table)
        return [self.finals["objects"], self.finals["table"], *self.outline_paths()]

    def _written(self, slide, at: Together, told) -> list[dict]:
        """The renumbered ids sealed into ``at`` (and the outlines written there); returns
        each page's table, in level-0 pixels. ``told(name)``: the function that says how
        far the work on output ``name`` is (:data:`~unetlab.data.ome.Told`)."""
        pages, h, w, _ = slide.shape
        name = self.finals["objects"].name
        said = told(name)  # how far the work on the objects' output is
        windows = pages * sum(1 for _ in pieces(h, w))
        done = ome.counter(said, "finding the ids of its objects", windows)
        luts = [self._present(p, h, done) for p in range(pages)]
        self.counts = [int(values.max(initial=0)) for _, values in luts]  # ids 1..n
        spec = replace(self.spec, dtype=id_dtype(max(self.counts)))
        stage = ome.staging_path(self.finals["objects"])
        out = ome.create(stage, spec)
        self.saturated = []
        done = ome.counter(said, self._measuring(sum(self.counts)), windows)
        tables = [self._renumber(p, h, w, luts[p], out, spec, slide, done) for p in range(pages)]
        # kept for the overlay (final_rows) as small as they go: provisional ids as staged,
        # final ids as written (int64 pairs of a slide's millions of regions: tens of MB)
        self.luts = [
            (k.astype(self.spec.dtype, copy=False), v.astype(spec.dtype, copy=False))
            for k, v in luts
        ]
        if unsplit(self.options):  # regions that look merged: predict's hint, as read whole
            for p, table in enumerate(tables):
                tally_merged(streamed_counts(self._reader(out, p), table, list(pieces(h, w))))
        note = seam_note(*self._seams(pages))
        if note is not None:
            log.info("%s: %s", name, note)
        if pages > 1:  # page, t, t_s, z, z_um as a stack read whole has them
            lead = spec if _axes_known(slide) else replace(spec, axes=spec.axes.replace("z", ""))
            tables = [{**_plane_columns(lead, p, len(t["id"])), **t} for p, t in enumerate(tables)]
        scale = tuple(getattr(slide, "downsample", None) or (1.0, 1.0))
        grid = level_grid(slide, scale)  # a GeoTIFF's place, of this level's pixels
        shown = self._shown(tables, scale, grid)  # the CSV's, in level 0's frame
        # the outlines traced from the renumbered ids (the level's pixels: ``tables``)
        # while they are staged, written as traced, once for both formats
        formats = [k for k in ("geojson", "rois") if k in self.formats]  # GeoJSON first
        if formats:  # one step, said as the first's output (_tracing)
            tracing = (at, formats, told(self.finals[formats[0]].name))
            with self._rois(out, tables, shown, (h, w), tracing, slide) as planes:
                if "geojson" in formats:
                    where = at.at(self.finals["geojson"])
                    self._write_geojson(planes, len(tables) > 1, where, scale, grid)
        seal(at, stage, self.finals["objects"], spec, said)
        return shown

    def _measuring(self, count: int) -> str:
        """The step that numbers and measures the ``count`` objects, which gives a semantic
        model's their class too (:meth:`classify`: each window's labels read as it is
        measured), said as its own work ("classifying"), not left out of the words."""
        doing = "numbering, measuring and classifying" if self.labels is not None else None
        return f"{doing or 'numbering and measuring'} {count:,} objects"

    def _shown(self, tables: list[dict], scale, grid: MapGrid | None) -> list[dict]:
        """Each page's table (measured in the pixels of a level ``scale`` ((y, x): its
        downsample) times level 0's, on ``grid``: :func:`level_grid`) as the CSV and the
        GeoJSON give it, every column in level 0's frame, where QuPath places shapes on
        the slide and as level 0 read whole gives them: positions, sizes and areas in
        level-0 pixels (:func:`in_level0_pixels`), the um columns (a map's m) those times
        level 0's pixel size (a centroid from the centre of level 0's top-left pixel), a
        map's X and Y (the same point at any level); intensities are the level's pixels'
        (said in a line at a level)."""
        pixel = self._pixel_size(grid)
        unit = grid_length_unit(pixel, grid)  # a map's: metres
        tables = [with_map_centroids(t, grid) for t in tables]  # a map's X and Y
        shown = [in_level0_pixels(t, scale) for t in tables]
        size = level0_pixel_size(pixel, scale)
        shown = [with_micrometres(t, size, unit=unit) for t in shown]
        shown = [named_channels(t, self.channels) for t in shown]
        if self.name is not None:  # appended: the earlier columns keep their places
            name, at = self.name, self.position
            shown = [appended_columns(t, name, s, at) for t, s in zip(shown, self.saturated)]
        if scale != (1.0, 1.0):
            log.info(
                "%s: positions, sizes and areas in level-0 pixels (this level's times %s), "
                "the %s columns those times level 0's pixel size (centroids from the centre "
                "of level 0's top-left pixel); intensities are this level's pixels' "
                "(integrated_intensity: their mean times the level-0 area, not their sum)",
                self.finals["table"].name,
                " x ".join(f"{s:g}" for s in scale),
                unit,
            )
        return shown

    def _outlines(
        self, out, page: int, table: dict, h: int, w: int
    ) -> Iterator[tuple[int, Polygons]]:
        """The outlines of a page's objects, ``(id, polygons)`` in id order as they are
        traced from the renumbered ids ``out`` window by window: each object in the window
        of the piece (:func:`pieces`) its box's top-left pixel lies in, read as far down and
        right as that piece's objects reach. An object is held only until those of lower
        ids are out (ids run down the page, band by band, so a few windows' worth)."""
        top, left = table["bbox_top"], table["bbox_left"]
        bottom, right = table["bbox_bottom"], table["bbox_right"]
        windows = list(pieces(h, w))
        row_starts = np.unique([rows.start for rows, _ in windows])
        col_starts = np.unique([cols.start for _, cols in windows])
        key = np.searchsorted(row_starts, top, "right") * len(col_starts)
        key += np.searchsorted(col_starts, left, "right")
        order = np.argsort(key, kind="stable")
        if not len(order):
            return
        wanted, pending = iter(np.sort(table["id"]).tolist()), {}
        following = next(wanted, None)
        for group in np.split(order, np.flatnonzero(np.diff(key[order])) + 1):
            y0, x0 = int(top[group].min()), int(left[group].min())
            rows, cols = slice(y0, int(bottom[group].max())), slice(x0, int(right[group].max()))
            window = np.asarray(out[self._at(page, rows, cols)])
            boxes = {int(table["id"][i]): (top[i], left[i], bottom[i], right[i]) for i in group}
            pending.update(boxed_polygons(window, boxes, origin=(y0, x0)))
            while following in pending:
                yield following, pending.pop(following)
                following = next(wanted, None)
        yield from sorted(pending.items())

    def _pixel_size(self, grid: MapGrid | None) -> tuple[float, float] | None:
        """(y, x) micrometres of this level's pixel: the slide's own, else that of the world
        file placing it (``grid``: :func:`level_grid`) where a CRS in metres beside it says
        so (:func:`~unetlab.data.world_file.grid_pixel_size`), as an image read whole
        measures it (a TIFF placed by a ``.tfw`` and ``.prj``: its table in metres)."""
        return self.spec.pixel_size if self.spec.pixel_size is not None else grid_pixel_size(grid)

    def _write_geojson(self, planes, stack: bool, path: Path, scale, grid) -> Path:
        """``<stem>_objects.geojson`` (at ``path``): each page's objects of ``planes``
        (:meth:`_rois`: traced from the renumbered ids, in the level's pixels) written as they
        are traced, measured by the page's rows (the CSV's), a ``stack``'s on their planes
        (z: the page); their coordinates times ``scale`` ((y, x): a pyramid level's
        downsample), or on a map the level's ``grid``'s (:func:`level_grid`: the same points
        as an image read whole)."""
        name, colours = self.outlined
        planes = ((objects, rows, {"z": page} if stack else None) for objects, rows, page in planes)
        how = dict(pixel_size=self._pixel_size(grid), class_names=name, grid=grid)
        how["colours"] = colours
        how["scale"] = None if grid is not None else scale  # a map's: the level's grid
        return write_planes(path, planes, **how)

    @contextlib.contextmanager
    def _rois(self, out, tables, shown, size, said: tuple, slide) -> Iterator[Iterator[tuple]]:
        """Each page's ``(objects, rows, page)``, its objects traced once (:meth:`_traced`
        from ``out``, of (H, W) ``size``; ``shown``: the CSV's rows), and where asked for
        written as they pass into ``<stem>_objects_rois.zip`` as ImageJ ROIs, in the level's
        pixels (those of the ids image, as an image read whole pairs them), a stack's
        ``p<page>-<id>`` at its page's position as read whole
        (:func:`~unetlab.inference.outlines.imagej_positions`: a hyperstack's (c, z, t); s64
        review: its slice went on the wrong frame), a semantic model's named and drawn by
        class; each page's rest pulled before the next page (:func:`_drained`: whatever
        the GeoJSON writer pulls), and with ROIs alone when the block ends. ``said``:
        (the outputs' Together, the outline formats, GeoJSON first, and the ``told`` of the
        first's output). Traced twice with both before (s64 review); both are one step, the
        GeoJSON's, whose line names the ROIs (two counts by turns were a line each an
        object: new-user s65)."""
        at, formats, told = said
        planes = self._traced(out, tables, shown, size, (formats, told))
        if "rois" not in formats:
            yield planes
            return
        stack = len(tables) > 1
        where = imagej_positions(slide_page_axes(slide), len(tables), slide.shape[3])
        digits = max(4, len(str(max(self.counts, default=0))))
        how = dict(digits=digits, colours=self.outlined[1])
        with roi_zip(at.at(self.finals["rois"]), **how) as put:
            at_page = (where[page] if stack else None for page in range(len(tables)))
            written = _drained(
                (put(objects, rows, position, page), rows, page)
                for (objects, rows, page), position in zip(planes, at_page)
            )
            yield written
            collections.deque(written, maxlen=0)  # each page's rest written: _drained

    def _traced(self, out, tables, shown, size, said: tuple) -> Iterator[tuple]:
        """``(objects, rows, page)`` of each page: its objects' ``(id, polygons)`` as
        :meth:`_outlines` traces them from ``out`` (of (H, W) ``size``), and its rows of
        ``shown`` (the CSV's); the count of them goes to ``told`` of ``said`` (``(formats,
        told)``: the step of tracing them into the formats, :meth:`_tracing`)."""
        formats, told = said
        total = sum(len(table["id"]) for table in tables)
        done = ome.counter(told, self._tracing(formats, total), total)
        for page, table in enumerate(tables):
            yield _counted(self._outlines(out, page, table, *size), done), shown[page], page

    def _tracing(self, formats: list[str], total: int) -> ome.Step:
        """The step of tracing ``total`` objects' outlines into ``formats`` ("geojson" first,
        "rois"): its log line names the GeoJSON, and the ROI zip beside it where both are
        asked for; its bar says "<stem>_objects: outlines (GeoJSON + ImageJ ROIs)", its count
        of objects beside (the line left no room for its count: review s65; its time left
        was cut off at 80 columns: s66, :func:`~.slide_progress.fitted`)."""
        first, both = formats[0], len(formats) == 2
        stem = self.finals[first].name.removesuffix(".geojson").removesuffix("_rois.zip")
        words = " + ".join(_FORMAT_WORDS[kind] for kind in formats)
        short = f"{stem}: outlines ({words})"  # its count on the bar beside
        doing = "tracing the outlines of" if first == "geojson" else "writing the ImageJ ROIs of"
        also = f" (and their ImageJ ROIs, {self.finals['rois'].name})" if both else ""
        return ome.Step(short, f"{doing} {total:,} objects{also}", "object")

    def _present(self, page: int, height: int, done=lambda: None) -> tuple:
        """``(keys, values)``: the sorted provisional ids of a page, 0 first, and the id
        1..n of each (0: none): the staged lookup of a semantic model's
        (:meth:`add_page`), else the ids found, numbered in the raster order of their
        first pixels as an image read whole numbers them
        (:func:`~unetlab.inference.objects.raster_numbered`); ``done()`` after each window
        read (the page's windows at once where its lookup is staged: none to read, the
        step's count went on at 0)."""
        windows = pieces(height, self.spec.shape[-1])
        staged = lookup_path(self.stage, page)
        if staged.exists():
            for _ in windows:
                done()
            return _staged_lookup(staged)
        width, found = self.spec.shape[-1], []
        for rows, cols in windows:
            found.append(first_places(self.ids[self._at(page, rows, cols)], rows, cols, width))
            done()
        return raster_lookup(found)

    def final_rows(self, page: int) -> Callable[[slice, slice], np.ndarray]:
        """``read(rows, cols)``: a window of page ``page``'s final ids (those written to
        ``objects``), from the staged provisional ids renumbered as :meth:`publish` wrote
        them; after :meth:`publish`, while the ids are staged (a publishing folder's)."""
        keys, values = self.luts[page]  # in the dtypes staged and written

        def read(rows: slice, cols: slice) -> np.ndarray:
            return values[np.searchsorted(keys, self.ids[self._at(page, rows, cols)])]

        return read

    def _at(self, page: int, rows: slice, cols: slice) -> tuple:
        return (*self.spec.place(page, rows)[:-1], cols)

    def _reader(self, out, page: int) -> Callable[[slice, slice], np.ndarray]:
        """``read(rows, cols)``: a window of page ``page`` of the renumbered ids ``out``."""

        def read(rows: slice, cols: slice) -> np.ndarray:
            return np.asarray(out[self._at(page, rows, cols)])

        return read

    def _renumber(self, page: int, h: int, w: int, lut, out, spec, slide, done) -> dict:
        keys, values = lut
        sums = TableSums(int(values.max(initial=0)))
        near = np.zeros(int(values.max(initial=0)) + 1, bool)  # beside invalid pixels
        top = None  # each object's pixels at the page's ceiling (an integer slide's)
        image = slide.page(page)
        for rows, cols in pieces(h, w):
            where = self._at(page, rows, cols)
            ids = values[np.searchsorted(keys, self.ids[where])]
            out[where] = ids.astype(spec.dtype)
            pixels = image[rows, cols]
            if self.invalid is not None or self.no_class is not None:
                near |= self._near(page, rows, cols, (h, w), lut, slide, near.size)
            pixels = pixels[..., 0] if pixels.shape[-1] == 1 else pixels
            classes = None if self.labels is None else self.labels(page, rows, cols)
            sums.add(rows.start, ids, pixels, cols.start, classes=classes)
            if top is None and np.issubdtype(pixels.dtype, np.integer):
                top = SaturationCounts(near.size, pixels.dtype, _channels(pixels))
            if top is not None:
                top.add(ids, pixels)
            done()
        image.drop()
        table = sums.table(height=h, width=w, **self.kinds)
        present = np.asarray(table["id"], np.int64)
        area = np.maximum(np.asarray(table["area"], np.float64), 1)
        self.saturated.append(None if top is None else top.pixels()[present] / area)
        if near.any():  # cut by the nodata outline or no class, as an image read whole flags
            cut = near[np.asarray(table["id"], np.int64)]
            table["touches_border"] = np.asarray(table["touches_border"], bool) | cut
        return table

    def _near(self, page: int, rows: slice, cols: slice, shape, lut, slide, n: int):
        """Bool per final id (``n``): the object has a pixel of window ``rows, cols`` beside
        or in a pixel that cuts it (:meth:`_cutting`), read with a 1-px rim (a neighbour
        across the window's edge)."""
        h, w = shape
        r0, r1 = max(rows.start - 1, 0), min(rows.stop + 1, h)
        c0, c1 = max(cols.start - 1, 0), min(cols.stop + 1, w)
        found = np.zeros(n, bool)
        bad = self._cutting(page, slice(r0, r1), slice(c0, c1), slide)
        if bad is None:
            return found
        keys, values = lut
        rim = self._at(page, slice(r0, r1), slice(c0, c1))
        ids = values[np.searchsorted(keys, self.ids[rim])]
        inner = np.zeros_like(bad)  # only this window's own objects: each counted once
        inner[rows.start - r0 : rows.stop - r0, cols.start - c0 : cols.stop - c0] = True
        found[touched_ids(np.where(inner, ids, 0), bad)] = True
        return found

    def _cutting(self, page: int, rows: slice, cols: slice, slide) -> np.ndarray | None:
        """The pixels of a window of ``page`` that cut the objects beside them: those of
        :attr:`invalid` (nodata) and of :attr:`no_class`; None where none is told."""
        at = (rows.start or 0, cols.start or 0)
        bad = None if self.invalid is None else self.invalid(slide.read(page, rows, cols), at)
        return either(bad, None if self.no_class is None else self.no_class(page, rows, cols))


def _staged_lookup(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """``(keys, values)``: a page's lookup staged at ``path`` (:func:`lookup_path`); one
    line where it is damaged (:func:`_lookup_read`), a traceback before (s61). Its page is
    done by then: not staged again here."""
    with open(path, "rb") as file, _lookup_read(path), np.load(file, allow_pickle=False) as lut:
        return lut["keys"], lut["values"]


@contextlib.contextmanager
def _lookup_read(path: Path) -> Iterator[None]:
    """The staged lookup at ``path`` found damaged within (after it was written: a crash
    before it reached the disk) said in one line with the fix; an error of the file system
    (EMFILE, EACCES, EIO) is no damage, whose fix throws the slide's work away (review
    s61): said as such (:func:`~unetlab.zip_damage.raise_if_disk`, a traceback before, s62
    review). A rerun reads it again, and a page cannot be done again alone: the disk's
    fix also says to predict the slide afresh, the way out of a disk that never reads it
    (review s63). The file is opened outside."""
    afresh = f"remove {path.parent} and run again (it predicts the slide afresh)"
    try:
        yield
    except (*MEMBER_DAMAGE, ValueError, KeyError) as exc:
        disk = f"check the disk it is on and run again, or {afresh}"
        raise_if_disk(path, exc, disk=disk, kind=OutputError)  # the disk's, not the zip's
        raise damaged_zip(path, exc, afresh, OutputError) from None


def _check_members(lookup: zipfile.ZipFile) -> None:
    """KeyError where the staged ``lookup`` lacks its keys or values, BadZipFile where its
    directory puts one before the file's start (:meth:`SlideObjects.check_staged`)."""
    for name in ("keys.npy", "values.npy"):
        if (said := before_start(lookup.getinfo(name))) is not None:
            raise zipfile.BadZipFile(said)


#: each outline format as a bar names it (:meth:`SlideObjects._tracing`)
_FORMAT_WORDS = {"geojson": "GeoJSON", "rois": "ImageJ ROIs"}


def _untold(what: str | ome.Level | ome.Step, done: int, total: int) -> None:
    """A :data:`~unetlab.data.ome.Told` that tells no one."""


def _drained(pages: Iterator[tuple]) -> Iterator[tuple]:
    """Each of ``pages``' ``(objects, rows, page)``, the rest of its ``objects`` pulled (each
    written as a ROI as it passes) before the next page is: the ROIs are written whatever
    another writer pulls of a page, each page's objects traced and let go in turn (s65: the
    GeoJSON writer's pulling was relied on)."""
    for objects, rows, page in pages:
        yield objects, rows, page
        collections.deque(objects, maxlen=0)


def _counted(items: Iterator, done: Callable[[], None]) -> Iterator:
    """``items``, ``done()`` after each."""
    for item in items:
        yield item
        done()


def _channels(pixels: np.ndarray) -> int:
    return 1 if pixels.ndim == 2 else pixels.shape[2]


class _Noted(ome.RowSink):
    """A :class:`~unetlab.data.ome.RowSink` of a page's rows ``[0, height)`` that calls
    ``noted(row, height)`` after each write, ``row`` the first row not yet written."""

    def __init__(self, array, spec: ome.OutputSpec, page: int, height: int, noted: Callable):
        super().__init__(array, spec, page, 0, height)
        self.noted = noted

    def write(self, y: int, block: np.ndarray) -> None:
        super().write(y, block)
        self.noted(y + block.shape[-2], self.stop)


def band_rows(margin: int) -> int:
    """Rows of the bands a page's objects are found in with ``margin`` rows of context
    (:func:`objects_in_bands`): a page no taller is one band, with no seam (audit s34
    stacks 9: each 256-row plane of a streamed stack was warned about its seams)."""
    return max(2 * margin, OBJECT_BAND_ROWS)


def widest_margin(margin: int, width: int) -> int:
    """The most rows of context a band of a ``width``-px-wide page is widened to while its
    objects reach the cut edges of its window (:func:`objects_in_bands`: a band then as
    tall as its margin): a window of at most :data:`WINDOW_PIXELS`, never below ``margin``."""
    return max(margin, WINDOW_PIXELS // max(width, 1) // 3)


def staged_id_dtype(largest: int, staged: np.dtype) -> np.dtype:
    """The dtype provisional ids up to ``largest`` are staged in, where they are ``staged``
    (uint32 at first) so far: that one where it holds them, else uint64 (ids past 2**32 - 1
    cast to uint32 wrapped and joined unrelated objects). The ids really given, as bands
    are labelled: a bound from the page's size (every window's pixels) chose uint64 for
    pages over ~4 Gpx, twice the staged bytes, for ids that are a small share of it."""
    staged = np.dtype(staged)
    return staged if largest <= np.iinfo(staged).max else np.dtype(np.uint64)


def widened(stage: Path, narrow, spec: ome.OutputSpec, written: tuple[int, int]):
    """The staged ids at ``stage`` (the array ``narrow``) rewritten in ``spec``'s wider dtype
    window by window (:func:`pieces`), put in its place; returns it. Only the ``written``
    part is copied (``(page, rows)``: the pages before ``page``, pages being staged in
    order, and the first ``rows`` of it: the rows its sink flushed); the rest is unwritten
    (its fill, 0) in either. A stop before its renames leaves the narrow ids, one between
    them the wide ones out of place: :func:`finish_widening` puts them in place when the
    slide resumes (it started afresh)."""
    remove_tree(stage / "wide", ignore_errors=True)  # a stop's copy, before its renames
    wide = ome.create(stage / "wide", spec)  # in the staging: gone with it
    page, top = written
    for p in range(page + 1):
        for rows, cols in pieces(spec.shape[-2] if p < page else top, spec.shape[-1]):
            at = (*spec.place(p, rows)[:-1], cols)
            wide[at] = narrow[at]
    (stage / "0").rename(stage / "narrow")
    (stage / "wide" / "0").rename(stage / "0")
    finish_widening(stage)
    return ome.open_level(stage)


def finish_widening(stage: Path) -> None:
    """The staged ids at ``stage`` as :func:`widened` leaves them, where a stop cut it
    short: the wide ids put in place where its first rename was done and not its second
    (the copy was whole: it comes first), and the copy's or the narrow ids' folders that
    are left removed (a resumed slide's; nothing where none is there)."""
    if not (stage / "0").exists() and (stage / "wide" / "0").is_dir():
        (stage / "wide" / "0").rename(stage / "0")
    if (stage / "0").exists():
        remove_tree(stage / "narrow", ignore_errors=True)
        remove_tree(stage / "wide", ignore_errors=True)


def staged_ids(ids: np.ndarray, dtype: np.dtype, largest: int | None = None) -> np.ndarray:
    """A band's provisional ``ids`` in the staged array's ``dtype`` (widened where they
    pass it: :func:`staged_id_dtype`); RuntimeError (a bug: it was not) where one would
    wrap. ``largest``: their largest, where the caller has it (else found here)."""
    largest = int(ids.max(initial=0)) if largest is None else largest
    if largest > np.iinfo(dtype).max:
        raise RuntimeError(f"provisional id {largest} does not fit the staged {dtype}")
    return ids.astype(dtype, copy=False)


def seam_note(unsure: int, widest: int) -> str | None:
    """A line where ``unsure`` objects found in bands (:func:`objects_in_bands`) at a band
    seam, left cut at the ``widest`` margin, came out otherwise in the windows on either
    side of it or reached a cut edge of theirs: those may be split or cut otherwise than
    in the image read whole; None where none did."""
    if not unsure:
        return None
    return (
        f"{unsure} objects at a band seam may be split or cut otherwise than in the image "
        "read whole: the bands on either side give them otherwise, or they reach past the "
        f"widest margin these bands allow ({widest} rows); read it whole where memory "
        "allows (--large-pixels above its pixel count)"
    )


#: the table's columns of positions (y or x) and their edges, of lengths, of areas
_POSITIONS = {"centroid_y": 0, "centroid_x": 1}
_EDGES = {"bbox_top": 0, "bbox_bottom": 0, "bbox_left": 1, "bbox_right": 1}
_LENGTHS = ("perimeter", "equivalent_diameter", "major_axis_length", "minor_axis_length")
_AREAS = ("area",)


def level_grid(slide, downsample: tuple[float, float]) -> MapGrid | None:
    """Where the pixels of the ``slide``'s level lie on the map: its GeoTIFF's grid (level
    0's tags: a level's own carry none), else its world file's (a ``.tfw`` beside a TIFF
    without tags: :func:`~unetlab.data.world_file.input_grid`), of pixels ``downsample``
    ((y, x)) times level 0's, as its world file places them
    (:meth:`~unetlab.data.geotiff.MapGrid.level`); None for a slide neither places (or
    no TIFF)."""
    path = getattr(slide, "path", None)
    grid = input_grid(path) if path is not None and Path(path).is_file() else None
    return None if grid is None else grid.level(downsample)


def level0_pixel_size(pixel, scale: tuple[float, float]) -> tuple[float, float] | None:
    """(y, x) micrometres of a level-0 pixel, of a level's ``pixel`` size and its ``scale``
    ((y, x) level-0 pixels per pixel); None without one."""
    if pixel is None:
        return None
    return tuple(twelve_digits(v / s) for v, s in zip(pixel_pair(pixel), scale))


def in_level0_pixels(table: dict, scale: tuple[float, float]) -> dict:
    """``table`` (an object table measured in a pyramid level's pixels) in level-0 pixels,
    the frame QuPath and the GeoJSON place objects in, for a level of ``scale`` ((y, x)
    level-0 pixels per pixel): a centroid ``c`` at ``(c + 0.5) * s - 0.5`` (pixel centres),
    box edges times ``s`` (rounded), areas (and ``integrated_intensity``, the mean times
    the area) times ``sy * sx``, lengths times ``sqrt(sy * sx)``. Other columns (ids,
    intensities, shape ratios, a map's X and Y) are kept; ``table`` itself at level 0 (its
    um columns: :func:`~unetlab.inference.measure.with_micrometres` of the result, with
    :func:`level0_pixel_size`)."""
    sy, sx = scale
    if (sy, sx) == (1.0, 1.0):
        return table
    out = {}
    for name, column in table.items():
        if name in _POSITIONS:
            s = scale[_POSITIONS[name]]
            column = (column + 0.5) * s - 0.5
        elif name in _EDGES:
            column = np.rint(column * scale[_EDGES[name]]).astype(column.dtype)
        elif name in _AREAS or name.startswith("integrated_intensity"):
            column = column * (sy * sx)
        elif name in _LENGTHS:
            column = column * np.sqrt(sy * sx)
        out[name] = column
    return out


def first_places(
    ids: np.ndarray, rows: slice, cols: slice, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """``(values, places)``: the distinct ids of the window ``rows, cols`` of a page
    ``width`` px wide (``ids``: its pixels' ids), 0 first, and the raveled index on the page
    of each one's first pixel in the window (its first in raster order on the page, of
    the pixels in the window: a window is a rectangle)."""
    values, index = value_ids(np.asarray(ids))
    first = first_pixels(index)[1:]  # index 0: none
    y, x = np.divmod(first, ids.shape[-1])
    return values, (y + rows.start) * width + x + cols.start


def raster_lookup(found: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """``(keys, values)``: the sorted provisional ids of a page's windows (``found``: each
    window's :func:`first_places`), 0 first, and the id 1..n of each (0: none), numbered
    in the raster order of their first pixels on the page (the least of their windows').
    The keys keep the ids' dtype (as staged), the values are the least unsigned one that
    holds n (:func:`~unetlab.data.large_ids.id_dtype`): int64 pairs held twice the memory."""
    dtype = np.result_type(*(v for v, _ in found)) if found else np.dtype(np.uint32)
    ids = np.concatenate([np.zeros(1, dtype), *(v for v, _ in found)])
    places = np.concatenate([np.full(1, -1, np.int64), *(p for _, p in found)])
    order = np.lexsort((places, ids))  # by id, then place: each id's least place first
    ids = ids[order]
    first = np.flatnonzero(np.concatenate([[True], ids[1:] != ids[:-1]]))
    values = np.zeros(first.size, id_dtype(first.size - 1))  # keys[0]: 0, placed first (-1)
    values[1:] = raster_ranks(places[order[first[1:]]])
    return ids[first], values


def pieces(height: int, width: int, multiple: int | None = None) -> Iterator[tuple[slice, slice]]:
    """``(rows, cols)`` windows that cover an (H, W) page in order: ``STREAM_ROWS`` rows by
    whole ``multiple`` columns (default: chunks), about ``PIECE_PIXELS`` pixels each (at
    least ``multiple`` wide)."""
    multiple = multiple or ome.CHUNK
    rows = max(1, min(STREAM_ROWS, height))
    span = max(multiple, PIECE_PIXELS // rows // multiple * multiple)
    for y in range(0, height, rows):
        for x in range(0, width, span):
            yield slice(y, min(y + rows, height)), slice(x, min(x + span, width))


def _axes_known(slide) -> bool:
    """False for a streamed TIFF whose pages record no axes, nor were given (written as Z
    planes; its table has their ``page`` alone, as read whole)."""
    path = Path(getattr(slide, "path", ""))
    if getattr(slide, "given_axes", None) is not None or not is_tiff_name(path):
        return True
    return slide_page_axes(slide).letters != "Q"  # read once a slide (review s56)


def _plane_columns(spec: ome.OutputSpec, page: int, rows: int) -> dict[str, np.ndarray]:
    """The leading columns of page ``page``'s ``rows`` objects in a streamed stack's table:
    ``page``, and its ``t`` and ``z`` on the output's axes (``spec``), with ``t_s`` and
    ``z_um`` where the frame interval and Z spacing are known
    (:func:`~unetlab.inference.measure.plane_columns`; audit s34 stacks 1), a z-stack's as
    a stack read whole has them (its ``z_um`` was missing: lead s39)."""
    if not {"t", "z"} & set(spec.axes):  # pages of no axis: the page alone
        return {"page": np.full(rows, page)}
    at = spec.place(page, slice(0, 1))
    index = {a: int(i) for a, i in zip(spec.axes, at) if a in "tz"}
    return plane_columns(page, rows, index, spec.frame_seconds, spec.z_spacing)
