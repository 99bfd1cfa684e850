"""Reading bioimage.io model packages (folder, .zip or rdf.yaml) that unetlab exported.

Nothing is extracted and nothing is unpickled: files are read by their rdf names, names
that would leave the package are refused, the weights' sha256 is checked and they load with
``torch.load(weights_only=True)``. Writing packages is :mod:`unetlab.inference.bioimageio`.
"""

from __future__ import annotations

import hashlib
import io
import logging
import mmap
import os
import pickle
import zipfile
from pathlib import Path, PurePosixPath

import torch

from unetlab.deferred import deferred
from unetlab.errors import UnetlabError, first_line
from unetlab.models import UNet, UNetConfig
from unetlab.models.loading import take_weights, unfilled_model
from unetlab.part_values import damaged_value
from unetlab.zip_damage import (
    MEMBER_DAMAGE,
    ZIP_DAMAGE,
    damaged_zip,
    member_chunks,
    open_zip,
    read_member,
    unreadable,
)

#: PyYAML, imported where a YAML text is read (not by a predict with a .pt checkpoint)
yaml = deferred("yaml")

__all__ = [
    "RDF_EITHER",
    "RDF_NAMES",
    "MEMBER_DAMAGE",
    "ZIP_DAMAGE",
    "checked_record",
    "damaged_zip",
    "is_package",
    "load_package",
    "open_zip",
    "sha256_hex",
    "zipped_package",
]

log = logging.getLogger(__name__)

#: The names a package's description may have.
RDF_NAMES = ("rdf.yaml", "bioimageio.yaml")
#: those names as a refusal gives them: a package's bioimageio.yaml is read too, and a
#: refusal of a zip without rdf.yaml alone named none of it (s59)
RDF_EITHER = " or ".join(RDF_NAMES)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def is_package(path: str | os.PathLike) -> bool:
    """True for a folder holding rdf.yaml (or bioimageio.yaml), a .zip, such a yaml file, or
    a zip of another name that holds one (:func:`zipped_package`)."""
    path = Path(path)
    if path.is_dir():
        return any((path / n).is_file() for n in RDF_NAMES)
    return (
        path.suffix.lower() == ".zip"
        or path.name in RDF_NAMES
        or path.name.endswith(".bioimageio.yaml")
        or zipped_package(path)
    )


def zipped_package(path: str | os.PathLike) -> bool:
    """Whether the file ``path`` is a zip holding a package's description (rdf.yaml or
    bioimageio.yaml), whatever its name: a package saved without its .zip (a download
    named ``model``) was read as a checkpoint ("not a unetlab checkpoint") or its bytes as
    YAML (s59). A checkpoint, a zip too, holds none."""
    try:
        if not Path(path).is_file():
            return False
        if not zipfile.is_zipfile(path):
            return _headers_name_rdf(path)  # a zip whose end is cut off
        with zipfile.ZipFile(path) as archive:
            return not set(RDF_NAMES).isdisjoint(archive.namelist())
    except ZIP_DAMAGE:
        return _headers_name_rdf(path)  # its central directory damaged
    except OSError:
        return False


def _headers_name_rdf(path: str | os.PathLike) -> bool:
    """Whether a member header of the damaged zip at ``path`` names rdf.yaml or
    bioimageio.yaml: such a zip named without .zip is a damaged package, said so, not a
    damaged checkpoint ("not a unetlab checkpoint", or its bytes read as YAML, s61)."""
    with open(path, "rb") as file:
        if file.read(4) != b"PK\x03\x04":  # a zip's first member
            return False
        with mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
            for name in RDF_NAMES:
                named = name.encode()
                at = data.find(named)
                while at >= 30:  # a local header: signature, 26 bytes, the name's length
                    start = at - 30
                    length = int.from_bytes(data[at - 4 : at - 2], "little")
                    if data[start : start + 4] == b"PK\x03\x04" and length == len(named):
                        return True
                    at = data.find(named, at + 1)
    return False


def _not_a_zip(path: Path) -> UnetlabError:
    """The line for ``path``, no zip a package is read from: a zip whose end is cut off (its
    first bytes a zip's) is said to be one (:func:`damaged_zip`)."""
    with open(path, "rb") as file:
        if file.read(4) == b"PK\x03\x04":  # a zip's first member
            return damaged_zip(path, "its end is missing")
    return UnetlabError(f"{path}: not a zip file; give a bioimage.io package")


