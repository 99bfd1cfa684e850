"""``unetlab predict``: segment images of any size with a trained checkpoint.

Unreadable files, and files whose channels do not fit the model, are named one per line and
skipped; the others are still written; the exit code is 2 if any failed. ``--nproc N`` (or
torchrun) shares the files out over processes, and each large image by bands of rows. The
output folder must not hold the inputs or files unetlab did not write there (unless
--overwrite, which writes beside such files and never replaces one); a second command
writing into it is refused.
"""

from __future__ import annotations

import contextlib
import logging
import statistics
import sys
import time
from pathlib import Path

from unetlab.cli.common import (
    add_device_arg,
    add_object_args,
    add_prediction_args,
    check_object_args,
    check_pixels,
    object_flags_given,
    object_options,
    objects_line,
    predict_options,
)
from unetlab.errors import UnetlabError

log = logging.getLogger(__name__)


def add_parser(sub) -> None:
    p = sub.add_parser(
        "predict",
        help="segment images (files, folders, globs) with a checkpoint",
        description="Predict label images with overlap-tile inference. Outputs keep the "
        "input's stem (slide.ome.tif: slide): <stem>.png labels (class indices), <stem>.tif "
        "for multi-page stacks and TIFFs that record a pixel size (kept), <stem>_prob.tif "
        "probabilities, <stem>_overlay.png (<stem>_overlay.tif beside TIFF labels). Large "
        "images (TIFFs of more than 67 megapixels a page, --large-pixels; any --level above "
        "0; OME-Zarr folders) are read and written window by window: "
        "pyramidal OME-TIFF <stem>.tif or OME-Zarr <stem>.ome.zarr, with their pixel size. "
        "--instances adds <stem>_objects.tif and <stem>_objects.csv.",
    )
    p.add_argument(
        "--checkpoint",
        required=True,
        help="a unetlab checkpoint (.pt) or a bioimage.io package unetlab exported",
    )
    p.add_argument(
        "--input",
        nargs="+",
        required=True,
        metavar="PATH",
        help="image files, folders or globs (PNG, JPEG, TIFF; stacks too), and "
        "Zarr / OME-Zarr folders",
    )
    p.add_argument("--output", required=True, metavar="DIR", help="folder for the outputs")
    p.add_argument(
        "--axes",
        metavar="AXES",
        help="the axes of TIFF inputs that record none (or wrong ones), one letter each: T "
        "time, Z depth, C channels, Y rows, X columns, e.g. TYX, ZYX, CYX, YXC, TCYX, TZCYX "
        "(default: as the file's ImageJ, OME or tifffile metadata says; the pages of a file "
        "without any are read as Z planes)",
    )
    g = p.add_argument_group("outputs")
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
    g.add_argument(
        "--instances",
        action="store_true",
        help="also write objects: <stem>_objects.tif (one id per object, 0 = "
        "background) and <stem>_objects.csv (area, centroid, box, shape and intensity "
        "measures); outlines in the overlay",
    )
    add_object_args(g, "with --instances")
    g.add_argument(
        "--watershed-seeds",
        type=float,
        metavar="P",
        help="with --instances, for a two-class membrane model (EM): split cells a membrane "
        "gap merges, seeds where the cell probability > P (e.g. 0.9)",
    )
    g.add_argument(
        "--skip-existing",
        action="store_true",
        help="skip inputs whose outputs asked for (labels, and --overlay, --instances, "
        "--save-probabilities ones) an earlier unetlab predict wrote into this folder",
    )
    g.add_argument(
        "--overwrite",
        action="store_true",
        help="write into a folder holding files unetlab did not write (beside them: a file "
        "of an output's name that unetlab did not write is refused, never replaced), and "
        "replace the outputs unetlab wrote there for another input of the same name or "
        "another model (inputs are never replaced)",
    )
    add_prediction_args(p.add_argument_group("prediction"), tta_help=" (up to 8x slower)")
    p.add_argument(
        "--benchmark",
        action="store_true",
        help="timing mode: after an untimed warm-up on the first input, print "
        "images/s and MP/s over the inputs, end to end (read, predict, write) "
        "and in the model alone",
    )
    s = p.add_argument_group("large images (slides)")
    s.add_argument(
        "--level",
        type=int,
        default=0,
        metavar="N",
        help="predict pyramid level N of a pyramidal TIFF or OME-Zarr (default 0: full resolution)",
    )
    s.add_argument(
        "--large-pixels",
        type=int,
        metavar="N",
        help="stream images of more than N pixels a page (default 67108864, 2^26)",
    )
    s.add_argument(
        "--output-format",
        choices=["ome-tiff", "ome-zarr"],
        default="ome-tiff",
        help="how large images' outputs are written: tiled pyramidal OME-TIFF "
        "(<stem>.tif) or OME-Zarr (<stem>.ome.zarr) (default: ome-tiff)",
    )
    s.add_argument(
        "--nproc",
        type=int,
        default=1,
        metavar="N",
        help="predict in N processes on this machine (one per GPU, NCCL; or CPU "
        "processes, gloo): files shared out, a large image by bands of rows; the "
        "same as torchrun --nproc_per_node N -m unetlab predict ... (default 1)",
    )
    add_device_arg(p)
    p.set_defaults(run=run)


