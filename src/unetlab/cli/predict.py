"""``unetlab predict``: segment images of any size with a trained checkpoint.

Unreadable files, and files whose channels do not fit the model, are named one per line and
skipped; the others are still written; the exit code is 3 if any failed (:data:`SOME_FAILED`).
``--nproc N`` (or torchrun) shares the files out over processes, and each large image by
bands of rows (with --instances or --overlay one process streams it, as a run of one does).
The output folder must not hold the inputs or files unetlab did not write there (unless
--overwrite, which writes beside such files and never replaces one); a second command
writing into it is refused.
"""

from __future__ import annotations

import contextlib
import logging
import statistics
import sys
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from unetlab.cli.common import (
    add_device_arg,
    add_object_args,
    add_prediction_args,
    background_hint,
    channel_args,
    check_object_args,
    check_pixels,
    class_least_areas,
    given_checkpoint_parts,
    model_classes,
    object_flags_given,
    object_options,
    objects_line,
    predict_options,
    say_nanometre_slips,
    split_hint,
    user_path,
    warn_loaded,
)
from unetlab.errors import IN_USE, DiskFullError, UnetlabError, first_line
from unetlab.words import numbered

if TYPE_CHECKING:
    from unetlab.cpu_share import CpuReading
    from unetlab.distributed import LostPeer

log = logging.getLogger(__name__)

#: the exit status of a run that went through but could not predict some inputs (2: a
#: problem stopped the command before any work; a nightly job tells them apart)
SOME_FAILED = 3
#: --nproc N: minutes a process waits in a collective for the others (those with a longer
#: share of the files, the main one publishing a slide alone), as training's
#: train.dist_timeout_minutes; the backends' own (gloo 30 min, NCCL 10) ended such runs after
#: their work. A killed process is still seen at once (torchrun ends the others)
WAIT_MINUTES = 360.0
EXIT_CODES = (
    "exit status: 0 every input written or skipped; 3 the run went through but some inputs "
    "failed (each named in a line and in predict.json's 'failed'); 2 a problem stopped it "
    "before any work (a bad flag, no images; the line says the fix); 75 the output folder "
    "is in use by another unetlab process (try again later); 1 a bug in unetlab; 130, 143, "
    "129 stopped by Ctrl-C, SIGTERM, SIGHUP. With --recursive: 3 also where a folder failed, "
    "2 where no folder could start, 75 where every one was in use."
)


def _not_read(result, files: list[Path]):
    """``result`` with the ``files`` this command passed over (:func:`say_unread`: of the
    folders it was given, which predict_folder does not see), for the summary and
    predict.json."""
    result.not_read = files
    return result


def add_parser(sub) -> None:
    p = sub.add_parser(
        "predict",
        help="segment images (files, folders, globs) with a checkpoint",
        description="Predict label images with overlap-tile inference. Outputs keep the "
        "input's stem (slide.ome.tif: slide): <stem>.png labels (class indices), <stem>.tif "
        "for multi-page stacks and TIFFs that record a pixel size (kept), label volumes "
        "<stem>.nii.gz of NIfTI inputs read whole and <stem>.mrc of MRC inputs (streamed "
        "too, unless --output-format ome-zarr), <stem>_prob.tif "
        "probabilities, <stem>_overlay.png (<stem>_overlay.tif beside TIFF labels). Large "
        "images (one-page TIFFs whose whole read would take over 0.5 GB beside the tiles, "
        "about 13 MP in colour, 4 MP with --instances, so --instances can stream one read "
        "whole without it; --large-pixels N decides alone; TIFF, MRC, HDF5, CZI and .npy files "
        "of more than "
        "67 megapixels a page, or --large-pixels; any --level above 0; OME-Zarr folders) are "
        "read and written window by window: "
        "pyramidal OME-TIFF <stem>.tif (an MRC input's labels: <stem>.mrc) or OME-Zarr "
        "<stem>.ome.zarr, with their pixel size. "
        "--instances adds <stem>_objects.tif and <stem>_objects.csv, --outlines their "
        "outlines for QuPath and Fiji. A multi-position OME-TIFF gives each position's "
        "outputs, named <stem>_pos0, <stem>_pos1, ...",
        epilog=EXIT_CODES,
    )
    _add_inputs(p)
    g = p.add_argument_group("outputs")
    _add_outputs(g)
    _add_objects(g)
    _add_folder(g)
    prediction = p.add_argument_group("prediction")
    add_prediction_args(prediction, tta_help=" (up to 8x slower)")
    add_exclude_rows_arg(prediction)
    add_nodata_arg(prediction)
    add_scale_arg(prediction)
    p.add_argument(
        "--benchmark",
        action="store_true",
        help="timing mode: after an untimed warm-up on the first input, print "
        "images/s and MP/s over the inputs, end to end (read, predict, write) "
        "and in the model alone",
    )
    _add_slides(p.add_argument_group("large images (slides)"))
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_device_arg(p)
    p.set_defaults(run=run)


def _add_inputs(p) -> None:
    """The checkpoint, the inputs and how their axes are read, the output folder."""
    path = user_path  # --input=~/x: the shell leaves that ~ alone
    p.add_argument(
        "--checkpoint",
        required=True,
        type=path,
        help="a unetlab checkpoint (.pt) or a bioimage.io package unetlab exported",
    )
    p.add_argument(
        "--input",
        nargs="+",
        required=True,
        type=path,
        metavar="PATH",
        help="image files, folders or globs (PNG, JPEG, TIFF; stacks too), and "
        "Zarr / OME-Zarr folders",
    )
    p.add_argument(
        "--output", required=True, type=path, metavar="DIR", help="folder for the outputs"
    )
    add_axes_arg(
        p,
        "; a large stack read window by window takes axes that say what its pages are (TYX "
        "for slices that are time points)",
    )
    add_h5_dataset_arg(p)


#: --h5-dataset's help (data.h5_dataset)
H5_DATASET = (
    "the dataset read in each HDF5 file (.h5, .hdf5, .hdf, .ims) of several, by its path in "
    "the file (raw, volumes/raw; default: the checkpoint's data.h5_dataset, the one it "
    "trained on; a file of one dataset, an ilastik export, is read whatever its name)"
)


def add_h5_dataset_arg(p) -> None:
    """--h5-dataset: the dataset read in each HDF5 input of several (``data.h5_dataset``)."""
    p.add_argument("--h5-dataset", metavar="NAME", help=H5_DATASET)


def h5_datasets_read(args) -> contextlib.AbstractContextManager[None]:
    """Within: the datasets read in each HDF5 input of several are ``--h5-dataset`` and
    ``--h5-mask-dataset`` (evaluate's), else those the checkpoint trained on, said in a line
    where a file of several reads them (:func:`~unetlab.data.h5.trained_h5_datasets`)."""
    from unetlab.data.h5 import trained_h5_datasets

    given = getattr(args, "h5_dataset", None), getattr(args, "h5_mask_dataset", None)
    checkpoint = getattr(args, "checkpoint", None)
    parts = None if checkpoint is None or None not in given else given_checkpoint_parts(args)
    trained = (parts or {}).get("train_config")
    return trained_h5_datasets(trained.get("data") if isinstance(trained, dict) else None, given)


