"""One self-describing checkpoint file: a dict of named parts, loaded without running code.

Parts: ``format`` (``"unetlab"``), ``format_version``, ``version`` (of unetlab), ``code``
(the code that wrote it: unetlab's version, git commit and dirty flag of a checkout, torch's
version: :func:`unetlab.provenance.code_identity`; absent in older files), ``config``
(the UNet's architecture), ``classes``, ``normalization``, ``label_values`` (mask value of each
class, or None for 0..C-1), ``objects`` (what the net segments and the training masks' object
statistics, or None: see ``unetlab.train.object_record``), ``palette`` (the data set's
(256, 3) colours of the mask values as nested lists, or None), ``label_offset`` ((dy, dx) px
that predictions are moved by: ``unetlab.inference.offset``; absent in older files: none),
``ignore_value`` (the mask value training counted nowhere, or None; absent in older files),
``tta`` (the test-time transforms the net trained with, which ``tta=True`` averages:
``unetlab.inference.tta``; absent in older files: those their ``train_config``'s augmentation
trained, else all 8),
``channel`` (the one channel of multi-channel images the net was trained on, ``data.channel``,
or the list of them, a band subset, which prediction reads by default; None: all; absent in
older files), ``channel_names`` (the name of the one trained by name, ``data.channel:
DAPI``, which prediction finds in each file that names its channels; None: by index;
absent in older files),
``appearance`` (how the training images looked as read: their per-channel mean and pooled
standard deviation and their dtype, :mod:`unetlab.data.appearance`; prediction says when an
image lies far from them; None or absent: no check. No format feature: it changes no
prediction, and an older unetlab ignores it),
``model`` (the state dict), and
whatever the caller adds (``optimizer``, ``scheduler``, ``train_state``, ``train_config``,
``split``: the files that trained and validated it, :mod:`unetlab.data.split_record`,
``run_progress``: in a run's ``last.pt`` and ``best.pt``, whether its training had ended,
how far it was to go and which of the two the file was saved as, :func:`unfinished_line`;
absent in older files, in a best.pt before s44, ...; ``val_precision``: ``"bf16"`` or
``"fp32"``, what the run's validations predicted in, which evaluate names where it predicts
in another; absent in older files; ``last_validation``: the run's latest validation
figures, which fit returns where a resume validates no more; absent in older files),
``same_model_sha256`` (the sha256 the
file had before a rewrite that changed nothing it predicts, its run's end recorded in it:
:func:`update_checkpoint` with ``same_model=True``; predictions name the model by it, so
that outputs predicted from the file before keep their key; absent: the file's own).
Files are written atomically and read with ``torch.load(weights_only=True)``.

Format versions: a checkpoint that uses a part added since format 1 which changes what it
predicts or scores (:data:`FEATURES`: a label offset, a normalisation floor, ...) is written as
format 2 and names those parts under ``features``; every other checkpoint is format 1, as
before. A reader refuses a format above its own, or a feature it does not know, with "written
by a newer unetlab; upgrade unetlab" (the unetlab versions of format 1 ignored these parts
without a word and predicted otherwise: audit s31 upgrade 2). A part of that kind added later
gets a name in :data:`FEATURES`; no format bump is needed for it.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import os
import warnings
import weakref
import zipfile
from dataclasses import asdict, is_dataclass
from pathlib import Path

import torch

from unetlab.atomic import atomic_path
from unetlab.config.sections import BUDGET_EPOCHS
from unetlab.data.exclude import check_exclude_rows
from unetlab.data.folder_notes import near_line
from unetlab.errors import CheckpointError, Spelled, UnetlabError, in_command, spelled
from unetlab.manifest import input_stamp
from unetlab.model_identity import (
    REPORT_SAME_MODEL,
    REPORT_WEIGHTS,
    SAME_MODEL,
    weights_sha256,
    weights_stamp,
)
from unetlab.models import UNet
from unetlab.models.loading import take_weights, unfilled_model
from unetlab.packages import MEMBER_DAMAGE, ZIP_DAMAGE, is_package, load_package
from unetlab.part_values import PART_VALUES, damaged_value
from unetlab.runtime import resolve_device
from unetlab.signals import CallerSays
from unetlab.words import numbered

log = logging.getLogger(__name__)

#: each net :func:`load_model` gave: its file's stamp and its :func:`weights_stamp` then;
#: kept out of the net's attributes, so that a copy, pickle or ``torch.save`` of the net
#: carries none of the stamp's weak holds on storages (a deepcopy's holds, freed, freed
#: the loaded net's storage records: a segfault, s60 re-review); a copy is not known as
#: loaded, and is named by its weights' hash
_LOADED_AS: weakref.WeakKeyDictionary[torch.nn.Module, tuple] = weakref.WeakKeyDictionary()
_FILE_WEIGHTS: dict[tuple, str | None] = {}
_AS_LOADED: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "unetlab_net_as_loaded", default=None
)

FORMAT = "unetlab"
#: the part naming the sha256 of the file before a rewrite that changed no prediction
FORMAT_VERSION = 2  # written 1 where a checkpoint uses none of FEATURES: older unetlab reads it
#: the normalisation keys of format 1 (another changes the input the net sees)
_FORMAT1_NORMALIZATION = frozenset({"mode", "low", "high", "mean", "std"})


def _normalization(checkpoint: dict) -> dict:
    return checkpoint.get("normalization") or {}


#: name -> whether a checkpoint uses it: the parts added since format 1 that change what a
#: checkpoint predicts (or what evaluate scores) and that a format-1 reader ignores
FEATURES = {
    "label_offset": lambda c: any(float(v) != 0 for v in c.get("label_offset") or ()),
    "channel": lambda c: c.get("channel") is not None,
    # a list of channels (a band subset, s38): an older reader took it for one index
    "channel.bands": lambda c: isinstance(c.get("channel"), (list, tuple)),
    # the trained channel's name, found by name in each file (s70): an older reader read
    # the index, another stain in a file of another channel order (recorded only where
    # data.channel is a name: an index-trained model stays readable by older unetlab)
    "channel.names": lambda c: bool(c.get("channel_names")),
    "ignore_value": lambda c: c.get("ignore_value") is not None,
    # the training images' per-channel statistics (s38): an older reader knows no such mode
    "normalization.dataset": lambda c: _normalization(c).get("mode") == "dataset",
    # clipped to the foreground's percentiles, then its mean and std (nnU-Net's CT, s70)
    "normalization.ct": lambda c: _normalization(c).get("mode") == "ct",
    "normalization.lower": lambda c: "lower" in _normalization(c),  # ct's clip, with upper
    "normalization.upper": lambda c: "upper" in _normalization(c),
    "normalization.floor": lambda c: "floor" in _normalization(c),  # with its dtype
    # a floor for each other dtype of training images of several (s48): an older reader
    # floored only the most common dtype's images
    "normalization.floors": lambda c: bool(_normalization(c).get("floors")),
    "normalization.ignore_saturated": lambda c: bool(_normalization(c).get("ignore_saturated")),
    # ... at a 10/12/14-bit camera's ceiling too, not only the dtype's maximum (s35)
    "normalization.camera_ceiling": lambda c: bool(_normalization(c).get("camera_ceiling")),
    # per-image statistics over the tissue only, glass left out (H&E; 10fc7f0)
    "normalization.tissue": lambda c: bool(_normalization(c).get("tissue")),
    # a least object size per class where two classes or more have objects (f637f67)
    "objects.by_class": lambda c: _classes_with_objects(c) >= 2,
    # rows that prediction leaves out (a data bar), read from the training's config (d23bb75)
    "data.exclude_rows": lambda c: (
        check_exclude_rows(((c.get("train_config") or {}).get("data") or {}).get("exclude_rows"))
        is not None  # {top: 0, bottom: 0} leaves nothing out
    ),
}


def _classes_with_objects(checkpoint: dict) -> int:
    """How many classes the checkpoint's per-class object record gives objects (the
    background's entry is None)."""
    by_class = (checkpoint.get("objects") or {}).get("by_class") or []
    return sum(1 for stats in by_class if isinstance(stats, dict) and stats.get("count"))


