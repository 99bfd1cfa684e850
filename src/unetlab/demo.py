"""The newcomer's first command: ``unetlab demo`` end to end on synthetic images.

Two tasks: ``em`` (the default, below) and ``nuclei`` (:func:`run_nuclei_demo`: counting
densely touching nuclei with the instance mode, scored as objects).

:func:`run_em_demo` writes a synthetic data set that looks like the paper's ISBI task (cells
separated by thin dark membranes, dark organelles that are not membrane), trains the ``small``
preset for a couple of minutes on a CPU, evaluates it on held-out images, predicts one large
image with overlap-tile, and writes everything into one folder::

    OUTPUT/metrics.json       mIoU ("miou"), per-class IoU and Dice of the held-out images, ISBI
                              pixel/Rand error and information score, timings
    OUTPUT/evaluation.txt     the unetlab evaluate table of the held-out images
    OUTPUT/curves.png         loss and validation mIoU per epoch
    OUTPUT/overlays/*_overlay.png   image | ground truth | prediction (membrane in red)
    OUTPUT/predictions/*.png  the held-out images' predicted class indices (what was scored)
    OUTPUT/large.png, large_overlay.png   a 1024x1024 image and its prediction (overlap-tile)
    OUTPUT/run/               the training run (config.yaml, metrics.csv, train.log, checkpoints/)
    OUTPUT/data/              the synthetic data set (train/, val/, test/ with images/ and masks/)

The nuclei demo writes metrics.json (pixel scores, then ``objects`` and
``baseline_connected_components``: counts, DSB score, F1, PQ, SEG), evaluation.txt (both
tables), overlays/NN_overlay.png (image | true | predicted | baseline outlines),
predictions/NN_objects.tif, baseline/NN_objects.tif, run/ and data/ (uint16 instance masks).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import replace
from numbers import Real
from pathlib import Path

import numpy as np
from skimage.segmentation import find_boundaries

from unetlab import cpu_share
from unetlab.atomic import atomic_path, remove_tree, write_error
from unetlab.checkpoint import load_model
from unetlab.config import load_config
from unetlab.data.io import read_image, read_mask, write_png, write_tiff
from unetlab.data.labels import encode_mask
from unetlab.data.synthetic import (
    write_nuclei_dataset,
    write_synthetic_dataset,
    write_synthetic_image,
    write_synthetic_split,
)
from unetlab.errors import OutputError, UnetlabError, worded
from unetlab.evaluate import evaluate_predictions, nan_to_none
from unetlab.inference.objects import ObjectOptions, objects_from_probabilities
from unetlab.inference.output_rules import output_paths
from unetlab.inference.predict import labels_from_probabilities, predict_image
from unetlab.inference.threads_look import capped, look_beside
from unetlab.outputs import LOCK, SYSTEM_FILES, FolderLock
from unetlab.plots import overlay, side_by_side
from unetlab.train import fit

log = logging.getLogger(__name__)

ISBI_KEYS = ("pixel_error", "rand_error", "information_score")
MARKER = ".unetlab-demo"  # marks a folder this command made (its files: --overwrite replaces)
#: each task's folder by default: the nuclei demo does not replace the EM demo's run and
#: results (audit s35 workshop 4)
DEFAULT_OUTPUT = {"em": "unetlab-demo", "nuclei": "unetlab-demo-nuclei"}
DEMO_OUTPUTS = (
    MARKER,
    "data",
    "run",
    "overlays",
    "predictions",
    "metrics.json",
    "evaluation.txt",
    "baseline",
    "curves.png",
    "large.png",
    "large_overlay.png",
)

# (data set, training) of the full demo and of the quick one (a smoke test in seconds).
# A step of batch 8 x 128 px takes ~0.28 s on an idle 2-core CPU: 24 epochs of 12 steps
# train in ~1.7 min there; the time budget (``minutes``) stops earlier on a busy machine.
FULL = dict(
    n_train=24, n_val=4, n_test=4, size=256, large=1024, epochs=24, tiles=96, tile=128, batch=8
)
QUICK = dict(n_train=3, n_val=1, n_test=1, size=64, large=96, epochs=1, tiles=4, tile=32, batch=2)


def _recipe(data_root: Path, plan: dict, *, minutes: float, seed: int, name: str) -> list[str]:
    """What both demos train with: the small preset, AdamW with a cosine schedule,
    CE + Dice, grey-value augmentation, the plan's tiles and epochs, a time cap."""
    return [
        f"data.root={data_root}",
        "model.preset=small",
        f"data.tile_size={plan['tile']}",
        f"data.tiles_per_epoch={plan['tiles']}",
        f"data.seed={seed}",
        "augment.contrast=0.2",
        "augment.brightness=0.2",
        f"train.epochs={plan['epochs']}",
        f"train.batch_size={plan['batch']}",
        "train.optimizer=adamw",
        "train.lr=0.003",
        "train.schedule=cosine",
        "train.loss=ce+dice",
        f"train.seed={seed}",
        f"train.max_minutes={minutes}",
        f"run.name={name}",
    ]


