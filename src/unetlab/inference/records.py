"""What made a prediction: the checkpoint (absolute path and sha256) and the settings that
change the outputs, as one record per output folder run.

A :class:`Provenance` has two parts. The *model* part (the checkpoint's sha256, the TTA
transforms, the channel, the blend, the precision, the pyramid level) says what the
probabilities come from; the *output* part (palette or mask values, the object options)
says how they were written. Its :attr:`~Provenance.key` (``<model>-<outputs>``, 12 and 8
hex digits) goes into each output's line of the folder's manifest (``.unetlab-outputs``),
and the record itself into the folder's ``predict.json`` (:func:`save_record`) and the
output TIFFs' metadata (:func:`tiff_kwargs`). ``--skip-existing`` counts an output as
finished only under the same key; outputs of another model part are another model's.

The checkpoint is hashed once per file version and process (:func:`file_sha256`: about
0.17 s for 100 MB on the 2-core development machine); a model that was not loaded from a
file is identified by its weights (:func:`weights_sha256`).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import torch

from unetlab.atomic import atomic_path
from unetlab.data.split_record import file_sha256
from unetlab.inference.objects import ObjectOptions
from unetlab.inference.predict import PredictOptions
from unetlab.inference.tta import resolve_tta
from unetlab.provenance import code_identity

__all__ = ["RECORDS", "Provenance", "file_sha256", "prediction_record", "save_record"]

#: the file in an output folder that holds each record its manifest's keys name
RECORDS = "predict.json"
#: the key of the record in ImageJ TIFFs' Properties, other TIFFs' JSON description, PNG text
TIFF_KEY = "unetlab.prediction"

_HASHES: dict[tuple, str] = {}


def weights_sha256(model: torch.nn.Module) -> str:
    """The sha256 of a model's state (each tensor's name, dtype, shape and bytes), for a
    model that no checkpoint file names; computed again only when a tensor changed."""
    state = model.state_dict()
    stamp = ("weights", id(model), *((t.data_ptr(), t._version) for t in state.values()))
    if stamp not in _HASHES:
        h = hashlib.sha256()
        for name, t in state.items():
            h.update(f"{name}:{t.dtype}:{tuple(t.shape)}\0".encode())
            h.update(t.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
        _HASHES[stamp] = h.hexdigest()
    return _HASHES[stamp]


@dataclass(frozen=True)
class Provenance:
    """What made an output: ``checkpoint`` (absolute path, None for a model built in
    Python), ``sha256`` (of that file, else of the weights), ``model`` (the settings that
    change the probabilities) and ``outputs`` (those that change how they are written)."""

    checkpoint: str | None
    sha256: str
    model: dict = field(default_factory=dict)
    outputs: dict = field(default_factory=dict)

    @property
    def model_key(self) -> str:
        """12 hex digits for the checkpoint and the model settings."""
        return _digest({"sha256": self.sha256, **self.model})[:12]

    @property
    def key(self) -> str:
        """``<model_key>-<8 hex digits of the output settings>``: the manifest's field."""
        return f"{self.model_key}-{_digest(self.outputs)[:8]}"

    def describe(self) -> str:
        """One short phrase: ``checkpoint /runs/b1/best.pt (sha256 3e3262a8d1c4), TTA 2
        transforms, fp32``."""
        if self.checkpoint:
            what = f"checkpoint {self.checkpoint} (sha256 {self.sha256[:12]})"
        else:
            what = f"weights sha256 {self.sha256[:12]} (no checkpoint file)"
        tta = self.model.get("tta") or []
        extra = [f"TTA {len(tta)} transforms" if tta else "no TTA", self.model.get("precision")]
        if self.model.get("channel") is not None:
            extra.append(f"channel {self.model['channel']}")
        return f"{what}, {', '.join(str(e) for e in extra if e)}"

    def to_dict(self) -> dict:
        """The record with its key and the code that predicted (version, git commit, torch,
        numpy, python: :func:`unetlab.provenance.code_identity`)."""
        return {"key": self.key, **asdict(self), "code": code_identity()}