def add_axes_arg(p, more: str = "") -> None:
    """--axes: the axes of TIFF inputs that record none or wrong ones (predict's, evaluate's
    with ``more`` said of how it reads them)."""
    p.add_argument(
        "--axes",
        metavar="AXES",
        help="the axes of TIFF inputs that record none (or wrong ones), one letter each: T "
        "time, Z depth, C channels, Y rows, X columns, e.g. TYX, ZYX, CYX, YXC, TCYX, TZCYX "
        "(default: those the checkpoint trained with, its data.axes, for a TIFF of as many "
        "axes, else as the file's "
        "ImageJ, OME or tifffile metadata says; the pages of a file "
        "without any are read as Z planes, or, grey pages as many as a multi-channel model's "
        f"channels, as one image's channels){more}",
    )


def _add_outputs(g) -> None:
    """What is written: the labels' encoding, probabilities, the overlay."""
    g.add_argument("--color", action="store_true", help="write labels as a palette PNG")
    g.add_argument(
        "--label-values",
        action="store_true",
        help="write the model's mask values (e.g. 0/255) instead of class indices",
    )
    g.add_argument(
        "--save-probabilities",
        action="store_true",
        help="also write class probabilities as float32 TIFF",
    )
    g.add_argument("--overlay", action="store_true", help="also write the labels over the image")


def _add_objects(g) -> None:
    """--instances and how objects are found."""
    g.add_argument(
        "--instances",
        action="store_true",
        help="also write objects: <stem>_objects.tif (one id per object, 0 = "
        "background) and <stem>_objects.csv (area, centroid, box, shape and intensity "
        "measures); outlines in the overlay",
    )
    g.add_argument(
        "--outlines",
        choices=["geojson", "imagej", "both", "coco", "labelme", "cellpose"],
        help="with --instances: also write each object's outline (a semantic model's: its "
        "class regions, with class and class_name), <stem>_objects.geojson (QuPath: File > "
        "Import objects; a GeoTIFF's, or a PNG's with a world file, in its map coordinates, "
        "for QGIS) and/or <stem>_objects_rois.zip (Fiji: File > Open gives the ROI Manager; "
        "ROI 0012 is object 12); large images: geojson only; coco: one objects_coco.json of the "
        "folder's images (CVAT: Import annotations, COCO 1.0; Label Studio; unetlab train --data); "
        "labelme: <stem>_objects.json (labelme: File > Open, correct, save; to train, name it "
        "as its image: masks/<stem>.json); cellpose: <stem>_seg.npy (cellpose's GUI: File > "
        "Load processed/labelled image, correct; it saves X_seg.npy beside the image X.tif, "
        "which train --data reads as its masks)",
    )
    g.add_argument(
        "--objects-3d",
        action="store_true",
        help="with --instances, for a z-stack (ZYX, or a TZYX movie: each frame apart): one "
        "id per object across its planes, and <stem>_objects.csv one row per 3-D object "
        "(volume, volume_um3, centroid z/y/x, z_first, z_last, planes, mean intensity), "
        "objects_summary.csv one row per stack or frame; a model of several object classes "
        "(organs): each class's objects, and <stem>_classes.csv each class's voxels and "
        "volume; not with --outlines",
    )
    add_object_args(g, "with --instances", level=True)
    g.add_argument(
        "--watershed-seeds",
        type=float,
        metavar="P",
        help="with --instances, for a two-class membrane model (EM): split cells a membrane "
        "gap merges, seeds where the cell probability > P (e.g. 0.9)",
    )


def _add_folder(g) -> None:
    """What may be skipped or replaced in the output folder; a tree of folders."""
    g.add_argument(
        "--recursive",
        action="store_true",
        help="--input is a folder of sub-folders (one per user, per day): predict each "
        "folder's images into the same sub-folder of --output (drop/alice/x.png -> "
        "OUT/alice/x.png), each with its own objects_summary.csv and predict.json; of a "
        "data set (images/ beside masks/) its images/ alone",
    )
    g.add_argument(
        "--skip-existing",
        action="store_true",
        help="skip inputs whose outputs asked for (labels, and --overlay, --instances, "
        "--outlines, --save-probabilities ones) an earlier unetlab predict wrote into this "
        "folder",
    )
    g.add_argument(
        "--overwrite",
        action="store_true",
        help="write into a folder holding files unetlab did not write (beside them: a file "
        "of an output's name that unetlab did not write is never replaced: that input "
        "fails, exit status 3), and "
        "replace the outputs unetlab wrote there for another input of the same name or "
        "another model (inputs are never replaced)",
    )


def _add_slides(s) -> None:
    """Large images: the level, when to stream, the format, processes."""
    level = "predict pyramid level N of a pyramidal TIFF or OME-Zarr (default 0: full resolution; "
    level += "a file without levels fails in a line that says how to make them)"
    s.add_argument("--level", type=int, default=0, metavar="N", help=level)
    s.add_argument(
        "--large-pixels",
        type=int,
        metavar="N",
        help="stream TIFF, MRC, HDF5, CZI and .npy files of more than N pixels a page, and read "
        "smaller ones "
        "whole (default: "
        "by memory, a one-page TIFF whose whole read takes over 0.5 GB, and any above "
        "67108864 px, 2^26)",
    )
    s.add_argument(
        "--pixel-size",
        type=float,
        metavar="UM",
        help="the pixel size in µm of the inputs (a large image's level 0), in place of what "
        "their files record (or for files that record none): the outputs' scale (a PNG's "
        "labels then a TIFF that carries it; a large image's OME-TIFF or OME-Zarr), the "
        "tables' um columns",
    )
    s.add_argument(
        "--z-spacing",
        type=float,
        metavar="UM",
        help="the step between a stack's planes in µm, in place of what its file records (or "
        "for one that records none): the outputs' scale, z_um, and --objects-3d's voxels "
        "(without it, or one in the file, planes are taken a pixel apart)",
    )
    _add_formats(s)
    s.add_argument(
        "--nproc",
        type=int,
        default=1,
        metavar="N",
        help="predict in N processes on this machine (one per GPU, NCCL; or CPU "
        "processes, gloo): files shared out, a large image by bands of rows; the "
        "same as torchrun --nproc_per_node N -m unetlab predict ... (default 1)",
    )


