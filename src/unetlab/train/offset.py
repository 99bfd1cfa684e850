"""The label offset (``train.label_offset: fit``): measured on the validation images after
training, stored in the checkpoints and in ``label_offset.json``."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import asdict, fields, replace
from pathlib import Path

import torch

from unetlab.atomic import atomic_path
from unetlab.checkpoint import load_checkpoint, model_from_checkpoint, update_checkpoint
from unetlab.config import Config, given_config
from unetlab.errors import Spelled, said_as
from unetlab.inference.offset import MIN_IMAGES, OffsetFit, estimate_offset
from unetlab.inference.predict import predict_tensor
from unetlab.inference.tta import fitting_tta
from unetlab.outputs import record
from unetlab.train.rundir import OFFSET_FILE
from unetlab.train.schedule import MORE_TIME
from unetlab.train.setup import Data, prepare_data
from unetlab.words import numbered

log = logging.getLogger(__name__)


def fit_label_offset(
    cfg: Config,
    run_dir: str | os.PathLike,
    *,
    device="cpu",
    data: Data | None = None,
    precision: str = "fp32",
    out_of_time: Callable[[], bool] | None = None,
    stop: Callable[[], bool] | None = None,
) -> OffsetFit | None:
    """Measure where the labels sit relative to the predictions of ``run_dir``'s best.pt on
    the validation images of ``cfg`` (``data``, or read again), with test-time augmentation
    when the net trained with flips or rotations (:func:`fitting_tta`), and store the offset
    in best.pt and last.pt (:mod:`unetlab.inference.offset`) and in ``label_offset.json``.
    ``precision``: the predictions' (training passes its validations' precision: bf16 gives
    the same offsets in half the time, bench/README.md). ``out_of_time``: a time budget's
    end (the search then keeps the best move it has tried if it tried every whole-pixel move;
    else nothing is stored). ``stop``: a stop request (Ctrl-C) that skips the measurement, the
    run's files left as they were. None without validation images, when the budget ran out
    before the predictions were made or before the search tried the whole-pixel moves, or
    when stopped. Also
    usable on a finished run: ``fit_label_offset(load_config(run / "config.yaml"), run)``
    (a dict of settings for ``cfg`` is refused in one line, as :func:`fit` refuses it)."""
    cfg = given_config(cfg)
    data = data if data is not None else prepare_data(cfg)
    if len(data.val) < MIN_IMAGES:
        log.info(
            "label offset: not measured (%s; at least %d tell an annotation's offset from chance)",
            numbered(len(data.val), "validation image"),
            MIN_IMAGES,
        )
        return None
    started = time.perf_counter()
    stop = stop or (lambda: False)
    halt = stop if out_of_time is None else (lambda: stop() or out_of_time())
    tta = fitting_tta(cfg.augment) or False
    best = Path(run_dir) / "checkpoints" / "best.pt"
    probs = _predictions(best, data.val, device, tta=tta, precision=precision, halt=halt)
    if len(probs) < len(data.val):  # halted before the last
        return _not_measured(stop(), len(probs), len(data.val))
    found = estimate_offset(probs, [s.mask for s in data.val], out_of_time=halt)
    found = replace(found, tta=tuple(tta or ()))
    if stop():  # the search cut short: not the measurement asked for
        return _not_measured(True, len(probs), len(data.val))
    if not found.measured:  # the budget's end before every whole-pixel move: nothing stored
        log.info("%s; %s", found.describe(), said_as(MORE_TIME))
        return None
    _store(run_dir, found, tta=tta, started=started)
    return found


def _predictions(
    best: Path, samples, device, *, tta, precision: str, halt: Callable[[], bool]
) -> list[torch.Tensor]:
    """The class probabilities of ``best``'s net for each of ``samples``, unmoved (offset
    (0, 0)), on the CPU; fewer than ``samples`` where ``halt()`` said to stop first."""
    device = torch.device(device)
    model = model_from_checkpoint(load_checkpoint(best), share=True).to(device).eval()
    model.label_offset = (0.0, 0.0)  # measured from the unmoved predictions
    probs = []
    for sample in samples:
        if halt():
            break
        x = torch.from_numpy(sample.image)[None].to(device)
        probs.append(predict_tensor(model, x, tta=tta, precision=precision)[0].cpu())
    return probs


def _store(run_dir: str | os.PathLike, found: OffsetFit, *, tta, started: float) -> None:
    """Store ``found``'s offset in the run's best.pt and last.pt and in ``label_offset.json``
    (with the tta used and the seconds since ``started``), and say it."""
    checkpoints = Path(run_dir) / "checkpoints"
    for name in ("best.pt", "last.pt"):
        if (checkpoints / name).is_file():
            update_checkpoint(checkpoints / name, label_offset=list(found.offset))
    measured = {
        **asdict(found),
        "tta": list(tta or ()),
        "seconds": round(time.perf_counter() - started, 1),
    }
    record(run_dir, [OFFSET_FILE], command="train")  # a run's file, like the others
    with atomic_path(Path(run_dir) / OFFSET_FILE) as tmp:
        tmp.write_text(json.dumps(measured, indent=1) + "\n")
    log.info("%s (%.0f s)", found.describe(), measured["seconds"])


def _not_measured(stopped: bool, predicted: int, images: int) -> None:
    """Say why the label offset was left out: stopped, or the time budget's end."""
    if stopped:
        log.info("label offset: not measured (stopped); %s measures it", said_as(RESUMED))
    else:
        log.info(
            "label offset: not measured (the time budget ran out after %d of %d validation"
            " predictions; %s)",
            predicted,
            images,
            said_as(MORE_TIME),
        )


#: what measures the label offset another time (with :data:`MORE_TIME`), as the caller asks
#: for it (:func:`said_as`: fit in a notebook was told ``train --resume``, s53)
RESUMED = Spelled("the same fit(...) with resume=True", "train --resume")


def measured_offset(run_dir: Path) -> OffsetFit | None:
    """The label offset measured for the run's present best.pt (``label_offset.json`` written
    after it), or None: not measured, or best.pt changed since (a resume trained on)."""
    record, best = run_dir / OFFSET_FILE, run_dir / "checkpoints" / "best.pt"
    try:
        if record.stat().st_mtime_ns < best.stat().st_mtime_ns:
            return None
        measured = json.loads(record.read_text())
        names = {f.name for f in fields(OffsetFit)}
        found = OffsetFit(**{k: v for k, v in measured.items() if k in names})
    except (OSError, ValueError, TypeError):
        return None
    best = None if found.best is None else tuple(found.best)
    return replace(found, offset=tuple(found.offset), best=best, tta=tuple(found.tta))