def _digest(value: dict) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def prediction_record(
    model: torch.nn.Module,
    options: PredictOptions,
    *,
    color: bool = False,
    label_values: bool = False,
    objects: ObjectOptions | None = None,
    level: int = 0,
) -> Provenance:
    """The :class:`Provenance` of ``model`` predicting with ``options`` (as
    :meth:`PredictOptions.for_model` resolved them) and these output settings. The model's
    checkpoint is the file :func:`unetlab.load_model` read (``model.checkpoint``)."""
    source = getattr(model, "checkpoint", None)
    if source is not None and Path(source).exists():
        checkpoint, sha = str(Path(source).resolve()), file_sha256(source)
    else:
        checkpoint, sha = None, weights_sha256(model)
    settings = {
        "tta": list(resolve_tta(model, options.tta)),
        "channel": options.channel,
        "blend": options.blend,
        "precision": options.precision,
        "level": level,
    }
    written = {
        "labels": "mask values" if label_values else "palette" if color else "class indices",
        "objects": None if objects is None else asdict(objects),
    }
    return Provenance(checkpoint, sha, settings, written)


def save_record(folder: str | os.PathLike, record: Provenance) -> bool:
    """Add ``record`` to the folder's ``predict.json`` (``records``: key -> record, with the
    time it was first used; written atomically); False when it is there already. A
    ``predict.json`` that cannot be read as one is started again."""
    path = Path(folder) / RECORDS
    records = read_records(folder)
    if record.key in records:
        return False
    when = datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")
    records[record.key] = {**record.to_dict(), "first": when}
    text = json.dumps({"records": records}, indent=1, sort_keys=True, default=str)
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text + "\n", encoding="utf-8")
    return True


def read_records(folder: str | os.PathLike) -> dict[str, dict]:
    """The records of the folder's ``predict.json`` by key ({} where there is none)."""
    try:
        data = json.loads((Path(folder) / RECORDS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    records = data.get("records") if isinstance(data, dict) else None
    return records if isinstance(records, dict) else {}


def png_text(record: Provenance | None) -> dict[str, str]:
    """The PNG text chunk of ``record`` (``unetlab.prediction``: JSON), {} without one."""
    if record is None:
        return {}
    return {TIFF_KEY: json.dumps(record.to_dict(), sort_keys=True, default=str)}


def embedded_key(path: str | os.PathLike) -> str | None:
    """The key of the record a PNG or TIFF output carries (:func:`png_text`,
    :func:`tiff_kwargs`), read from its header; None where it carries none or cannot be read."""
    path = Path(path)
    try:
        if path.suffix.lower() == ".png":
            from PIL import Image

            with Image.open(path) as im:
                text = im.text.get(TIFF_KEY)
        elif path.suffix.lower() in (".tif", ".tiff") and path.is_file():
            text = _tiff_text(path)
        else:
            return None
        return json.loads(text).get("key") if text else None
    except (OSError, ValueError, AttributeError):
        return None


def _tiff_text(path: Path) -> str | None:
    import tifffile

    with tifffile.TiffFile(path) as tif:
        if tif.is_imagej:
            return ((tif.imagej_metadata or {}).get("Properties") or {}).get(TIFF_KEY)
        return (tif.shaped_metadata or [{}])[0].get(TIFF_KEY)


def tiff_kwargs(kwargs: dict, record: Provenance | None) -> dict:
    """``tifffile.imwrite`` keywords with ``record``: in an ImageJ TIFF a property
    (``unetlab.prediction``, JSON) and a line of its Info; in another, a key of tifffile's
    JSON description."""
    if record is None:
        return kwargs
    text = json.dumps(record.to_dict(), sort_keys=True, default=str)
    metadata = dict(kwargs.get("metadata") or {})
    if kwargs.get("imagej"):
        metadata["Properties"] = {**metadata.get("Properties", {}), TIFF_KEY: text}
        info = metadata.get("Info")
        line = f"unetlab prediction: {record.describe()}"
        metadata["Info"] = f"{info}\n{line}" if info else line
    else:
        metadata[TIFF_KEY] = text
    return {**kwargs, "metadata": metadata}