def _add_formats(s) -> None:
    """How large images' outputs are written, and a DICOM series' SEG coded."""
    s.add_argument(
        "--output-format",
        choices=["ome-tiff", "ome-zarr", "dicom-seg"],
        default="ome-tiff",
        help="how large images' outputs are written: tiled pyramidal OME-TIFF "
        "(<stem>.tif) or OME-Zarr (<stem>.ome.zarr) (default: ome-tiff); dicom-seg (DICOM "
        "series alone): also <series>.seg.dcm, a DICOM SEG of the series for the PACS, "
        "OHIF and 3D Slicer",
    )
    s.add_argument(
        "--seg-codes",
        metavar="FILE",
        help="with --output-format dicom-seg: each class's coded category and type in the "
        "SEG (SNOMED CT, e.g. SCT 10200004 Liver), a CSV with the header class,"
        "category_scheme,category_code,category_meaning,type_scheme,type_code,type_meaning "
        "or a YAML of class: {category: [scheme, code, meaning], type: [...]} (default: the "
        "generic SCT 85756007 Tissue, as for a class the file leaves out)",
    )


def run(args) -> int:
    since = _cpu_reading()  # other work's cores over the setup (imports too): the threads
    from unetlab.inference.every_file import headers_read_once
    from unetlab.inference.output_rules import holds_of_a_call
    from unetlab.signals import stop_line_said

    # its stop line reads its hold after predict_folder ended, and is the command's alone
    # (no folder, tree or file says one); each input's header read once by the checks
    # before the model loads and after (s59)
    with (
        holds_of_a_call(),
        stop_line_said(),
        headers_read_once(),
        h5_datasets_read(args),
    ):
        return _run(args, since)


def _run(args, since: CpuReading | None) -> int:
    """The flags checked, ``--nproc``'s processes started (each runs this command), then in
    each the inputs predicted: :func:`_run_folder`, or :func:`_run_tree` (``--recursive``)."""
    from unetlab.distributed import Group, launch, without_nproc
    from unetlab.runtime import CLI_DEVICE_FIX, resolve_device

    _check_flags(args)
    group = Group.from_env()
    if args.nproc > 1 and not group.active:  # start the processes; each runs this command
        stopped = partial(launch_stopped_line, args)  # its main process stopped before saying it
        return launch(args.nproc, without_nproc(args.argv), given=args.argv, stopped=stopped)
    run = _run_tree if args.recursive else _run_folder
    with _warnings_only(not group.is_main):  # one start line and one summary, from the main
        device = group.device(resolve_device(args.device, CLI_DEVICE_FIX))
        return run(args, group, device, since)


@contextlib.contextmanager
def _warnings_only(quiet: bool):
    """Within: only warnings of unetlab said where ``quiet`` (a process other than the main
    one); its level put back after, for a caller's ``main()`` in its own process (s66
    merge: a rank-1 run left it at WARNING, and every later INFO line of that process went
    unsaid)."""
    package = logging.getLogger("unetlab")
    level = package.level
    if quiet:
        package.setLevel(logging.WARNING)
    try:
        yield
    finally:
        package.setLevel(level)


def _run_folder(args, group, device, since: CpuReading | None) -> int:
    """The inputs (files, globs, folders) predicted into the one ``--output`` folder, the
    checkpoint loaded once, then the summary; a stop or a full disk said with the inputs
    done (outputs so far kept). Exit :data:`SOME_FAILED` where an input failed."""
    from unetlab.inference.folders import find_inputs, predict_folder, say_unread
    from unetlab.inference.input_folder import among_inputs_line, refuse_input_folder
    from unetlab.inference.output_rules import forget_held

    not_read = say_unread(args.input) if group.is_main else []  # .nd2, .lif: named, counted
    files = find_inputs(args.input)
    _refuse_for_every_file(args, files)
    out_dir = _output_folder(args.output)
    refuse_input_folder(files, out_dir, given="--output")
    forget_held(out_dir)  # a hold of an earlier call of main is not this run's (its stop line)
    if group.is_main:
        _say_notes(args, among_inputs_line(files, out_dir))
    timed = {}  # the model; --benchmark: model time by hooks that synchronise a GPU per call
    clock = partial(_model_clock, timed, device)
    try:
        with group.joined(device, WAIT_MINUTES):  # another's longer share
            result = predict_folder(
                partial(_loaded, timed, args, device, say=group.is_main, since=since),
                files,
                out_dir,
                output_options(args),
                clock=clock if args.benchmark else None,
                root=_one_folder(args.input),
                report=lambda result: _summary(
                    args, _not_read(result, not_read), out_dir, timed, group
                ),
                **_run_keywords(args, group, device),
            )
    except (KeyboardInterrupt, DiskFullError) as exc:  # Ctrl-C, SIGTERM, SIGHUP; a full disk
        end = _disk_full if isinstance(exc, DiskFullError) else _stopped  # outputs so far kept
        where = partial(_inputs_done, args, files, out_dir, main_s=not group.is_main)  # lost
        return end(args, where, exc, say=group.is_main, folder=out_dir)
    except Exception as exc:  # another process of the launch stopped alone, or killed
        where = partial(_inputs_done, args, files, out_dir, main_s=True)  # (its last barrier)
        return _peer_ended(args, where, exc, say=group.is_main, folder=out_dir)
    return SOME_FAILED if result.failed else 0


def _one_folder(inputs: list[str]) -> str | None:
    """The folder the tables' ``path`` column is relative to: the one ``--input`` folder, as
    ``predict_folder(model, "images/", ...)`` takes it (``x.png``, not ``images/x.png``);
    None for files, globs or several inputs (their paths as given)."""
    return inputs[0] if len(inputs) == 1 and Path(inputs[0]).is_dir() else None


def _refuse_for_every_file(args, files: list[Path]) -> None:
    """UnetlabError, before any file, for flags every file would fail alike: ``--axes``
    given to no TIFF, a ``--channel`` beyond the channels of every input (s53, s54); a band
    list's line told the channels the checkpoint's net takes (read without its weights);
    inputs all of a channel count the checkpoint's net cannot take (s57)."""
    from unetlab.inference.every_file import refuse_for_every_file

    settings = {"axes": args.axes, "channel": channel_args(args.channel)}
    refuse_for_every_file(", ".join(args.input), files, settings, takes=_takes(args))


def _takes(args):
    """The :class:`~unetlab.inference.every_file.Takes` of the checkpoint, read without its
    weights; None for no unetlab checkpoint (a bioimage.io package)."""
    from unetlab.checkpoint import parts_takes
    from unetlab.inference.every_file import Takes

    return None if (read := parts_takes(given_checkpoint_parts(args))) is None else Takes(*read)


def _run_keywords(args, group, device) -> dict:
    """The keywords a folder's run and a tree's share: the group, progress bars (none with
    ``--no-progress``; a long stack's page lines still logged where no bar is drawn), the notes
    said once, failed inputs on stderr, the checkpoint's name, the flags' fix and the
    prediction settings."""
    from unetlab.inference.rescale import scale_note
    from unetlab.outputs import OVERWRITE_FIX

    return dict(
        group=group,
        progress=not args.no_progress,
        notes=lambda model, objects: (
            _notes(model, objects, args.scale)
            + region_note(model, args)
            + scale_note(model, args.scale)
        ),
        failed=lambda line: print(f"unetlab predict: failed: {line}", file=sys.stderr),
        name=args.checkpoint,
        overwrite_fix=OVERWRITE_FIX,
        options=with_scale(
            with_nodata(with_exclude_rows(predict_options(args, device), args), args), args
        ),
        axes=args.axes,
    )