class _PackageFiles:
    """Reads the files of a package folder or zip by their rdf names, refusing names that
    would leave the package (absolute, ``..``, or a link pointing out of the folder)."""

    def __init__(self, path: Path):
        self.path = path
        if path.is_file() and (path.suffix.lower() == ".zip" or zipped_package(path)):
            if not zipfile.is_zipfile(path):
                raise _not_a_zip(path)
            self.zip: zipfile.ZipFile | None = open_zip(path)
            self.unread = set(self.zip.namelist())
            self.root = None
            names = self.zip.namelist()
            self.rdf_name = next((n for n in RDF_NAMES if n in names), None)
        else:
            self.zip = None
            self.root = path if path.is_dir() else path.parent
            self.rdf_name = (
                path.name
                if path.is_file()
                else next((n for n in RDF_NAMES if (path / n).is_file()), None)
            )
        if self.rdf_name is None:
            raise UnetlabError(f"{path}: no {RDF_EITHER} in it; give a bioimage.io model package")

    def __enter__(self) -> _PackageFiles:
        return self

    def __exit__(self, *exc) -> None:
        if self.zip is not None:
            self.zip.close()

    def check_unread(self, skipped: set[str]) -> None:
        """Reads the zip's members not read (its cover, README, samples, code), but for those
        ``skipped`` (the weights of formats unetlab does not load), to their CRC: a package
        with a damaged one is refused naming it (it loaded silently, s61). Reading the
        TorchScript and ONNX weights too made load_model of the paper net's package (345 MB)
        take 2.12 s of CPU, not 0.90 s; without them 0.91 s (s61 fix). Members zipfile
        cannot read (:func:`~unetlab.zip_damage.unreadable`: encrypted, Deflate64) are left
        unchecked: a healthy package holding such a cover loaded before that check (s61
        review)."""
        for name in sorted(self.unread - skipped) if self.zip is not None else ():
            if unreadable(self.zip.getinfo(name)) is None:
                for _ in member_chunks(self.zip, name, self.path):
                    pass

    def _read_member(self, name: str) -> bytes:
        """The zip's member ``name``, its CRC checked; UnetlabError in one line where it is
        missing, cannot be read by zipfile (:func:`~unetlab.zip_damage.unreadable`) or is
        damaged (:func:`~unetlab.zip_damage.read_member`)."""
        try:
            info = self.zip.getinfo(name)
        except KeyError:
            raise UnetlabError(f"{self.path}: {name} is missing from the zip") from None
        data = read_member(self.zip, info, self.path)
        self.unread.discard(name)
        return data

    def read(self, name: str) -> bytes:
        rel = PurePosixPath(name)
        if rel.is_absolute() or ".." in rel.parts or "\\" in name or ":" in name:
            raise UnetlabError(f"{self.path}: refusing file {name!r}, which leaves the package")
        if self.zip is not None:
            return self._read_member(str(rel))
        root = self.root.resolve()
        target = (root / rel).resolve()
        if not target.is_relative_to(root):
            raise UnetlabError(f"{self.path}: refusing file {name!r}, which leaves the package")
        if not target.is_file():
            raise UnetlabError(f"{self.path}: {name} is missing from the package")
        return target.read_bytes()


def load_package(path: str | os.PathLike, check=None) -> UNet:
    """The UNet of a bioimage.io package (folder, .zip or rdf.yaml) whose
    ``pytorch_state_dict`` weights are a unetlab UNet; CPU, eval mode, with the classes,
    normalisation and label values the package records. Its forward returns logits.
    ``check(meta)``, if given, sees the package's ``config.unetlab`` record before anything
    is built from it (:func:`unetlab.checkpoint.load_model` refuses a newer format there)."""
    path = Path(path)
    if not path.exists():
        raise UnetlabError(f"{path}: no such bioimage.io package")
    with _PackageFiles(path) as files:
        rdf = _read_rdf(path, files)
        if check is not None:
            check(_record(rdf))
        entry = (rdf.get("weights") or {}).get("pytorch_state_dict") or {}
        config = _unet_config(path, entry)
        if config is None:
            formats = ", ".join(rdf.get("weights") or {}) or "none"
            raise UnetlabError(
                f"{path}: no pytorch_state_dict weights of a unetlab UNet (its weights: "
                f"{formats}); unetlab loads the packages it exported with those weights (the "
                "default --weights): export again with them, or run the TorchScript or ONNX "
                "file with torch or onnxruntime"
            )
        _check_parts(path, rdf, entry)
        data = files.read(str(entry.get("source")))
        files.check_unread(_other_weights(rdf))
    if entry.get("sha256") and sha256_hex(data) != entry["sha256"]:
        raise UnetlabError(f"{path}: {entry['source']} does not match its sha256: re-download it")
    try:
        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise UnetlabError(
            f"{path}: {entry['source']} holds more than tensors; unetlab loads no code from "
            "a package"
        ) from exc
    except Exception as exc:  # noqa: BLE001 - torch's reader raises many kinds on foreign bytes
        raise UnetlabError(
            f"{path}: {entry['source']} is not a readable state dict ({type(exc).__name__}); "
            "the package is truncated or corrupt"
        ) from exc
    model = unfilled_model(config)  # no initial weights drawn: the state replaces them all
    try:
        take_weights(model, state, share=True)  # read here, dropped at the return
    except (RuntimeError, TypeError, AttributeError) as exc:
        raise UnetlabError(f"{path}: the weights do not fit the described UNet ({exc})") from exc
    _set_metadata(model, rdf)
    # the package's graphs move their output by it; unetlab moves the UNet's probabilities
    moved = entry["architecture"]["kwargs"].get("label_offset") or (0.0, 0.0)
    model.label_offset = (float(moved[0]), float(moved[1]))
    return model.eval()