def run(args) -> int:
    from unetlab.distributed import Group, launch, without_nproc
    from unetlab.inference.folders import claim_folder, find_inputs
    from unetlab.runtime import resolve_device

    if args.color and args.label_values:
        raise UnetlabError("--color and --label-values exclude each other: choose one")
    given = object_flags_given(args) + ["--watershed-seeds"] * (args.watershed_seeds is not None)
    if given and not args.instances:
        raise UnetlabError(f"{given[0]} applies to --instances: add --instances or drop it")
    check_object_args(args, watershed_seeds=args.watershed_seeds)
    check_pixels(tile_size=args.tile_size, large_pixels=args.large_pixels)
    if args.nproc < 1:
        raise UnetlabError(f"--nproc must be >= 1, not {args.nproc}")
    if args.level < 0:
        raise UnetlabError(f"--level must be >= 0, not {args.level}")
    group = Group.from_env()
    if args.nproc > 1 and not group.active:  # start the processes; each runs this command
        return launch(args.nproc, without_nproc(args.argv))
    if not group.is_main:  # one start line and one summary, from the main process
        logging.getLogger("unetlab").setLevel(logging.WARNING)
    device = group.device(resolve_device(args.device))
    files = find_inputs(args.input)
    out_dir = _output_folder(args.output)
    with group.joined(device), contextlib.ExitStack() as held:
        problem, done, loaded = None, set(), {}
        if group.is_main:  # checked (inputs never replaced, no foreign files, not in use)
            try:  # and locked before any work; the other processes wait for the verdict
                wanted = {
                    "probabilities": args.save_probabilities,
                    "overlay": args.overlay,
                    "objects": args.instances,
                }
                claim = dict(skip_existing=args.skip_existing, overwrite=args.overwrite)
                # the model is loaded once the folder is checked: what made its outputs
                claim["record"] = lambda: _record(args, device, loaded)  # is compared to it
                done = held.enter_context(claim_folder(out_dir, files, **claim, **wanted))
            except UnetlabError as exc:
                problem = exc
        problem, done = group.share((problem, done))
        if problem is not None:
            raise problem
        model = loaded.get("model") or _load(args, device)
        objects = _objects(args, model)
        todo = [f for f in files if f not in done]
        return _predict_all(args, model, files, todo, out_dir, device, group, objects)


def _load(args, device):
    """The checkpoint's model, once, in the layout prediction runs in (predict_image would
    convert it per file), checked against the flags."""
    from unetlab.checkpoint import load_model
    from unetlab.inference.folders import check_settings
    from unetlab.runtime import inference_layout

    model = load_model(args.checkpoint, device=device)
    model = model.to(memory_format=inference_layout(device))
    options = predict_options(args, device)
    check_settings(model, label_values=args.label_values, options=options, name=args.checkpoint)
    return model


def _record(args, device, loaded: dict):
    """What makes this command's outputs (:func:`unetlab.inference.files.file_record`), with
    the model loaded into ``loaded``."""
    from unetlab.inference.files import file_record

    model = loaded["model"] = _load(args, device)
    made = dict(color=args.color, label_values=args.label_values, level=args.level)
    made |= dict(objects=_objects(args, model), options=predict_options(args, device))
    return file_record(model, axes=args.axes, **made)


