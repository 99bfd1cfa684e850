"""Predict many image files into one output folder: what ``unetlab predict --input DIR``
does, for Python.

:func:`predict_folder` finds the inputs (:func:`find_inputs`), checks and holds the output
folder (:func:`claim_folder`: never an input replaced, never a file unetlab did not write,
one process at a time; ``skip_existing`` inputs already done), and predicts each file
(:func:`predict_or_fail`: a file that cannot be read or does not fit the model is named and
the others still written). The CLI uses the same pieces, shared over processes.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from unetlab.errors import OutOfMemoryError, OutputError, UnetlabError
from unetlab.inference.files import (
    check_options,
    file_record,
    finished_inputs,
    finished_outputs,
    other_models,
    predict_file,
    prediction_folder,
)
from unetlab.inference.objects import ObjectOptions
from unetlab.inference.predict import PredictOptions
from unetlab.inference.records import Provenance
from unetlab.inference.slides import is_large
from unetlab.outputs import OVERWRITE_FIX, confirm

__all__ = [
    "FolderPrediction",
    "check_settings",
    "claim_folder",
    "find_inputs",
    "predict_folder",
]

log = logging.getLogger(__name__)


def find_inputs(patterns: str | os.PathLike | Sequence[str | os.PathLike]) -> list[Path]:
    """Image files and Zarr folders of ``patterns`` (files, folders, globs), each once, in
    the order given (a folder's sorted). UnetlabError if there are none."""
    from unetlab.data.io import find_images
    from unetlab.data.slides import is_zarr

    if isinstance(patterns, (str, os.PathLike)):
        patterns = [patterns]
    files: list[Path] = []
    for pattern in patterns:
        path = Path(pattern)
        if is_zarr(path):
            files.append(path)
        elif path.is_dir():
            files += sorted(p for p in path.iterdir() if is_zarr(p))
            files += find_images(path)
        else:
            files += find_images(path)
    if not files:
        raise UnetlabError(f"no images found in {' '.join(map(str, patterns))}")
    return sorted(set(files), key=files.index)


def is_streamed(path: Path, *, level: int = 0, threshold: int | None = None) -> bool:
    """Whether ``path`` is predicted window by window (:func:`is_large`); an unreadable file
    is not (its error comes when it is predicted)."""
    try:
        return is_large(path, level=level, threshold=threshold)
    except UnetlabError:
        return False


@contextlib.contextmanager
def claim_folder(
    out_dir: str | os.PathLike,
    files: Sequence[Path],
    *,
    skip_existing: bool = False,
    overwrite: bool = False,
    overwrite_fix: str = OVERWRITE_FIX,
    record: Provenance | Callable[[], Provenance] | None = None,
    **wanted: bool,
) -> Iterator[set[Path]]:
    """``out_dir`` checked and held for the outputs of ``files`` (:func:`prediction_folder`;
    ``wanted``: ``probabilities``, ``overlay``, ``objects``; ``record``: what makes them, or
    a function that gives it once the folder is checked);
    yields the inputs to skip: with ``skip_existing``, those whose asked-for outputs an
    earlier prediction by the same checkpoint and settings (``record``) wrote there
    (:func:`finished_inputs`, asked before this run's names enter the manifest). With
    ``skip_existing``, outputs of the other inputs that another model made there
    (:func:`other_models`) are refused, OutputError naming the fix, unless ``overwrite``
    (they are predicted again)."""
    done: set[Path] = set()

    def check(made: Provenance) -> None:  # held, before this run enters the manifest
        if not skip_existing:
            return
        finished = finished_outputs(out_dir, files, record=made, **wanted)
        done.update(finished)  # their outputs keep their lines, a killed run's confirmed:
        names = [n for outputs in finished.values() for n in outputs]
        confirm(out_dir, dict.fromkeys(names, made.key), "predict")  # the files carry the key
        others = other_models(out_dir, [f for f in files if f not in done], made)
        if others and not overwrite:
            raise OutputError(_other_model_line(Path(out_dir), others, made, overwrite_fix))

    if skip_existing and record is None:
        done.update(finished_inputs(out_dir, files, **wanted))
    fix = dict(overwrite=overwrite, overwrite_fix=overwrite_fix, record=record, checked=check)
    with prediction_folder(out_dir, files, **fix, **wanted):
        yield done


def _other_model_line(out_dir: Path, others: dict[Path, str], record: Provenance, fix: str) -> str:
    """The one line for outputs another model made, which --skip-existing would keep."""
    first, made = next(iter(others.items()))
    more = f" and {len(others) - 1} more input(s)" if len(others) > 1 else ""
    return (
        f"{out_dir} holds another model's outputs: those of {first.name}{more} were made by "
        f"{made}, not by this run's {record.describe()}; give another --output folder, or "
        f"{fix} to predict them again with this one"
    )


def predict_or_fail(
    model: torch.nn.Module, path: Path, out_dir: Path, **options
) -> list[Path] | UnetlabError:
    """:func:`predict_file` (``options``), or the UnetlabError that is this file's own (it
    cannot be read, or does not fit the model). OutputError and OutOfMemoryError are raised:
    every later file would fail the same way."""
    try:
        return predict_file(model, path, out_dir, **options)
    except (OutputError, OutOfMemoryError):
        raise
    except UnetlabError as exc:
        return exc


def check_settings(
    model: torch.nn.Module,
    *,
    color: bool = False,
    label_values: bool = False,
    options: PredictOptions | None = None,
    name: str = "the model",
    **settings,
) -> None:
    """Refuse settings that would fail every file alike, once, before any work (UnetlabError
    naming the fix): ``color`` with ``label_values``, ``label_values`` for a model that
    records none (``name``: what the message calls it, e.g. the checkpoint's path), and bad
    prediction settings (``options`` and ``settings``, its fields by name:
    :func:`~unetlab.inference.files.check_options`); other keywords are ignored."""
    if color and label_values:
        raise UnetlabError("choose one of color (palette of class indices) and label_values")
    if label_values and getattr(model, "label_values", None) is None:
        raise UnetlabError(
            f"{name} records no label values: write class indices (drop label_values, "
            "--label-values)"
        )
    fields = {k: v for k, v in settings.items() if k in PredictOptions.__dataclass_fields__}
    check_options(model, options, **fields)


@dataclass
class FolderPrediction:
    """What :func:`predict_folder` did: ``written`` (each input predicted -> its output
    files, the label image first), ``skipped`` (inputs ``skip_existing`` left out) and
    ``failed`` (each input that could not be predicted -> the reason, one line)."""

    written: dict[Path, list[Path]] = field(default_factory=dict)
    skipped: list[Path] = field(default_factory=list)
    failed: dict[Path, str] = field(default_factory=dict)


def predict_folder(
    model: torch.nn.Module,
    inputs: str | os.PathLike | Sequence[str | os.PathLike],
    out_dir: str | os.PathLike,
    *,
    skip_existing: bool = False,
    overwrite: bool = False,
    save_probabilities: bool = False,
    draw_overlay: bool = False,
    objects: ObjectOptions | None = None,
    level: int = 0,
    large_threshold: int | None = None,
    **options,
) -> FolderPrediction:
    """Predict every image of ``inputs`` (a folder, files or globs: :func:`find_inputs`)
    into ``out_dir``, as ``unetlab predict --input ... --output OUT_DIR`` does in one
    process; the outputs of each file as :func:`predict_file` writes them (``options``: its
    other keywords, e.g. ``tile_size=``, ``color=``, ``options=PredictOptions(...)``).

    ``out_dir`` is checked before any work (:func:`claim_folder`): OutputError if an output
    would replace an input, if two inputs would write one file, if another unetlab process
    writes there, or if the folder holds files unetlab did not write or outputs that another
    input of the same name wrote (unless ``overwrite``: written among them, and the other
    input's outputs replaced). ``skip_existing``: inputs whose outputs an earlier prediction
    by the same checkpoint and settings wrote there are skipped; outputs another model (or
    settings: TTA, channel, ...) made are refused, OutputError naming the fix, unless
    ``overwrite`` (then they are predicted again). What made the outputs is recorded: the
    folder's ``predict.json`` and manifest (:mod:`unetlab.inference.records`). A file that
    cannot be read or does not fit the model is logged and listed in ``failed``; the others
    are still written; settings that would fail every file (a tile size the net cannot take,
    ``label_values`` for a model that records none: :func:`check_settings`) raise
    UnetlabError before the folder is touched. Returns a :class:`FolderPrediction`.
    """
    check_settings(model, **options)
    files = find_inputs(inputs)
    out_dir = Path(out_dir)
    wanted = dict(probabilities=save_probabilities, overlay=draw_overlay, objects=bool(objects))
    record = file_record(model, objects=objects, level=level, **options)

    result = FolderPrediction()
    each = dict(save_probabilities=save_probabilities, draw_overlay=draw_overlay, objects=objects)
    each |= dict(level=level, large_threshold=large_threshold, **options)
    fix = "pass overwrite=True"
    held = dict(skip_existing=skip_existing, overwrite=overwrite, overwrite_fix=fix, record=record)
    with claim_folder(out_dir, files, **held, **wanted) as done:
        for path in files:
            if path in done:
                result.skipped.append(path)
                continue
            outcome = predict_or_fail(model, path, out_dir, **each)
            if isinstance(outcome, UnetlabError):
                result.failed[path] = str(outcome).splitlines()[0]
                log.warning("failed: %s", result.failed[path])
            else:
                result.written[path] = outcome
    log.info(
        "predict: %d written, %d skipped, %d failed -> %s",
        *(len(result.written), len(result.skipped), len(result.failed), out_dir),
    )
    return result