def features(checkpoint: dict) -> list[str]:
    """The :data:`FEATURES` that ``checkpoint`` (a dict of parts) uses."""
    return [name for name, used in FEATURES.items() if used(checkpoint)]


def package_format(meta: dict) -> dict:
    """The format version and features of an exported package's ``config.unetlab`` record
    ``meta`` (the checkpoint's parts, but the rows a data bar takes sit at its top level), so
    that a reader which does not know a feature refuses the package as it would the checkpoint."""
    exclude_rows = {"train_config": {"data": {"exclude_rows": meta.get("exclude_rows")}}}
    used = features(meta | exclude_rows)
    return {"format_version": 2 if used else 1, **({"features": used} if used else {})}


def _with_version(meta: dict) -> dict:
    """A package's record with the version of the unetlab that exported it, read from its
    ``exported_by`` ("unetlab 0.2.0"), as a checkpoint names it."""
    return meta | {"version": str(meta.get("exported_by") or "").removeprefix("unetlab ")}


def _stamped(checkpoint: dict) -> dict:
    """``checkpoint`` with the format version and features its parts need."""
    used = features(checkpoint)
    stamped = {k: v for k, v in checkpoint.items() if k != "features"}
    return stamped | {"format_version": 2 if used else 1, **({"features": used} if used else {})}


def _check_save_arguments(path, model) -> None:
    """UnetlabError in one line for :func:`save_model`'s arguments the wrong way round (the
    exports take the model first) or a model that is no unetlab net (pathlib's TypeError
    and "'NoneType' object has no attribute 'state_dict'" before, audit s42 api)."""
    if isinstance(path, torch.nn.Module):
        raise UnetlabError("save_model takes the path first: save_model('model.pt', model)")
    if not is_dataclass(getattr(unwrap_net(model), "config", None)):
        raise UnetlabError(
            f"model must be a unetlab UNet (unetlab.UNet, load_model), not {type(model).__name__}"
        )


def save_model(path: str | os.PathLike, model: UNet, *, overwrite: bool = False, **parts) -> Path:
    """Write ``model`` (architecture, classes, normalisation, weights) and extra parts.

    No other file is replaced (OutputError: an image, a folder, anything that is not a
    unetlab checkpoint; audit s32 notebook 2 lost a PNG so). An existing checkpoint is
    replaced only with ``overwrite=True`` (a training run's own saves pass it: fit holds
    its run folder)."""
    from unetlab import __version__
    from unetlab.provenance import code_identity

    reserved = {"format", "format_version", "version", "code", "config", "model", SAME_MODEL}
    if clash := reserved & set(parts):
        raise ValueError(f"save_model: {sorted(clash)} are reserved checkpoint parts")
    _check_save_arguments(path, model)
    path = Path(path)
    refuse_replacing(path, overwrite=overwrite)
    state = {k: v.detach().to("cpu") for k, v in unwrap_net(model).state_dict().items()}
    checkpoint = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "version": __version__,
        "code": code_identity(),
        "config": asdict(model.config),
        "classes": list(getattr(model, "classes", [])),
        "normalization": dict(getattr(model, "normalization", {"mode": "per_image"})),
        "label_values": getattr(model, "label_values", None),
        "objects": getattr(model, "objects", None),
        "palette": getattr(model, "palette", None),
        "ignore_value": getattr(model, "ignore_value", None),
        "tta": _names(getattr(model, "tta", None)),
        "channel": getattr(model, "channel", None),
        "channel_names": getattr(model, "channel_names", None),
        "appearance": getattr(model, "appearance", None),
        "label_offset": [float(v) for v in getattr(model, "label_offset", None) or (0, 0)],
        "model": state,
        **parts,
    }
    with atomic_path(path) as tmp:
        torch.save(_stamped(checkpoint), tmp)
    return path


def refuse_replacing(path: Path, *, overwrite: bool) -> None:
    """OutputError unless a checkpoint may be written at ``path``: nothing is there, or a
    unetlab checkpoint and ``overwrite``. A name of an image format is refused too (a
    checkpoint named frame05.png would be taken for an image)."""
    from unetlab.data.io import INPUT_SUFFIXES
    from unetlab.errors import OutputError

    if path.suffix.lower() in INPUT_SUFFIXES:
        raise OutputError(
            f"{path}: a checkpoint is no {path.suffix} image: give a .pt path (nothing written)"
        )
    if not os.path.lexists(path):
        return
    parts = _parts(path) if path.is_file() else None
    if parts is None:
        raise OutputError(
            f"{path} exists and is not a unetlab checkpoint: save_model replaces no other "
            "file; give another path (nothing written)"
        )
    if not overwrite:
        trains = not missing_training_state(parts)
        held = " holding a training run's state, which resume=True needs" if trains else ""
        raise OutputError(
            f"{path} is a checkpoint already{held}: pass overwrite=True to replace it, or give "
            "another path (nothing written)"
        )