def _output_folder(output: str) -> Path:
    """``--output`` as a folder; a new one named like an image file is refused (an audit's
    ``--output result.png`` silently made a folder called result.png)."""
    from unetlab.data.io import IMAGE_SUFFIXES

    out_dir = Path(output)
    if not out_dir.exists() and out_dir.suffix.lower() in IMAGE_SUFFIXES:
        raise UnetlabError(
            f"--output {out_dir} names an image file, but predict writes a folder of outputs "
            f"(one or more per input): give a folder, e.g. --output {out_dir.with_suffix('')}"
        )
    return out_dir


def _channel_note(trained: int | None, asked: int | None) -> None:
    """Say which channel is predicted where the checkpoint records one (``data.channel``)."""
    if trained is None:
        return
    if asked is None:
        log.info("predicting channel %d of each image: the model was trained on it", trained)
    elif asked != trained:
        log.warning(
            "predicting channel %d (--channel), but the model was trained on channel %d "
            "(data.channel); leave --channel out for that one",
            asked,
            trained,
        )


def _predict_all(args, model, files, todo, out_dir, device, group, objects) -> int:
    """``todo`` of ``files``: large inputs by all processes together (each its band of
    rows), the others shared out one file per process in turn; the main process reports the
    totals."""
    from unetlab.bench import ModelClock
    from unetlab.inference.folders import is_streamed

    # decided once, by the main process, so that every process takes the same files
    streamed = dict(level=args.level, threshold=args.large_pixels)
    large = group.share([is_streamed(f, **streamed) for f in todo])
    mine = [
        f for i, (f, big) in enumerate(zip(todo, large)) if big or i % group.world == group.rank
    ]
    processes = f", {group.world} processes" if group.active else ""
    log.info(
        "predict: %d file(s) (%d large), model %s (%d -> %d classes, %s padding), device %s%s",
        *(len(todo), sum(large), Path(args.checkpoint).name, model.in_channels),
        *(model.num_classes, model.padding, device, processes),
    )
    _channel_note(getattr(model, "channel", None), args.channel)
    from unetlab.inference.offset import describe_offset, label_offset

    if any(offset := label_offset(model)):
        log.info("predictions moved by the checkpoint's label offset: %s", describe_offset(offset))
    if args.tta:
        from unetlab.inference.tta import describe_tta

        log.info(describe_tta(model, args.tta))
    _log_objects(objects, model)
    options = dict(
        color=args.color,
        label_values=args.label_values,
        save_probabilities=args.save_probabilities,
        draw_overlay=args.overlay,
        options=predict_options(args, device),
        objects=objects,
        level=args.level,
        output_format=args.output_format,
        group=group,
        large_threshold=args.large_pixels,
        axes=args.axes,
    )
    if args.benchmark and mine:  # one-time costs (allocator, kernel choice) out of the figures
        _warm_up(model, mine[0], out_dir, options)
    # model time by hooks that synchronise a GPU per call: only when asked
    clock = ModelClock(model, device) if args.benchmark else contextlib.nullcontext()
    start = time.perf_counter()
    counts, found = _predict_mine(
        model, mine, dict(zip(todo, large)), out_dir, options, clock, group
    )
    elapsed = time.perf_counter() - start
    done, pixels, failed = group.total(counts)
    if args.instances:  # each file's object count, from the process that wrote it
        found = {f: n for part in group.gather(found) for f, n in part.items()}
    if group.is_main:
        if args.instances:
            _report_objects({f.name: found[f] for f in todo if f in found})
        _report(done, len(files) - len(todo), failed, pixels, elapsed, out_dir)
        if args.benchmark and done:
            _report_benchmark(done, pixels, elapsed, clock.seconds)
    return 2 if failed else 0


def _predict_mine(model, mine, shared, out_dir, options, clock, group):
    """Predict this process's files: ([written, pixels, failed], {file: objects found}) (a
    file shared by all processes counts, and its error prints, once: in the main process)."""
    from tqdm import tqdm

    from unetlab.data.ome import output_pixels
    from unetlab.inference.folders import predict_or_fail

    done, pixels, failed, found = 0, 0, 0, {}
    quiet = not sys.stderr.isatty() or not group.is_main
    for path in tqdm(mine, desc="files", unit="file", disable=quiet):
        counts = group.is_main or not shared[path]
        with tqdm(desc=path.name, unit="tile", leave=False, disable=quiet) as bar:
            with clock:
                written = predict_or_fail(model, path, out_dir, progress=bar.update, **options)
            if isinstance(written, UnetlabError):  # this file's own failure
                if counts:
                    failed += 1
                    print(
                        f"unetlab predict: failed: {str(written).splitlines()[0]}", file=sys.stderr
                    )
                continue
        if counts:
            done += 1
            pixels += output_pixels(written[0])  # its header only
            tables = [p for p in written if p.name.endswith("_objects.csv")]
            if tables:
                found[path] = plane_counts(tables[0], written[0])
    return [done, pixels, failed], found