def demo_overrides(data_root: Path, plan: dict, *, minutes: float, seed: int) -> list[str]:
    """The EM demo's training config as ``key=value`` overrides of the defaults."""
    return [
        *_recipe(data_root, plan, minutes=minutes, seed=seed, name="demo"),
        "data.label_values=[0, 255]",
        "data.class_names={0: membrane, 255: cell}",
    ]


# training time caps in minutes (the nuclei demo's 400 steps took 2.5 CPU-minutes here)
DEFAULT_MINUTES = {"em": 2.5, "nuclei": 4.0}


def run_demo(
    output_dir: str | os.PathLike | None = None,
    *,
    task: str = "em",
    minutes: float | None = None,
    quick: bool = False,
    seed: int = 0,
    overwrite: bool = False,
    device: str = "auto",
    progress: bool = True,
) -> dict:
    """Make data, train, evaluate; returns the metrics written to ``metrics.json`` (``miou``
    first) plus ``paths``.

    ``task``: ``em`` (:func:`run_em_demo`) or ``nuclei`` (:func:`run_nuclei_demo`), each
    into its own folder by default (``output_dir`` None: :data:`DEFAULT_OUTPUT`).
    ``minutes`` caps the training time (it also stops after a fixed number of epochs; None:
    the task's :data:`DEFAULT_MINUTES`);
    ``quick`` shrinks everything to a seconds-long smoke test. An ``output_dir`` holding an
    earlier demo's results, or files no demo made, is refused unless ``overwrite`` (which
    replaces only the demo's files), as a trained run is never replaced unasked.
    """
    runs = {"em": run_em_demo, "nuclei": run_nuclei_demo}
    if task not in runs:
        raise UnetlabError(f"the demo's tasks are em and nuclei, not {task!r}")
    minutes = DEFAULT_MINUTES[task] if minutes is None else minutes
    return runs[task](
        DEFAULT_OUTPUT[task] if output_dir is None else output_dir,
        minutes=minutes,
        quick=quick,
        seed=seed,
        overwrite=overwrite,
        device=device,
        progress=progress,
    )