def _run_tree(args, group, device, since: CpuReading | None) -> int:
    """``--recursive``: each folder of inputs under the one ``--input`` folder predicted into
    the same sub-folder of ``--output``, the checkpoint loaded once (audit s36 batch 6),
    then the tree's totals in one line (:func:`_tree_ended`); a stop or a full disk stops the
    tree, said once for it (:class:`~unetlab.inference.tree.TreeStop`)."""
    import time

    from unetlab.inference.tree import predict_tree

    if len(args.input) != 1 or not Path(args.input[0]).is_dir():
        raise UnetlabError("--recursive takes one folder as --input (its sub-folders are read)")
    if args.benchmark:
        raise UnetlabError("--benchmark times one folder: drop --recursive, or drop --benchmark")
    out_dir, start, timed = _output_folder(args.output), time.perf_counter(), {}
    takes = _takes(args)  # the checkpoint's header read once (s59: twice with a band list)

    def begin(rel: Path) -> None:  # the folder's name before its lines, warnings and all
        if group.is_main:
            log.info("%s:", Path(args.input[0]) / rel)

    def report(rel: Path, result) -> None:
        _summary(args, result, out_dir / rel, {}, group)

    results = None  # set: every folder predicted, the group's last barrier (its end) to come
    try:
        with group.joined(device, WAIT_MINUTES):
            results = predict_tree(
                partial(_loaded, timed, args, device, say=group.is_main, since=since),
                args.input[0],
                out_dir,
                output_options(args),
                report=report,
                begin=begin,
                takes=takes,
                **_run_keywords(args, group, device),
            )
    except (KeyboardInterrupt, Exception) as exc:  # a stop, a full disk, another process's end
        return _tree_stopped(args, group, exc, every_folder=results is not None)
    elapsed = time.perf_counter() - start
    return _tree_ended(args, group, results, out_dir, elapsed, timed.get("model"))


def _tree_stopped(args, group, exc: BaseException, *, every_folder: bool) -> int:
    """A tree's prediction stopped in a folder (``exc.tree_stop``: a stop, a full disk,
    another process of the launch stopped alone or killed), said once with where it stopped,
    the exit status; else, once ``every_folder`` was predicted, another process's stop or
    end in the group's last barrier (s66: a bare "stopped by SIGTERM", or "a bug in
    unetlab" where it was killed), said so; any other ``exc`` (a stop before any folder:
    as any stop) raised again."""
    if (stop := getattr(exc, "tree_stop", None)) is None:
        if every_folder and isinstance(exc, Exception):
            done = partial(str, "after every folder was predicted")
            return _peer_ended(args, done, exc, say=group.is_main, folder=Path(args.output))
        raise exc
    where, folder = partial(stop.where, output_options(args).wanted), stop.outputs_folder()
    if isinstance(exc, KeyboardInterrupt):
        return _stopped(args, where, exc, say=group.is_main, folder=folder)
    end = _disk_full if isinstance(exc, DiskFullError) else _peer_ended
    return end(args, where, exc, say=group.is_main, folder=folder)


def _tree_ended(args, group, results, out_dir: Path, elapsed: float, model) -> int:
    """The tree's totals said (by the main process) and its exit code: 2 where no folder
    could start (:data:`IN_USE` where each was in use), :data:`SOME_FAILED` where a folder
    or an input failed, else 0. ``model``: the one loaded, for the dark labels' hint."""
    from unetlab.inference.tree import TreeTotals

    totals = TreeTotals.of(args.input[0], results)
    if group.is_main:
        _report_tree(totals, elapsed, out_dir)
        if totals.written and (hint := dark_labels_hint(args, model)):
            log.info("%s", hint)  # once for the tree, not each folder
    if totals.refused == len(results):  # no folder could start: as a folder in use
        return IN_USE if totals.in_use == totals.refused else 2
    return SOME_FAILED if totals.refused or totals.failed else 0


def _report_tree(totals, elapsed: float, out_dir: Path) -> None:
    """The tree's one line after its folders' (:class:`~unetlab.inference.tree.TreeTotals`)."""
    log.info(
        "predict --recursive: %s done, %d failed; %d written, %d skipped, %d failed "
        "in %.1f s -> %s",
        *(numbered(totals.done, "folder"), totals.refused),
        *(totals.written, totals.skipped, totals.failed, elapsed, out_dir),
    )


#: how --exclude-rows is given, for its help
EXCLUDE_ROWS_FORM = (
    "rows of every image that are not sample (an SEM data bar), e.g. bottom=26 or "
    "top=10,bottom=0.1 (px, or a share of the height)"
)


def add_exclude_rows_arg(group, what: str = "") -> None:
    """``--exclude-rows`` (predict's and evaluate's): read back by :func:`with_exclude_rows`;
    ``what``: what the rows are to the command, after :data:`EXCLUDE_ROWS_FORM` (by default
    predict's)."""
    group.add_argument(
        "--exclude-rows",
        metavar="EDGE=ROWS",
        help=f"{EXCLUDE_ROWS_FORM}: "
        + (
            what
            or "left out of the normalisation, labelled background, objects they cut touch "
            "the border; none: none (default: the checkpoint's data.exclude_rows)"
        ),
    )


def with_exclude_rows(options, args):
    """``options`` with ``--exclude-rows`` where given (checked: one line naming the form)."""
    from dataclasses import replace

    if args.exclude_rows is None:
        return options
    return replace(options, exclude_rows=args.exclude_rows)


def check_region_flags(args) -> None:
    """``--nodata`` (auto, none or a number) and ``--exclude-rows`` (``EDGE=ROWS``) of predict
    and evaluate, each refused in one line naming the flag before any file is read (their
    options' own checks name the Python keywords: ``--exclude-rows top=abc`` was told
    "exclude_rows.top", s54)."""
    from unetlab.data.exclude import check_exclude_rows
    from unetlab.data.nodata import check_nodata

    if args.nodata is not None:
        check_nodata(args.nodata, "--nodata")
    if args.exclude_rows is not None:
        check_exclude_rows(args.exclude_rows, "--exclude-rows")


def add_nodata_arg(group) -> None:
    """``--nodata`` (predict's and evaluate's): read back by :func:`with_nodata`."""
    group.add_argument(
        "--nodata",
        metavar="auto|none|V",
        help="pixels that are no sample: left out of the normalisation, a TIFF label image's "
        "no-data value there (named by its GDAL_NODATA tag; a PNG's: the background), no object "
        "there and those beside them touch the border: auto (a GeoTIFF's nodata tag and "
        "transparent pixels), none, or the value V every band holds there, e.g. 0 (Zarr "
        "chunks not stored read as their fill value) (default: the checkpoint's data.nodata, "
        "else auto)",
    )


def with_nodata(options, args):
    """``options`` with ``--nodata`` where given (checked before: :func:`_check_flags`)."""
    from dataclasses import replace

    return options if args.nodata is None else replace(options, nodata=args.nodata)