def plane_counts(table: Path, labels: Path) -> list[int]:
    """Objects per plane of an objects table (its ``page`` column; one plane without it),
    over the planes of the ``labels`` image (a plane without objects counts 0)."""
    import csv

    from unetlab.data.io import stack_shape

    with open(table, encoding="utf-8", newline="") as f:
        rows = csv.DictReader(f)
        pages = [int(row["page"]) if "page" in row else 0 for row in rows]
    planes = stack_shape(labels)[0] if labels.suffix.lower() in (".tif", ".tiff") else 1
    counts = [0] * max(planes, *(p + 1 for p in pages), 1)
    for page in pages:
        counts[page] += 1
    return counts


#: more images than this: their object counts in the log's debug level, not one line each
OBJECT_LINES = 20


def _report_objects(found: dict[str, list[int]]) -> None:
    """How many objects each image holds (one line each, up to ``OBJECT_LINES`` images; a
    stack's per plane too) and in all."""
    each = logging.INFO if len(found) <= OBJECT_LINES else logging.DEBUG
    for name, planes in found.items():
        log.log(each, "%s: %s", name, objects_text(planes))
    if len(found) > 1:
        log.info("%s", object_summary([sum(planes) for planes in found.values()]))


def objects_text(planes: list[int]) -> str:
    """The object count of one image ("12 objects"), of a stack with the planes and the
    range per plane ("143 objects in 5 planes (25-31 per plane; ...)"): its objects are 2-D,
    a nucleus counted once in each plane it crosses."""
    n = sum(planes)
    text = f"{n} object{'' if n == 1 else 's'}"
    if len(planes) == 1:
        return text
    return (
        f"{text} in {len(planes)} planes ({min(planes)}-{max(planes)} per plane; 2-D objects, "
        "counted in each plane they cross)"
    )


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


def _report(done: int, skipped: int, failed: int, pixels: int, elapsed: float, out_dir) -> None:
    rate = f", {pixels / elapsed / 1e6:.2f} MP/s" if elapsed > 0 and pixels else ""
    log.info(
        "predict: %d written, %d skipped, %d failed in %.1f s%s -> %s",
        *(done, skipped, failed, elapsed, rate, out_dir),
    )


def _report_benchmark(done: int, pixels: int, elapsed: float, model_seconds: float) -> None:
    from unetlab.bench import throughput

    t = throughput(done, pixels, elapsed, model_seconds)
    print(
        f"benchmark: {t['images']} image(s), {t['megapixels']:.2f} MP in {t['seconds']:.2f} s: "
        f"{t['images_per_s']:.2f} images/s, {t['mpix_per_s']:.2f} MP/s end to end; model "
        f"{t['model_seconds']:.2f} s ({t['model_share']:.0%}), {t['model_mpix_per_s']:.2f} MP/s"
    )


def _objects(args, model):
    """The object options of ``--instances`` (None without it)."""
    if not args.instances:
        return None
    return object_options(args, model, watershed_seeds=args.watershed_seeds)


def _log_objects(objects, model) -> None:
    """Say once how objects are found (nothing without ``--instances``)."""
    if objects is not None:
        log.info("%s", objects_line(objects, bool(model.objects)))


def _warm_up(model, path: Path, out_dir: Path, options: dict) -> None:
    """Predict ``path`` once, untimed, writing nothing that stays (a scratch folder)."""
    import tempfile

    from unetlab.errors import UnetlabError
    from unetlab.inference.files import predict_file

    # a failure is named, and counted, in the timed pass
    with tempfile.TemporaryDirectory(dir=out_dir) as scratch, contextlib.suppress(UnetlabError):
        predict_file(model, path, scratch, **options)