@contextlib.contextmanager
def _demo_folder(output_dir, *, seed: int, minutes: float, overwrite: bool) -> Iterator[Path]:
    """The demo's checked, locked and prepared output folder (both tasks): a second demo into
    the same folder refuses while the first runs; a folder holding an earlier demo's results,
    or one an earlier demo did not make, needs ``overwrite``."""
    numbers = all(isinstance(v, Real) and not isinstance(v, bool) for v in (seed, minutes))
    if not numbers:  # "'<=' not supported between 'int' and 'str'" (audit s42 api)
        raise UnetlabError(f"demo: seed and minutes are numbers, not {seed!r} and {minutes!r}")
    if seed < 0 or not 0 <= minutes < float("inf"):
        raise UnetlabError(
            f"demo: seed must be at least 0 and minutes at least 0, not {seed} and {minutes}"
        )
    out = Path(output_dir)
    if out.exists() and not out.is_dir():
        raise OutputError(
            **worded(lambda fix: f"{out} is a file; give {fix['out']} a folder", *_FIXES)
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_error(out, exc) from exc
    with FolderLock(out):
        yield _prepare(out, overwrite=overwrite)


def run_em_demo(
    output_dir: str | os.PathLike = "unetlab-demo",
    *,
    minutes: float = 2.5,
    quick: bool = False,
    seed: int = 0,
    overwrite: bool = False,
    device: str = "auto",
    progress: bool = True,
) -> dict:
    """Synthetic EM-like images: make data, train, evaluate, predict a large image (arguments
    and result as :func:`run_demo`)."""
    started = time.perf_counter()
    with _demo_folder(output_dir, seed=seed, minutes=minutes, overwrite=overwrite) as out:
        return _demo(
            out,
            minutes=minutes,
            quick=quick,
            seed=seed,
            device=device,
            progress=progress,
            started=started,
        )


@capped  # its predictions' threads no more than a CPU quota allows (fit's are)
def _demo(
    out: Path,
    *,
    minutes: float,
    quick: bool,
    seed: int,
    device: str,
    progress: bool,
    started: float,
) -> dict:
    plan = QUICK if quick else FULL
    data_root = out / "data"
    _write_em_data(data_root, plan, seed)
    overrides = demo_overrides(data_root, plan, minutes=minutes, seed=seed)
    trained, model = _train(out, overrides, device=device, progress=progress)

    _predict_test(model, data_root / "test", out / "predictions", out / "overlays")
    report = evaluate_predictions(
        out / "predictions",
        data_root / "test",
        label_values=model.label_values,
        class_names=model.classes,
    )
    _write_text(out / "evaluation.txt", report.table() + "\n")
    test = report.summary
    isbi = {k: float(test[k]) for k in ISBI_KEYS}
    large_seconds = _predict_large(model, out, plan["large"], seed=seed + 2000)
    shutil.copyfile(out / "run" / "curves.png", out / "curves.png")
    metrics = {
        "miou": test["miou"],
        "iou": dict(zip(model.classes, test["iou"])),
        "dice": dict(zip(model.classes, test["dice"])),
        "pixel_accuracy": test["pixel_accuracy"],
        **isbi,
        "best_val_miou": trained.get("best_val_miou"),
        "large_image": {"size": plan["large"], "seconds": round(large_seconds, 2)},
        **_run_figures(trained, plan, started, quick=quick, seed=seed),
    }
    _write_text(out / "metrics.json", json.dumps(metrics, indent=2) + "\n")
    names = ("metrics.json", "curves.png", "overlays", "predictions", "large_overlay.png")
    return _with_paths(metrics, out, names, trained)


def _train(out: Path, overrides: list[str], *, device: str, progress: bool) -> tuple:
    """Train a demo's net into ``out/run``: (fit's result, the best checkpoint's model)."""
    cfg = load_config(None, [*overrides, f"train.device={device}"])
    trained = fit(cfg, run_dir=out / "run", overwrite=True, progress=progress)
    return trained, load_model(trained["best_checkpoint"])


def _with_paths(metrics: dict, out: Path, names: tuple[str, ...], trained: dict) -> dict:
    """``metrics`` and their ``paths``: the outputs ``names`` in ``out``, and the checkpoint."""
    paths = {name: str(out / name) for name in names}
    paths["checkpoint"] = trained["best_checkpoint"]
    return {**metrics, "paths": paths}


def _write_em_data(data_root: Path, plan: dict, seed: int) -> None:
    """The synthetic EM-like training set, and held-out images from their own seed (never
    seen in training or validation)."""
    log.info("writing synthetic EM-like images to %s", data_root)
    write_synthetic_dataset(
        data_root, n_train=plan["n_train"], n_val=plan["n_val"], size=plan["size"], seed=seed
    )
    write_synthetic_split(
        data_root / "test", plan["n_test"], plan["size"], np.random.default_rng(seed + 1000)
    )


def _write_text(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def _run_figures(trained: dict, plan: dict, started: float, *, quick: bool, seed: int) -> dict:
    return {
        "test_images": plan["n_test"],
        "epochs": trained["epochs"],
        "steps": trained["steps"],
        "train_seconds": round(trained["seconds"], 1),
        "cpu_share": trained.get("cpu_share"),  # its share of the CPU (summary.json's)
        "cpu_warning": trained.get("cpu_warning"),  # where other work took much of it
        "total_seconds": round(time.perf_counter() - started, 1),
        "quick": quick,
        "seed": int(seed),  # np.int64 from np.arange: JSON has no numpy ints
    }


#: the demo's output settings as Python's ``demo()`` and ``unetlab demo`` give them: its
#: refusals said both at once, "--overwrite (overwrite=True)" (s54 new user)
_FIXES = (
    {"out": "output_dir", "overwrite": "overwrite=True"},
    {"out": "--output", "overwrite": "--overwrite"},
)


def _not_a_demo(out: Path, fix: dict) -> str:
    return (
        f"{out} is not empty and was not made by unetlab demo: choose another {fix['out']} or "
        f"add {fix['overwrite']} to replace the demo's files in it"
    )


def _earlier_demo(out: Path, earlier: list[str], fix: dict) -> str:
    return (
        f"{out} holds an earlier demo's results ({', '.join(earlier)}): add "
        f"{fix['overwrite']} to replace them, or choose another {fix['out']}"
    )


def _prepare(out: Path, *, overwrite: bool) -> Path:
    """Check (and with ``overwrite`` clear) the demo's files in the folder ``out``: an
    earlier demo's results are replaced only with ``overwrite``, as a run is (audit s35
    workshop 4: the nuclei demo silently replaced the EM demo's trained run)."""
    if any(p.name not in (LOCK, *SYSTEM_FILES) for p in out.iterdir()):
        if not (out / MARKER).exists() and not overwrite:
            raise OutputError(**worded(lambda fix: _not_a_demo(out, fix), *_FIXES))
        earlier = [name for name in DEMO_OUTPUTS[1:] if (out / name).exists()]
        if earlier and not overwrite:
            raise OutputError(**worded(lambda fix: _earlier_demo(out, earlier, fix), *_FIXES))
        for name in DEMO_OUTPUTS:  # only what a demo writes; anything else stays
            path = out / name
            if path.is_dir():
                remove_tree(path)
            elif path.exists():
                path.unlink()
    (out / MARKER).write_text("made by unetlab demo; --overwrite replaces the demo's files\n")
    return out


def _predict_test(model, root: Path, pred_dir: Path, overlay_dir: Path) -> None:
    """Predict each held-out image once: its class indices into ``pred_dir`` (scored by
    ``evaluate_predictions``) and image | truth | prediction into ``overlay_dir``."""
    membrane = model.label_values.index(0)
    since = cpu_share.cpu_reading()  # not over training: its loader workers are its own
    for path in sorted((root / "images").glob("*.png")):
        look_beside(model, since)  # fewer threads beside other work, once, as predict_folder
        image, mask = read_image(path), read_mask(root / "masks" / path.name)
        target = encode_mask(mask, model.label_values, name=str(path))
        pred = labels_from_probabilities(predict_image(model, image))
        write_png(pred_dir / path.name, pred)
        # the membrane as class 1 of the one palette: dark red
        panels = [
            overlay(image, np.full_like(target, -1)),
            overlay(image, (target == membrane).astype(np.uint8)),
            overlay(image, (pred == membrane).astype(np.uint8)),
        ]
        write_png(_predicted_path(overlay_dir, path, "overlay"), side_by_side(*panels))


def _predicted_path(folder: Path, image: Path, kind: str) -> Path:
    """Where an image's ``kind`` of output goes (``overlay``: its panels, ``<stem>_overlay.png``;
    ``objects``: ``<stem>_objects.tif``), as ``unetlab predict`` names it (``output_paths``)."""
    return output_paths(folder, image.stem, stack=False)[kind]


def _predict_large(model, out: Path, size: int, *, seed: int) -> float:
    """Predict one large synthetic image with overlap-tile; returns the seconds it took."""
    image = write_synthetic_image(out / "large.png", size, seed)
    look_beside(model)  # where the test images gave the look too little time
    tick = time.perf_counter()
    pred = labels_from_probabilities(predict_image(model, image))
    seconds = time.perf_counter() - tick
    membrane = (pred == model.label_values.index(0)).astype(np.uint8)
    write_png(out / "large_overlay.png", overlay(image, membrane))
    log.info("predicted a %dx%d image in %.2f s", size, size, seconds)
    return seconds


# --- nuclei: objects, not just pixels ------------------------------------------------------

NUCLEI_FULL = dict(n_train=16, n_val=4, n_test=4, size=256, epochs=40, tiles=80, tile=96, batch=8)
NUCLEI_QUICK = dict(n_train=3, n_val=1, n_test=1, size=64, epochs=1, tiles=4, tile=32, batch=2)
OBJECT_KEYS = ("dsb", "object_f1", "object_precision", "object_recall", "pq", "sq", "rq", "seg")


def nuclei_overrides(data_root: Path, plan: dict, *, minutes: float, seed: int) -> list[str]:
    """The nuclei demo's training config (the instance mode) as ``key=value`` overrides."""
    return [
        *_recipe(data_root, plan, minutes=minutes, seed=seed, name="nuclei-demo"),
        "data.target=instances",
        "data.boundary_width=2",
        "data.weight_map=true",  # the paper's border weights: touching nuclei stay apart
    ]


def run_nuclei_demo(
    output_dir: str | os.PathLike = DEFAULT_OUTPUT["nuclei"],
    *,
    minutes: float = 2.5,
    quick: bool = False,
    seed: int = 0,
    overwrite: bool = False,
    device: str = "auto",
    progress: bool = True,
) -> dict:
    """Synthetic nuclei -> instance-mode training -> objects of held-out images, scored.

    Writes ``data/`` (uint16 instance masks), ``run/``, ``predictions/NN_objects.tif`` (one id
    per nucleus, after post-processing), ``baseline/NN_objects.tif`` (the connected components of
    the same net's foreground, boundary and interior together: what a two-class model gives),
    ``overlays/NN_overlay.png`` (image | true | predicted | baseline outlines), ``evaluation.txt`` and
    ``metrics.json``: pixel scores, object counts and object scores of both. Returns the
    metrics plus ``paths``. Arguments as :func:`run_demo`.
    """
    started = time.perf_counter()
    with _demo_folder(output_dir, seed=seed, minutes=minutes, overwrite=overwrite) as out:
        return _nuclei_demo(
            out,
            minutes=minutes,
            quick=quick,
            seed=seed,
            device=device,
            progress=progress,
            started=started,
        )


@capped  # its predictions' threads no more than a CPU quota allows (fit's are)
def _nuclei_demo(
    out: Path,
    *,
    minutes: float,
    quick: bool,
    seed: int,
    device: str,
    progress: bool,
    started: float,
) -> dict:
    plan = NUCLEI_QUICK if quick else NUCLEI_FULL
    data_root = write_nuclei_dataset(
        out / "data",
        seed=seed,
        size=plan["size"],
        **{k: plan[k] for k in ("n_train", "n_val", "n_test")},
    )
    overrides = nuclei_overrides(data_root, plan, minutes=minutes, seed=seed)
    trained, model = _train(out, overrides, device=device, progress=progress)
    _predict_nuclei(model, data_root / "test", out)
    reports = {
        name: evaluate_predictions(out / folder, data_root / "test", gt_instances=True)
        for name, folder in (("instances", "predictions"), ("baseline", "baseline"))
    }
    _write_evaluation(out / "evaluation.txt", reports)
    shutil.copyfile(out / "run" / "curves.png", out / "curves.png")
    test = reports["instances"].summary
    metrics = {
        "task": "nuclei",
        "miou": test["miou"],
        "iou": dict(zip(reports["instances"].class_names, test["iou"])),
        "pixel_accuracy": test["pixel_accuracy"],
        "objects": _object_figures(test),
        "baseline_connected_components": _object_figures(reports["baseline"].summary),
        **_run_figures(trained, plan, started, quick=quick, seed=seed),
    }
    with atomic_path(out / "metrics.json") as tmp:
        tmp.write_text(json.dumps(nan_to_none(metrics), indent=2) + "\n")
    names = ("metrics.json", "evaluation.txt", "overlays", "predictions", "baseline", "curves.png")
    return _with_paths(metrics, out, names, trained)


def _write_evaluation(path: Path, reports: dict) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(
            f"instance mode (seeded watershed of the interiors):\n{reports['instances'].table()}"
            f"\n\nbaseline (connected components of the same net's foreground, same clean-up):\n"
            f"{reports['baseline'].table()}\n"
        )


def _object_figures(summary: dict) -> dict:
    """The object part of an evaluation summary, with counts and the relative count error."""
    true, pred = summary["objects"], summary["pred_objects"]
    return {
        **{key: summary[key] for key in OBJECT_KEYS},
        "true_objects": true,
        "pred_objects": pred,
        "count_error": (pred - true) / true if true else math.nan,
    }


def baseline_options(options: ObjectOptions) -> ObjectOptions:
    """The baseline's object options: ``options`` as a two-class model's, connected regions
    only (no distance split: what plain thresholding gives)."""
    return replace(options, mode="semantic", distance_split=False)


def _predict_nuclei(model, root: Path, out: Path) -> None:
    """Each held-out image once: its objects (``predictions/NN_objects.tif``), the baseline's
    (``baseline/NN_objects.tif``) and outlines (``overlays/NN_overlay.png``).

    The baseline is what a two-class model gives: the net's foreground (1 - P(background),
    boundary and interior together) at 0.5, its 4-connected regions, with the same clean-up
    (holes filled, objects below the minimum size dropped)."""
    options = ObjectOptions.for_model(model)
    two_class = baseline_options(options)
    since = cpu_share.cpu_reading()  # not over training: its loader workers are its own
    for path in sorted((root / "images").glob("*.png")):
        look_beside(model, since)  # fewer threads beside other work, once, as predict_folder
        image, truth = read_image(path), read_mask(root / "masks" / path.name)
        probs = predict_image(model, image)
        objects = objects_from_probabilities(probs, options)
        baseline = objects_from_probabilities(np.stack([probs[0], 1.0 - probs[0]]), two_class)
        # in the ids' dtype rule (least_ids: uint16, uint32 past 65,535) as they come
        write_tiff(_predicted_path(out / "predictions", path, "objects"), objects)
        write_tiff(_predicted_path(out / "baseline", path, "objects"), baseline)
        panels = [overlay(image, np.zeros(truth.shape, np.uint8))] + [
            overlay(image, find_boundaries(ids, mode="inner").astype(np.uint8))
            for ids in (truth, objects, baseline)
        ]
        write_png(_predicted_path(out / "overlays", path, "overlay"), side_by_side(*panels))