def _parts(path: Path) -> dict | None:
    """The parts of the unetlab checkpoint at ``path`` (read memory-mapped: its weights stay
    on disk; where mapping fails, on the ``meta`` device: of a zip archive its pickle alone
    is read, of a legacy one, ``_use_new_zipfile_serialization=False``, still the whole
    file), None for any other file (a TorchScript archive not loaded: torch.load would hand
    it to torch.jit.load and warn in two lines, s56 review F1)."""
    if is_torchscript(path):
        return None
    try:  # where mapping a zip fails, its pickle alone (s70: 100 MB of a 100 MB file read,
        # 0.055 CPU s; now 0.04 MB, 0.0005 s)
        checkpoint = load_torch_file(path, "cpu", mmap=True, unmapped="meta")
    except Exception:  # noqa: BLE001 - torch's unpickler raises many kinds on foreign bytes
        return None
    ours = isinstance(checkpoint, dict) and checkpoint.get("format") == FORMAT
    return checkpoint if ours else None


def is_checkpoint(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a file that unetlab saved as a checkpoint (read memory-mapped)."""
    return Path(path).is_file() and _parts(Path(path)) is not None


def parts_inputs(parts: dict | None) -> tuple[str | None, int]:
    """The axes a checkpoint's ``parts`` (:func:`checkpoint_parts`) trained with
    (``data.axes`` of its ``train_config``, upper case; None where they record none, or
    for None: no unetlab checkpoint file) and the channels its net takes (``in_channels``
    of its ``config``; 1 where it records none)."""
    return _trained_axes(parts or {}), _in_channels(parts or {}) or 1


def _trained_axes(parts: dict) -> str | None:
    """The axes a checkpoint's ``parts`` trained with (``data.axes`` of its
    ``train_config``), upper case; None where they record none."""
    axes = _part(parts, "train_config.data.axes")  # where damaged, loading it says so
    return axes.upper() if isinstance(axes, str) and axes else None


def parts_takes(parts: dict | None) -> tuple[int, object, str | None] | None:
    """The channels the net of a checkpoint's ``parts`` (:func:`checkpoint_parts`) takes,
    the channel of its images it trained on (``channel``: an index, a band list, None for
    all) and the axes it trained with (as :func:`parts_inputs` gives them); None for None
    (a bioimage.io package, no file) or parts whose channels cannot be read (its load says
    why)."""
    channels = None if parts is None else _in_channels(parts)
    return None if channels is None else (channels, parts.get("channel"), _trained_axes(parts))


def checkpoint_parts(path: str | os.PathLike) -> dict | None:
    """The parts of the unetlab checkpoint at ``path``, read without its weights
    (:func:`_parts`); None for any other path (a bioimage.io package, no file)."""
    return _parts(Path(path)) if Path(path).is_file() else None


def _in_channels(parts: dict) -> int | None:
    """``in_channels`` of a checkpoint's ``config`` (1 where it records none); None where it
    is damaged (no positive integer, a config that is no dict): loading the model says its
    line, which a look before it must not turn into a traceback (s57 review E)."""
    config = parts.get("config") or {}
    value = config.get("in_channels", 1) if isinstance(config, dict) else None
    return value if type(value) is int and value > 0 else None


#: the parts of a training run's checkpoint beside the model's, which resuming reads
TRAINING_PARTS = ("optimizer", "scaler", "train_state", "rng")


def missing_training_state(checkpoint: dict) -> list[str]:
    """The :data:`TRAINING_PARTS` that ``checkpoint`` lacks (all of them: a model saved
    with :func:`save_model`)."""
    return [k for k in TRAINING_PARTS if k not in checkpoint]


def check_training_state(checkpoint: dict, path) -> None:
    """CheckpointError in one line unless ``checkpoint`` (read from ``path``) holds what
    resuming a training run needs (a model saved over a run's last.pt gave a bare KeyError
    'optimizer', reported as a bug: audit s32 notebook 2)."""
    if missing := missing_training_state(checkpoint):
        said = (
            f"{path} holds no training state (no {', '.join(missing)}): it is a model saved "
            "with save_model, not a training run's checkpoint, so the run cannot resume from "
            "it; start a new run from its weights with "
        )
        init = Spelled(f"cfg.model.init_checkpoint = {str(path)!r}", f"--init {path}")
        raise CheckpointError(**spelled(lambda fix: said + fix, init))


def _names(names) -> list[str] | None:
    """A list of transform names as stored (a list; None: not recorded)."""
    return None if names is None else [str(n) for n in names]


def update_checkpoint(path: str | os.PathLike, *, same_model: bool = False, **parts) -> Path:
    """Replace (or add) ``parts`` of the checkpoint at ``path``, atomically. ``same_model``:
    the parts change nothing the file predicts (a run's end recorded), so the file keeps
    the model's sha256 (``same_model_sha256``: the one it had before, or recorded already);
    any other change drops that record (a label offset moves the labels: another model)."""
    from unetlab.data.split_record import file_sha256

    checkpoint = load_checkpoint(path)
    known = checkpoint.pop(SAME_MODEL, None)
    if same_model:
        checkpoint[SAME_MODEL] = known or file_sha256(path)
    checkpoint.update(parts)
    with atomic_path(Path(path)) as tmp:
        torch.save(_stamped(checkpoint), tmp)
    return Path(path)


def unwrap_net(model):
    """The UNet inside DDP / torch.compile wrappers (a wrapper's state names each tensor
    ``module.<name>`` or ``_orig_mod.<name>``, and it carries none of the net's attributes:
    ``checkpoint``, ``classes``, ...)."""
    while hasattr(model, "module") or hasattr(model, "_orig_mod"):
        model = getattr(model, "module", None) or model._orig_mod
    return model


def refuse_empty_path(path, named: str = "the checkpoint's path", more: str = "") -> None:
    """CheckpointError where ``path`` (``named``: the flag or key that gave it) is empty:
    ``Path('')`` is ".", which was said to be a folder (s70 review), or, as
    ``model.init_checkpoint``, no checkpoint: a training from scratch, unsaid (s70
    re-review); ``more``: another fix."""
    if isinstance(path, (str, os.PathLike)) and os.fspath(path) == "":
        raise CheckpointError(
            f"{named} is empty (''): give a .pt checkpoint file (a run's checkpoints/best.pt)"
            + more
        )


def _check_path(path):
    """``path`` itself where it is one, and not empty; anything else refused in one line
    (pathlib's TypeError before, audit s42 api: load_model(None), load_model(model))."""
    refuse_empty_path(path)
    if isinstance(path, (str, os.PathLike)):
        return path
    already = ": this is a model already" if isinstance(path, torch.nn.Module) else ""
    raise CheckpointError(f"expected a checkpoint file's path, not {type(path).__name__}{already}")


def load_torch_file(path: str | os.PathLike, map_location, *, mmap: bool = False, unmapped=None):
    """``torch.load(weights_only=True)`` of ``path``; ``mmap``: its tensors mapped from the
    file, or read where mapping itself fails (:func:`_unmappable`; to ``unmapped`` where
    given, else ``map_location``: "meta" reads the pickle alone, s70): such a file is whole,
    and was called truncated or corrupt (s68 review). A torn file is not read again: it fails
    either way. ``map_location`` "meta" reads its pickle alone, not its tensors' bytes (a zip
    file's; a legacy non-zip save is read whole). Torch's two-line UserWarning on a file of
    another pickle protocol ("Detected pickle protocol 4 ...": a ``pickle.dump`` file, which
    the caller then refuses in one line) is not shown, on every read: only evaluate's
    fallback read was silenced, and predict and export showed it above their line (s68
    review 2, s69)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Detected pickle protocol", UserWarning)
        try:
            return torch.load(path, map_location=map_location, weights_only=True, mmap=mmap)
        except Exception as exc:  # noqa: BLE001 - torch's unpickler raises many kinds
            if not (mmap and _unmappable(path, exc)):
                raise
        return torch.load(path, map_location=unmapped or map_location, weights_only=True)


def _unmappable(path: Path, exc: Exception) -> bool:
    """Whether ``exc``, raised by ``torch.load(path, mmap=True)``, is mapping's failure, not
    the file's: mapping refused (a filesystem without mmap: ENODEV, which torch's
    UntypedStorage.from_file raises as RuntimeError "unable to mmap ...", only once the zip's
    directory is found; an OSError), or a file that is no zip archive (torch maps those
    alone; its legacy format, ``torch.save(..., _use_new_zipfile_serialization=False)``, is
    none). A torn zip archive keeps its first bytes and raises another RuntimeError."""
    refused = isinstance(exc, RuntimeError) and str(exc).startswith("unable to mmap")
    if refused or isinstance(exc, OSError):
        return True
    try:
        with open(path, "rb") as file:
            return file.read(4) != b"PK\x03\x04"  # a zip's first member
    except OSError:
        return False


def load_checkpoint(path: str | os.PathLike, map_location="cpu", *, mmap: bool = False) -> dict:
    """The checkpoint's parts as a dict; CheckpointError if it is not a complete unetlab file.
    ``mmap``: its tensors are mapped from the file, not read (the parts beside them, a
    header's, are read alone: ``torch.load(mmap=True)``)."""
    path = Path(_check_path(path))
    if path.is_dir():
        raise CheckpointError(_folder_message(path))
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file{near_line(path)}")
    if is_torchscript(path):  # before torch.load, which would warn and fail (audit s31 upgrade 4)
        raise CheckpointError(_export_refusal(path, "a TorchScript", _torchscript_props(path)))
    try:
        checkpoint = load_torch_file(path, map_location, mmap=mmap)
    except Exception as exc:  # noqa: BLE001 - torch's unpickler raises many kinds on foreign bytes
        if path.suffix.lower() == ".onnx":
            raise CheckpointError(_export_refusal(path, "an ONNX", onnx_props(path))) from exc
        # torch's own message (e.g. advice about weights_only) would mislead here
        raise CheckpointError(
            f"{path}: not a unetlab checkpoint, or truncated/corrupt ({type(exc).__name__}); "
            "use a file written by unetlab train or unetlab.save_model"
        ) from exc
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != FORMAT:
        raise CheckpointError(
            f"{path}: not a unetlab checkpoint (no format='unetlab' entry; "
            "a plain state_dict can be loaded with UNet(...).load_state_dict)"
        )
    check_format(checkpoint, path)
    if part := damaged_part(checkpoint):
        wrong = damaged_value(part, _part(checkpoint, part)) or "is missing, not a mapping"
        raise CheckpointError(
            f"{path}: a damaged or foreign checkpoint: its {part} {wrong} as unetlab writes "
            "it; use a file written by unetlab train or unetlab.save_model"
        )
    return checkpoint


#: the parts every checkpoint holds as a mapping, and those that are one where present
#: (``normalization``, ``objects``: a list read on load was a TypeError called a bug, s58)
_NEEDED_MAPPINGS = ("config", "model")
_MAPPINGS = (
    "train_config",
    "train_config.data",
    "train_config.train",
    "train_config.augment",
    "normalization",
    "objects",
)


def _part(checkpoint: dict, dotted: str):
    """The part ``dotted`` names (``train_config.data``), None where it or a mapping above
    it is absent."""
    value = checkpoint
    for key in dotted.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value


def damaged_part(checkpoint: dict) -> str | None:
    """The first part of ``checkpoint`` that unetlab writes as a mapping but that is none
    there (``config``, ``train_config.data``, ``normalization``: a list, a string, absent
    where needed), or as numbers or names but that are not (``label_offset``, ``tta``,
    ``normalization.low``: text, one number; :data:`PART_VALUES`); None where all are. Loading
    it raised a TypeError or AttributeError called a bug (s57 review E, s58)."""
    for name in _NEEDED_MAPPINGS:
        if not isinstance(checkpoint.get(name), dict):
            return name
    for name in _MAPPINGS:
        if (value := _part(checkpoint, name)) is not None and not isinstance(value, dict):
            return name
    for name, (fits, _) in PART_VALUES.items():
        if (value := _part(checkpoint, name)) is not None and not fits(value):
            return name
    return None


def check_format(checkpoint: dict, path, *, version: int = FORMAT_VERSION, known=FEATURES) -> None:
    """Refuse a checkpoint of a format above ``version``, or one that uses a feature not in
    ``known`` (this reader's): it would be read otherwise than it was written."""
    unknown = [f for f in checkpoint.get("features") or () if f not in known]
    found = checkpoint.get("format_version", 0)
    if not isinstance(found, int) or isinstance(found, bool):  # str > int: a TypeError (s51)
        raise CheckpointError(
            f"{path}: its format_version is {found!r}, not a whole number as unetlab writes "
            "it: an edited or foreign file; use a file written by unetlab train or "
            "unetlab.save_model"
        )
    if found > version or unknown:
        from unetlab.provenance import describe_code

        code = checkpoint.get("code") or {"unetlab": checkpoint.get("version")}
        uses = f", which uses {', '.join(map(str, unknown))}" if unknown else ""
        newer = f"format {found}, this unetlab reads up to {version}; " if found > version else ""
        raise CheckpointError(
            f"{path}: written by a newer unetlab ({newer}{describe_code(code)}{uses}); "
            "upgrade unetlab"
        )


def _export_refusal(path: Path, kind: str, props: dict | None) -> str:
    """Why the export ``path`` (``kind``: "a TorchScript", "an ONNX") is no checkpoint, naming
    the checkpoint its metadata ``props`` record (a user given only the export did not know
    which: s54 new user)."""
    source = readable_source(props)
    named = f", {source_words(source)} by its record" if source else ""
    return (
        f"{path}: {kind} export cannot be loaded back for training or prediction; give the "
        f".pt checkpoint it was exported from{named} (or a bioimage.io package unetlab "
        "exported, .zip or folder)"
    )


def readable_source(props) -> dict | None:
    """The source record in an export's metadata ``props`` as :func:`export_source` writes
    it (JSON text with the file's name and sha256); None where there is none or it cannot
    be read: an edited or foreign export is refused all the same (review s54: it crashed)."""
    record = props.get("source_checkpoint") if isinstance(props, dict) else None
    try:
        source = json.loads(record) if isinstance(record, str) else None
    except ValueError:  # JSONDecodeError
        return None
    return source_record(source)


def source_record(source) -> dict | None:
    """``source`` where it is a source record as :func:`export_source` writes it (a mapping
    naming the checkpoint's file and sha256), else None: a package's ``config.unetlab.source``
    of text or a list crashed ``unetlab export`` of that package (s59), as an ONNX file's
    did (s54)."""
    if not isinstance(source, dict):
        return None
    named = all(isinstance(source.get(k), str) for k in ("checkpoint", "sha256"))
    return source if named else None


def source_words(source: dict, *, note: str = "") -> str:
    """``best.pt (sha256 5bf90e326aba, epoch 4, step 59)``: the checkpoint an export's source
    record names (:func:`export_source`), as ``unetlab export`` and a refusal of it say it;
    ``note`` ends the parenthesis (``": another run's"`` gives ``... step 59: another
    run's)``)."""
    trained = "".join(f", {k} {source[k]}" for k in ("epoch", "step") if k in source)
    return f"{source['checkpoint']} (sha256 {source['sha256'][:12]}{trained}{note})"


def torchscript_extra(path: str | os.PathLike) -> dict | None:
    """The ``unetlab.json`` extra file of the TorchScript archive at ``path``, or None for
    another zip (a package); {} where that file cannot be read (a bad CRC, not JSON, not a
    JSON object: a damaged or foreign export, review s54)."""
    with zipfile.ZipFile(path) as archive:
        names = [n for n in archive.namelist() if n.endswith("/extra/unetlab.json")]
        if not names:
            return None
        try:
            text = archive.read(names[0])
        except MEMBER_DAMAGE:
            return {}
    try:
        extra = json.loads(text)
    except ValueError:  # not JSON, not UTF-8
        return {}
    return extra if isinstance(extra, dict) else {}


def _torchscript_props(path: Path) -> dict | None:
    """:func:`torchscript_extra` of ``path``; None where the archive cannot be opened: the
    refusal stands without the checkpoint's name."""
    try:
        return torchscript_extra(path)
    except (*ZIP_DAMAGE, OSError):
        return None


def onnx_props(path: Path) -> dict | None:
    """The metadata of the ONNX file ``path``; None where onnx is not installed or the file
    is no ONNX model (the refusal stands without the checkpoint's name)."""
    try:
        import onnx
    except ImportError:
        return None
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception:  # noqa: BLE001 - protobuf raises many kinds on foreign bytes
        return None
    return {p.key: p.value for p in model.metadata_props}


def is_torchscript(path: Path) -> bool:
    """Whether ``path`` is a TorchScript archive (``torch.jit.save``: a zip holding
    ``constants.pkl``, which ``torch.save`` files lack)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return any(n.rpartition("/")[2] == "constants.pkl" for n in archive.namelist())
    except (*ZIP_DAMAGE, OSError):  # torch.load says what it makes of a damaged one
        return False


def _folder_message(folder: Path) -> str:
    """The line for a folder given where a checkpoint file belongs (e.g. a run folder)."""
    for best in (folder / "checkpoints" / "best.pt", folder / "best.pt"):
        if best.is_file():
            return f"{folder} is a folder, not a checkpoint file: give {best}"
    return f"{folder} is a folder, not a checkpoint file: give a .pt checkpoint file"


def model_from_checkpoint(
    checkpoint: dict, source: str = "the checkpoint", *, share: bool = False
) -> UNet:
    """Rebuild the UNet a checkpoint dict describes, with its weights, classes, normalisation;
    weights that do not fit the net its config describes, or are not finite, are refused in
    one line naming ``source`` (the file). No initial weights are drawn to be overwritten
    (:mod:`unetlab.models.loading`). ``share``: the net takes the ``model`` part's tensors
    themselves (no copy), for a caller that drops ``checkpoint`` next and read it into memory
    (:func:`load_checkpoint` without ``mmap``)."""
    model = unfilled_model(checkpoint["config"])
    _load_weights(model, checkpoint["model"], source, share=share)
    model.classes = list(checkpoint.get("classes") or model.classes)
    model.normalization = dict(checkpoint.get("normalization") or model.normalization)
    model.label_values = checkpoint.get("label_values")
    model.objects = checkpoint.get("objects")
    if checkpoint.get("palette") is not None:
        model.palette = checkpoint["palette"]
    model.label_offset = tuple(float(v) for v in checkpoint.get("label_offset") or (0.0, 0.0))
    model.ignore_value = checkpoint.get("ignore_value")
    # None recorded: training ignored nothing (an older file, without the key: evaluate's rule)
    model.ignore_value_recorded = "ignore_value" in checkpoint
    model.tta = _checkpoint_tta(checkpoint)
    model.channel = checkpoint.get("channel")
    model.channel_names = _channel_names(checkpoint)  # absent in older files: by index
    model.code = checkpoint.get("code")  # what trained it (absent in older files)
    model.appearance = checkpoint.get("appearance")  # absent in older files: no check
    model.training_data = (checkpoint.get("train_config") or {}).get("data")  # root and split
    model.training_split = checkpoint.get("split")  # the files (unetlab.data.split_record)
    state = checkpoint.get("train_state") or {}
    model.trained = {k: state[k] for k in ("epoch", "step") if k in state} or None
    model.run_progress = checkpoint.get("run_progress")  # a run's last/best.pt: ended or not
    model.val_precision = checkpoint.get("val_precision")  # its run's validations' (or None)
    model.train_amp = ((checkpoint.get("train_config") or {}).get("train") or {}).get("amp")
    model.same_model_sha256 = checkpoint.get(SAME_MODEL)  # the file's sha256 before its end
    return model


def _channel_names(checkpoint: dict) -> list[str] | None:
    """The trained channel's name a checkpoint records (``channel_names``) where it was
    trained by name: its ``channel`` one index and its ``train_config``'s ``data.channel``
    (where recorded) a name; None otherwise, read by index (s70 re-review: a record whose
    setting was an index, or a band list, would have been read by a name it never trained
    on)."""
    names = checkpoint.get("channel_names")
    setting = ((checkpoint.get("train_config") or {}).get("data") or {}).get("channel", "")
    by_name = isinstance(setting, str) and isinstance(checkpoint.get("channel"), int)
    return list(names) if names and by_name else None


def _load_weights(model: UNet, state: dict, source: str, *, share: bool) -> None:
    """``state`` into ``model``. A damaged or hand-edited file whose weights miss some of the
    net's, or hold NaN or infinite values (a diverged run saved by other code), ended in a
    traceback calling itself a bug, or predicted all-background labels and NaN probabilities
    with exit 0 (audit s36 flags 2 and 6)."""
    try:
        take_weights(model, state, share=share)
    except RuntimeError as exc:
        raise CheckpointError(
            f"{source}: its weights do not fit the net its config describes "
            f"({_state_mismatch(model, state)}): the file is damaged or was edited; "
            "use a checkpoint unetlab train wrote"
        ) from exc
    bad = _not_finite(state)
    if bad:
        raise CheckpointError(
            f"{source}: {len(bad)} of its {len(state)} weight tensors hold NaN or infinite "
            f"values ({bad[0]}, ...): the training it comes from diverged, or the file is damaged;"
            " use an earlier checkpoint or train again"
        )


def _not_finite(state: dict) -> list[str]:
    """The names of ``state``'s float tensors holding NaN or infinite values. A tensor's sum
    is NaN or infinite where one of its values is (or, for huge finite values, where it
    overflows: confirmed value by value), and costs a seventh of ``isfinite`` over the paper
    net's 31M weights (70-250 ms against 0.5-2 s on a loaded 2-core CPU)."""
    names = [name for name, t in state.items() if t.is_floating_point()]
    if not names:
        return []
    sums = torch.stack([state[name].sum().float() for name in names])
    suspects = [name for name, ok in zip(names, sums.isfinite().tolist()) if not ok]
    return [name for name in suspects if not state[name].isfinite().all()]


def _state_mismatch(model: UNet, state: dict) -> str:
    """Which weights differ between ``model`` and ``state``, in a few words."""
    own, given = model.state_dict(), state
    missing = [k for k in own if k not in given]
    unexpected = [k for k in given if k not in own]
    shapes = [k for k in own if k in given and tuple(own[k].shape) != tuple(given[k].shape)]
    parts = [
        f"{len(names)} {what}, e.g. {names[0]}"
        for names, what in (
            (missing, "missing"),
            (unexpected, "unexpected"),
            (shapes, "of another shape"),
        )
        if names
    ]
    return "; ".join(parts) or "they do not load"


def _checkpoint_tta(checkpoint: dict) -> list[str] | None:
    """The test-time transforms a checkpoint's net trained with: its ``tta``; in a file
    written before that was recorded, those of the augmentation its ``train_config`` records
    (its ``flip`` flipped both axes then: no ``vflip`` key); None where neither is (audit s31
    upgrade 5)."""
    from types import SimpleNamespace

    from unetlab.data.transforms import fitting_tta

    if "tta" in checkpoint:  # recorded: None, or [] for a net trained without flips or turns
        return _names(checkpoint["tta"])
    augment = (checkpoint.get("train_config") or {}).get("augment")
    if not isinstance(augment, dict):
        return None
    fields = {"enabled": True, "flip": True, "vflip": True, "rot90": True}
    return list(fitting_tta(SimpleNamespace(**{k: augment.get(k, v) for k, v in fields.items()})))


def checkpoint_source(path: str | os.PathLike, model=None) -> dict:
    """What identifies the checkpoint file at ``path`` in a report: ``checkpoint`` (its
    absolute path), ``checkpoint_sha256`` (of its bytes; of a package folder's files) and, from
    ``model`` loaded from it, ``checkpoint_epoch`` and ``checkpoint_step`` (the training's,
    when the file records them) and ``checkpoint_model_sha256`` where the file was rewritten
    keeping its model (its run's end recorded: the sha256 it had before, ``same_model_sha256``),
    which names its model as ``checkpoint_sha256`` does where it is absent."""
    from unetlab.data.split_record import file_sha256

    path = Path(path).resolve()
    found = {
        "checkpoint": str(path),
        "checkpoint_sha256": file_sha256(path),
    }
    if same := getattr(model, SAME_MODEL, None):
        found[REPORT_SAME_MODEL] = same
    trained = getattr(model, "trained", None) or {}
    return found | {f"checkpoint_{k}": v for k, v in trained.items()}


def file_source(path: str | os.PathLike) -> dict:
    """:func:`checkpoint_source` of the file at ``path`` before its model loads: its path,
    its bytes' sha256 and the sha256 it had before its run's end was recorded in it, read
    without its weights (evaluate --json refuses an earlier report of another model at the
    same path before scoring, s57 review)."""
    same = (checkpoint_parts(path) or {}).get(SAME_MODEL)
    return checkpoint_source(path) | ({REPORT_SAME_MODEL: same} if same else {})


def export_source(model) -> dict | None:
    """What an export of ``model`` records of the checkpoint it came from (audit s34 repro
    F6): ``checkpoint`` (the file's name: no folder, so that the same file exported from
    anywhere gives the same bytes and a published package shows no local path), ``sha256``
    (of its bytes: :func:`unetlab.data.split_record.file_sha256`), ``epoch`` and ``step`` of
    its training, ``code`` (the unetlab version and commit that trained it),
    ``run_progress`` (how far its run had got: :func:`unfinished_line`) and
    ``same_model_sha256`` (the sha256 it had before its run's end was recorded in it, which
    names the same model: :mod:`unetlab.model_identity`) where the file records them. A
    model loaded from a package that names its checkpoint (``model.source``)
    gives that record, so an export of an export still names the checkpoint; None for a
    model that no file names (built in Python)."""
    from unetlab.data.split_record import file_sha256

    if getattr(model, "source", None):
        return dict(model.source)
    path = getattr(model, "checkpoint", None)
    if path is None or not Path(path).exists():
        return None
    trained = getattr(model, "trained", None) or {}
    code = getattr(model, "code", None)
    found = {"checkpoint": Path(path).name, "sha256": file_sha256(path)}
    found |= {k: int(trained[k]) for k in ("epoch", "step") if k in trained}
    if isinstance(progress := getattr(model, "run_progress", None), dict):
        found["run_progress"] = dict(progress)  # how far its run had got (absent: older)
    if code:
        found["code"] = {k: code.get(k) for k in ("unetlab", "commit", "dirty")}
    if same := getattr(model, SAME_MODEL, None):  # a copy of the file before its end: the same
        found[SAME_MODEL] = same
    return found


def load_model(path: str | os.PathLike, device: str | torch.device | None = None) -> UNet:
    """Load a checkpoint as a UNet in eval mode on ``device`` (default CPU). A bioimage.io
    package that unetlab exported (folder, .zip or rdf.yaml) works too. ``model.checkpoint``:
    the file's absolute path (what predictions record as having made them); for a package,
    ``model.source``: the checkpoint it was exported from, as its ``config.unetlab.source``
    names it (:func:`export_source`; None for a package exported before that was recorded).
    A ``device`` that is no device, or CUDA where there is none, is refused (UnetlabError)
    before the file is read."""
    _check_path(path)
    target = torch.device("cpu") if device is None else resolve_device(device)
    model = _read_model(path)
    _say_unfinished(model)
    model = model.to(target).eval()
    _LOADED_AS[model] = (input_stamp(path), weights_stamp(model))  # names_its_net's
    return model


def _read_model(path: str | os.PathLike) -> UNet:
    """The net that the checkpoint or package at ``path`` gives, on the CPU, with its
    ``checkpoint`` (and a package's ``source``) as :func:`load_model` says them."""
    if is_package(path):
        seen: dict = {}

        def check(meta: dict) -> None:
            check_format(_with_version(meta), path)
            seen.update(meta)

        model = load_package(path, check=check)
        model.source = source_record(seen.get("source"))  # its checkpoint, if named
    else:
        model = model_from_checkpoint(load_checkpoint(path), source=str(path), share=True)
    model.checkpoint = str(Path(path).resolve())
    return model


def file_weights_sha256(path: str | os.PathLike) -> str | None:
    """The :func:`~unetlab.model_identity.weights_sha256` of the net that the checkpoint or
    package at ``path`` gives now (as :func:`load_model` reads it); None where it gives none
    (gone, or no checkpoint now). Read once per file and stamp
    (:func:`unetlab.manifest.input_stamp`) in a process (:func:`_weights_in`)."""
    key = (str(Path(path).resolve()), input_stamp(path))
    if key[1] is None:
        return None
    if key not in _FILE_WEIGHTS:
        try:
            _FILE_WEIGHTS[key] = _weights_in(path)
        except UnetlabError:  # another file there now, that no longer loads: not the net's
            _FILE_WEIGHTS[key] = None
    return _FILE_WEIGHTS[key]


def _weights_in(path) -> str:
    """:func:`~unetlab.model_identity.weights_sha256` of the net :func:`load_model` builds
    from the checkpoint or package at ``path``, as the net holds its weights (a file saved
    in bf16 gives a float32 net: its stored tensors hashed as stored never matched it,
    s58 re-read); built without drawing initial weights (:mod:`unetlab.models.loading`)."""
    return weights_sha256(_read_model(path), cached=False)


def scored_source(net) -> dict:
    """What names ``net`` (in a DDP or ``torch.compile`` wrapper: the net inside, as
    :func:`save_model` saves it) in a report:
    the :func:`checkpoint_source` of the file it was loaded from (``net.checkpoint``) where
    its weights are still that file's (:func:`file_weights_sha256`: a file touched, copied
    back or checked out again still names the net, one replaced by another model's does not),
    else ``{"weights_sha256": ...}`` of its weights, which tells two nets in memory apart.
    Its weights are read whole (the paper net's: 0.11-0.30 s on the 2-core development
    machine), not trusted to torch's count of in-place changes (``.data`` edits go
    uncounted); none of it within :func:`net_as_loaded`."""
    core = unwrap_net(net)  # a compiled net's state names each tensor "_orig_mod.<name>"
    if (loaded := _AS_LOADED.get()) is not None:
        return checkpoint_source(loaded, core)
    hashed = weights_sha256(core, cached=False)  # read whole: not trusted to the stamp
    if _file_holds_weights(core, hashed=hashed):
        return checkpoint_source(core.checkpoint, core)
    return {REPORT_WEIGHTS: hashed}


def names_its_net(net) -> bool:
    """Whether the file ``net`` was loaded from (``net.checkpoint``) still holds its
    weights, so that the file names what it predicts: the file as it was loaded and the
    weights as torch counts them unchanged since (:func:`load_model`'s ``_LOADED_AS``: a stat
    and a look at each tensor's version), else its weights against the file's now
    (:func:`file_weights_sha256`, read once per file stamp; hashed). False for a net no file
    names: a net trained on after it was loaded, or whose file was trained further
    (``train --resume`` rewrote it) while the net held the weights it had (s59: predictions
    recorded the file's new sha256 for the old weights)."""
    return _file_holds_weights(unwrap_net(net), hashed=None)


def _file_holds_weights(core, *, hashed: str | None) -> bool:
    """Whether the file ``core`` was loaded from (``core.checkpoint``) still holds its
    weights: its :func:`file_weights_sha256` against their
    :func:`~unetlab.model_identity.weights_sha256`; False where no file names it. A check
    only: ``hashed``, the weights' sha256 as the caller read them whole just now (not
    trusted to torch's counts of in-place changes: ``.data`` edits go uncounted); None: the
    stamp trusted: the file as loaded and each tensor as loaded (``_LOADED_AS``) settle it
    unhashed, else the cached hash is compared."""
    path = getattr(core, "checkpoint", None)
    if path is None or not Path(path).exists():
        return False
    if hashed is None:
        if _LOADED_AS.get(core) == (input_stamp(path), weights_stamp(core)):
            return True
        hashed = weights_sha256(core)
    return file_weights_sha256(path) == hashed


@contextlib.contextmanager
def net_as_loaded(path: str | os.PathLike):
    """Within it, :func:`scored_source` takes the net as the file at ``path``'s, hashing
    nothing: for a caller that loaded it from there itself and changed nothing since (the
    command line's evaluate; whatever loaded it, so a test's stand-in loader too)."""
    token = _AS_LOADED.set(str(path))
    try:
        yield
    finally:
        _AS_LOADED.reset(token)


#: a stopped run's last.pt loaded, said by the caller (:func:`unfinished_said_by_caller`)
_UNFINISHED = CallerSays("unetlab_caller_says_unfinished")


def unfinished_said_by_caller() -> contextlib.AbstractContextManager[bool]:
    """Within it, :func:`load_model` logs no line of a stopped run's last.pt: its caller
    says :func:`unfinished_line` itself (the napari widget, in its status line)."""
    return _UNFINISHED.within()


def _say_unfinished(model) -> None:
    """One warning line where a Python caller loads a stopped run's last.pt
    (:func:`unfinished_line`; s56: a killed fit's last.pt loaded and predicted in silence);
    the command line's commands say it themselves, once (predict's main process), as the
    napari widget does (:func:`unfinished_said_by_caller`)."""
    if not in_command() and not _UNFINISHED.by_caller() and (line := unfinished_line(model)):
        log.warning("warning: %s", line)


def unread_split_line(model) -> str | None:
    """The refusal of ``model``'s split record (the files that trained it:
    :func:`~unetlab.data.split_record.checked_format`, a newer unetlab's format or none
    that unetlab writes) as one line, for a command that does not read it (predict runs;
    s74: it was unsaid, where evaluate refuses); None where it is readable or absent."""
    from unetlab.data.split_record import EDITED_CHECKPOINT, checked_format

    split = getattr(model, "training_split", None)
    if not isinstance(split, dict):
        return None
    try:
        checked_format(
            split, getattr(model, "checkpoint", None) or "the checkpoint", EDITED_CHECKPOINT
        )
    except UnetlabError as exc:
        return str(exc)
    return None


def unfinished_line(model, *, cli: bool | None = None) -> str | None:
    """One line saying that ``model`` comes from a training run stopped before its end (the
    ``run_progress`` record of a run's ``last.pt`` that says its training had not ended: a
    stop, a kill), with the step it reached of those planned and how to go on; None where
    the run had ended, and for a checkpoint without the record (older files, best.pt, a
    model saved with :func:`save_model`, a package). ``cli``: the resume in the command
    line's form (True) or Python's (False); None: as the caller that runs spells it."""
    progress, trained = getattr(model, "run_progress", None), getattr(model, "trained", None)
    if not isinstance(progress, dict) or progress.get("finished", True) or not trained:
        return None
    if progress.get("saved_as", "last.pt") != "last.pt":  # best.pt: what the line offers
        return None
    path = Path(getattr(model, "checkpoint", None) or "the checkpoint")
    run_dir = path.parent.parent if path.parent.name == "checkpoints" else None
    resume = _resume_said(run_dir, in_command() if cli is None else cli)
    resume += "" if run_dir else " (RUN: the run's folder)"  # a copy, out of its run folder
    best = run_dir / "checkpoints" / "best.pt" if run_dir else None
    other = f", or use {best}" if best and best.is_file() else ", or use the run's best.pt"
    if best and not best.is_file():  # stopped before a validation saved one: none to offer
        other = f" ({path.parent} holds no best.pt yet)"
    return (
        f"{path} is from a training run stopped at {_reached(progress, trained)}: resume it "
        f"with {resume}{other}"
    )


def _resume_said(run_dir: Path | None, cli: bool) -> str:
    """How to resume the run in ``run_dir`` (None: ``RUN``): the command line's ``unetlab
    train --run-dir RUN --resume`` (``cli``), or Python's ``fit(...)``."""
    from unetlab.provenance import unetlab_command

    folder = run_dir or "RUN"
    config = Path(folder) / "config.yaml"
    python = f"fit(load_config({str(config)!r}), run_dir={str(folder)!r}, resume=True)"
    return unetlab_command("train", "--run-dir", folder, "--resume") if cli else python


def _reached(progress: dict, trained: dict) -> str:
    """``step 1,200 of 3,000 (4 of 10 epochs done)``, or under a time budget ``step 1,200
    (4 epochs done of at most 10, in a 5-minute budget)``; ``(4 epochs done in a 5-minute
    budget)`` where the clock alone was to end it (the plan's epoch cap, no limit: s56 said
    "of at most 100000")."""
    step, epoch = int(trained.get("step", 0)), int(trained.get("epoch", 0))
    steps, epochs = progress.get("planned_steps"), progress.get("planned_epochs")
    minutes = float(progress.get("max_minutes") or 0)
    if minutes > 0:
        done = f"{numbered(epoch, 'epoch')} done"
        bound = f" of at most {epochs}," if epochs and int(epochs) < BUDGET_EPOCHS else ""
        return f"step {step:,} ({done}{bound} in a {minutes:g}-minute budget)"
    of = f" of {int(steps):,}" if steps else ""
    return f"step {step:,}{of} ({epoch} of {epochs} epochs done)"