def add_scale_arg(group) -> None:
    """``--scale`` (predict's, evaluate's): read back by :func:`with_scale`."""
    group.add_argument(
        "--scale",
        metavar="F|auto",
        help="resample each image read whole by F before the net (linear; 2: objects half "
        "the training size; Cellpose's diameter D: F = the training objects' diameter / D, "
        "which predict --scale says) and its probabilities back, so outputs keep the "
        "image's pixels; auto: the image's pixel size (or --pixel-size) / the training "
        "pixel size the checkpoint records (default: 1, as it is)",
    )


def with_scale(options, args):
    """``options`` with ``--scale`` where given (checked: one line naming the form)."""
    from dataclasses import replace

    return options if args.scale is None else replace(options, scale=args.scale)


def output_options(args):
    """The :class:`~unetlab.inference.records.OutputOptions` of the output flags
    (``--instances``: object options made once the model is loaded)."""
    from unetlab.inference.records import OutputOptions

    return OutputOptions(
        color=args.color,
        label_values=args.label_values,
        save_probabilities=args.save_probabilities,
        draw_overlay=args.overlay,
        objects=(lambda model: _objects(args, model)) if args.instances else None,
        outlines=args.outlines,
        level=args.level,
        large_threshold=args.large_pixels,
        output_format=args.output_format,
        overwrite=args.overwrite,
        skip_existing=args.skip_existing,
        objects_3d=args.objects_3d,
        pixel_size=args.pixel_size,
        z_spacing=args.z_spacing,
        seg_codes=args.seg_codes,
    )


def _say_notes(args, among_inputs: str | None) -> None:
    """The main process's lines before predicting: the output folder among the inputs
    (``among_inputs``, None: not), a pixel size or z step given as if in nm."""
    if among_inputs:
        log.warning("%s", among_inputs)
    say_nanometre_slips(args)


def _check_flags(args) -> None:
    """Refuse flags that do not go together, or values out of range (UnetlabError)."""
    from unetlab.data.io import check_axes
    from unetlab.distributed import check_nproc

    check_axes(args.axes)  # one line before the checkpoint loads (it failed each file)
    if args.color and args.label_values:
        raise UnetlabError("--color and --label-values exclude each other: choose one")
    given = object_flags_given(args) + ["--watershed-seeds"] * (args.watershed_seeds is not None)
    given += ["--outlines"] * (args.outlines is not None) + ["--objects-3d"] * args.objects_3d
    if given and not args.instances:
        raise UnetlabError(f"{given[0]} applies to --instances: add --instances or drop it")
    if args.objects_3d and args.outlines is not None:
        raise UnetlabError(
            "--outlines are traced plane by plane, and --objects-3d's objects span planes: "
            "drop one of them"
        )
    check_object_args(args, watershed_seeds=args.watershed_seeds)
    check_pixels(tile_size=args.tile_size, large_pixels=args.large_pixels)
    check_nproc(args.nproc, args.device)  # above the GPUs, or the CPUs without one
    if args.level < 0:
        raise UnetlabError(f"--level must be at least 0, not {args.level}")
    if args.scale is not None:  # a factor or auto: one line naming them otherwise
        from unetlab.inference.rescale import check_scale

        check_scale(args.scale)
    check_region_flags(args)


def _load(args, device, *, say: bool = True, since: CpuReading | None = None):
    """The checkpoint's model, once, in the layout prediction runs in (predict_image would
    convert it per file); a stopped run's last.pt said (``say``: the main process); fewer
    threads where other work held cores since ``since`` (the look of predict_folder's block:
    :func:`~unetlab.inference.threads_look.look_beside`, which decides whether it is ours)."""
    from unetlab.checkpoint import load_model
    from unetlab.inference.threads_look import look_beside
    from unetlab.model_identity import laid_out_again
    from unetlab.runtime import inference_layout

    model = load_model(args.checkpoint, device=device)
    if since is not None:  # predict_folder's look, from the command's start
        look_beside(model, since)
    if say:
        warn_loaded(model, "predict")
    with laid_out_again(model):  # still the file's: no hash, no read of it again (records)
        return model.to(memory_format=inference_layout(device))


def _cpu_reading() -> CpuReading:
    from unetlab.cpu_share import cpu_reading

    return cpu_reading()


def _model_clock(timed: dict, device, model):
    """--benchmark: the model's time by hooks (:class:`~unetlab.bench.ModelClock`), kept."""
    from unetlab.bench import ModelClock

    timed["clock"] = ModelClock(model, device)
    return timed["clock"]


def _loaded(timed: dict, args, device, **kw):
    """The model (:func:`_load`), loaded once and kept in ``timed``."""
    return timed.setdefault("model", _load(args, device, **kw))


def _stopped(
    args,
    where: Callable[[], str],
    exc: BaseException,
    *,
    say: bool,
    folder: Path,
    lost: LostPeer | None = None,
) -> int:
    """A prediction stopped (Ctrl-C, SIGTERM, SIGHUP): one line (``say``: the main process)
    with ``where`` it stopped (how many inputs have their outputs in the output folder
    ``folder``) and how to go on (audit s30 ops 9); the exit status of a process ended by
    the signal (130, 143, 129). ``lost``: stopped as other processes of the launch ended
    (:func:`_peer_ended`; a stop signal that came as they did, torchrun's:
    :func:`~unetlab.distributed.stopped_as_peer_ended`), said as it says, by the process it
    names, with how to go on where there is one (none after an error, said in that
    process's line; once there is space after a full disk's: s66 review), status 2. In a
    launch of several processes, counted once its other processes ended (their outputs
    written as they stopped counted too, s64), a line said as it waits (not for one
    ``lost`` waited for in vain), ``lost`` told again then where there are 3 or more
    (:func:`~unetlab.distributed.lost_once_ended`); a stop signal again as it waits (not a
    launcher's copy of the first) cuts the wait short, one as it counts (torchrun's SIGTERM) is
    held: the
    line said, the process ends as stopped by the first. Elsewhere a stop again as it
    counts (a slow output folder) ends it at once (s64 re-review: held to the count's
    end)."""
    from unetlab.distributed import (
        lost_once_ended,
        one_of_several,
        others_ended,
        stopped_as_peer_ended,
    )
    from unetlab.signals import stop_status, stops_held

    lost = lost or stopped_as_peer_ended(exc)  # torchrun's SIGTERM
    code = 2 if lost else stop_status(exc)[1]
    if lost:
        say = lost.says
    if say and not one_of_several():
        _say_stop(args, where, exc, lost, folder=folder)
    elif say:
        with stops_held() as held:
            waited = lost.waited if lost else ()
            others_ended(say=_say_waiting, stopped=held.stopped_again, left_out=waited)
            _say_stop(args, where, exc, lost and lost_once_ended(lost), folder=folder)
            held.take()  # said: the process ends now, as the first stop asked
    return code