def _other_weights(rdf: dict) -> set[str]:
    """The files of the package's weights other than its ``pytorch_state_dict`` ones (its
    TorchScript, ONNX): unetlab does not read them."""
    return {
        str(entry["source"])
        for kind, entry in rdf["weights"].items()
        if kind != "pytorch_state_dict" and isinstance(entry, dict) and "source" in entry
    }


def _read_rdf(path: Path, files: _PackageFiles) -> dict:
    """The package's description, its ``config`` and record checked to be mappings."""
    rdf = _read_description(path, files)
    _check_mappings(path, rdf)
    return rdf


def _read_description(path: Path, files: _PackageFiles) -> dict:
    """The package's description, a model's; its parts unchecked."""
    try:
        rdf = yaml.safe_load(files.read(files.rdf_name))
    except yaml.YAMLError as exc:
        raise UnetlabError(
            f"{path}: its {files.rdf_name} is not valid YAML ({first_line(exc)})"
        ) from exc
    if not isinstance(rdf, dict) or rdf.get("type") != "model":
        raise UnetlabError(f"{path}: not a bioimage.io model description")
    return rdf


def _check_mappings(path: Path, rdf: dict) -> None:
    """Refuse a package whose ``config`` or ``config.unetlab`` is no mapping (a list's .get
    raised AttributeError, s58)."""
    config = rdf.get("config") or {}
    if wrong := damaged_value("config", config):
        raise _damaged(path, "config", wrong)
    if wrong := damaged_value("config.unetlab", config.get("unetlab")):
        raise _damaged(path, "config.unetlab", wrong)


def package_record(path: str | os.PathLike) -> dict:
    """The ``config.unetlab`` record of the package at ``path`` (a folder, a .zip or its
    rdf.yaml or bioimageio.yaml), read as :func:`load_package` reads it; {} where it has
    none; UnetlabError in one line for a package without its description, one that is no
    YAML or no model's, or a record that is damaged (:func:`checked_record`)."""
    path = Path(path)
    with _PackageFiles(path) as files:  # checked once, there (s59: twice)
        return checked_record(path, _read_description(path, files))


def checked_record(path: str | os.PathLike, rdf: dict) -> dict:
    """The ``config.unetlab`` record of the package at ``path`` whose description is ``rdf``
    ({} where it has none); refused in one line naming the part where ``config`` or the
    record is no mapping, or where a part unetlab writes as numbers or names
    (``label_offset``, ``tta``) is none (:func:`unetlab.inference.export.exported_source`
    raised AttributeError on a record of a list, s59)."""
    _check_mappings(Path(path), rdf)
    _check_record_parts(Path(path), record := _record(rdf))
    return record


def _unet_config(path: Path, entry: dict) -> UNetConfig | None:
    """The UNetConfig of a ``pytorch_state_dict`` entry; None for an entry without
    architecture kwargs (not a unetlab package); UnetlabError, with the reason, for kwargs
    this unetlab's UNetConfig does not take or refuses."""
    kwargs = (entry.get("architecture") or {}).get("kwargs")
    if not isinstance(kwargs, dict):
        return None
    kwargs = {k: v for k, v in kwargs.items() if k != "label_offset"}  # ProbabilityUNet's own
    try:
        return UNetConfig(**kwargs)
    except (TypeError, UnetlabError) as exc:  # a field it lacks (a newer unetlab's), a bad value
        raise UnetlabError(
            f"{path}: its architecture is not this unetlab's UNetConfig ({first_line(exc)}); "
            "export it again with this version of unetlab, or update unetlab"
        ) from exc


