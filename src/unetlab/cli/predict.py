"""``unetlab predict``: segment images of any size with a trained checkpoint.

Unreadable files, and files whose channels do not fit the model, are named one per line and
skipped; the others are still written; the exit code is 1 if any failed.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from pathlib import Path

from unetlab.cli.common import add_device_arg

log = logging.getLogger(__name__)


def add_parser(sub) -> None:
    p = sub.add_parser(
        "predict",
        help="segment images (files, folders, globs) with a checkpoint",
        description="Predict label images with overlap-tile inference. Outputs keep the "
        "input's stem: <stem>.png labels (class indices), <stem>.tif for multi-page stacks "
        "and very large TIFFs, <stem>_prob.tif probabilities, <stem>_overlay.png, "
        "<stem>_objects.tif and <stem>_objects.csv (--instances).",
    )
    p.add_argument(
        "--checkpoint",
        required=True,
        help="a unetlab checkpoint (.pt) or a bioimage.io package unetlab exported",
    )
    p.add_argument("--input", nargs="+", required=True, metavar="PATH",
                   help="image files, folders or globs (PNG, JPEG, TIFF; stacks too)")  # fmt: skip
    p.add_argument("--output", required=True, metavar="DIR", help="folder for the outputs")
    g = p.add_argument_group("outputs")
    g.add_argument("--color", action="store_true", help="write labels as a palette PNG")
    g.add_argument("--label-values", action="store_true",
                   help="write the model's mask values (e.g. 0/255) instead of class indices")  # fmt: skip
    g.add_argument("--save-probabilities", action="store_true",
                   help="also write class probabilities as float32 TIFF")  # fmt: skip
    g.add_argument("--overlay", action="store_true", help="also write the labels over the image")
    g.add_argument("--instances", action="store_true",
                   help="also write objects: <stem>_objects.tif (one id per object, 0 = "
                   "background) and <stem>_objects.csv (area, centroid, box, mean intensity); "
                   "outlines in the overlay")  # fmt: skip
    g.add_argument("--min-area", type=int, metavar="PX",
                   help="with --instances: drop objects smaller than this (default: from the "
                   "object sizes the checkpoint records)")  # fmt: skip
    g.add_argument("--skip-existing", action="store_true",
                   help="skip inputs whose label output already exists")  # fmt: skip
    t = p.add_argument_group("tiling")
    t.add_argument("--tile-size", type=int,
                   help="input tile size in px (default: the largest that fits the memory budget)")  # fmt: skip
    t.add_argument("--batch-size", type=int, help="tiles per forward pass (default: automatic)")
    t.add_argument("--blend", choices=["mean", "gaussian"], default="mean",
                   help="how overlapping tiles of same-padding nets are averaged (default: mean)")  # fmt: skip
    t.add_argument("--tta", action="store_true",
                   help="average the 8 flips/rotations (8x slower)")  # fmt: skip
    t.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    p.add_argument("--benchmark", action="store_true",
                   help="timing mode: after an untimed warm-up on the first input, print "
                   "images/s and MP/s over the inputs, end to end (read, predict, write) "
                   "and in the model alone")  # fmt: skip
    add_device_arg(p)
    p.set_defaults(run=run)


def run(args) -> int:
    from tqdm import tqdm

    from unetlab.bench import ModelClock, throughput
    from unetlab.checkpoint import load_model
    from unetlab.data.io import find_images
    from unetlab.errors import UnetlabError
    from unetlab.inference.files import predict_file
    from unetlab.runtime import inference_layout, resolve_device

    if args.color and args.label_values:
        raise ValueError("--color and --label-values exclude each other: choose one")
    if args.min_area is not None and not args.instances:
        raise ValueError("--min-area applies to --instances: add --instances or drop it")
    device = resolve_device(args.device)
    # once, in the layout prediction runs in (predict_image would convert it per file)
    model = load_model(args.checkpoint, device=device).to(memory_format=inference_layout(device))
    if args.label_values and model.label_values is None:
        raise ValueError(f"{args.checkpoint} records no label values: drop --label-values")
    files = find_images(args.input)
    if not files:
        raise ValueError(f"no images found in {' '.join(args.input)}")
    stems: dict[str, Path] = {}
    for f in files:
        if f.stem in stems and stems[f.stem] != f:
            raise ValueError(
                f"{stems[f.stem]} and {f} would write the same outputs: predict them separately"
            )
        stems[f.stem] = f
    out_dir = Path(args.output)
    out_dir.mkdir(parents=True, exist_ok=True)
    log.info(
        "predict: %d file(s), model %s (%d -> %d classes, %s padding), device %s",
        len(files), Path(args.checkpoint).name, model.in_channels, model.num_classes,
        model.padding, device,
    )  # fmt: skip
    objects = None
    if args.instances:
        from unetlab.inference.objects import ObjectOptions

        objects = ObjectOptions.for_model(model, min_area=args.min_area)
        log.info("objects: %s mode, min area %d px%s", objects.mode, objects.min_area,
                 "" if model.objects else " (no object sizes recorded: a fixed default)")  # fmt: skip
    failed: list[tuple[Path, str]] = []
    done, skipped, pixels = 0, 0, 0
    options = dict(
        color=args.color, label_values=args.label_values,
        save_probabilities=args.save_probabilities, draw_overlay=args.overlay,
        tile_size=args.tile_size, batch_size=args.batch_size, blend=args.blend,
        tta=args.tta, device=device, precision=args.precision, objects=objects,
    )  # fmt: skip
    if args.benchmark:  # one-time costs (allocator, kernel choice) out of the figures
        _warm_up(model, files[0], out_dir, options)
    # model time by hooks that synchronise a GPU per call: only when asked
    clock = ModelClock(model, device) if args.benchmark else contextlib.nullcontext()
    start = time.perf_counter()
    quiet = not sys.stderr.isatty()
    for path in tqdm(files, desc="files", unit="file", disable=quiet):
        if args.skip_existing and any(
            (out_dir / f"{path.stem}{ext}").exists() for ext in (".png", ".tif")
        ):
            skipped += 1
            continue
        with tqdm(desc=path.name, unit="tile", leave=False, disable=quiet) as bar:
            try:
                with clock:
                    written = predict_file(model, path, out_dir, progress=bar.update, **options)
            except UnetlabError as exc:
                failed.append((path, str(exc).splitlines()[0]))
                print(f"unetlab predict: failed: {failed[-1][1]}", file=sys.stderr)
                continue
        done += 1
        pixels += _pixels(written[0])
    elapsed = time.perf_counter() - start
    rate = f", {pixels / elapsed / 1e6:.2f} MP/s" if elapsed > 0 and pixels else ""
    log.info(
        "predict: %d written, %d skipped, %d failed in %.1f s%s -> %s",
        done, skipped, len(failed), elapsed, rate, out_dir,
    )  # fmt: skip
    if failed:
        log.info("failed: %s", ", ".join(str(p) for p, _ in failed))
    if args.benchmark and done:
        t = throughput(done, pixels, elapsed, clock.seconds)
        print(f"benchmark: {t['images']} image(s), {t['megapixels']:.2f} MP in {t['seconds']:.2f} s: "
              f"{t['images_per_s']:.2f} images/s, {t['mpix_per_s']:.2f} MP/s end to end; model "
              f"{t['model_seconds']:.2f} s ({t['model_share']:.0%}), {t['model_mpix_per_s']:.2f} MP/s")  # fmt: skip
    return 1 if failed else 0


def _warm_up(model, path: Path, out_dir: Path, options: dict) -> None:
    """Predict ``path`` once, untimed, writing nothing that stays (a scratch folder)."""
    import tempfile

    from unetlab.errors import UnetlabError
    from unetlab.inference.files import predict_file

    # a failure is named, and counted, in the timed pass
    with tempfile.TemporaryDirectory(dir=out_dir) as scratch, contextlib.suppress(UnetlabError):
        predict_file(model, path, scratch, **options)


def _pixels(path: Path) -> int:
    """Pixels of a written label image (all pages), read from its header."""
    if path.suffix == ".png":
        from PIL import Image

        with Image.open(path) as im:
            return im.width * im.height
    import tifffile

    with tifffile.TiffFile(path) as tif:
        shape = tif.series[0].shape
    n = 1
    for s in shape:
        n *= s
    return n