def _say_stop(args, where, exc: BaseException, lost: LostPeer | None, *, folder: Path) -> None:
    """A stopped prediction's line (:func:`_say_done`): stopped by ``exc``'s signal, or as
    ``lost`` says, with how to go on where there is one (none after an error, said in that
    process's line; once there is space after a full disk's)."""
    from unetlab.signals import stop_status

    how = lost.how if lost else stop_status(exc)[0]
    then = " once there is space" if lost and lost.full_disk else ""
    goes_on = not lost or not lost.on_error or lost.full_disk
    _say_done(args, where, how, exc, folder=folder, then=then, goes_on=goes_on)


def _peer_ended(args, where: Callable[[], str], exc: Exception, *, say: bool, folder: Path) -> int:
    """A launch's prediction whose group lost another process: that process's stop where
    it was stopped alone (:func:`~unetlab.distributed.peer_stop`; prediction_folder raised
    it as such within the folder, the group's last barrier after it did not: s66 said a
    bare "stopped by SIGTERM"), said as this one's (``say``: the main process); else it
    ended, not stopped (killed, out of memory, its own error:
    :func:`~unetlab.distributed.lost_peer`): one line as a stop's (:func:`_stopped`),
    naming it, with ``where`` it stopped (the outputs in ``folder``); status 2 (the
    launcher says how that process ended), the stop under way: torchrun's SIGTERM to the
    processes left is no second line (s66 review: "stopped by SIGTERM" after it, 1 run in
    8). Any other ``exc`` raised again."""
    from unetlab.distributed import lost_peer, peer_gone, peer_stop

    if (stop := peer_stop(exc)) is not None:
        return _stopped(args, where, stop, say=say, folder=folder)
    if not peer_gone(exc):
        raise exc
    if (lost := lost_peer(exc)) is None:  # it noted its stop since: lost_peer looked again
        return _stopped(args, where, peer_stop(exc), say=say, folder=folder)
    return _stopped(args, where, exc, say=say, folder=folder, lost=lost)


def _say_waiting(wait: float) -> None:
    """The line of a stopped launch's main process that waits up to ``wait`` seconds for
    the others to stop before it counts (:func:`~unetlab.distributed.others_ended`): a
    Ctrl-C met with silence for up to that long looked ignored."""
    line = f"unetlab predict: waiting for the other processes to stop (at most {wait:g} s)"
    with contextlib.suppress(OSError):  # a closed terminal (SIGHUP)
        print(line, file=sys.stderr, flush=True)


def _disk_full(
    args, where: Callable[[], str], exc: DiskFullError, *, say: bool, folder: Path
) -> int:
    """A prediction stopped by a full disk: its one line, then as a stop (:func:`_stopped`)
    ``where`` it stopped (outputs in ``folder``) and how to go on (audit s36 chaos 1: the
    count and the record were missing); status 2. In a launch of several processes another
    process's full disk is said by it, once a launch (s66 review: never said, its line
    only the main process's), the main one saying where they stopped."""
    from unetlab.distributed import first_to_say, note_full_disk, one_of_several

    note_full_disk()  # in a launch: a process that lost this one says how to go on
    line = f"unetlab predict: error: {first_line(exc)}"
    if (say or one_of_several()) and first_to_say(line):
        print(line, file=sys.stderr)
    if say:
        with contextlib.suppress(DiskFullError):  # the folder unreadable: said alone
            how = dict(folder=folder, then=" once there is space")
            _say_done(args, where, "stopped", exc, **how)
    return 2


def _inputs_done(args, files: list[Path], out_dir: Path, record=None, *, main_s=False) -> str:
    """``with the outputs of 2 of 4 inputs in OUT``
    (:func:`~unetlab.inference.output_rules.inputs_done` of the outputs ``args`` ask for);
    ``main_s``: counted off the main process by the record that one noted
    (:func:`~unetlab.inference.records.main_s_record`), where it gives none."""
    from unetlab.inference.output_rules import inputs_done
    from unetlab.inference.records import main_s_record

    record = record or (main_s_record(out_dir) if main_s else None)
    return inputs_done(files, out_dir, output_options(args).wanted, record)


def _say_done(
    args, where, how: str, exc: BaseException, *, folder: Path, then: str = "", goes_on=True
) -> None:
    """The line of a stopped prediction: ``how`` it stopped, ``where`` (a function: how
    many inputs are done), and the command that goes on (``then``: once what;
    :func:`_restarts` of the output folder ``folder``; none where not ``goes_on``);
    ``exc`` raised again where ``where`` cannot read the output folder."""
    from unetlab.signals import say_stop_line

    try:
        done = where()
    except (UnetlabError, OSError):  # the folder unreadable: the stop said without a count
        raise exc from None
    line = _stopped_line(args, how, done, folder=folder, then=then)
    say_stop_line(line if goes_on else f"unetlab predict: {how} {done}")


def _stopped_line(args, how: str, done: str, *, folder: Path, then: str = "") -> str:
    """``unetlab predict: interrupted with the outputs of 2 of 4 inputs in OUT; continue with
    ...``: how it stopped, ``done`` (:func:`_inputs_done`), the command that goes on."""
    from unetlab.inference.folders import continue_with

    again = continue_with(args.skip_existing)
    return f"unetlab predict: {how} {done}; continue with {again}{then}{_restarts(args, folder)}"


def launch_stopped_line(args, how: str, status: str) -> str:
    """The line of a ``--nproc N`` launch stopped (``how``: "interrupted") whose main process
    did not say its own (a second signal as it stopped: s52, "unetlab predict: interrupted"
    alone): the inputs done counted here, in the output folder, by the record its process
    noted beside the launch's ``status`` file once it held the folder
    (:func:`~unetlab.inference.records.launch_record`; without it, another model's outputs
    there counted as this run's: s53 reviewA); without that note it stopped before it
    predicted any input; the stop alone where they cannot be counted. ``--recursive``: the
    folder it stopped in, by the tree's place its process noted
    (:func:`~unetlab.inference.tree.launch_tree_stop`), as its own line says it (s54: the
    stop alone)."""
    from unetlab.inference.folders import find_inputs
    from unetlab.inference.records import launch_record
    from unetlab.inference.tree import launch_tree_stop

    before = f"unetlab predict: {how} before any input was predicted; run the same command again"
    if args.recursive:
        try:
            stop = launch_tree_stop(status)
        except ValueError:  # its note not one line a folder: where it was is not known
            return f"unetlab predict: {how}"
        if stop is None:
            return before
        where = stop.where(output_options(args).wanted)
        return _stopped_line(args, how, where, folder=stop.outputs_folder())
    if (record := launch_record(status)) is None:
        return before
    try:
        done = _inputs_done(args, find_inputs(args.input), Path(args.output), record)
    except (UnetlabError, OSError):  # the inputs or the folder unreadable: the stop alone
        return f"unetlab predict: {how}"
    return _stopped_line(args, how, done, folder=Path(args.output))


