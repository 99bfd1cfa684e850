"""Predict image files and write the results: label images, probabilities, overlays.

:func:`predict_file` reads a PNG/JPEG/TIFF (also multi-page) and writes label images,
probabilities, overlays and, on request, objects; large images (TIFFs above ``LARGE_PIXELS``
px a page, one-page TIFFs whose whole read is estimated above
:data:`~unetlab.inference.sizing.WHOLE_BUDGET`, pyramid levels, Zarr / OME-Zarr folders) go to
:func:`unetlab.inference.slides.predict_slide`, which reads them window by window and writes
tiled pyramidal OME-TIFF or OME-Zarr, so memory is bounded by the tiles, not the image.

The outputs of an input read whole, ``<stem>`` being
:func:`~unetlab.inference.slides.output_stem` (``slide.ome.tif``: ``slide``):

- ``<stem>.png``: labels of the input's size, class indices 0..K-1 (``label_values``: the
  model's mask values instead; ``color``: a palette PNG; a model trained on palette masks
  always writes a palette PNG in its data set's colours). Multi-page inputs, and TIFFs that
  record a pixel size, give ``<stem>.tif`` instead: an ImageJ TIFF with the pixel size; a
  stack keeps the input's T and Z axes (TZYX, TYX, ZYX) and its frame interval.
- ``<stem>_prob.tif`` (``save_probabilities``): float32 (K, H, W), for a stack (T, Z, K, H,
  W) of its axes.
- ``<stem>_overlay.png`` (``draw_overlay``; ``.tif`` as the labels), with object outlines.
- ``<stem>_objects.tif`` (``objects``): one id per object (uint16, uint32 past 65,535
  objects; a stack: ids per plane), and ``<stem>_objects.csv``
  (:func:`unetlab.inference.measure.object_table`, with ``page``, and ``t`` / ``t_s`` /
  ``z`` / ``z_um`` columns for stacks; a multi-channel image's intensity columns named by
  the file's channel names, ``mean_intensity_DAPI``, as a streamed slide's:
  :func:`unetlab.inference.measure.named_channels`; a georeferenced input's (GeoTIFF
  tags, or a PNG's or TIFF's world file: :func:`unetlab.data.world_file.input_grid`) with
  each object's map X and Y, ``centroid_x_map`` and ``centroid_y_map``).
- ``<stem>_objects.geojson`` (``outlines`` "geojson" or "both": QuPath's File > Import
  objects) and ``<stem>_objects_rois.zip`` ("imagej" or "both": Fiji's ROI Manager), each
  object's outline traced along its pixels' edges (:mod:`unetlab.inference.outlines`); a
  stack's in one file, each object on its plane (as the table's ``page`` column); a
  georeferenced input's GeoJSON in its map coordinates.
- With ``objects_3d`` (a stack with a Z axis): ``<stem>_objects.tif`` holds one id per
  object across its planes (each frame's apart) and ``<stem>_objects.csv`` one row per 3-D
  object (:mod:`unetlab.inference.objects_3d`); no outlines.
- ``<stem>.pgw`` and the like: world files beside the PNG outputs of a georeferenced input
  (:mod:`unetlab.inference.world_files`), and beside each the input's CRS where it is
  known: ``<stem>.prj`` and GDAL's ``<stem>.png.aux.xml`` (QGIS reads it there).

A multi-position OME-TIFF (Micro-Manager stage positions: each OME ``Image`` a series)
gives these outputs for each position, named ``<stem>_pos0``, ``<stem>_pos1``, ...
(zero-padded past 10 positions: :mod:`unetlab.data.positions`), each with that position's
pixel size and frame interval.

Which names these are, which count as finished and whose they are, and how the output
folder is claimed: :mod:`unetlab.inference.output_rules`.

The axes of a TIFF are read from its ImageJ, OME or tifffile metadata; ``axes=`` (e.g.
``"TYX"``, ``"ZYX"``, ``"CYX"``, ``"YXC"``, ``"TCYX"``: T time, Z depth, C channels) says
them for a file that records none (pages of such a file are read as Z planes, with a
warning; pages a few pixels wide, a (Y, X, C) array saved without axes, are refused).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from unetlab.data.dicom import is_dicom_series, write_series_labels
from unetlab.data.exclude import flag_cut_objects, region
from unetlab.data.geotiff import MapGrid, grid_length_unit
from unetlab.data.io import (
    CHANNEL_GIVEN,
    held_at,
    ome_positions,
    stack_shape,
    write_csv,
    write_png,
    write_tiff,
)
from unetlab.data.large_ids import id_dtype
from unetlab.data.mask_reading import reads_h5_as_trained
from unetlab.data.mrc import is_mrc_name, write_mrc_labels
from unetlab.data.names import indices_named
from unetlab.data.nifti import is_nifti, write_labels_like
from unetlab.data.nodata import (
    PNG_NODATA_KEY,
    either,
    flag_touching,
    invalid_pages,
    nodata_tag,
)
from unetlab.data.positions import each_position, position_of, reading_position
from unetlab.data.read_notes import call_lines, note_once, note_side, note_written, read_notes
from unetlab.data.shown import shown_path
from unetlab.data.slides import no_pyramid, open_slide
from unetlab.data.tiff_files import is_tiff_name, keeping_open
from unetlab.data.tiffmeta import (
    IMAGEJ_DTYPES,
    PageAxes,
    channel_names,
    frame_seconds,
    given_sizes,
    imagej_kwargs,
    read_page_axes,
    read_pixel_size,
    scale_kwargs,
    shown_unit,
)
from unetlab.data.world_file import grid_pixel_size, input_grid
from unetlab.errors import Spelled, UnetlabError, said_as, spelled
from unetlab.group import SOLO, Group
from unetlab.inference import chosen
from unetlab.inference.coco_out import (
    claim_coco,
    coco_categories,
    refuse_coco,
    write_file_coco,
)
from unetlab.inference.drawn_again import (
    drawn_from,
    redrawable,
    series_redrawable,
    table_counts,
    written_pages,
    written_volume,
)
from unetlab.inference.file_fit import Alone, channels_alone, file_fit, index_of
from unetlab.inference.keywords import check_keywords
from unetlab.inference.labelme_out import write_model_labelme
from unetlab.inference.measure import (
    class_areas,
    class_counts,
    in_unit,
    named_channels,
    object_table,
    plane_columns,
    with_map_centroids,
    with_micrometres,
)
from unetlab.inference.merged_objects import merged_counts, merged_file, tally_merged, unsplit
from unetlab.inference.objects import (
    MIN_AREA_FLOOR,
    ObjectOptions,
    defaults_at_scale,
    grown_over,
    instance_objects,
    measured_classes,
    no_class_pixels,
    object_class_indices,
    objects_int32,
    scaled_options,
    several_object_classes,
    voting_labels,
)
from unetlab.inference.objects_3d import (
    check_planes,
    class_totals,
    flag_cut_3d,
    frame_pages,
    objects_by_frame,
    refuse_joined_splits,
    say_cubes,
    table_3d,
    table_voxel,
    voxel_size,
    with_classes_3d,
)
from unetlab.inference.objects_summary import say_units, table_columns
from unetlab.inference.outlines import outline_class, outline_colours, write_outlines
from unetlab.inference.output_rules import (
    held_folders,
    output_forms,
    output_paths,
    prediction_folder,
    refuse_claimed,
    refuse_own_input,
    refuse_theirs,
)
from unetlab.inference.page_resume import PageStaging
from unetlab.inference.page_resume import identity as page_identity
from unetlab.inference.pages import (
    OBJECTS_3D,
    file_read_axes,
    read_pages,
    refuse_unknown_stack,
    run_axes,
)
from unetlab.inference.predict import (
    PredictOptions,
    background_is_a_class,
    channel_refusal,
    check_finite,
    check_model,
    class_names_of,
    encode_labels,
    fit_channels,
    floor_run,
    labels_fitted,
    labels_from_probabilities,
    maps_fitted,
    model_background,
    model_label_nodata,
    predict_fitted,
    stack_stats,
)
from unetlab.inference.records import (
    OutputOptions,
    Provenance,
    flat_letters,
    flat_record,
    input_record,
    label_colours,
    named_by_training,
    png_text,
    prediction_record,
    tiff_kwargs,
    with_axes,
)
from unetlab.inference.rescale import auto_scale, refuse_streamed_scale
from unetlab.inference.seg_out import refuse_seg, seg_wanted, write_series_seg
from unetlab.inference.sizing import level_size_note, trained_pixel_size, unknown_scale_note
from unetlab.inference.slide_outputs import Together, finish, publishing_path
from unetlab.inference.slide_overlay import by_object
from unetlab.inference.slide_progress import PageLines
from unetlab.inference.slide_resume import input_stamp, restarts
from unetlab.inference.slides import (
    LARGE_PIXELS,
    STREAM_BUDGET,
    is_large,
    output_stem,
    predict_slide,
    streamed_names,
    volume_labels,
)
from unetlab.inference.stream_rule import (
    is_streamed,
    memory_note,
    mrc_stream_note,
    whole_read_note,
)
from unetlab.inference.table_extras import table_place, with_image_columns
from unetlab.inference.threads_look import looking_beside
from unetlab.inference.world_files import world_files
from unetlab.outputs import OVERWRITE_FIXES, outputs_kept
from unetlab.plots import object_colour_table, prediction_overlay, shown_channels
from unetlab.progress import progress_calls
from unetlab.runtime import check_precision, memory_hint
from unetlab.signals import stop_said, stop_status

__all__ = [
    "LARGE_PIXELS",
    "STREAM_BUDGET",
    "image_scale",
    "is_large",
    "label_colours",
    "predict_file",
    "stack_objects_3d",
]

log = logging.getLogger(__name__)

# --- files --------------------------------------------------------------------------------


#: label, object and overlay TIFFs, deflated (as streamed outputs are): a synthetic 6000 x
#: 6300 map of 5,000 objects took 74 MB raw, 0.3 MB deflated, written in 0.1 s; Fiji,
#: napari and QuPath read deflate
COMPRESSION = "zlib"


#: predict's batch size as the Python API and the command line spell it
BATCH_SIZE = Spelled("batch_size", "--batch-size")
#: the fix of running out of memory predicting, each caller told its form (:func:`memory_hint`;
#: each line gave both, "--level (level=)", s55)
LOWER_TILE_OR_BATCH = Spelled("lower tile_size or batch_size", "lower --tile-size or --batch-size")
EXCLUDE_ROWS = Spelled("exclude_rows=", "--exclude-rows")
NO_EXCLUDE_ROWS = Spelled("exclude_rows='none'", "--exclude-rows none")
WHOLE_3D = Spelled(
    "large_threshold=N above its pixels a plane, or objects_3d=False",
    "--large-pixels N above its pixels a plane, or drop --objects-3d",
)


def check_channel_count(model: torch.nn.Module, channel: int | tuple | None) -> None:
    """UnetlabError where ``channel`` (one; a band subset: several) is not as many channels
    as ``model`` takes (s69 review: channel=(0, 1) to predict_file with a 1-channel model
    raised a TypeError, shown as a bug)."""
    channels = getattr(model, "in_channels", 1)
    count = len(channel) if isinstance(channel, tuple) else 1
    if channel is not None and channels != count:
        raise UnetlabError(**channel_refusal(channel, channels))


def check_options(
    model: torch.nn.Module, options: PredictOptions | None = None, **settings
) -> None:
    """Refuse bad prediction settings once, before any file (UnetlabError naming the fix),
    rather than once per file."""
    o = PredictOptions.of(options, **settings)
    check_channel_count(model, o.channel)  # each file failed alike (s37 bands)
    if o.batch_size is not None and o.batch_size < 1:
        n = o.batch_size  # named as the caller spells it (s52 badinput: "batch size")
        raise UnetlabError(**spelled(lambda f: f"{f} must be at least 1, not {n}", BATCH_SIZE))
    if o.tile_size is not None:
        model.output_size(o.tile_size)  # UnetlabError naming the nearest valid sizes
    check_precision(o.precision, o.device or "cpu")


def _held_by_caller(file: _File, group: Group) -> bool:
    """True where this thread holds the folder of ``file``'s outputs already or ``group``
    shares the file (the caller holds it, as ``unetlab predict`` does)."""
    return group.active or file.out_dir.resolve() in held_folders()


def _checked_folder(file: _File, group: Group):
    """:func:`prediction_folder` for the outputs of one ``file``, unless the caller holds
    it (:func:`_held_by_caller`): one this thread holds refused its inputs as outputs at
    its claim; one ``group`` shares, held by none of this thread's, is refused them here
    (s65: taken as held, it wrote over its input, an earlier unetlab output)."""
    if file.out_dir.resolve() in held_folders():
        return contextlib.nullcontext(file.out_dir)
    if group.active:
        _refuse_own_input(file)
        return contextlib.nullcontext(file.out_dir)
    # as the caller spells it: the literal told the command line "pass overwrite=True" (s59)
    fix = dict(overwrite_fix=said_as(OVERWRITE_FIXES), record=file.record)
    return prediction_folder(file.out_dir, [file.path], file.outputs, **fix)


def _refuse_own_input(file: _File) -> None:
    """OutputError where an output of ``file``, of any form (a stack's, a plane's, a NIfTI
    volume's: :func:`output_forms`), is its input
    (:func:`~unetlab.inference.output_rules.refuse_own_input`)."""
    every = output_forms(file.out_dir, output_stem(file.path))
    refuse_own_input(file.out_dir, [path for paths in every for path in paths.values()], file.path)


#: --color of a NIfTI input: its label volume keeps the class values, as label maps do
NIFTI_COLOUR = (
    "--color: a NIfTI input's label volume (.nii.gz) keeps the class values 0, 1, 2, ... "
    "(3D Slicer and ITK-SNAP colour label maps themselves)"
)

#: --color of an MRC input: its label file keeps the class values, as IMOD's do
MRC_COLOUR = (
    "--color: an MRC input's label file (.mrc) keeps the class values 0, 1, 2, ... (napari "
    "colours them as labels; 3dmod and ChimeraX show them as values)"
)

#: the fix of an array given where a file or folder is asked for (:func:`check_path`)
ARRAY_FIX = "an array is predicted by unetlab.predict_image (predict_objects for its objects)"


def check_path(value, name: str, what: str) -> None:
    """UnetlabError in one line where ``value``, the keyword ``name`` naming ``what`` (``"a
    folder"``), is not a path: pathlib's TypeError (audit s42 api; s52 badinput: out_dir)."""
    if not isinstance(value, str | os.PathLike):
        kind = "" if is_pixels(value) else " (a str or pathlib.Path)"
        raise UnetlabError(f"{name} must be {what}'s path{kind}, not {path_given(value)}")


def is_pixels(value) -> bool:
    """Whether ``value`` is an array (or tensor) of numbers: an image given for a path."""
    if isinstance(value, torch.Tensor):
        return True
    return isinstance(value, np.ndarray) and value.dtype.kind in "biufc"


def path_given(value) -> str:
    """``value``'s kind where a path was asked for, with :data:`ARRAY_FIX` for pixels only
    (s52 fix1: the array's fix was given for None, a list, a generator)."""
    kind = "None" if value is None else type(value).__name__
    return f"{kind}: {ARRAY_FIX}" if is_pixels(value) else kind


@reads_h5_as_trained  # a loaded model's data.h5_dataset, as the command's
@call_lines(one_file=True)  # its INFO lines shown; a call is one command for reading notes
def predict_file(
    model: torch.nn.Module,
    path: str | os.PathLike,
    out_dir: str | os.PathLike,
    outputs: OutputOptions | None = None,
    *,
    options: PredictOptions | None = None,
    progress: bool | Callable[[int], None] | None = None,
    group: Group = SOLO,
    axes: str | None = None,
    counted: Callable[..., None] | None = None,
    **settings,
) -> list[Path]:
    """Predict one image file into ``out_dir`` (outputs: the module's description; the label
    image last, all atomically); return their paths.

    ``outputs`` (``OutputOptions``): what is written; ``options`` (``PredictOptions``): how;
    ``settings``: either's fields by name (``save_probabilities=True``, ``tile_size=``).
    ``channel=``: an index, a list (bands read in that order: ``[3, 2, 1, 7]``) or the name of a
    channel the file records (case-insensitive); a 1-channel image given to a 1-channel model is
    predicted as it is unless ``channel`` is given. ``axes``: the file's, where it records none
    (None: a TIFF's where the model's ``data.axes`` fit it); an HDF5 file of several datasets: the
    one its checkpoint trained on. ``counted``: called with each plane's objects (``[n]``), a
    semantic model's per class (``{"pore": 11}``). Its objects that look merged are said
    (:mod:`~unetlab.inference.merged_objects`). Large inputs (:mod:`~unetlab.inference.stream_rule`:
    TIFFs above ``large_threshold`` px a page, ``level`` > 0, Zarr) are streamed by
    :func:`~unetlab.inference.slides.predict_slide` into ``output_format``, pyramidal, with its
    pixel size; ``group``: the processes sharing it; long work, as a folder: torch's threads no more
    than the CPUs it may use, fewer beside other work, unless chosen
    (:mod:`~unetlab.inference.threads_look`).

    ``out_dir`` is checked and locked as ``predict --output``: files unetlab did not write are
    refused unless ``overwrite``; ``path`` is never replaced. Raises ImageReadError or
    UnetlabError for unfit images, OutputError for such a folder (or a full or read-only
    disk), OutOfMemoryError naming the settings to lower. A stack stopped part-way keeps its
    finished pages; the same call predicts the others (``page_resume``)."""
    outputs, settings = _checked_arguments(model, path, out_dir, outputs, settings)
    # True: a bar of the tiles, as predict_image(progress=True) draws (audit s32 notebook 4)
    with (
        progress_calls(progress, desc=shown_path(path), unit="tile", leave=False) as done,
        each_position(),  # a multi-position OME-TIFF's positions each predicted
        _stop_said(path, out_dir, group, outputs),  # its header's read too
    ):
        read = file_read_axes(model, path, axes)  # none given: the checkpoint's for a TIFF
        given = dict(axes=read, axes_trained=axes is None, progress=done, counted=counted)
        file = _File.of(model, Path(path), Path(out_dir), outputs, options, settings, **given)
        return _predicted(file, group)


def _checked_arguments(model, path, out_dir, outputs, settings: dict) -> tuple:
    """:func:`predict_file`'s arguments checked before a file is read: its keywords, the
    model, the paths; (outputs, settings) as :meth:`OutputOptions.taken` splits them."""
    outputs, settings = OutputOptions.taken(outputs, settings)  # once a file
    check_keywords(settings)  # instances=: objects=True
    check_model(model)  # a checkpoint's path: load it first
    check_path(path, "path", "an image file"), check_path(out_dir, "out_dir", "a folder")
    return outputs, settings


def _predicted(file: _File, group: Group) -> list[Path]:
    """:func:`predict_file` of its checked settings ``file``; called alone (not by a
    caller that holds the folder: :func:`~unetlab.inference.folders.predict_folder`
    writes them for its files), a map's PNG outputs get their world file
    (:func:`~unetlab.inference.world_files.world_files`)."""
    alone = not _held_by_caller(file, group)
    with (
        keeping_open(file.path),  # a TIFF input opened once for all its readers
        read_notes(predicting=True),  # what reading and writing did: a line a kind, at the end
        merged_file(),  # its objects that look merged, in the run's once it finished
        _checked_folder(file, group),
        floor_run(),  # its floor lines said once a file
        table_place(file.path),  # an HCS plate's field: its tables end with its well
    ):
        if alone and (outputs := file.outputs).outlines == "coco":  # before any work
            refuse_coco(file.out_dir, overwrite=outputs.overwrite, keep=outputs.skip_existing)
            claim_coco(file.out_dir, overwrite=outputs.overwrite, keep=outputs.skip_existing)
        with chosen.for_file(file.path):  # what predict.json says was chosen for it
            written = _outputs(file, group)
            if file.named is not None:  # each file's own index of the name (s74: unsaid)
                chosen.note(channel=file.asked)
            if file.outputs.outlines is not None:  # and the outlines written: no part of the
                chosen.note(outlines=file.outputs.outlines)  # key; none where they failed
        if alone:  # while the folder is held: the manifest lists them
            written += world_files(file.path, written) + _run_outlines(file)
    if alone:  # a folder's units said by predict_folder, once
        say_units(table_columns(written))
    return written


def _run_outlines(file: _File) -> list[Path]:
    """The labelme file or the COCO file (``outlines``) of ``file`` predicted alone, as
    :func:`~unetlab.inference.folders.predict_folder` writes them for its inputs at its end
    (predict_file wrote neither, s72 notes); the COCO file holds the earlier inputs' objects
    there too (:func:`~unetlab.inference.coco_out.write_file_coco`)."""
    model, outputs = file.model, file.outputs
    if outputs.outlines == "labelme":
        return write_model_labelme(file.out_dir, [file.path], [], model, outputs.objects)
    if outputs.outlines != "coco":
        return []
    categories = coco_categories(class_names_of(model), outputs.objects)
    written = write_file_coco(file.out_dir, file.path, categories)
    return [] if written is None else [written]


def _stop_said(
    path, out_dir, group: Group, outputs: OutputOptions
) -> contextlib.AbstractContextManager[None]:
    """Within: a stop (a notebook cell's Ctrl-C) said by :func:`_say_stopped` where no caller
    says it (:func:`~unetlab.signals.stop_said`: the command line, a folder), by the main
    process of ``group``, from :func:`predict_file`'s arguments (its header not read yet)."""
    said = functools.partial(_say_stopped, Path(path), Path(out_dir), outputs.objects_only)
    return stop_said(said, main=group.is_main)


def _say_stopped(path: Path, out_dir: Path, objects_only: bool, exc: KeyboardInterrupt) -> None:
    """A stop within :func:`predict_file` said in one line (:func:`_stop_said`), as
    predict_folder says its own: ``predict_file interrupted on movie.tif; continue with the
    same call``, and what the rerun keeps (a bare KeyboardInterrupt, review of s62 user)."""
    with contextlib.suppress(OSError):
        how, name = stop_status(exc)[0], shown_path(path)
        kept = _kept(path, out_dir, objects_only)
        log.warning("predict_file %s on %s; continue with the same call%s", how, name, kept)


def _kept(path: Path, out_dir: Path, objects_only: bool) -> str:
    """What the rerun of a stopped :func:`predict_file` keeps: a large image's rows
    (:func:`~unetlab.inference.slide_resume.restarts`; ``objects_only``:
    :attr:`OutputOptions.objects_only`), a stack's finished pages; nothing said where
    ``out_dir`` cannot be listed (not made yet)."""
    if note := restarts(out_dir, objects_only, dict):
        return note
    pages = f".{path.stem}"
    with contextlib.suppress(OSError):
        if any(
            p.name.startswith(pages) and p.name.endswith(".pages.partial")
            for p in out_dir.iterdir()
        ):
            return " (its finished pages are kept: the rerun predicts the others)"
    return ""


def _outputs(file: _File, group: Group) -> list[Path]:
    """:func:`_predicted`'s outputs, in a folder held: of each position of a multi-position
    OME-TIFF in turn (:func:`~unetlab.data.io.ome_positions`), each read, predicted and
    named as an image of its own (:mod:`unetlab.data.positions`: ``cells_pos0.tif``, with
    that position's pixel size and frame interval). Each position is streamed or read
    whole by its own size (a much larger later one streamed: it followed the first's rule,
    read whole past the memory budget), by this process alone, as a run of one: a folder's
    processes deal the file out by its first position. Where they share it (the first
    streamed by all), every position is streamed by all, so that all take the same way."""
    names = ome_positions(file.path)
    if not names:
        return _image_outputs(file, group, _streamed(file, group))
    shared = group.world > 1 and _streamed(file, group)  # by the first position, as dealt
    written = []
    for i, name in enumerate(names):
        with reading_position(file.path, i, len(names)):
            log.info(
                "%s: position %d of %d (%s) -> %s.*",
                *(shown_path(file.path), i + 1, len(names), name, output_stem(file.path)),
            )
            if shared:
                written += _image_outputs(file, group, True)
            else:
                written += _image_outputs(file, SOLO, _streamed(file, SOLO))
    return written


def _streamed(file: _File, group: Group) -> bool:
    """Whether ``file`` is streamed (:func:`~unetlab.inference.stream_rule.is_streamed`)."""
    rule = dict(axes=file.axes, processes=group.world)
    return is_streamed(file.path, file.model, file.outputs, file.options, **rule)


def _image_outputs(file: _File, group: Group, streamed: bool) -> list[Path]:
    """:func:`_outputs` of one image (a position of a multi-position file), ``streamed``
    or read whole."""
    # an output that is its input: refused by the folder's claim, its caller's or its own
    # (:func:`_checked_folder`; s64: looked at again here, a stat)
    with memory_hint(f"{file.path}", LOWER_TILE_OR_BATCH, gpu_fix="or predict on the CPU"):
        o, rule = file.outputs, dict(axes=file.axes)
        refuse_seg([file.path], o)
        if streamed:
            note = memory_note(file.path, file.model, o, file.options, **rule)
            for said in (note, mrc_stream_note(file.path, o)):
                if said is not None and group.is_main:  # its outputs' form follows memory
                    log.info("%s", said)
            return _predict_streamed(file, group)  # as a folder shares it out
        if o.level:  # a PNG's, a stack's: no pyramid
            raise UnetlabError(**no_pyramid(file.path, o.level, named=shown_path(file.path)))
        least = LONG_READ_PIXELS
        note = whole_read_note(file.path, file.model, o, file.options, least=least, **rule)
        if note is not None:  # a stack's too: all its pages (audit s34 stacks 5)
            log.info("%s", note)
        return _predict_whole(_with_scale(file))


def _with_scale(file: _File) -> _File:
    """``file`` with ``scale="auto"`` (``--scale auto``) the factor of its pixels (the
    pixel size given, else the file's) over the training images' the checkpoint records,
    said in one line (:func:`~unetlab.inference.rescale.auto_scale`); its record keeps auto,
    and a position's factor for that position (:func:`~unetlab.inference.chosen.note_position`:
    the positions of a file differ). The checkpoint's least object areas (training-scale px)
    in the image's px (:func:`~unetlab.inference.objects.defaults_at_scale`), not those set."""
    factor = image_scale(file.model, file.path, file.options.scale, file.outputs.pixel_size)
    if file.options.scale == "auto" and (at := position_of(file.path)) is not None:
        chosen.note_position(at, scale=round(float(factor), 4))  # as predict_image notes it
    o = file.outputs
    if o.objects is not None:  # the checkpoint's least areas in the image's px
        o = dataclasses.replace(o, objects=defaults_at_scale(file.model, o.objects, factor))
    options = dataclasses.replace(file.options, scale=factor)
    return dataclasses.replace(file, options=options, outputs=o)


def image_scale(model, path: Path, scale: float | str, pixel_size: float | None = None) -> float:
    """The factor an image file is predicted at: ``scale``, or for ``"auto"`` (``--scale
    auto``) its pixels' size (``pixel_size`` given, else the file's) over the training
    images' the checkpoint records, said in one line
    (:func:`~unetlab.inference.rescale.auto_scale`: 1 where either is unknown)."""
    if scale != "auto":
        return scale
    pixel = read_pixel_size(path) if pixel_size is None else None
    side = pixel_size if pixel is None else (pixel.size[0] * pixel.size[-1]) ** 0.5
    unit = shown_unit(path, pixel)  # a NIfTI volume's mm
    return auto_scale(trained_pixel_size(model), side, shown_path(path), unit)


#: a TIFF of this many pixels or more (all its pages) read whole is said first (audit s32
#: histo 7, s34 stacks 5)
LONG_READ_PIXELS = 2**22


@dataclasses.dataclass(frozen=True)
class _File:
    """One input of :func:`predict_file` and how it is predicted: ``options`` (resolved for
    the model), ``outputs``, what makes them (``record``), the mask values labels are
    written as (``values``), the channel the caller asked for (``asked``, not the model's:
    :func:`~unetlab.inference.pages.page_channel`; ``named``: the name it was asked by, as
    ``--channel DAPI``), the axes the caller gave (``axes``; or
    the checkpoint's, ``axes_trained``), ``progress`` (tiles) and ``counted`` (the objects
    of each plane)."""

    model: torch.nn.Module
    path: Path
    out_dir: Path
    options: PredictOptions
    outputs: OutputOptions
    record: Provenance
    values: Sequence[int] | None = None
    asked: int | None = None
    axes: str | None = None
    axes_trained: bool = False
    progress: Callable[[int], None] | None = None
    counted: Callable[[list[int]], None] | None = None
    named: str | None = None

    @classmethod
    def of(cls, model, path: Path, out_dir: Path, outputs, options, settings: dict, **given):
        """The settings checked and resolved (a channel named: its index in the file):
        ``outputs`` an OutputOptions, ``settings`` none of its fields
        (:meth:`OutputOptions.taken`, by the caller)."""
        outputs = outputs.for_model(model)  # outlines of a semantic model refused
        if outputs.objects_in_3d:  # an organ's split parts would join again
            refuse_joined_splits(model, outputs.objects)
        values = outputs.values(model, shown_path(path))
        asked = settings.get("channel", options.channel if options is not None else None)
        named = asked if isinstance(asked, str) else None
        if named is not None:  # a channel the file names (--channel DAPI)
            asked = settings["channel"] = index_of(path, named)
            note_named_channel(model, path, named, asked)
        resolved = PredictOptions.for_model(model, options, **settings)
        if isinstance(resolved.channel, tuple):  # one: refused by each image, its count said
            check_channel_count(model, resolved.channel)
        # a PNG's its own: no axes, the checkpoint's nor any given (read as it is)
        record = input_record(_record(model, options, outputs, given["axes"], **settings), path)
        options = resolved
        return cls(
            model, path, out_dir, options, outputs, record, values, asked, **given, named=named
        )


def note_named_channel(model: torch.nn.Module, path: Path, name: str, index: int) -> None:
    """Warn where the channel ``name`` (found in ``path`` at ``index``) is not the channel
    the model was trained on (``data.channel``), naming the first such file for each index:
    a name is found in each file (s69 review: DAPI, channel 0 of a.ome.tif and 2 of
    b.ome.tif, a model of channel 0: b was predicted on its channel 2, unsaid)."""
    trained, names = getattr(model, "channel", None), getattr(model, "channel_names", None)
    if not isinstance(trained, int) or index == trained:
        return
    if names and indices_named(names, name):  # the stain it trained on (s70: found by name)
        return
    note_once(
        f"{shown_path(path)}: channel {name} ({said_as(CHANNEL_GIVEN)}) is its channel {index}, "
        f"but the model was trained on channel {trained} (data.channel): check that it was "
        f"{name} there (any other input where {name} is channel {index}: not said again)",
        key=f"named channel {index}",
    )


def file_record(
    model: torch.nn.Module,
    options: PredictOptions | None = None,
    outputs: OutputOptions | None = None,
    *,
    axes: str | None = None,
    **settings,
) -> Provenance:
    """What :func:`predict_file` records as having made its outputs, for the same arguments
    (``settings``: :class:`PredictOptions` and :class:`OutputOptions` fields by name; others
    are not outputs' settings and are ignored):
    :func:`~unetlab.inference.records.prediction_record`, with the ``axes`` given for the
    input (they change what is predicted) among the model settings."""
    outputs, settings = OutputOptions.taken(outputs, settings)
    fields = {k: v for k, v in settings.items() if k in PredictOptions.__dataclass_fields__}
    return _record(model, options, outputs, axes, **fields)


def _record(
    model: torch.nn.Module,
    options: PredictOptions | None,
    outputs: OutputOptions,
    axes: str | None,
    **fields,
) -> Provenance:
    """:func:`file_record` of ``outputs`` taken, ``fields``: :class:`PredictOptions`'."""
    record = prediction_record(model, PredictOptions.for_model(model, options, **fields), outputs)
    record = named_by_training(record, model, PredictOptions.of(options, **fields).channel)
    # none given: the checkpoint's (its outputs those of the same axes given), or the key
    # it had before --axes
    return with_axes(record, run_axes(model, axes), trained=axes is None)


def _predict_streamed(file: _File, group: Group) -> list[Path]:
    """A large image read window by window (:func:`predict_slide`)."""
    if file.options.exclude_rows:
        said = f"{shown_path(file.path)}: exclude_rows (a data bar: "

        def say(given: str, none: str) -> str:
            return (
                f"{said}{given}, or the checkpoint's data.exclude_rows) applies to images read "
                f"whole, not to a large image read window by window: give {none}, or crop the "
                "image"
            )

        raise UnetlabError(**spelled(say, EXCLUDE_ROWS, NO_EXCLUDE_ROWS))
    refuse_streamed_scale(shown_path(file.path), file.options.scale)
    o, stem = file.outputs, output_stem(file.path)
    if o.objects_in_3d and not _streamed_flat(file.path):
        _refuse_streamed_3d(file)
    o = dataclasses.replace(o, objects_3d=False)  # one image, a movie: 2-D objects (say_flat)
    names = streamed_names(file.path, o.output_format)
    names["overlay"] = f"{stem}_overlay.png"
    refuse_theirs(file.out_dir, names, o.wanted)
    given = PredictOptions.of(file.options, channel=file.asked)  # predict_slide's to fill
    how = dict(progress=file.progress, group=group, counted=file.counted, axes=file.axes)
    how["axes_trained"] = file.axes_trained
    o = _at_level(file.model, file.path, o)
    with looking_beside(group):  # long work, as a folder: its threads (threads_look)
        return predict_slide(file.model, file.path, file.out_dir, given, o, **how)


def _refuse_streamed_3d(file: _File) -> None:
    """The UnetlabError of ``objects_3d`` for a stack that is streamed (read window by
    window), naming how to read it whole."""
    said = f"{shown_path(file.path)}: "
    whole = (
        " joins the planes of a stack read whole, and this one is large, read window by window: "
        "read it whole with "
    )
    raise UnetlabError(**spelled(lambda f, w: f"{said}{f}{whole}{w}", OBJECTS_3D, WHOLE_3D))


def _at_level(model, path: Path, outputs: OutputOptions) -> OutputOptions:
    """``outputs`` for pyramid level ``outputs.level`` of ``path``: a warning (once) where
    its pixels are another size than the training images' (:func:`level_size_note`), and the
    least object areas, level-0 pixels as the objects table's ``area``, divided by the
    level's downsample squared, said in a line (audit s32 histo 6)."""
    if not outputs.level:
        return outputs
    sides, downsample = [], (1.0, 1.0)
    for k in range(outputs.level + 1 if trained_pixel_size(model) is None else 99):
        try:
            with open_slide(path, level=k, colour_planes=model.in_channels == 3) as slide:
                size, levels = slide.pixel_size, slide.levels
                downsample = slide.downsample if k == outputs.level else downsample
        except UnetlabError:
            break
        sides.append(None if size is None else (size[0] * size[1]) ** 0.5)
        if k + 1 >= levels:
            break
    if outputs.level >= len(sides):  # no such level: predict_slide says which there are
        return outputs
    _note_level_side(model, path, outputs.pixel_size, sides[outputs.level], downsample)
    trained = trained_pixel_size(model)
    note = level_size_note(trained, sides, outputs.level)
    # once a call (or command) for each folder, level and sizes (s56 review U: a process-wide
    # set left a notebook's second predict_folder of the folder silent)
    key = f"level note {(str(path.parent), outputs.level, trained, sides[outputs.level])}"
    unknown = unknown_scale_note(trained, outputs.level, downsample)
    if unknown is not None:
        note_once(f"{shown_path(path)}: {unknown}", key=f"{key} unknown", level=logging.INFO)
    if note is not None:
        note_once(f"{shown_path(path)}: {note}", key=key)
    if outputs.objects is None or downsample == (1.0, 1.0):
        return outputs
    return dataclasses.replace(outputs, objects=_scaled_objects(outputs.objects, downsample))


def _note_level_side(model, path: Path, given: float | None, side, downsample) -> None:
    """Note the level's pixel side (µm: the file's, or level 0's ``given`` times the
    level's ``downsample``) where the model records no training pixel size: inputs
    predicted at a level whose sizes are apart are said once a command
    (:func:`~unetlab.data.read_notes.note_side`; s50 slideleft: --level N said nothing)."""
    if given is not None:
        side = given * (downsample[0] * downsample[1]) ** 0.5
    if trained_pixel_size(model) is None and side:
        note_side(shown_path(path), side)


def _scaled_objects(objects: ObjectOptions, downsample: tuple[float, float]) -> ObjectOptions:
    """``objects`` with its least areas (level-0 px; and the least area of a piece the edge
    cuts, ``cut_min_area``) in pixels of a level ``downsample`` times smaller
    (:func:`~unetlab.inference.objects.scaled_options`: never below ``MIN_AREA_FLOOR`` px
    where they were not), said in one line."""
    scaled = scaled_options(objects, downsample)
    by_class = objects.class_min_areas
    before = objects.min_area if by_class is None else list(by_class)
    after = scaled.min_area if by_class is None else list(scaled.class_min_areas)
    factor = downsample[0] * downsample[1]
    log.info(
        "objects: least areas %s level-0 px are %s px at this level, and a piece the edge "
        "or nodata cuts is kept from %d px (%d at level 0) (1/%.3g: the level's downsample "
        "squared; at least %d px, smaller specks are noise at any level)",
        *(before, after, scaled.cut_min_area, objects.cut_min_area, factor, MIN_AREA_FLOOR),
    )
    return scaled


def _predict_whole(file: _File) -> list[Path]:
    """An image read whole. Stacks, and TIFFs that record a pixel size, give TIFF labels
    and overlay (with the pixel size), others PNG; label and probability TIFFs carry
    ``file.record`` (what made them). The outputs are put in place together, the labels
    last (:func:`_publish_whole`); a stopped run's outputs all written are put in place
    first."""
    model, o = file.model, file.outputs
    stack, axes, pages, invalid, meta, channel = _read_whole(file)
    file = _flat_without_z(file, axes)
    tiff = stack.shape[0] > 1 or meta["pixel"] is not None
    volume = volume_labels(file.path)  # a NIfTI or MRC input's: a label volume
    paths = output_paths(file.out_dir, output_stem(file.path), stack=tiff, volume=volume)
    wanted = {**o.wanted, "classes": _writes_classes(file)}  # <stem>_classes.csv too
    refuse_theirs(file.out_dir, paths, wanted)
    _check_pages(file.path, pages, invalid, axes)  # a NaN nodata is no NaN pixel
    finish(publishing_path(paths["labels"]))  # a run stopped among its renames: finished
    refuse_claimed(file.out_dir, paths, wanted)  # a user's file under a pending name
    there = _written(file, paths, invalid)  # with skip_existing: the net's labels there
    staging = None if there is not None else _staging(file, paths["labels"], pages)
    if there is None:
        labels, ids, probs = _predict_pages(model, pages, file, invalid, axes, staging)
    else:
        (labels, ids), probs = there, []
    ids = _joined_in_3d(file, ids, axes, meta["pixel"], labels)  # with objects_3d
    kept = () if there is None else [paths[k].name for k in drawn_from(o)]  # not rewritten
    found = _Whole(stack, labels, ids, probs, invalid, meta, axes, tiff, kept, channel)
    written = _publish_whole(file, paths, found)
    if staging is not None:  # the outputs are there: the pages kept are done with
        staging.finish()
    return written


def _written(file: _File, paths: dict[str, Path], invalid: list) -> tuple[list, list] | None:
    """The labels and object ids this checkpoint and settings wrote for ``file`` in its
    output folder, read back where the outputs asked for now are drawn from them without the
    net (:mod:`~unetlab.inference.drawn_again`), said in one line; else None."""
    o = file.outputs
    if position_of(file.path) is not None:  # a position's: all the file's are judged
        return None
    objects = paths["objects"] if o.objects is not None else None
    classes = getattr(file.model, "num_classes", 2)
    if series_redrawable(paths, file.path, o, file.record):  # a series' SEG: its labels
        there = written_volume(paths["labels"], file.values, classes)
    elif redrawable(paths, file.path, o, file.record, invalid):
        there = written_pages(paths["labels"], objects, file.values, classes)
    else:
        return None
    if there is not None:
        log.info(
            "%s: drawn from the labels%s this checkpoint and settings wrote in %s, the net not run",
            *(shown_path(file.path), " and objects" if objects else "", file.out_dir),
        )
    return there


class _Shown(NamedTuple):
    """The ``channel`` of its file an image is predicted on (an index, a band tuple, or None:
    the pages as they are), and the channels of the file its stack ``held`` (None: all;
    :func:`~unetlab.inference.file_fit.channels_alone`)."""

    channel: int | tuple | None
    held: tuple[int, ...] | None = None


#: the pages as they are: no channel chosen, every one read
_AS_READ = _Shown(None)


def _read_whole(file: _File) -> tuple[np.ndarray, PageAxes, list, list, dict, _Shown]:
    """An image read whole (:func:`_predict_whole`): its pages as read, their axes, the pages
    fitted to the model (:func:`_read_fitted`), each page's pixels that are no sample
    (nodata, transparent), its TIFF metadata, the pixel size and z spacing given in
    place of its own (``meta["pixel"]``), and the channel predicted."""
    o = file.outputs
    with read_notes():  # transparent pixels left out are not also told to be filled
        stack, axes, pages, channel = _read_fitted(file)
        invalid = invalid_pages(file.path, stack, file.options.nodata)  # nodata, transparent
    meta = _tiff_meta(file.model, file.path, file.values)
    planes = "Z" in axes.letters or axes.letters == "Q"  # a 2-D image or movie: no z step
    z_spacing = o.z_spacing if planes else None
    meta["pixel"] = given_sizes(meta["pixel"], shown_path(file.path), o.pixel_size, z_spacing)
    return stack, axes, pages, invalid, meta, channel


#: how to score the 3-D objects of a stack too large to read whole (:func:`stack_objects_3d`),
#: as Python calls it and as the command line does (Python was told the flags, s54)
PREDICT_3D_FIRST = Spelled(
    "large, read window by window, and its objects are joined in 3-D only read whole: predict "
    "them with predict_folder(model, INPUT, P, objects=True, objects_3d=True, "
    "large_threshold=N) (N above its pixels a plane), then score them with "
    "evaluate_predictions(P, MASKS, objects_3d=True)",
    "large, read window by window, and its objects are joined in 3-D only read whole: predict "
    "them with unetlab predict --instances --objects-3d --large-pixels N (N above its pixels a "
    "plane), then score them with evaluate --pred P --gt MASKS --objects-3d",
)


def stack_objects_3d(
    model: torch.nn.Module,
    path: str | os.PathLike,
    outputs: OutputOptions,
    *,
    options: PredictOptions | None = None,
    axes: str | None = None,
) -> tuple[list[np.ndarray], PageAxes]:
    """The 3-D objects of the stack ``path`` (``outputs`` with ``objects`` and
    ``objects_3d``), each page's ids, and the pages' axes: those :func:`predict_file` with
    the same arguments writes as ``<stem>_objects.tif``, kept in memory (``evaluate
    --checkpoint --objects-3d``), by the same functions, refused as it refuses them (a stack
    read window by window, a model of several object classes); an image with no Z axis has
    its 2-D objects, as predict gives them."""
    path = Path(path)
    outputs = OutputOptions.of(outputs)  # an OutputOptions, refused in one line if not
    file = _with_scale(_File.of(model, path, path.parent, outputs, options, {}, axes=axes))
    if not file.outputs.objects_in_3d:
        raise ValueError("stack_objects_3d: outputs has objects and objects_3d")
    with keeping_open(path), floor_run(), memory_hint(str(path), LOWER_TILE_OR_BATCH):
        if _streamed(file, SOLO):  # predict's flag, not the caller's (evaluate has none)
            raise UnetlabError(
                **spelled(lambda how: f"{shown_path(path)}: {how}", PREDICT_3D_FIRST)
            )
        _, page_axes, pages, invalid, meta, _ = _read_whole(file)
        file = _flat_without_z(file, page_axes)  # a 2-D image: its 2-D objects
        _check_pages(path, pages, invalid, page_axes)
        labels, ids, _ = _predict_pages(model, pages, file, invalid, page_axes)
        return _joined_in_3d(file, ids, page_axes, meta["pixel"], labels), page_axes


@dataclasses.dataclass(frozen=True)
class _Whole:
    """What :func:`_predict_whole` found of an image: its ``stack`` as read, each page's
    ``labels``, object ``ids`` and probabilities (``probs``), its ``invalid`` pixels, the
    TIFF ``meta``, the pages' ``axes``, whether its outputs are TIFFs (``tiff``), and the
    channel predicted (:class:`_Shown`)."""

    stack: np.ndarray
    labels: list
    ids: list
    probs: list
    invalid: list
    meta: dict
    axes: PageAxes
    tiff: bool
    kept: Sequence[str] = ()  # the names of those it was drawn from: kept as they are
    channel: _Shown = _AS_READ  # the overlay shows it (plots.shown_channels)


def _publish_whole(file: _File, paths: dict[str, Path], found: _Whole) -> list[Path]:
    """The outputs of an image read whole (``paths``: where they go), written into its
    publishing folder (:func:`~unetlab.inference.slide_outputs.publishing_path`) and put in
    place together once all are written: the overlay and outlines first, the objects, the
    probabilities, the labels last (a label image on disk means this input's outputs are all
    there). Written one by one in place, a rerun stopped among them left an earlier run's
    labels beside new objects (s39); a stop before the renames leaves the earlier outputs as
    they were, a stop among them is finished by the rerun
    (:func:`~unetlab.inference.slide_outputs.finish`). Those ``found.kept`` (the outputs
    the others were drawn from) stay as they are, not rewritten. Returns the outputs' paths."""
    publishing = publishing_path(paths["labels"])
    places = {key: publishing / path.name for key, path in paths.items()}
    with Together("ome-tiff", publishing, {"input": input_stamp(file.path)}) as at:
        written = _write_whole(file, places, found)
        for place in [places["labels"], *reversed(written)]:  # reserved: renamed in reverse
            if place.name not in found.kept:  # the outputs drawn from: not written
                at.reserve(file.out_dir / place.name)
    if found.kept:  # not removed as outputs this run did not write
        outputs_kept(file.out_dir, found.kept)
    return [file.out_dir / place.name for place in (places["labels"], *written)]


def _write_whole(file: _File, paths: dict[str, Path], found: _Whole) -> list[Path]:
    """:func:`_publish_whole`'s outputs written at ``paths``: the probabilities, objects
    and overlay asked for (their paths, in that order), then the labels (not where they
    are ``found.kept``)."""
    model, o, meta, axes = file.model, file.outputs, found.meta, found.axes
    written = []
    if o.save_probabilities:
        written.append(_write_probabilities(file, paths["probabilities"], found.probs, meta, axes))
    if o.objects is not None:
        shown = (found.stack, found.labels, found.ids, meta, axes, found.invalid)
        written += _object_outputs(file, paths, *shown, kept=found.kept)
    if o.draw_overlay:
        drawn = dict(tiff=found.tiff, meta=meta, axes=axes, record=file.record)
        drawn["by_object"] = by_object(o.objects)
        drawn["joined"] = o.objects_in_3d  # ids of 3-D objects
        drawn["invalid"] = found.invalid
        drawn["channel"] = found.channel
        shown = (found.stack, found.labels, found.ids)
        written.append(_write_overlay(model, paths["overlay"], *shown, **drawn))
    if seg_wanted(file.path, o):  # a DICOM series' SEG, of its class indices
        made = (file.path, paths["seg"], found.labels, o.seg_codes)
        written.append(write_series_seg(file.model, *made))
    if paths["labels"].name not in found.kept:  # those drawn from: not written again
        how = dict(tiff=found.tiff, meta=meta, axes=axes, invalid=found.invalid)
        _write_labels(file, paths["labels"], found.labels, **how)
    return written


def _object_outputs(
    file: _File,
    paths: dict,
    stack,
    labels: list,
    ids: list,
    meta: dict,
    axes,
    invalid: list,
    kept: Sequence[str] = (),
) -> list[Path]:
    """The object outputs of an image read whole (:func:`_predict_whole`): the ids TIFF,
    table and outlines asked for, each page's (or with ``objects_3d`` each frame's 3-D)
    objects counted in ``file.counted``; their paths (those ``kept``, the names of those
    drawn from, not written: their files there stay as they are)."""
    model, o = file.model, file.outputs
    outlines = {k: paths[k] for k in ("geojson", "rois") if o.wanted[k]}  # those asked for
    outlines["class_name"] = outline_class(model, o.objects)
    outlines["colours"] = outline_colours(model, o.objects)  # as the overlay's
    outlines["source"] = file.path  # which their lines name
    grid = input_grid(file.path)  # a GeoTIFF's or a world file's place on the map
    if o.wanted["geojson"]:  # its outlines in its map coordinates
        outlines["grid"] = grid
    found = (paths, stack, ids, meta["pixel"], axes)
    # intensity columns by channel name, as a streamed slide's (measure.named_channels)
    channels = channel_names(file.path) if stack.ndim == 4 and stack.shape[3] > 1 else []
    # a semantic model's objects: the class of each (measure's class and class_name)
    kinds = [measured_classes(model, o.objects, lab) for lab in labels]
    how = dict(record=file.record, outlines=outlines, channels=channels, kinds=kinds)
    how["grid"] = grid  # the table's map X and Y (and a world file's metres)
    how["exclude_rows"] = file.options.exclude_rows  # objects it cuts touch the border
    # and so do those beside nodata, or beside pixels of no class (no_class_pixels)
    how["invalid"] = [either(b, no_class_pixels(k, o.objects)) for b, k in zip(invalid, labels)]
    how["name"] = file.path.name  # the table's image column
    how["position"] = position_of(file.path)  # and a position's
    how["kept"] = kept
    if o.objects_3d:  # a model of several object classes: each class's, and their volumes
        how["classes"] = _classes_3d(file, labels)
    write = _write_objects_3d if o.objects_3d else _write_objects
    tables, planes, classes, areas = _kept_counts(file, paths, kept) or write(*found, **how)
    if file.counted is not None:  # and a semantic model's objects of each class
        file.counted(planes, *[k for k in (classes, areas) if k])  # areas: on a map
    if unsplit(o.objects) and not o.objects_3d:  # its regions that look merged
        tally_merged(merged_counts(ids, labels))  # each class's regions alone
    return tables


def _kept_counts(file: _File, paths: dict, kept: Sequence[str]) -> tuple | None:
    """:func:`_write_objects`' result where the ids and table there are kept (drawn from:
    :mod:`~unetlab.inference.drawn_again`, this run's own) and no outlines are asked for:
    the objects counted from the table there, not measured again (a 2048² image's 86k
    objects: 0.16 s, was 2.3 s; counting3 s53); else None (outlines take the measures)."""
    o = file.outputs
    if paths["table"].name not in kept or o.wanted["geojson"] or o.wanted["rois"]:
        return None
    names = getattr(file.model, "classes", None)  # an earlier version's table: by index
    counts = table_counts(file.out_dir / paths["table"].name, 1, names)  # drawn again: one page
    return [paths["objects"], paths["table"]], *counts


def _streamed_flat(path: Path) -> bool:
    """Whether a large image streamed has no Z axis for ``objects_3d`` to join: one page (a
    slide), or a TIFF movie's frames; its objects are 2-D, as without the flag."""
    if not path.is_file():  # a Zarr folder: as a stack
        return False
    try:
        pages = stack_shape(path)[0]
        return pages == 1 or read_page_axes(path, pages, say=False).letters == "T"
    except UnetlabError:  # its prediction says why
        return False


def _flat_without_z(file: _File, axes: PageAxes) -> _File:
    """``file`` predicted without ``objects_3d`` and ``z_spacing`` where its pages (``axes``)
    have no Z axis (a 2-D image, a movie among the stacks of a folder): its objects are 2-D,
    as without the flag (said once a run: :func:`~unetlab.inference.objects_3d.say_flat`),
    it has no z step, and its outputs carry that record
    (:func:`~unetlab.inference.records.flat_record`: a rerun without them skips it)."""
    o = file.outputs
    if not (o.objects_3d or o.z_spacing is not None) or not flat_letters(axes.letters):
        return file
    flat = dataclasses.replace(o, objects_3d=False, z_spacing=None)
    return dataclasses.replace(file, outputs=flat, record=flat_record(file.record))


def _write_probabilities(file: _File, path: Path, probs: list, meta: dict, axes) -> Path:
    """The pages' probabilities as one float32 ImageJ TIFF of the pages' ``axes`` and C,
    with the class names and pixel size (``meta``) and ``file.record``."""
    prob, prob_axes = _hyperstack(probs, axes, "CYX")
    prob_meta = _probability_meta(meta, probs[0].shape[0], len(probs), prob_axes, axes)
    prob_meta = tiff_kwargs(prob_meta, file.record)
    write_tiff(path, prob, photometric="minisblack", **prob_meta)
    return path


def _joined_in_3d(file: _File, ids: list, axes: PageAxes, pixel, labels: list) -> list:
    """Each page's object ``ids``, with ``objects_3d`` those of the 3-D objects of its frame
    (:func:`~unetlab.inference.objects_3d.objects_by_frame`, in the voxels of the input's
    ``pixel`` size and z spacing; a model of several object classes each class's, by the
    pages' ``labels``)."""
    if not file.outputs.objects_in_3d:
        return ids
    size = None if pixel is None else pixel.size
    if not getattr(pixel, "spacing", None):
        say_cubes(shown_path(file.path), size, classes=_writes_classes(file))
    voxel = voxel_size(size, getattr(pixel, "spacing", None))
    kinds = _classes_3d(file, labels)
    if kinds is None:
        return objects_by_frame(ids, axes, voxel)
    return objects_by_frame(ids, axes, voxel, kinds["votes"], kinds["background"])


def _writes_classes(file: _File) -> bool:
    """Whether ``file``'s objects are 3-D objects of several classes, whose volumes
    ``<stem>_classes.csv`` holds (:func:`_write_class_totals`)."""
    o = file.outputs
    return o.objects_in_3d and several_object_classes(file.model, o.objects)


def _classes_3d(file: _File, labels: list) -> dict | None:
    """What the 3-D objects of a model of several object classes (a liver, a spleen,
    kidneys) are joined and measured by: each page's voting ``votes`` of its ``labels``
    (:func:`~unetlab.inference.objects.voting_labels`), the model's class ``names``, its
    ``background`` and the class indices that make objects (``kinds``); None for a nuclei
    model or one of one object class, or without ``objects_3d``."""
    model, options = file.model, file.outputs.objects
    if not _writes_classes(file):
        return None
    classes = getattr(model, "num_classes", 2)
    return {
        "votes": [voting_labels(k, options, classes) for k in labels],
        "names": getattr(model, "classes", None),
        "background": options.background,
        "kinds": object_class_indices(model, options),
    }


def _staging(file: _File, labels: Path, pages: list[np.ndarray]) -> PageStaging | None:
    """The staging of a stack's pages (:mod:`~unetlab.inference.page_resume`), a killed
    run's resumed; None for one page."""
    if len(pages) < 2:
        return None
    o = file.outputs
    kept = {"objects": o.objects is not None, "probabilities": o.save_probabilities}
    how = dict(pages=len(pages), shape=pages[0].shape, outputs=kept)
    device = file.options.device  # None: where the model is
    if device is None:
        device = next((w.device for w in file.model.parameters()), "cpu")
    how.update(batch=file.options.batch_size, device=device)
    wanted = page_identity(file.path, file.record, **how)
    return PageStaging.open(labels, wanted, name=shown_path(file.path))


def _read_fitted(file: _File) -> tuple[np.ndarray, PageAxes, list[np.ndarray], _Shown]:
    """The file's pages as read, their axes, the pages fitted to the model's channels
    (:func:`~unetlab.inference.pages.read_pages`), and the channel they were fitted from
    (:func:`~unetlab.inference.file_fit.file_fit`: an index, a band tuple, or None)."""
    model, path = file.model, file.path
    joined = file.outputs.objects_in_3d
    how = dict(model_channels=model.in_channels, channel=file.asked, objects_3d=joined)
    alone = _alone(file)  # a multiplexed OME-TIFF's channel: its pages alone
    how["channels"] = None if alone is None else alone.held
    stack, axes = read_pages(path, axes=file.axes, **how)  # a bare (T, Z, Y, X): refused
    _say_frames(path, axes)
    if joined:  # before the net runs
        if file.axes is not None and axes.letters == "Q":  # TZQYX: all pages of no meaning
            refuse_unknown_stack(shown_path(path), axes.shape[0], len(file.axes), given=file.axes)
        axes = check_planes(axes) or axes  # no Z: 2-D objects (_flat_without_z)
    shape = stack.shape if alone is None else (*stack.shape[:3], alone.has)  # the file's
    chosen.note(axes=chosen.read_axes(axes.letters, shape), shape=list(shape))
    fit, held = (_file_fit(file, stack), None) if alone is None else alone[:2]
    pages = [
        fit_channels(page, model.in_channels, name=shown_path(path), quiet=i > 0, held=held, **fit)
        for i, page in enumerate(stack)
    ]
    return stack, axes, pages, _Shown(fit["channel"], held)


def _alone(file: _File) -> Alone | None:
    """The channels of ``file`` its model takes, to be read alone
    (:func:`~unetlab.inference.file_fit.channels_alone`: not with ``--instances``, which
    measures every channel), or None: all read."""
    how = dict(asked=file.asked, axes=file.axes, nodata=file.options.nodata)
    every = file.outputs.objects is not None
    return channels_alone(file.model, file.path, channel=file.options.channel, every=every, **how)


def _file_fit(file: _File, stack: np.ndarray) -> dict:
    """:func:`~unetlab.inference.file_fit.file_fit` of the pages ``stack`` of ``file``."""
    have = stack.shape[3] if stack.ndim == 4 else 1
    how = dict(asked=file.asked, axes=file.axes, axes_trained=file.axes_trained)
    o = file.options
    return file_fit(file.model, file.path, have, channel=o.channel, nodata=o.nodata, **how)


def _say_frames(path: Path, axes: PageAxes) -> None:
    """Say that the frames of an animated GIF or PNG are each predicted, into one TIFF time
    series (the README's rule): its one output, of another kind, was said nothing of (s56;
    :func:`~unetlab.data.io.read_stack` alone refuses such a file)."""
    if is_tiff_name(path) or axes.letters != "T":
        return
    frames = axes.shape[0]
    apart = f", {axes.timing['finterval']:g} s apart" if "finterval" in axes.timing else ""
    log.info(
        "%s: %d frames (an animated %s), each predicted: its labels are one TIFF time series "
        "(TYX%s), which Fiji opens as one",
        shown_path(path),
        frames,
        path.suffix[1:].upper(),
        apart,
    )


def _check_pages(path: Path, pages: list[np.ndarray], invalid: list, axes: PageAxes) -> None:
    """UnetlabError where the fitted ``pages`` (what the net reads: not a channel --channel
    leaves out) hold NaN or infinite pixels outside their ``invalid`` ones (nodata)."""
    many = len(pages) > 1
    for i, (page, bad) in enumerate(zip(pages, invalid, strict=True)):
        where = f" in {axes.label(i)}" if many else ""  # "in frame 3"
        check_finite(page, str(path), channel_axis=True, where=where, invalid=bad)


def _write_labels(
    file: _File, path: Path, labels: list, *, tiff: bool, meta, axes, invalid: list
) -> None:
    """The label image: an ImageJ TIFF of the pages' axes, or a PNG; either carries
    ``file.record``. A TIFF's pixels that are no sample (``invalid``: nodata, transparent)
    hold a value no class is, which its GDAL_NODATA tag names (:func:`_nodata_labels`); a
    PNG, which has no such tag, holds the background class there, or that value (in the
    void colour) where the background is a class of its own (:func:`_void_png`)."""
    o = file.outputs
    colours = label_colours(file.model, color=o.color, values=file.values is not None)
    out = [encode_labels(lab, file.values) for lab in labels]
    key = None if file.record is None else file.record.key  # a rerun tells a volume its own
    if is_nifti(path):  # a label volume of the input's header: it overlays the input
        write = write_series_labels if is_dicom_series(file.path) else write_labels_like
        write(path, np.stack(out), like=file.path, key=key)
        if o.color:
            note_once(NIFTI_COLOUR, level=logging.WARNING)
    elif is_mrc_name(path):  # an MRC input's: its grid, voxel size and origin, overlaying it
        write_mrc_labels(path, np.stack(out), like=file.path, key=key)
        if o.color:
            note_once(MRC_COLOUR, level=logging.WARNING)
    elif tiff:
        dtype = np.uint8 if colours is not None else out[0].dtype  # a palette TIFF's: uint8
        nodata = _nodata_labels(file, out, invalid, dtype)
        labels_out = _hyperstack(out, axes, "YX")
        how = dict(record=file.record, nodata=nodata)
        _write_label_tiff(path, *labels_out, colours, meta, axes, **how)
    else:
        colours, value = _void_png(file, out, invalid, colours)
        text = png_text(file.record) | ({} if value is None else {PNG_NODATA_KEY: str(value)})
        write_png(path, out[0], palette=colours, text=text)


def _void_png(file: _File, out: list, invalid: list, colours):
    """A PNG label image's palette, its ``invalid`` pixels of ``out`` set (in place) to a
    value no class is where ``file.model``'s background is a class of its own (a road model's
    class 0: a transparent pixel written as road claimed road there; audit s46 scenes 1),
    the palette then giving that value the void colour; said in the left-out line. Returns
    the palette and that value (None: none written), which a text key names for evaluate."""
    model = file.model
    if not background_is_a_class(model) or not any(b is not None and b.any() for b in invalid):
        return colours, None
    dtype = np.uint8 if colours is not None else out[0].dtype
    value = _nodata_labels(file, out, invalid, dtype)
    if value is None:
        return colours, None
    k = model_background(model)
    void = f"{value} (no class{', the void colour' if colours is not None else ''})"
    note_written(f"{void} in a PNG label image, not class {k} ({model.classes[k]})")
    if colours is None or len(colours) > value:
        return colours, value
    padded = np.concatenate([colours, np.zeros((value + 1 - len(colours), 3), np.uint8)])
    recorded = getattr(model, "palette", None)  # the data set's colour of that mask value
    if recorded is not None and value < len(recorded):
        padded[value] = recorded[value]
    return padded, value


def _nodata_labels(file: _File, out: list, invalid: list, dtype) -> int | None:
    """The value written on the pages' ``invalid`` pixels of the encoded labels ``out`` (in
    place; :func:`~unetlab.inference.predict.model_label_nodata`), or None where no pixel is
    invalid or no value is free (said)."""
    if not any(bad is not None and bad.any() for bad in invalid):
        return None
    value = model_label_nodata(file.model, file.values, dtype, shown_path(file.path))
    if value is None:
        return None
    for page, bad in zip(out, invalid, strict=True):
        if bad is not None:
            page[bad] = value
    return value


def _predict_pages(
    model, pages, file: _File, invalid: list, axes: PageAxes, staging: PageStaging | None = None
):
    """Each page's labels, object ids (with ``objects``) and probabilities (with
    ``save_probabilities``) (the pages fitted to the model and checked finite; ``invalid``:
    each page's pixels that are no sample, or None: :mod:`unetlab.data.nodata`; ``axes``:
    what the pages are, as the lines name them); with a ``staging``, the pages it holds
    done read from it and each page predicted kept in it."""
    results: dict[str, list[np.ndarray]] = {"labels": [], "ids": [], "probs": []}
    rows, name = file.options.exclude_rows, str(file.path)
    each = stack_stats(model, pages, name=name, exclude_rows=rows, invalid=invalid, axes=axes)
    left = len(pages) - (len(staging.done) if staging is not None else 0)
    lines = PageLines(shown_path(file.path), left, file.progress)  # where no bar is shown
    for i, (page, stats, bad) in enumerate(zip(pages, each, invalid, strict=True)):
        found = staging.load(i) if staging is not None else None
        if found is None:
            here = name if len(pages) == 1 else f"{name} {axes.label(i)}"  # as its lines
            found = _page_results(model, page, file, stats=stats, invalid=bad, name=here)
            if staging is not None:
                staging.keep(i, found)
            lines.done(axes.label(i))
        for key, value in found.items():
            results[key].append(value)
    return results["labels"], results["ids"], results["probs"]


def _page_results(model, page, file: _File, *, stats, invalid, name) -> dict[str, np.ndarray]:
    """One page's labels, object ids (with ``objects``) and probabilities (with
    ``save_probabilities``), by name (:func:`_predict_pages`); ``name``: what its lines call
    the page ("s.tif frame 3")."""
    objects, rows = file.outputs.objects, file.options.exclude_rows
    how = dict(progress=file.progress, stats=stats, name=name, invalid=invalid)
    if objects is None and not file.outputs.save_probabilities:  # labels only: row by row
        return {"labels": labels_fitted(model, page, file.options, **how)}
    if _row_instances(model, file.outputs):
        maps = maps_fitted(model, page, file.options, _instance_maps(objects), **how)
        labels, interior, foreground = maps
        outside = either(invalid, region(labels.shape, rows))
        ids = instance_objects(interior, foreground, objects, outside=outside)
        return {"labels": labels, "ids": ids}
    p = predict_fitted(model, page, file.options, **how)
    found = {"labels": labels_from_probabilities(p)}
    if objects is not None:  # nodata and the bar cut objects as the image edge does
        outside = either(invalid, region(p.shape[1:], rows))
        found["ids"] = objects_int32(p, objects, outside=outside)
    if file.outputs.save_probabilities:
        found["probs"] = p
    return found


def _row_instances(model, outputs: OutputOptions) -> bool:
    """Whether a page's objects are made from maps built row by row (:func:`_instance_maps`)
    instead of the whole probabilities: an instance model's, its probabilities not saved."""
    if not outputs.objects_only:
        return False
    return outputs.objects.mode == "instances" and getattr(model, "num_classes", None) == 3


def _instance_maps(objects: ObjectOptions) -> Callable:
    """(K, rows, W) probabilities -> their labels, interior probability (a copy) and
    foreground (:func:`grown_over`): what :func:`instance_objects` and the labels need,
    6 B a pixel of the probabilities' 12 (36 MP: 216 MB less held)."""

    def maps(probabilities: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        labels = labels_from_probabilities(probabilities)
        return labels, probabilities[2].copy(), grown_over(probabilities, objects)

    return maps


def _write_overlay(
    model,
    path: Path,
    stack,
    labels: list,
    ids: list,
    *,
    tiff: bool,
    meta: dict,
    axes: PageAxes,
    record: Provenance | None = None,
    by_object: bool = False,
    joined: bool = False,
    invalid: list | None = None,
    channel: _Shown = _AS_READ,
) -> Path:
    """The labels (and object outlines) drawn over the pages, or with ``by_object`` each
    object in its own colour (:func:`unetlab.plots.prediction_overlay`; ``joined``: the
    ids are 3-D objects, each one colour in all its planes): an RGB PNG, or TIFF with the
    input's pixel size and its pages' ``axes``; either carries ``record``. The ``invalid``
    pixels (nodata, transparent) stay untinted where the background is a class of its own.
    The pages show the ``channel`` predicted (:func:`~unetlab.plots.shown_channels`), as a
    streamed slide's overlay does (s70: a 24-channel file predicted on CD45 showed channels
    0-2), each page's cut as it is drawn."""
    colours = label_colours(model, color=True, values=False)
    if channel.channel is not None and stack.ndim == 4:
        at = functools.partial(held_at, held=channel.held)  # those the stack holds
        stack = (
            page[..., list(at(shown_channels(page.shape[2], channel.channel)))] for page in stack
        )
    if invalid is not None and background_is_a_class(model):  # no class there: untinted
        labels = [
            lab if bad is None else np.where(bad, np.int64(-1), lab)
            for lab, bad in zip(labels, invalid)
        ]
    tables = _colour_tables(ids, axes) if by_object and joined else [None] * len(labels)
    drawn = [
        prediction_overlay(page, lab, i, colours=colours, by_object=by_object, table=table)
        for page, lab, i, table in zip(stack, labels, ids or [None] * len(labels), tables)
    ]
    if tiff:
        rgb, rgb_axes = _hyperstack(drawn, axes, "YXS")
        scale = tiff_kwargs(_scale(rgb.dtype, rgb_axes, meta["pixel"], axes), record)
        write_tiff(path, rgb, photometric="rgb", compression=COMPRESSION, **scale)
    else:
        write_png(path, drawn[0], text=png_text(record))
    return path


def _colour_tables(ids: list, axes: PageAxes) -> list:
    """Each page's :func:`~unetlab.plots.object_colour_table`: that of its frame's planes
    (3-D objects, ids from 1 in each frame), so that an object takes one colour in all of
    them; each page's own gave an object touching another in one plane and not the next
    two colours."""
    tables = [None] * len(ids)
    for pages in frame_pages(axes):
        table = object_colour_table([ids[p] for p in pages])
        for p in pages:
            tables[p] = table
    return tables


def _write_objects(
    paths: dict[str, Path],
    stack: np.ndarray,
    ids: list[np.ndarray],
    pixel,
    axes: PageAxes,
    *,
    record: Provenance | None = None,
    outlines: dict | None = None,
    channels: Sequence[str] = (),
    kinds: Sequence[dict] = (),
    exclude_rows: tuple | None = None,
    invalid: Sequence[np.ndarray | None] | None = None,
    grid: MapGrid | None = None,
    name: str | None = None,
    position: int | None = None,
    kept: Sequence[str] = (),
) -> tuple[list[Path], list[int], dict[str, int], dict[str, float]]:
    """``<stem>_objects.tif`` of the pages' object ``ids`` (:func:`_write_id_tiff`),
    ``<stem>_objects.csv`` (:func:`_page_tables`, :func:`_table_units`) and their
    outlines (:func:`~unetlab.inference.outlines.write_outlines`' ``outlines``: the paths
    asked for, the class): (their paths, the objects of each page, the objects of each
    class where ``kinds`` give them a class:
    :func:`~unetlab.inference.measure.class_counts`, and their area in m² on a map:
    :func:`~unetlab.inference.measure.class_areas`). ``name`` (the input file's): the
    table ends with ``saturated_fraction`` (an integer image) and ``image``, and a
    multi-position file's ``position``
    (:func:`~unetlab.inference.table_extras.with_image_columns`). The ids and table of
    names ``kept`` (drawn from: :mod:`~unetlab.inference.drawn_again`) are not written (a
    2048² image's 88k objects: ~1 s, then removed: s52), their paths returned as written."""
    if paths["objects"].name not in kept:
        _write_id_tiff(paths["objects"], ids, pixel, axes, record)
    written = [paths["objects"]]
    cut = dict(kinds=kinds, exclude_rows=exclude_rows, invalid=invalid)
    tables = _page_tables(ids, stack, pixel, axes, **cut)
    planes = [len(t["id"]) for t in tables]
    tables, size = _table_units(tables, pixel, grid, channels)
    if name is not None:  # appended: the earlier columns keep their places
        each = zip(tables, ids, stack)
        tables = [with_image_columns(t, i, p, name, position) for t, i, p in each]
    joined = {k: np.concatenate([t[k] for t in tables]) for k in tables[0]}
    if paths["table"].name not in kept:
        write_csv(paths["table"], joined)
    written.append(paths["table"])
    bands = stack.shape[3] if stack.ndim == 4 else 1  # several: the ROIs get (c, z, t)
    how = dict(pixel_size=size, axes=axes, channels=bands)
    written += write_outlines(ids, tables, **how, **(outlines or {}))
    return written, planes, class_counts(joined), class_areas(joined)


def _write_objects_3d(
    paths: dict[str, Path],
    stack: np.ndarray,
    ids: list[np.ndarray],
    pixel,
    axes: PageAxes,
    *,
    record: Provenance | None = None,
    channels: Sequence[str] = (),
    name: str | None = None,
    position: int | None = None,
    exclude_rows: tuple | None = None,
    invalid: Sequence[np.ndarray | None] | None = None,
    classes: dict | None = None,
    **_,
) -> tuple[list[Path], list[int], dict[str, int], dict[str, float]]:
    """:func:`_write_objects` of 3-D objects (``ids``: each page's, one id per object
    across its frame's planes: :func:`~unetlab.inference.objects_3d.objects_by_frame`):
    the ids TIFF as the 2-D one, and one table row per 3-D object
    (:func:`_frame_table`; those the rows of ``exclude_rows`` or a page's ``invalid``
    pixels cut touch the border, as in 2-D); a model of several object ``classes``
    (:func:`_classes_3d`) each row's class, and each class's volume in ``<stem>_classes.csv``
    (:func:`_write_class_totals`); (their paths, the objects of each frame, the objects of
    each class, {})."""
    written = [_write_id_tiff(paths["objects"], ids, pixel, axes, record)]
    voxel = None if pixel is None else table_voxel(pixel.size, pixel.spacing)
    cut = _cut_pages(ids, exclude_rows, invalid)
    frames = frame_pages(axes)
    tables = [
        _frame_table(t, [ids[p] for p in pages], stack[pages], axes, voxel, [cut[p] for p in pages])
        for t, pages in enumerate(frames)
    ]
    if classes is not None:
        tables = [_with_classes(t, ids, pages, classes) for t, pages in zip(tables, frames)]
    counts = [len(t["id"]) for t in tables]
    if name is not None:  # appended: the earlier columns keep their places
        tables = [
            _with_image_3d(t, ids, stack, pages, name, position) for t, pages in zip(tables, frames)
        ]
    tables = [named_channels(in_unit(t, _shown(pixel)), channels) for t in tables]
    joined = {k: np.concatenate([t[k] for t in tables]) for k in tables[0]}
    write_csv(paths["table"], joined)
    written.append(paths["table"])
    if classes is not None:
        written.append(_write_class_totals(paths["classes"], tables, frames, classes, pixel))
    return written, counts, class_counts(joined), {}


def _with_classes(table: dict, ids: list, pages: list[int], classes: dict) -> dict:
    """A frame's 3-D objects ``table`` with their ``class`` and ``class_name``
    (:func:`~unetlab.inference.objects_3d.with_classes_3d`; ``classes``: :func:`_classes_3d`)."""
    planes = np.stack([ids[p] for p in pages])
    votes = np.stack([classes["votes"][p] for p in pages])
    return with_classes_3d(table, planes, votes, classes["names"], classes["background"])


def _write_class_totals(
    path: Path, tables: list[dict], frames: list[list[int]], classes: dict, pixel
) -> Path:
    """``<stem>_classes.csv``: each object class's objects, voxels and volume (µm³, a NIfTI
    volume's mm³) of each frame (``tables``, its pages ``frames``; ``classes``:
    :func:`_classes_3d`, whose voting labels are counted;
    :func:`~unetlab.inference.objects_3d.class_totals`; a movie's rows led by ``t``)."""
    voxel = None if pixel is None else table_voxel(pixel.size, pixel.spacing)
    rows = []
    for t, (table, pages) in enumerate(zip(tables, frames)):
        votes = np.stack([classes["votes"][p] for p in pages])
        totals = class_totals(table, votes, classes["kinds"], classes["names"], voxel)
        lead = {"t": np.full(len(totals["class"]), t)} if "t" in table else {}
        rows.append(in_unit({**lead, **totals}, _shown(pixel)))
    write_csv(path, {k: np.concatenate([r[k] for r in rows]) for k in rows[0]})
    return path


def _cut_pages(ids: list, exclude_rows, invalid) -> list[np.ndarray | None]:
    """Each page's pixels that cut its objects: the rows of ``exclude_rows`` and its
    ``invalid`` (nodata) ones; None where none."""
    bar = region(ids[0].shape, exclude_rows)
    pages = list(invalid) if invalid is not None else [None] * len(ids)
    return [bar if bad is None else bad if bar is None else bar | bad for bad in pages]


def _frame_table(
    t: int, ids: list[np.ndarray], stack: np.ndarray, axes: PageAxes, voxel, cut: list
):
    """The 3-D objects table of frame ``t`` (:func:`~unetlab.inference.objects_3d.table_3d`
    of its planes' ``ids`` over their ``stack`` of pixels; objects its planes' ``cut``
    pixels cut touch the border: :func:`~unetlab.inference.objects_3d.flag_cut_3d`), a
    movie's led by ``t`` (and ``t_s`` where the frame interval is known)."""
    planes = np.stack(ids)
    table = flag_cut_3d(table_3d(planes, stack, voxel), planes, cut)
    if "T" not in axes.letters:
        return table
    rows, seconds = len(table["id"]), frame_seconds(axes.timing)
    lead = {"t": np.full(rows, t)}
    if seconds is not None:
        lead["t_s"] = np.full(rows, t * seconds)
    return {**lead, **table}


def _with_image_3d(table: dict, ids: list, stack: np.ndarray, pages: list[int], name, position):
    """``table`` with the 2-D tables' last columns (``saturated_fraction`` of an integer
    image, ``image``, ``position``, ``path``), its frame's planes side by side as one 2-D
    image (:func:`~unetlab.inference.table_extras.with_image_columns`)."""
    frame = np.stack([ids[p] for p in pages])
    flat_ids = frame.reshape(-1, frame.shape[-1])
    image = stack[pages]
    flat_image = image.reshape(-1, *image.shape[2:])
    return with_image_columns(table, flat_ids, flat_image, name, position)


def _write_id_tiff(path: Path, ids: list[np.ndarray], pixel, axes: PageAxes, record) -> Path:
    """The pages' object ``ids`` as one TIFF (uint16, uint32 past 65,535 objects) with the
    input's ``pixel`` size and pages' ``axes``, and ``record`` (what made them)."""
    dtype = id_dtype(max(int(i.max(initial=0)) for i in ids))
    objects, id_axes = _hyperstack([i.astype(dtype) for i in ids], axes, "YX")
    scale = tiff_kwargs(_scale(dtype, id_axes, pixel, axes), record)
    write_tiff(path, objects, photometric="minisblack", compression=COMPRESSION, **scale)
    return path


def _page_tables(
    ids: list[np.ndarray],
    stack: np.ndarray,
    pixel,
    axes: PageAxes,
    *,
    kinds: Sequence[dict] = (),
    exclude_rows: tuple | None = None,
    invalid: Sequence[np.ndarray | None] | None = None,
) -> list[dict]:
    """Each page's objects table in pixels (:func:`~unetlab.inference.measure.object_table`,
    ``kinds``: each page's class keywords, a semantic model's:
    :func:`~unetlab.inference.objects.measured_classes`), a stack's with its page columns
    first (:func:`_page_columns`). Objects that reach the rows of ``exclude_rows`` (a data
    bar) are cut by it, and so are those beside a page's ``invalid`` pixels (nodata,
    transparent): ``touches_border`` true."""
    kinds = list(kinds) or [{}] * len(ids)
    invalid = list(invalid) if invalid is not None else [None] * len(ids)
    tables = [
        flag_touching(
            flag_cut_objects(object_table(i, page, **k), exclude_rows, i.shape[0]), i, bad
        )
        for i, page, k, bad in zip(ids, stack, kinds, invalid, strict=True)
    ]
    if len(tables) == 1:
        return tables
    return [{**_page_columns(p, len(t["id"]), axes, pixel), **t} for p, t in enumerate(tables)]


def _table_units(tables: list[dict], pixel, grid: MapGrid | None, channels: Sequence[str]):
    """``(tables, size)``: the pages' ``tables`` with physical columns of the pixel
    ``size`` ((y, x) um: the input's ``pixel``, else a world file's where a CRS in metres
    beside it says so: :func:`~unetlab.data.world_file.grid_pixel_size`; a map's in
    metres: :func:`~unetlab.inference.measure.with_micrometres`), a map's
    ``centroid_x_map`` and ``centroid_y_map`` where ``grid`` places the input
    (:func:`~unetlab.inference.measure.with_map_centroids`), and the intensity columns of
    several channels named by ``channels`` (the file's names) where they name each channel
    once, else by index (:func:`~unetlab.inference.measure.named_channels`)."""
    size = pixel.size if pixel is not None else grid_pixel_size(grid)
    unit = grid_length_unit(size, grid)  # a map's: metres
    tables = [in_unit(with_micrometres(t, size, unit=unit), _shown(pixel)) for t in tables]
    return [named_channels(with_map_centroids(t, grid), channels) for t in tables], size


def _shown(pixel) -> str:
    """The unit the objects tables of an input of ``pixel`` size give their sizes in (its
    :attr:`~unetlab.data.tiffmeta.PixelSize.shown`: a NIfTI volume's mm; µm without one)."""
    return "um" if pixel is None else pixel.shown


def _write_label_tiff(
    path: Path,
    labels: np.ndarray,
    axes: str,
    colours: np.ndarray | None,
    meta: dict,
    pages: PageAxes,
    *,
    record: Provenance | None = None,
    nodata: int | None = None,
) -> None:
    """Labels of ``axes`` ("YX", "ZYX", "TZYX", ...) as an ImageJ TIFF with class names,
    pixel size (``meta``), the ``pages``' frame interval and ``record`` (what made them), a
    palette TIFF with ``colours``; ``nodata``: the value its GDAL_NODATA tag names."""
    ij = dict(axes=axes, timing=pages.timing, **meta)
    extra = [nodata_tag(nodata)] if nodata is not None else []
    if colours is None:
        kwargs = tiff_kwargs(imagej_kwargs(labels.dtype, **ij), record)
        kwargs["extratags"] = [*kwargs.get("extratags", []), *extra]
        write_tiff(path, labels, photometric="minisblack", compression=COMPRESSION, **kwargs)
        return
    colormap = np.zeros((3, 256), dtype=np.uint16)
    colormap[:, : len(colours)] = colours.T.astype(np.uint16) * 257
    kwargs = tiff_kwargs(imagej_kwargs(np.uint8, **ij), record)
    kwargs["extratags"] = [*kwargs.get("extratags", []), *extra]
    write_tiff(
        path,
        labels.astype(np.uint8),
        photometric="palette",
        compression=COMPRESSION,
        colormap=colormap,
        **kwargs,
    )


def _scale(dtype, axes: str, pixel, pages: PageAxes) -> dict:
    """``tifffile.imwrite`` keywords of a TIFF beside the labels (object ids, an overlay) of
    ``axes``: the pixel size and the ``pages``' frame interval (:func:`scale_kwargs`), and
    an ImageJ TIFF of those axes also without a pixel size, as the labels are (a stack's
    ids and overlay were plain TIFFs that recorded no axes: tifffile read QYX beside the
    labels' ZYX)."""
    kwargs = scale_kwargs(dtype, axes=axes, pixel=pixel, timing=pages.timing)
    if kwargs or np.dtype(dtype) not in [np.dtype(d) for d in IMAGEJ_DTYPES]:
        return kwargs
    return {"imagej": True, "metadata": {"axes": axes}}


def _tiff_meta(model, path: Path, values) -> dict:
    """Class names, mask values and the input's pixel size for TIFF outputs (data.tiffmeta)."""
    classes = list(getattr(model, "classes", []))[: max(model.num_classes, 2)]
    return {"classes": classes, "values": values, "pixel": read_pixel_size(path)}


def _probability_meta(meta: dict, k: int, pages: int, axes: str, page_axes: PageAxes) -> dict:
    """ImageJ keywords of a float32 probability TIFF of ``axes`` ("CYX", "ZCYX", "TZCYX",
    ...): channel labels (a one-class net's single channel is its foreground, the last class
    name)."""
    classes = meta["classes"][-k:]
    return imagej_kwargs(
        np.float32,
        axes=axes,
        classes=classes,
        pixel=meta["pixel"],
        channel_labels=pages,
        timing=page_axes.timing,
    )


def _hyperstack(pages: Sequence[np.ndarray], axes: PageAxes, tail: str) -> tuple[np.ndarray, str]:
    """Per-page outputs as one array of an ImageJ hyperstack, and its axes: the input's
    page ``axes`` (:class:`~unetlab.data.tiffmeta.PageAxes`: T and Z kept, as in the input)
    followed by ``tail`` ("YX", "CYX", "YXS"); one page as itself."""
    if len(pages) == 1:
        return pages[0], tail
    return axes.unfold(np.stack(pages)), axes.axes + tail


def _page_columns(page: int, rows: int, axes: PageAxes, pixel) -> dict[str, np.ndarray]:
    """The leading columns of a stack's object table for ``rows`` objects of page ``page``:
    ``page``, and the input's ``t`` and ``z`` indices (``t_s`` where the frame interval is
    known, ``z_um`` where the Z spacing is: :func:`~unetlab.inference.measure.plane_columns`)."""
    spacing = None if pixel is None else pixel.spacing
    return plane_columns(page, rows, axes.index(page), frame_seconds(axes.timing), spacing)