def _check_parts(path: Path, rdf: dict, entry: dict) -> None:
    """Refuse a package whose parts that unetlab reads as numbers or names are none
    (:func:`~unetlab.part_values.damaged_value`): its graphs' ``label_offset`` and its
    record's (a ValueError or IndexError called a bug, or prediction's "unknown TTA
    transforms ['f', 'l', ...]" naming no part of the package, s58)."""
    offset = entry["architecture"]["kwargs"].get("label_offset")
    if wrong := damaged_value("label_offset", offset):
        where = "weights.pytorch_state_dict.architecture.kwargs.label_offset"
        raise _damaged(path, where, wrong)
    _check_record_parts(path, _record(rdf))


#: the parts of a package's ``config.unetlab`` record that unetlab writes as numbers or names
_RECORD_PARTS = ("label_offset", "tta")


def _check_record_parts(path: Path, record: dict) -> None:
    """Refuse a record whose :data:`_RECORD_PARTS` are none (its ``label_offset`` was read
    unchecked: text or one number passed, s59)."""
    for part in _RECORD_PARTS:
        if wrong := damaged_value(part, record.get(part)):
            raise _damaged(path, f"config.unetlab.{part}", wrong)


def _damaged(path: Path, where: str, wrong: str) -> UnetlabError:
    """The refusal of a package whose part ``where`` is ``wrong`` (``is a list, not a
    mapping``)."""
    return UnetlabError(
        f"{path}: a damaged or foreign package: its {where} {wrong} as unetlab writes it; "
        "export the package again from its checkpoint"
    )


def _record(rdf: dict) -> dict:
    """The package's ``config.unetlab`` record ({} where it has none)."""
    return (rdf.get("config") or {}).get("unetlab") or {}


def _set_metadata(model: UNet, rdf: dict) -> None:
    meta = _record(rdf)
    if meta.get("classes"):
        model.classes = [str(c) for c in meta["classes"]]
    else:
        axes = rdf["outputs"][0]["axes"]
        names = next((a.get("channel_names") for a in axes if a.get("type") == "channel"), None)
        if names and len(names) == model.num_classes:
            model.classes = [str(n) for n in names]
    model.normalization = dict(meta.get("normalization") or _normalization_of(rdf))
    model.label_values = meta.get("label_values")
    model.ignore_value = meta.get("ignore_value")
    model.tta = meta.get("tta")  # None (older packages): all 8
    model.channel = meta.get("channel")  # the one channel of multi-channel images, or None
    model.palette = meta.get("palette")  # the data set's mask colours, or None
    # rows not sample (a data bar), which prediction leaves out; the axes its training read
    # TIFFs that record none with (data.axes), which prediction takes; how it read grey RGB
    # masks beside a colour table (data.grey_masks), which evaluate takes; older packages
    # lack them
    if data := {k: meta[k] for k in ("exclude_rows", "axes", "grey_masks") if meta.get(k)}:
        model.training_data = data
    # the training images' dtype and statistics (older packages lack them: no check), which
    # also tell a model's stains from an RGB picture's colours where it records no axes
    model.appearance = meta.get("appearance")
    # the training masks' objects (instance mode, default min area); older packages lack it
    model.objects = meta.get("objects")
    if meta and "objects" not in meta and model.num_classes >= 3:
        log.info(
            "the package records no object facts (exported by %s): its objects are "
            "semantic with a fixed min area; export it again from its checkpoint to get the "
            "instance objects of a nuclei model",
            meta.get("exported_by", "an older unetlab"),
        )


def _normalization_of(rdf: dict) -> dict:
    """unetlab's normalisation spec for a package's first pre-processing step."""
    steps = rdf["inputs"][0].get("preprocessing") or []
    ids = [s.get("id") for s in steps if s.get("id") != "ensure_dtype"]
    if ids[:1] == ["zero_mean_unit_variance"]:
        return {"mode": "per_image"}
    if ids[:1] == ["fixed_zero_mean_unit_variance"]:
        kwargs = next(s["kwargs"] for s in steps if s.get("id") == ids[0])
        return {"mode": "fixed", "mean": kwargs["mean"], "std": kwargs["std"]}
    raise UnetlabError(
        f"unetlab cannot reproduce the package's preprocessing {ids}: export it with unetlab"
    )