def _restarts(args, folder: Path) -> str:
    """What the rerun keeps or cannot keep of a large image stopped part way in the output
    folder ``folder`` (:func:`~unetlab.inference.slide_resume.restarts`: with --instances and
    no --save-probabilities it starts again at its first row), its inputs named as the
    run's lines named them (:func:`_stopped_names`)."""
    from unetlab.inference.records import objects_only
    from unetlab.inference.slide_resume import restarts

    only = objects_only(args.instances, args.save_probabilities)
    return restarts(folder, only, lambda: _stopped_names(args, folder))


def _stopped_names(args, folder: Path) -> dict[str, str]:
    """Each input's resolved path -> how the run's lines named it (:func:`_line_names`), for
    a stopped slide's line (it said "slide.ome.tif stopped at row 512", the rerun "resuming
    big/slide.ome.tif at row 512": s56 new user); of a tree, the inputs of the folder it
    stopped in (``folder``: ``OUT/bob``, its inputs ``IN/bob``'s), by their paths as the
    tree's lines name them (s57 docs7: by their names); none where they cannot be listed."""
    from unetlab.inference.folders import find_inputs

    if not getattr(args, "input", None):
        return {}
    given = args.input
    if getattr(args, "recursive", False):
        try:
            given = [str(Path(args.input[0]) / folder.relative_to(args.output))]
        except ValueError:  # the folder not under --output
            return {}
    try:
        files = find_inputs(given)
    except (UnetlabError, OSError):
        return {}
    return {str(Path(f).resolve()): _line_name(args, f) for f in files}


def _output_folder(output: str) -> Path:
    """``--output`` as a folder; a new one named like an image file is refused (an audit's
    ``--output result.png`` silently made a folder called result.png)."""
    from unetlab.data.io import INPUT_SUFFIXES

    out_dir = Path(output)
    if not out_dir.exists() and out_dir.suffix.lower() in INPUT_SUFFIXES:
        raise UnetlabError(
            f"--output {out_dir} names an image file, but predict writes a folder of outputs "
            f"(one or more per input): give a folder, e.g. --output {out_dir.with_suffix('')}"
        )
    return out_dir


def _summary(args, result, out_dir: Path, timed: dict, group) -> None:
    """The objects of each image (with --instances), the totals of the folder's per-image
    table (an earlier run's images too: audit s33 plates 5; the objects with saturated
    pixels, the images out of focus), the --benchmark figures (of ``group``'s processes;
    ``timed["clock"]``), a hint for labels that look black (:func:`dark_labels_hint` of
    ``timed["model"]``; none for NIfTI and MRC label volumes, which keep the class values)."""
    from unetlab.data.slides import slide_name
    from unetlab.inference.objects_summary import by_position, page_nouns, summary_lines
    from unetlab.inference.slides import volume_labels

    done, clock = len(result.written), timed.get("clock")
    if args.instances:  # each image by its name (a Zarr level's with its store's: a.zarr/0)
        kinds = {slide_name(f): k for f, k in result.classes.items()}
        areas = {slide_name(f): a for f, a in result.areas.items()}
        rows = _table_rows(result.summary)
        found = by_position({slide_name(f): n for f, n in result.objects.items()}, rows)
        nouns = page_nouns(rows)  # a movie's frames, a z-stack's planes
        names = result.class_names
        shown = _line_names(args, result.objects)  # the tables' image column: the keys
        _report_objects(found, kinds, areas, total=not rows, nouns=nouns, names=names, shown=shown)
        for line in summary_lines(rows, names):
            log.info("%s", line)
    counts = (done, len(result.skipped) + len(result.not_read), len(result.failed))
    _report(*counts, result.pixels, result.seconds, out_dir, processes=group.world)
    if clock is not None and done:
        _report_benchmark(done, result.pixels, result.seconds, clock.seconds, group.world)
    volumes = all(map(volume_labels, result.written))  # label volumes: values, not colours
    hint = None if volumes else dark_labels_hint(args, timed.get("model"))
    if done and group.is_main and hint:
        log.info("%s", hint)


def _line_names(args, files) -> dict[str, str]:
    """Each input of ``files`` by its tables' image name (:func:`~unetlab.data.slides.
    slide_name`) -> how the run's lines named it (:mod:`unetlab.data.shown`): by its name
    from the one ``--input`` folder, else by its path as given (a slide's objects line
    said "slide.ome.tif" where its streaming and resume lines said "big/slide.ome.tif", s56
    new user); a tree's files by their paths as given."""
    from unetlab.data.slides import slide_name

    return {slide_name(f): _line_name(args, f) for f in files}


def _line_name(args, path) -> str:
    """How the run's lines name the input ``path`` (:func:`_line_names`)."""
    from unetlab.inference.folders import relative_path

    root = None if getattr(args, "recursive", False) else _one_folder(args.input)
    return relative_path(Path(path), root and Path(root))


def dark_labels_hint(args, model) -> str | None:
    """One line for label images of three classes or more written as grey class indices
    (0, 1, 2, ...: black in an image viewer, audit s43 legend 2): ``--color`` writes them
    in the classes' colours; None where they are coloured or mask values, or fewer classes."""
    from unetlab.inference.records import label_colours

    classes = getattr(model, "num_classes", 0)
    if model is None or classes < 3 or args.color or args.label_values:
        return None
    if label_colours(model, color=False, values=False) is not None:  # a palette data set's
        return None
    return (
        f"predict: the label images hold class indices 0-{classes - 1} (near black in an "
        "image viewer; napari and Fiji's glasbey LUT show them): --color writes them in "
        "the classes' colours"
    )


def _table_rows(rows: list[dict]) -> list[dict]:
    """The rows of ``objects_summary.csv`` among a folder's summary ``rows``: none for one
    2-D image, whose row is returned but not written (its figures are its table's)."""
    one = len(rows) == 1 and not {"page", "position"} & set(rows[0])
    return [] if one else rows


#: more images than this: their object counts in the log's debug level, not one line each
OBJECT_LINES = 20


def _report_objects(
    found: dict[str, list[int]],
    kinds: dict | None = None,
    areas: dict | None = None,
    *,
    total: bool = True,
    nouns: dict[str, str] | None = None,
    names: Sequence[str] = (),
    shown: dict[str, str] | None = None,
) -> None:
    """How many objects each image holds (one line each, up to ``OBJECT_LINES`` images; a
    stack's per frame or plane too, as ``nouns`` name its pages, by image name; a semantic
    model's per class: ``kinds``, by image name, class name -> count, and on a map their area:
    ``areas``, class name -> m²) and, with
    ``total``, in all (the classes in the order of the model's class ``names``). ``shown``:
    each image name -> how the lines name it (:func:`_line_names`), where another."""
    from unetlab.inference.objects_summary import class_totals

    each = logging.INFO if len(found) <= OBJECT_LINES else logging.DEBUG
    kinds, areas = kinds or {}, areas or {}
    for name, planes in found.items():
        classes = classes_text(kinds.get(name), areas.get(name))
        text = objects_text(planes, (nouns or {}).get(name, "planes"))
        log.log(each, "%s: %s%s", (shown or {}).get(name, name), text, classes)
    if total and len(found) > 1:
        each = [{"classes": kinds.get(name)} for name in found]  # audit s35 multiclass 6
        line = object_summary([sum(planes) for planes in found.values()])
        log.info("%s%s", line, class_totals(each, names))


def objects_text(planes: list[int], noun: str = "planes") -> str:
    """The object count of one image ("12 objects"), of a stack with its pages (``noun``:
    "frames", "planes", "pages") and the range per page ("143 objects in 5 planes (25-31
    per plane; ...)"): its objects are 2-D, a nucleus counted once in each plane it crosses;
    a movie's 3-D objects (``noun`` "frames of 3-D objects") once in each frame."""
    n = sum(planes)
    text = numbered(n, "object")
    if len(planes) == 1:
        return text
    if noun == "frames of 3-D objects":  # --objects-3d: each counted once in its frame
        return f"{text} in {len(planes)} frames ({min(planes)}-{max(planes)} per frame; 3-D)"
    one = noun.removesuffix("s")
    return (
        f"{text} in {len(planes)} {noun} ({min(planes)}-{max(planes)} per {one}; 2-D "
        f"objects, counted in each {one} they are in)"
    )


def classes_text(counts: dict[str, int] | None, areas: dict[str, float] | None = None) -> str:
    """The objects of each class, after the count (": 116 grain, 11 pore"; a class named
    by its mask value: "80 class 1"), with their area on a map (``areas``, m² by class:
    ": 39 vegetation (1,234 m²), 2 water (1.52 ha)"); "" for none."""
    if not counts:
        return ""
    areas = areas or {}
    return ": " + ", ".join(
        f"{n} {class_label(name)}" + (f" ({area_text(areas[name])})" if name in areas else "")
        for name, n in counts.items()
    )


def area_text(m2: float) -> str:
    """An area on a map: m² below a hectare ("654 m²", "0.25 m²"), else hectares ("1.52 ha")."""
    if m2 >= 1e4:
        return f"{m2 / 1e4:,.3g} ha" if m2 < 1e6 else f"{m2 / 1e4:,.0f} ha"
    return f"{m2:,.0f} m²" if m2 >= 100 else f"{m2:.3g} m²"


def class_label(name) -> str:
    """A class as a line names it: its name, or "class 2" for a class named by a number."""
    return f"class {name}" if str(name).isdigit() else str(name)


def object_summary(counts: list[int]) -> str:
    """One line for the objects of several images: the total, and past ``OBJECT_LINES``
    images (no line each) the range and median per image and where each image's are."""
    line = f"objects: {sum(counts)} in {len(counts)} images"
    if len(counts) <= OBJECT_LINES:
        return line
    median = statistics.median(counts)
    return (
        f"{line} (per image {min(counts)} to {max(counts)}, median {median:g}; one row per "
        "object in each <stem>_objects.csv)"
    )


def _report(
    done: int,
    skipped: int,
    failed: int,
    pixels: int,
    elapsed: float,
    out_dir,
    *,
    processes: int = 1,
) -> None:
    """The run's one summary line: the outputs' pixels over ``elapsed``; of several
    ``processes``, all their pixels over the longest one's time (the run's wall time:
    :class:`~unetlab.inference.folders.FolderPrediction`'s ``seconds``), said so."""
    rate = f", {pixels / elapsed / 1e6:.2f} MP/s" if elapsed > 0 and pixels else ""
    if rate and processes > 1:
        rate += f" (the {processes} processes' pixels over the longest one's time)"
    # nothing there to look at: a folder the run made is gone again (s36 flagfix)
    where = f" -> {out_dir}" if done or skipped else ": nothing written"
    log.info(
        "predict: %d written, %d skipped, %d failed in %.1f s%s%s",
        *(done, skipped, failed, elapsed, rate, where),
    )


def _report_benchmark(
    done: int, pixels: int, elapsed: float, model_seconds: float, processes: int = 1
) -> None:
    """--benchmark's line; of several ``processes`` the end-to-end figures alone (the model
    time is the main process's own: against all processes' pixels it would overstate)."""
    from unetlab.bench import throughput

    t = throughput(done, pixels, elapsed, model_seconds)
    line = (
        f"benchmark: {numbered(t['images'], 'image')}, {t['megapixels']:.2f} MP in "
        f"{t['seconds']:.2f} s: "
        f"{t['images_per_s']:.2f} images/s, {t['mpix_per_s']:.2f} MP/s end to end"
    )
    if processes > 1:
        print(f"{line} ({processes} processes; the model alone: --nproc 1)")
        return
    print(
        f"{line}; model {t['model_seconds']:.2f} s ({t['model_share']:.0%}), "
        f"{t['model_mpix_per_s']:.2f} MP/s"
    )


def _objects(args, model):
    """The object options of ``--instances`` (None without it)."""
    if not args.instances:
        return None
    return object_options(args, model, watershed_seeds=args.watershed_seeds)


def region_note(model, args) -> list[str]:
    """The rows left out of every image (``--exclude-rows``, else the checkpoint's
    ``data.exclude_rows``), said once; a region in px taken from the checkpoint also says
    that images of another height need their own (a share fits any height)."""
    from unetlab.data.exclude import check_exclude_rows, shown
    from unetlab.inference.predict import trained_exclude_rows

    if args.exclude_rows is not None:
        rows, source = check_exclude_rows(args.exclude_rows, "--exclude-rows"), "--exclude-rows"
    else:
        rows, source = trained_exclude_rows(model), "the checkpoint's data.exclude_rows"
    if not rows:
        return []
    line = (
        f"rows left out of every image: {shown(rows)} ({source}): not in the normalisation, "
        "labelled background, objects they cut touch the border"
    )
    if source != "--exclude-rows" and any(isinstance(v, int) and v for v in rows):
        line += (
            "; in px: for images of another height than the training images give "
            "--exclude-rows (a share, e.g. bottom=0.1, fits any height)"
        )
    return [line]


def _notes(model, objects, scale=None) -> list[str]:
    """How objects are found, said once (nothing without ``--instances``; the default min
    area at ``--scale``: :func:`objects_line`), and a semantic model's least object size of
    each class where it has its own."""
    if objects is None:
        return []
    lines = [objects_line(objects, bool(model.objects), scale, **model_classes(model))]
    lines += split_hint(objects, getattr(model, "num_classes", 2))  # audit s35 multiclass 3
    lines += background_hint(objects, model.objects)
    if objects.class_min_areas is not None:
        from unetlab.inference.predict import class_names_of

        names = class_names_of(model)
        areas, at = class_least_areas(objects, scale)  # at --scale: the image's px
        each = [
            f"{class_label(names[k] if k < len(names) else k)} {area} px"
            for k, area in enumerate(areas)
            if k != objects.background
        ]
        lines.append(
            f"objects: min area by class {', '.join(each)} (1/4 of each class's 5th percentile "
            f"in the training masks{at}; --min-area sets one for all)"
        )
    return lines
