"""What made a prediction: the checkpoint (absolute path and sha256) and the settings that
change the outputs, as one record per output folder run.

:class:`OutputOptions` says what a prediction writes (and where it may write), one value
passed down every level of prediction as :class:`~unetlab.inference.predict.PredictOptions`
says how images are predicted.

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
file is identified by its weights (:func:`weights_sha256`). A checkpoint rewritten with no
change to what it predicts (its run's end recorded in it) keeps the sha256 it had before as
the model's (:attr:`Provenance.model_sha256`), so that outputs predicted from it before keep
their key.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import numbers
import os
import struct
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

from unetlab.atomic import atomic_path
from unetlab.checkpoint import names_its_net, unwrap_net
from unetlab.data import ome
from unetlab.data.classes import class_colours, voc_class_colours
from unetlab.data.dicom_seg import DICOM_SEG
from unetlab.data.exclude import as_config
from unetlab.data.io import file_axes, trained_file_axes
from unetlab.data.mrc import carried_mrc_key
from unetlab.data.names import indices_named
from unetlab.data.nifti import carried_nifti_key, is_nifti
from unetlab.data.png_chunks import read_png_text
from unetlab.data.seg_codes import SegCodes, read_seg_codes
from unetlab.data.split_record import file_sha256
from unetlab.data.tiffmeta import channel_names
from unetlab.errors import (
    NONE,
    KnownFields,
    Spelled,
    UnetlabError,
    flag_of,
    in_command,
    refuses_assignment,
    said_as,
    spelled,
)
from unetlab.inference.object_recipe import is_instance_model
from unetlab.inference.objects import (
    CUT_MIN_AREA,
    ObjectOptions,
    objects_background,
    option_fields,
)
from unetlab.inference.predict import PredictOptions, class_names_of
from unetlab.inference.tta import resolve_tta
from unetlab.model_identity import SAME_MODEL, model_sha256, weights_sha256
from unetlab.outputs import RECORD_FILES
from unetlab.provenance import code_identity
from unetlab.read_once import ReadOnce

__all__ = [
    "OutputOptions",
    "Provenance",
    "class_palette",
    "file_sha256",
    "label_colours",
    "prediction_record",
    "carried_key",
    "carries_key",
    "edits_keep_key",
    "save_record",
]

#: the object outlines a prediction may write (``OutputOptions.outlines``)
OUTLINES = ("geojson", "imagej", "both", "coco", "labelme", "cellpose")
#: the formats an :class:`OutputOptions` writes large images' outputs in, and a series' SEG
OUTPUT_FORMATS = (*ome.FORMATS, DICOM_SEG)
#: the key of the record in ImageJ TIFFs' Properties, other TIFFs' JSON description, PNG text
TIFF_KEY = "unetlab.prediction"


def objects_only(objects, save_probabilities: bool) -> bool:
    """Whether ``objects`` are asked for (not None or False: ``OutputOptions.objects``, the
    command line's ``--instances``) without the probabilities: a streamed image's are found
    from probabilities not staged, so one stopped part way starts its page again
    (:func:`~unetlab.inference.slide_resume.restarts`), and an instance model's are made
    from maps built row by row."""
    return objects not in (None, False) and not save_probabilities


@refuses_assignment
@dataclass(frozen=True)
class OutputOptions(KnownFields):
    """What a prediction writes, and where it may write. Each function that takes it
    (:func:`~unetlab.inference.folders.predict_folder`,
    :func:`~unetlab.inference.files.predict_file`,
    :func:`~unetlab.inference.slides.predict_slide`) also takes its fields by name.

    ``color``: labels as a palette image; ``label_values``: the model's mask values (e.g.
    0/255) instead of class indices (one of the two). ``save_probabilities``:
    ``<stem>_prob.tif``; ``draw_overlay``: ``<stem>_overlay.png`` (``.tif`` beside TIFF
    labels); ``objects`` (True: the model's own, as ``--instances``; an
    :class:`~unetlab.inference.objects.ObjectOptions`; or a function of the loaded model
    that gives them):
    ``<stem>_objects.tif`` and ``<stem>_objects.csv``; ``outlines`` (with ``objects``; a
    semantic model's objects are its class regions): their outlines (:mod:`unetlab.inference.outlines`), ``"geojson"``:
    ``<stem>_objects.geojson`` (QuPath), ``"imagej"``: ``<stem>_objects_rois.zip`` (Fiji's
    ROI Manager; not for a streamed image), ``"both"``; ``"coco"``: one COCO file of the
    folder's images, ``objects_coco.json`` (:mod:`unetlab.inference.coco_out`), written by
    :func:`~unetlab.inference.folders.predict_folder` at its end (``predict_file`` alone
    writes no outline for it); ``"labelme"``: ``<stem>_objects.json`` (labelme:
    :mod:`unetlab.inference.labelme_out`); ``"cellpose"``: ``<stem>_seg.npy`` (cellpose's
    GUI: :mod:`unetlab.inference.cellpose_out`). ``level``: the pyramid level predicted;
    ``large_threshold``: px a page above which a TIFF is streamed (None:
    ``LARGE_PIXELS``); ``output_format``: how streamed images' outputs are written,
    ``"ome-tiff"`` or ``"ome-zarr"``, or ``"dicom-seg"`` (DICOM series alone): a series'
    ``<series>.seg.dcm`` beside its NIfTI labels (:mod:`unetlab.data.dicom_seg`);
    ``seg_codes`` (with it): its segments' coded category and type, a CSV or YAML file (or
    its :class:`~unetlab.data.seg_codes.SegCodes`), classes it leaves out generic ones.
    ``overwrite``: write into a folder holding files unetlab did not write (beside them,
    never over them), and replace another input's or model's outputs; ``skip_existing``
    (folders): skip inputs whose outputs an earlier prediction by the same checkpoint and
    settings wrote there. ``objects_3d`` (with
    ``objects``, a stack with a Z axis read whole): one id per object across the planes of
    a stack (of each frame of a movie) and one table row per 3-D object
    (:mod:`unetlab.inference.objects_3d`), no outlines. ``pixel_size``, ``z_spacing`` (µm):
    the pixel size (of level 0) and plane step of the inputs, read whole or window by
    window (:func:`~unetlab.inference.slides.give_sizes`), in place of those their files
    record (or for files that record none): the outputs' scale, the tables' µm columns and
    objects_3d's voxels (:func:`~unetlab.data.tiffmeta.given_sizes`). ``summary`` (with
    ``objects``): ``objects_summary.csv`` for a folder of one 2-D image too (several inputs,
    a stack or positions get one anyway); :func:`~unetlab.inference.tree.predict_tree` sets
    it, so that each folder of a tree has its table and tables stacked across folders miss
    none.
    """

    color: bool = False
    label_values: bool = False
    save_probabilities: bool = False
    draw_overlay: bool = False
    objects: ObjectOptions | Callable[[torch.nn.Module], ObjectOptions] | None = None
    outlines: str | None = None
    level: int = 0
    large_threshold: int | None = None
    output_format: str = "ome-tiff"
    overwrite: bool = False
    skip_existing: bool = False
    objects_3d: bool = False
    pixel_size: float | None = None
    z_spacing: float | None = None
    summary: bool = False
    seg_codes: SegCodes | str | os.PathLike | None = None

    def __post_init__(self):
        object.__setattr__(self, "objects", _objects(self.objects))
        object.__setattr__(self, "seg_codes", _seg_codes(self.seg_codes, self.output_format))
        for key in ("pixel_size", "z_spacing"):  # numpy's numbers too (a file's metadata)
            value = getattr(self, key)
            if value is None:
                continue
            number = isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)
            if not (number and 0 < value < 1e9):
                flag = flag_of(key)
                raise UnetlabError(f"{key} ({flag}) must be a positive number of µm, not {value!r}")
            object.__setattr__(self, key, float(value))
        for key in ("objects_3d", "summary"):  # 'no' would be taken as True
            if not isinstance(getattr(self, key), bool | np.bool_):
                raise UnetlabError(f"{key} is True or False, not {getattr(self, key)!r}")
        if self.summary and self.objects is None:
            raise UnetlabError("summary sums each image's objects: add objects= (--instances)")
        if self.objects_3d and self.objects is None:
            raise UnetlabError(
                "objects_3d joins the objects of a stack's planes: add objects= (--instances)"
            )
        if self.objects_3d and self.outlines is not None:
            raise UnetlabError(
                "outlines are traced plane by plane, and objects_3d's objects span planes: "
                "drop outlines (--outlines) or objects_3d (--objects-3d)"
            )
        if self.output_format not in OUTPUT_FORMATS:  # s73: else refused by large images alone
            said = ", ".join(OUTPUT_FORMATS)
            raise UnetlabError(f"output_format must be one of {said}, not {self.output_format!r}")
        if self.outlines is not None and self.outlines not in OUTLINES:
            raise UnetlabError(
                f"outlines must be one of {', '.join(OUTLINES)}, not {self.outlines!r}"
            )
        if self.outlines is not None and self.objects is None:
            raise UnetlabError(
                "outlines trace objects: add objects= (--instances), or drop outlines (--outlines)"
            )

    @classmethod
    def of(cls, outputs: OutputOptions | None = None, **changes) -> OutputOptions:
        """``outputs`` (default: the defaults) with the fields in ``changes`` replaced;
        anything else refused in one line (a dict: "'dict' object has no attribute", s42)."""
        if outputs is not None and not isinstance(outputs, cls):
            raise UnetlabError(
                f"outputs must be an OutputOptions or None, not {type(outputs).__name__}: "
                "OutputOptions(draw_overlay=True), or its fields by name (draw_overlay=True)"
            )
        base = outputs if outputs is not None else cls()
        return replace(base, **changes) if changes else base

    @classmethod
    def taken(cls, outputs: OutputOptions | None, settings: dict) -> tuple[OutputOptions, dict]:
        """(``outputs`` with the fields ``settings`` names replaced, the other settings)."""
        mine = {k: v for k, v in settings.items() if k in cls.__dataclass_fields__}
        rest = {k: v for k, v in settings.items() if k not in mine}
        return cls.of(outputs, **mine), rest

    @property
    def wanted(self) -> dict[str, bool]:
        """The outputs asked for beside the labels, by kind (``probabilities``, ``overlay``,
        ``objects``, ``geojson``, ``rois``, ``labelme``, ``cellpose``, ``seg``), as
        :func:`~unetlab.inference.output_rules.output_roles` takes them."""
        return dict(
            probabilities=self.save_probabilities,
            overlay=self.draw_overlay,
            objects=self.objects is not None,
            geojson=self.outlines in ("geojson", "both"),
            rois=self.outlines in ("imagej", "both"),
            labelme=self.outlines == "labelme",
            cellpose=self.outlines == "cellpose",
            seg=self.output_format == DICOM_SEG,
        )

    @property
    def objects_only(self) -> bool:
        """Whether objects are asked for without the probabilities (:func:`objects_only`)."""
        return objects_only(self.objects, self.save_probabilities)

    @property
    def objects_in_3d(self) -> bool:
        """Whether objects are asked for joined across a stack's planes (``objects_3d``)."""
        return self.objects is not None and self.objects_3d

    def for_model(self, model: torch.nn.Module) -> OutputOptions:
        """These options with ``objects`` given as a function of the model called. The
        outlines of a semantic model's objects are its class regions, each with its class."""
        if self.seg_codes is not None:  # before any work: a class the model has not
            from unetlab.inference.seg_out import refuse_unknown_codes

            refuse_unknown_codes(model, self.seg_codes)
        if self.objects is not None and not isinstance(self.objects, ObjectOptions):
            return replace(self, objects=self.objects(model))
        return self

    def values(self, model: torch.nn.Module, name: str) -> Sequence[int] | None:
        """The mask values labels are written as: ``model.label_values`` with
        ``label_values``, else None (class indices). UnetlabError for ``color`` with
        ``label_values``, or ``label_values`` for a model that records none (``name``: the
        image, for the message)."""
        if self.color and self.label_values:
            raise UnetlabError("choose one of color (palette of class indices) and label_values")
        values = model.label_values if self.label_values else None
        if self.label_values and values is None:
            raise UnetlabError(
                f"{name}: the model records no label values; write class indices instead"
            )
        return values


#: the settings of the line refusing SEG codes without a SEG, as the caller spells them
CODES_WITHOUT_SEG = (
    Spelled("seg_codes", "--seg-codes"),
    Spelled("output_format='dicom-seg'", "--output-format dicom-seg"),
)


def _seg_codes(codes, output_format: str) -> SegCodes | None:
    """``seg_codes`` read (:func:`~unetlab.data.seg_codes.read_seg_codes`); UnetlabError
    where they are given without a SEG to code."""
    if codes is None:
        return None
    if output_format != DICOM_SEG:
        said = spelled(
            lambda c, f: f"{c} code the segments of a DICOM SEG: add {f}, or drop {c}",
            *CODES_WITHOUT_SEG,
        )
        raise UnetlabError(**said)
    return codes if isinstance(codes, SegCodes) else read_seg_codes(codes)


class _ModelsOwn:
    """The model's own object options (:meth:`ObjectOptions.for_model`, as ``--instances``),
    a function of the loaded model that reads as it is given: ``objects=True`` (its repr
    was ``<bound method ObjectOptions.for_model ...>``: review of s62 user). One value
    (:data:`MODELS_OWN`): equal to itself, pickled and copied as that name."""

    def __call__(self, model: torch.nn.Module) -> ObjectOptions:
        return ObjectOptions.for_model(model)

    def __repr__(self) -> str:
        return "True"

    def __reduce__(self) -> str:
        return "MODELS_OWN"


#: ``OutputOptions(objects=True)``'s objects: the model's own (:class:`_ModelsOwn`)
MODELS_OWN = _ModelsOwn()


def _objects(objects):
    """``objects`` as :class:`OutputOptions` keeps it: True (or
    :meth:`ObjectOptions.for_model`) is the model's own (:data:`MODELS_OWN`, as
    ``--instances``), False none; anything but an ObjectOptions or a function of the model
    is refused naming the forms."""
    if objects is True or (callable(objects) and objects == ObjectOptions.for_model):
        return MODELS_OWN
    if objects is False or objects is None or isinstance(objects, ObjectOptions):
        return None if objects is False else objects
    if callable(objects):
        return objects
    raise UnetlabError(
        f"objects must be True (the model's own object options, as --instances), "
        f"ObjectOptions(...) or ObjectOptions.for_model(model, min_area=...), not {objects!r}"
    )


def label_colours(model, *, color: bool, values: bool) -> np.ndarray | None:
    """The palette a label PNG is written with: the data set's colours when the model records
    a palette (the colour of each class's mask value, or the whole palette when ``values``
    writes mask values), else :func:`class_palette` for ``color``, else None (grey)."""
    recorded = getattr(model, "palette", None)
    if recorded is not None and model.label_values is not None:
        if values:
            return np.asarray(recorded, np.uint8)
        return class_colours(recorded, model.label_values)
    return class_palette(model) if color else None


def own_colours(model) -> bool:
    """Whether ``model`` records its data set's palette, which its label images of class
    indices are written in with or without ``color`` (:func:`label_colours`)."""
    return label_colours(model, color=False, values=False) is not None


def _labels_written(model, o: OutputOptions) -> str:
    """The record's ``labels``: mask values, a palette, or class indices. ``color`` of a
    model that records its data set's palette changes no label image (:func:`own_colours`):
    class indices, the key its outputs have without it (review s67: a rerun without
    ``--color`` of a folder predicted with it predicted every input again)."""
    if o.label_values:
        return "mask values"
    return "palette" if o.color and not own_colours(model) else "class indices"


def class_palette(model) -> np.ndarray:
    """(K, 3) uint8 VOC colours of ``model``'s K classes, class 0 black where it is the
    background (:func:`~unetlab.data.classes.voc_class_colours` of its class names and
    :func:`objects_background`)."""
    names = class_names_of(model)
    return voc_class_colours(max(model.num_classes, 2), names, objects_background(model))


@dataclass(frozen=True)
class Provenance:
    """What made an output: ``checkpoint`` (absolute path, None for a model built in
    Python), ``sha256`` (of that file, else of the weights), ``model`` (the settings that
    change the probabilities) and ``outputs`` (those that change how they are written).
    ``source``: for a bioimage.io package, the checkpoint it was exported from as the package
    names it (file name, sha256, epoch, ...: :func:`unetlab.checkpoint.export_source`), so
    that predictions made with a package trace back to the checkpoint (audit s34 repro F6);
    None otherwise. It is no part of the key: the package's own sha256 is.
    ``ignore_value``: the mask value the model's training counted nowhere
    (``data.ignore_value``), which ``evaluate --pred`` then ignores in the masks; None:
    none. No part of the key either (the checkpoint's sha256 holds it). ``class_names``:
    the model's classes, in its order (``membrane``, ``cell``), which ``evaluate --pred``
    then names its rows by; None for a model whose classes are the digits ``0``, ``1``, ...
    (named nowhere). No part of the key. ``label_values``: the mask value of each class in
    the model's training (``0 255``), by which ``evaluate --pred`` reads the masks of class
    maps holding class indices; None: none known (a record from before them too). No part
    of the key. ``trained_axes``: whether ``model``'s axes are the checkpoint's (none given),
    which an input they do not fit is read without (:func:`input_record`); no part of the
    key, nor of the file's record. ``model_sha256``: the sha256 the checkpoint's model is
    known by where it is not the file's own (the file's before its run's end was recorded in
    it: :func:`unetlab.checkpoint.update_checkpoint`), in the key in ``sha256``'s place;
    None: ``sha256``. ``model_channel_name``: the name of the channel a model trained by name
    (``data.channel: DAPI``) was trained on, where it predicted that one (``model``'s
    ``channel`` is its index in the first training image, each input's in ``files``); no
    part of the key (s74 notes: predict.json said channel 0, the name nowhere); None: none."""

    checkpoint: str | None
    sha256: str
    model: dict = field(default_factory=dict)
    outputs: dict = field(default_factory=dict)
    source: dict | None = None
    ignore_value: int | None = None
    class_names: list[str] | None = None
    label_values: list[int] | None = None
    trained_axes: bool = False
    model_sha256: str | None = None
    model_channel_name: str | None = None

    @property
    def identity(self) -> str:
        """The sha256 that names the model: :attr:`model_sha256`, else :attr:`sha256`
        (:func:`unetlab.model_identity.model_sha256`)."""
        return model_sha256(self.sha256, self.model_sha256)

    @property
    def model_key(self) -> str:
        """12 hex digits for the checkpoint and the model settings."""
        return _digest({"sha256": self.identity, **self.model})[:12]

    @property
    def key(self) -> str:
        """``<model_key>-<8 hex digits of the output settings>``: the manifest's field."""
        return f"{self.model_key}-{_digest(self.outputs)[:8]}"

    def describe(self) -> str:
        """One short phrase: ``checkpoint /runs/b1/best.pt (sha256 3e3262a8d1c4), TTA 2
        transforms, fp32``, and each setting that changes the labels where it is not the
        default (gaussian blend, tile size 64, level 1, rows left out, axes, channel, nodata, scale), so
        that two models' phrases differ where they do."""
        what = self.weights_phrase()
        if self.checkpoint and self.source:
            what += f", exported from {self.source.get('checkpoint')} "
            what += f"(sha256 {str(self.source.get('sha256'))[:12]})"
        return ", ".join([what, *self.setting_phrases()])

    def weights_phrase(self) -> str:
        """The weights alone, as :meth:`describe` begins: ``checkpoint /runs/b1/best.pt
        (sha256 3e3262a8d1c4)``, or ``weights sha256 ... (no checkpoint file)``."""
        if self.checkpoint:
            return f"checkpoint {self.checkpoint} (sha256 {self.sha256[:12]})"
        return f"weights sha256 {self.sha256[:12]} (no checkpoint file)"

    def setting_phrases(self) -> list[str]:
        """The model settings :meth:`describe` names after the weights (TTA, precision,
        those not at their default), each one phrase."""
        tta = self.model.get("tta") or []
        extra = [f"TTA {len(tta)} transforms" if tta else "no TTA", self.model.get("precision")]
        return [str(e) for e in extra + _settings(self.model) if e]

    def same_weights(self, other: Provenance) -> bool:
        """Whether ``other`` names the same weights, whatever the settings: the same sha256,
        as :attr:`model_key` tells them (a copy of the checkpoint elsewhere is the same
        model, whose outputs ``--skip-existing`` skips); compared as fields, as a path may
        hold ", " (s44 small 1); a checkpoint whose run's end was recorded in it since is
        the same model (:attr:`model_sha256`)."""
        return self.identity == other.identity

    def to_dict(self) -> dict:
        """The record with its key and the code that predicted (version, git commit, torch,
        numpy, python: :func:`unetlab.provenance.code_identity`)."""
        record = {"key": self.key, **asdict(self), "code": code_identity()}
        del record["trained_axes"]  # how this run chose them, not what made the outputs
        parts = ("source", "ignore_value", "class_names", "label_values", "model_sha256")
        parts += ("model_channel_name",)
        for part in parts:  # None: left out
            if record[part] is None:
                del record[part]
        return record


def _settings(model: dict) -> list[str]:
    """The phrases of a record's model settings that are not their defaults."""
    said = []
    if model.get("blend", "mean") != "mean":
        said.append(f"{model['blend']} blend")
    if model.get("tile_size") is not None:
        tile = model["tile_size"]
        said.append(f"tile size {'x'.join(map(str, tile)) if isinstance(tile, list) else tile}")
    if model.get("level"):
        said.append(f"pyramid level {model['level']}")
    if model.get("exclude_rows"):
        rows = ", ".join(f"{k} {v}" for k, v in model["exclude_rows"].items() if v)
        said.append(f"rows left out ({rows})")
    if model.get("axes"):  # --axes: how the input was read
        said.append(f"axes {model['axes']}")
    if model.get("channel") is not None:
        said.append(f"channel {model['channel']}")
    if "nodata" in model:
        said.append(f"nodata {_shown(model['nodata'])}")
    if "scale" in model:  # --scale: resampled for the net
        said.append(f"scale {_shown(model['scale'])}")
    return said


def _shown(nodata) -> str:
    """A recorded nodata as ``--nodata`` takes it: ``none``, ``0``, ``-9999``, ``nan``."""
    return f"{nodata:g}" if isinstance(nodata, float) else str(nodata)


def _digest(value: dict) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _sizes(o: OutputOptions) -> dict:
    """The pixel size and z spacing ``o`` gives (None: the files' own); a prediction's
    record keeps those given, so other outputs keep their key."""
    return {"pixel_size": o.pixel_size, "z_spacing": o.z_spacing}


def prediction_record(
    model: torch.nn.Module, options: PredictOptions, outputs: OutputOptions | None = None
) -> Provenance:
    """The :class:`Provenance` of ``model`` predicting with ``options`` (as
    :meth:`PredictOptions.for_model` resolved them) and writing as ``outputs`` say (its
    ``objects`` given as ObjectOptions). The model's checkpoint is the file
    :func:`unetlab.load_model` read (``model.checkpoint``). Labels written as mask values
    record them too (``outputs.label_values``: the value of each class, in order), so that
    ``evaluate --pred`` reads them back without ``--label-values``; rows left out of every
    image (``options.exclude_rows``) where there are any, ``options.nodata`` where not
    ``"auto"``, ``tile_size`` where given (the seams change labels), ``scale`` where not 1
    (auto's factor per file is in ``predict.json``), so that ``--skip-existing`` predicts
    again outputs made otherwise (outputs made with the defaults keep their key)."""
    o = outputs if outputs is not None else OutputOptions()
    checkpoint, sha, same = _weights_record(model)
    settings = {
        "tta": list(resolve_tta(model, options.tta)),
        # a band subset as JSON keeps it (a list), so a record read back compares equal
        "channel": list(c) if isinstance(c := options.channel, tuple) else c,
        "blend": options.blend,
        "precision": options.precision,
        "level": o.level,
    }
    if options.tile_size is not None:  # only where given: outputs of the default keep their key
        settings["tile_size"] = _tile(options.tile_size)
    if options.exclude_rows:  # only where rows were left out: other outputs keep their key
        settings["exclude_rows"] = as_config(options.exclude_rows)
    if options.nodata not in (None, "auto"):  # auto, the default, keeps the key it had
        settings["nodata"] = options.nodata
    if options.scale != 1:  # resampled for the net (--scale): other outputs keep their key
        settings["scale"] = options.scale
    written = {
        "labels": _labels_written(model, o),
        "objects": None if o.objects is None else object_record(o.objects),
    }
    if o.objects_in_3d:  # only then: other outputs keep their key
        written["objects_3d"] = True
    if o.seg_codes is not None:  # only then: a SEG coded otherwise is written again
        written["seg_codes"] = o.seg_codes.record()
    written |= {k: float(v) for k, v in _sizes(o).items() if v is not None}  # only given
    if o.label_values and model.label_values is not None:  # which: evaluate reads them back
        written["label_values"] = [int(v) for v in model.label_values]
    if o.objects is None and is_instance_model(model):  # only then: other outputs keep their key
        written["target"] = "instances"  # a background/boundary/interior map: evaluate refuses it
    source = getattr(model, "source", None) if checkpoint else None  # a package's checkpoint
    ignored, values = _trained(model)
    record = Provenance(checkpoint, sha, settings, written, source, ignored, _named(model), values)
    return replace(record, model_sha256=same)


def named_by_training(record: Provenance, model: torch.nn.Module, asked) -> Provenance:
    """``record`` naming the channel ``model`` was trained on (``data.channel: DAPI``:
    :attr:`Provenance.model_channel_name`) where no channel is ``asked`` (``--channel``), so
    that each input is read, and keyed (:func:`input_record`), by that name; ``record`` where
    one is (review s75 2: ``--channel 0`` reads index 0 of each file, another stain in one
    that holds DAPI at 2, and its record said DAPI)."""
    names, trained = getattr(model, "channel_names", None), getattr(model, "channel", None)
    if asked is not None or not names or not isinstance(trained, int):
        return record
    return replace(record, model_channel_name=str(names[0]))


def _weights_record(model: torch.nn.Module) -> tuple[str | None, str, str | None]:
    """(the checkpoint's absolute path, its sha256, the sha256 it had before its run's end
    was recorded in it or None) of a model loaded from a file that still holds its weights
    (:func:`~unetlab.checkpoint.names_its_net`); (None, the weights' sha256, None) of one
    that no file names (built in Python, trained on since it was loaded, or its file
    trained further since). A net in a DDP or ``torch.compile`` wrapper: the net inside,
    as evaluate's :func:`~unetlab.checkpoint.scored_source` names it (review D: the
    wrapper's weights, their names prefixed, named another model)."""
    core = unwrap_net(model)
    source = getattr(core, "checkpoint", None)
    if source is not None and names_its_net(core):
        same = getattr(core, SAME_MODEL, None)
        return str(Path(source).resolve()), file_sha256(source), same
    return None, weights_sha256(core), None


#: the output settings that change the outputs of an input with a Z axis only (a 2-D
#: image's, a movie's are those of a run without them)
Z_ONLY = ("objects_3d", "z_spacing")


def flat_record(record: Provenance) -> Provenance:
    """``record`` of a run of ``objects_3d`` or ``z_spacing`` (:data:`Z_ONLY`) as an input
    with no Z axis gets it (a 2-D image, a movie's frames: its objects 2-D, no z step): the
    record, and key, of that run without them; ``record`` itself where it has none."""
    if not any(k in record.outputs for k in Z_ONLY):
        return record
    outputs = {k: v for k, v in record.outputs.items() if k not in Z_ONLY}
    return replace(record, outputs=outputs)


def flat_keys(records: dict[str, dict], record: Provenance) -> dict[str, set[str]]:
    """The keys of the folder's ``records`` (:func:`read_records`) other than ``record``'s
    whose outputs of an input with no Z axis are those of ``record`` too (the same model
    part; the output settings but :data:`Z_ONLY`: ``objects_3d``, ``z_spacing``) -> the
    inputs that record read with no Z axis (:func:`read_flat`): an older run's 2-D image
    recorded with ``--objects-3d`` or ``--z-spacing`` counts as made by a run without, and
    the other way round."""
    flat = _flat_digest(flat_record(record).outputs)
    found = {}
    for key, entry in records.items():
        if key == record.key or not key.startswith(record.model_key + "-"):
            continue
        outputs = entry.get("outputs") if isinstance(entry, dict) else None
        if isinstance(outputs, dict) and _flat_digest(outputs) == flat:
            found[key] = read_flat(records, key)
    return found


def _flat_digest(outputs: dict) -> str:
    """The digest of output settings without :data:`Z_ONLY`, as ``predict.json`` reads them
    back (JSON: a tuple a list, a number key a string)."""
    kept = {k: v for k, v in outputs.items() if k not in Z_ONLY}
    return _digest(json.loads(json.dumps(kept, default=str)))


def read_flat(records: dict[str, dict], key: str) -> set[str]:
    """The inputs that the folder's ``records`` (:func:`read_records`) say the run of ``key``
    read with no Z axis and no pages of unknown meaning (``files``' ``axes``: ``YX``,
    ``TYX``; not ``ZYX``, nor ``QYX``, which ``objects_3d`` joins as planes): those whose
    objects are 2-D with ``objects_3d`` or without. None of a record without ``files``."""
    entry = records.get(key)
    files = _files(entry) if isinstance(entry, dict) else {}
    return {path for path, found in files.items() if flat_axes(found)}


def flat_letters(letters: str) -> bool:
    """Whether pages of ``letters`` (``"TZ"``; ``"Q"``: of no known meaning, read as planes;
    ``""``: one page; or the axes an input was read as, ``"TYX"``) have no Z axis:
    ``objects_3d`` and ``z_spacing`` change nothing of their outputs (:func:`flat_record`)."""
    return not set(letters.upper()) & set("ZQ")


def flat_axes(found) -> bool:
    """Whether a record's ``files`` entry (or a run's :mod:`~unetlab.inference.chosen`
    notes of an input) says its input was read with no Z or Q axis: its ``axes`` (a list:
    each of its positions', or the distinct ones noted), :func:`flat_letters` of each."""
    axes = found.get("axes") if isinstance(found, dict) else None
    axes = [axes] if isinstance(axes, str) else axes
    if not isinstance(axes, list) or not axes:
        return False
    return all(isinstance(a, str) and flat_letters(a) for a in axes)


def _trained(model: torch.nn.Module) -> tuple[int | None, list[int] | None]:
    """(the mask value ``model``'s training counted nowhere, the mask value of each of its
    classes) for its record, each None where it has none: ``evaluate --pred`` reads the
    masks by them."""
    ignored, values = getattr(model, "ignore_value", None), getattr(model, "label_values", None)
    ignored = None if ignored is None else int(ignored)
    return ignored, None if values is None else [int(v) for v in values]


def _named(model: torch.nn.Module) -> list[str] | None:
    """The class names of ``model`` for its record; None where they are its class indices
    (``0``, ``1``: a model built in Python and never named) or it has none."""
    names = class_names_of(model)
    return None if names == [str(i) for i in range(len(names))] else names


def with_axes(record: Provenance, axes: str | None, *, trained: bool = False) -> Provenance:
    """``record`` with the ``axes`` given for the input (``--axes``: they change what is
    predicted) among its model settings, or the checkpoint's (``trained``: none given); as
    it is where there are none (the key it had before --axes)."""
    if axes is None:
        return record
    return replace(record, model={**record.model, "axes": axes.upper()}, trained_axes=trained)


def input_record(record: Provenance, path: str | os.PathLike) -> Provenance:
    """``record`` as the input ``path`` gets it: without ``axes`` for one read as it is, so
    that its outputs keep their key whatever axes a run reads other inputs with: a PNG, a
    JPEG (the axes given or the checkpoint's being a TIFF's:
    :func:`~unetlab.data.io.file_axes`), and a TIFF the checkpoint's axes do not fit (a
    plane for a ZYX model: :func:`~unetlab.data.io.trained_file_axes`); with those it is read
    with where the checkpoint's read it with others (TZYX of a 4-D stack that records none,
    for a TYX model: as --axes TZYX given); ``record`` itself otherwise. A model's channel
    found by its name in each input is that input's index of it (:func:`_by_name`)."""
    record = _by_name(record, path)
    axes = record.model.get("axes")
    if axes is None or (read := _read_as(path, axes, record.trained_axes)) == axes:
        return record
    model = {k: v for k, v in record.model.items() if k != "axes"}
    return replace(record, model={**model, "axes": read} if read else model)


def _read_as(path: str | os.PathLike, axes: str, trained: bool) -> str | None:
    """The axes the input ``path`` is read with: ``axes`` for a TIFF, and where they are the
    checkpoint's (``trained``) those it takes of them (None: read as it is); one that cannot
    be read (gone, broken) is taken to be read with them (its reading fails it)."""
    if file_axes(path, axes) is None:
        return None
    if not trained:
        return axes
    try:
        stat = os.stat(path)
        return _fitted(os.path.realpath(path), axes, stat.st_mtime_ns, stat.st_size)
    except (OSError, UnetlabError):
        return axes


def _by_name(record: Provenance, path: str | os.PathLike) -> Provenance:
    """``record`` of a model trained by a channel's name that none overrode
    (:func:`named_by_training`) with its ``channel`` the index of that name in the input
    ``path`` where it is another, so that its outputs are keyed by the channel read (review
    s75 2: a plain run read b.ome.tif's DAPI at 2, and ``--channel 0 --skip-existing``,
    reading its CD45 at 0, skipped it); ``record`` itself otherwise."""
    name, channel = record.model_channel_name, record.model.get("channel")
    if name is None or not isinstance(channel, int):
        return record
    try:
        stat = os.stat(path)
    except OSError:  # gone: its reading fails it
        return record
    index = _index_named(os.path.realpath(path), name, stat.st_mtime_ns, stat.st_size)
    return (
        record
        if index in (None, channel)
        else replace(record, model={**record.model, "channel": index})
    )


@functools.lru_cache(maxsize=4096)
def _index_named(path: str, name: str, mtime_ns: int, size: int) -> int | None:
    """The index of the one channel named ``name`` among those (two or more) the file
    ``path`` names as it is now (its ``mtime_ns`` and ``size``); None where not so (read by
    index, or refused when read: :func:`~unetlab.inference.file_fit.trained_index`)."""
    with contextlib.suppress(OSError, UnetlabError):  # unreadable: its reading fails it
        found = indices_named(names := channel_names(path), name)
        return found[0] if len(names) > 1 and len(found) == 1 else None
    return None


@functools.lru_cache(maxsize=4096)
def _fitted(path: str, axes: str, mtime_ns: int, size: int) -> str | None:
    """The axes the checkpoint's ``axes`` read the TIFF ``path`` with as it is now (its
    ``mtime_ns`` and ``size``; None: as it is): opened once however often a run asks for its
    record."""
    return trained_file_axes(path, axes)


#: the model settings that say how the same model was run, not what the model is -> what
#: differs in words: how an input was read (``--axes``; ``--level``: the pixels the model
#: sees and their size) and how it was tiled (``--tile-size``: the seams). Outputs of other
#: inputs that differ from a run's only in these are the same model's
SAME_MODEL_SETTINGS = {
    "axes": "read with other axes",
    "level": "read at another pyramid level",
    "tile_size": "tiled otherwise",
}


def setting_changes(made: Provenance, ours: Provenance) -> dict[str, tuple]:
    """The model settings of ``made``'s record that differ from ``ours``' -> (there, here),
    None where one has none; {} where their weights differ (their phrases name them)."""
    if not made.same_weights(ours):
        return {}
    return {name: pair for (name,), pair in changed_settings(made.model, ours.model).items()}


class _NotHeld:
    """The value of a setting a record does not hold (:data:`NOT_HELD`)."""

    def __repr__(self) -> str:
        return "NOT_HELD"


#: a setting a record does not hold (left out where it is the default: ``background`` 0),
#: told apart from one it holds as None (``background`` None: every class makes objects)
NOT_HELD = _NotHeld()

#: the settings a record holds as a dict that are one setting, not a group of them: compared
#: whole (s75 review: ``seg_codes``' classes were compared as settings, each named a flag)
ONE_SETTING = ("seg_codes",)


def changed_settings(there: dict, here: dict, *, groups: bool = False) -> dict[tuple, tuple]:
    """The settings of two records' dicts that differ, by name (a one-name tuple) -> (there,
    here), :data:`NOT_HELD` where one holds none (s63 review: a setting left out and one
    held as None compared equal, the line named none), compared as a record holds them (a
    tuple as the list read back: s63, an object option's tuple was named a change of the
    folder's settings); ``groups``: a group of settings in both (``objects``) compared
    setting by setting, by the group's and the setting's name (``("objects", "min_area")``),
    but those of :data:`ONE_SETTING`."""
    changes = {}
    for name in sorted(there.keys() | here.keys()):
        a, b = there.get(name, NOT_HELD), here.get(name, NOT_HELD)
        if groups and name not in ONE_SETTING and isinstance(a, dict) and isinstance(b, dict):
            inner = changed_settings(a, b, groups=True)
            changes |= {(name, *path): pair for path, pair in inner.items()}
        elif (a is NOT_HELD) != (b is NOT_HELD) or _json(a) != _json(b):
            changes[(name,)] = (a, b)
    return changes


def describe_setting_changes(changes: dict[str, tuple]) -> str:
    """``axes ZTYX there, not given here; tile_size 64 there, not given here``."""
    return "; ".join(
        "{} {} there, {} here".format(k, *said_pair(a, b)) for k, (a, b) in changes.items()
    )


def said_pair(there, here) -> tuple[str, str]:
    """Two values of a setting (:func:`changed_settings`) in a phrase each, as
    :func:`_said` says them, and None as the caller spells it (``None``, ``null``) beside
    one not held: ``not given there, None here``. The one way a setting's value is said in
    a line (output settings, model settings, the same model run otherwise)."""
    if (there is NOT_HELD and here is None) or (there is None and here is NOT_HELD):
        return tuple("not given" if v is NOT_HELD else said_as(NONE) for v in (there, here))
    group = not (isinstance(there, dict) and isinstance(here, dict))  # one held, not both
    return _said(there, group), _said(here, group)


def same_model(changes: dict[str, tuple]) -> bool:
    """Whether ``changes`` (:func:`setting_changes`) are only of how the same model was run
    (:data:`SAME_MODEL_SETTINGS`: how inputs were read, how they were tiled)."""
    return bool(changes) and all(k in SAME_MODEL_SETTINGS for k in changes)


def describe_same_model(changes: dict[str, tuple]) -> str:
    """How the same model was run otherwise (``changes``: :func:`same_model`), in words:
    ``read at another pyramid level and tiled otherwise (level 0 there, 1 here; tile_size
    not given there, 32 here)``."""
    how = " and ".join(SAME_MODEL_SETTINGS[k] for k in changes)
    return f"{how} ({describe_setting_changes(changes)})"


def _json(value) -> str:
    """``value`` as a record holds it (a tuple a list; NaN equal to itself)."""
    return json.dumps(value, sort_keys=True, default=str)


def _said(value, group: bool = True) -> str:
    """A setting's value in a phrase: ``not given`` (None, :data:`NOT_HELD`), ``given`` for
    a ``group`` of settings (a dict: objects found), a yes/no option as the caller gives it
    (on the command line a flag ``given`` or ``not given``; ``True`` in Python), else
    ``ZTYX``, ``64``, ``[64, 48]``."""
    if value is None or value is NOT_HELD:
        return "not given"
    if isinstance(value, bool):
        return ("given" if value else "not given") if in_command() else str(value)
    if isinstance(value, dict) and group:
        return "given"
    return value if isinstance(value, str) else _json(value)


def _tile(tile_size: int | Sequence[int]) -> int | list[int]:
    """A tile size as a record holds it: an int, or [h, w] where the two differ."""
    if isinstance(tile_size, int):
        return tile_size
    h, w = (int(t) for t in tile_size)
    return h if h == w else [h, w]


#: the settings of objects :func:`object_record` leaves out, at the value each then had (as
#: before it was a field; a model's background class 0): a line comparing two runs says
#: that value (s74: the default background class 0 was said "not given"); object_record
#: leaves out a field equal to it (None a background held, 0 left out)
LEFT_OUT = {
    "background": 0,
    "class_min_areas": None,
    "cut_min_area": CUT_MIN_AREA,
    "min_peak": 0,
    "split_necks": False,
    "no_class": [],
}


def objects_as_run(record: dict) -> dict:
    """A record of objects (:func:`object_record`) with each setting it leaves out at the
    value it had (:data:`LEFT_OUT`): how they were found, to be compared and said."""
    return {**LEFT_OUT, **record}


def object_record(objects: ObjectOptions) -> dict:
    """The record of how objects were found: the fields of ``objects`` but those at the
    value :data:`LEFT_OUT` gives them (``background`` 0; not None: every class makes
    objects), as before they were fields, so that the outputs of a model whose background
    is class 0 keep their key (``--skip-existing``) and only those found with class 0
    taken wrongly for the background, with no background, with per-class least sizes or
    with objects of the ignored class (made before it was no class, s69), get a new one."""
    record = option_fields(objects)
    return {k: v for k, v in record.items() if not _left_out(k, v)}


#: the settings :func:`object_record` leaves out at any value that is off or empty (a
#: ``min_peak`` of None too), not only at :data:`LEFT_OUT`'s, as it did (s75 review)
LEFT_OUT_OFF = frozenset({"min_peak", "split_necks", "no_class"})


def _left_out(key: str, value) -> bool:
    """Whether :func:`object_record` leaves out the field ``key`` at ``value``."""
    if key not in LEFT_OUT:
        return False
    return _listed(value) == LEFT_OUT[key] or (key in LEFT_OUT_OFF and not value)


def _listed(value):
    """A field's value as a record read back holds it: a tuple as a list."""
    return list(value) if isinstance(value, tuple) else value


def save_record(
    folder: str | os.PathLike, record: Provenance, chosen: dict[str, dict] | None = None
) -> bool:
    """Add ``record`` to the folder's ``predict.json`` (``records``: key -> record, with the
    time it was first used; written atomically); ``chosen``: what this run chose by itself
    for each input it predicted (:func:`unetlab.inference.chosen.as_record`: the tile size,
    the device, the axes read), kept in the record's ``files`` (each input's latest run).
    False when nothing changed. A ``predict.json`` that cannot be read as one is started
    again."""
    records = read_records(folder)
    entry = records.get(record.key)
    if not isinstance(entry, dict):
        when = datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")
        entry = records[record.key] = {**record.to_dict(), "first": when}
    elif not chosen or all(_files(entry).get(k) == v for k, v in chosen.items()):
        return False
    if chosen:
        records[record.key] = {**entry, "files": {**_files(entry), **chosen}}
    _write_records(folder, {**_whole(folder), "records": records})  # last_run kept
    return True


def save_outcome(
    folder: str | os.PathLike, failed: dict[str, str], skipped: dict[str, str]
) -> None:
    """The folder's ``predict.json`` gets ``last_run``: its time, and the inputs it could
    not predict (``failed``: input -> the one-line reason) and those it passed over
    (``skipped``: input -> why), replacing an earlier run's (audit s36 batch 8: without
    --instances nothing recorded them). Call it with the folder held."""
    when = datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")
    run = {"when": when, "failed": failed, "skipped": skipped}
    _write_records(folder, {"records": {}, **_whole(folder), "last_run": run})


def _whole(folder: str | os.PathLike) -> dict:
    """The folder's ``predict.json`` as read ({} where there is none, or not one)."""
    try:
        data = json.loads((Path(folder) / RECORD_FILES["predict"]).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_records(folder: str | os.PathLike, data: dict) -> None:
    text = json.dumps(data, indent=1, sort_keys=True, default=str)
    with atomic_path(Path(folder) / RECORD_FILES["predict"]) as tmp:
        Path(tmp).write_text(text + "\n", encoding="utf-8")


def _files(entry: dict) -> dict:
    """A record's ``files`` (what each input's run chose), {} where it has none."""
    files = entry.get("files")
    return files if isinstance(files, dict) else {}


def note_for_launch(record: Provenance | None, folder: Path | None = None) -> None:
    """In a process of a ``--nproc N`` launch (:data:`~unetlab.signals.LAUNCHED_ENV`), the
    ``record`` of the outputs it makes, noted beside the launch's status file once it holds
    the output folder (``folder``, noted with it where given): the launcher's line for a
    launch stopped before its main process said its own counts the inputs done by it
    (:func:`launch_record`), not another model's."""
    if record is not None:
        held = {} if folder is None else {"folder": str(Path(folder).resolve())}
        note_beside_launch("record", lambda: {**record.to_dict(), **held})


def launch_record(status: str, folder: Path | None = None) -> Provenance | None:
    """The record a process of the launch whose status file is ``status`` noted
    (:func:`note_for_launch`); None where none did (stopped before it held the folder), or
    where ``folder`` is given and the record was noted for another (a tree's folder before:
    its folders' settings may differ, a folder of PNGs read without --axes)."""
    if (made := launch_note(status, "record")) is None:
        return None
    if folder is not None and made.get("folder") != str(Path(folder).resolve()):
        return None
    return Provenance(**{f.name: made[f.name] for f in fields(Provenance) if f.name in made})


def main_s_record(folder: Path) -> Provenance | None:
    """In a process of a ``--nproc N`` launch, the record its main process noted once it
    held the output folder ``folder`` (:func:`launch_record`): only that one holds it, and
    another process that says the run's stop line (the lowest rank left, the main one lost)
    counts the inputs done by it (s66 review: "before any input was predicted" with 5 of 6
    outputs there); None outside a launch, or where none was noted for ``folder``."""
    from unetlab.signals import LAUNCHED_ENV

    status = os.environ.get(LAUNCHED_ENV)
    return launch_record(status, folder) if status else None


def note_beside_launch(name: str, data: Callable[[], dict]) -> None:
    """In a process of a ``--nproc N`` launch (:data:`~unetlab.signals.LAUNCHED_ENV`), the
    JSON of ``data()`` noted whole beside the launch's status file as ``name``, for the
    launcher's line (:func:`launch_note`); nothing (``data`` not called) outside one."""
    if not (note := _launch_note_path(name)):
        return
    with contextlib.suppress(OSError):  # the launcher gone (killed), its folder with it
        with open(f"{note}.{os.getpid()}", "w", encoding="utf-8") as f:
            json.dump(data(), f, default=str)
        os.replace(f"{note}.{os.getpid()}", note)  # whole: the launcher may read it now


def append_beside_launch(name: str, line: Callable[[], str]) -> None:
    """:func:`note_beside_launch` for a note that grows, one step at a time (a tree's
    folders): the text of ``line()`` (no newline in it) appended as one line (rewriting the
    whole note at each step grew as the square of the steps: s54 review, 10.9 s for 4,000
    folders); the launcher reads its lines with :func:`launch_lines`."""
    if not (note := _launch_note_path(name)):
        return
    text = line() + "\n"
    with contextlib.suppress(OSError), open(note, "a", encoding="utf-8") as f:
        f.write(text)  # one write: a line cut off only where the process was killed in it


def _launch_note_path(name: str) -> str | None:
    """The note ``name`` beside the status file of the ``--nproc N`` launch this process is
    in (:data:`~unetlab.signals.LAUNCHED_ENV`); None outside one."""
    from unetlab.signals import LAUNCHED_ENV

    status = os.environ.get(LAUNCHED_ENV)
    return f"{status}.{name}" if status else None


def launch_note(status: str, name: str) -> dict | None:
    """What a process of the launch whose status file is ``status`` noted as ``name``
    (:func:`note_beside_launch`); None where none did."""
    try:
        return json.loads(Path(f"{status}.{name}").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def launch_lines(status: str, name: str) -> tuple[list[str], str]:
    """The lines a process of the launch whose status file is ``status`` appended as
    ``name`` (:func:`append_beside_launch`), in order, and the last one's text where it is
    cut off (the process killed as it wrote it: no newline), else ""; ([], "") where none
    did. The cut line is the step the process had reached: its reader makes what it can of
    it (a tree's, :func:`~unetlab.inference.tree.launch_tree_stop`)."""
    try:
        text = Path(f"{status}.{name}").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return [], ""
    whole, _, cut = text.rpartition("\n")
    return (whole.split("\n") if whole else []), cut


#: the ``predict.json`` records read within :func:`prediction_records_read_once`
_READ = ReadOnce("prediction_records_read")


def prediction_records_read_once() -> contextlib.AbstractContextManager:
    """Within: each folder's ``predict.json`` read once while it is unchanged (evaluate
    read its predictions' 4 times, s60); rewritten meanwhile, read anew."""
    return _READ.kept()


def read_records(folder: str | os.PathLike) -> dict[str, dict]:
    """The records of the folder's ``predict.json`` by key ({} where there is none), the
    caller's own to change (parsed for each read); its text read once within
    :func:`prediction_records_read_once` (the records kept there and deep-copied for each
    read took twice a parse's time, s61)."""
    path = Path(folder) / RECORD_FILES["predict"]
    text = _READ.read(("text",), path, lambda: _record_text(path))
    if text is None:
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    records = data.get("records") if isinstance(data, dict) else None
    return records if isinstance(records, dict) else {}


def _record_text(path: Path) -> str | None:
    """The text of ``predict.json`` at ``path``; None where it cannot be read as UTF-8."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, ValueError):
        return None


def png_text(record: Provenance | None) -> dict[str, str]:
    """The PNG text chunk of ``record`` (``unetlab.prediction``: JSON), {} without one."""
    if record is None:
        return {}
    return {TIFF_KEY: json.dumps(record.to_dict(), sort_keys=True, default=str)}


def embedded_key(path: str | os.PathLike) -> str | None:
    """The key of the record an output carries (:func:`carried_key`); None where it carries
    none or cannot be read."""
    try:
        return carried_key(path)
    except OSError:
        return None


def carried_key(path: str | os.PathLike) -> str | None:
    """The key of the record an output carries (:func:`png_text`, :func:`tiff_kwargs`; a
    streamed image's OME-TIFF description or OME-Zarr attributes:
    :func:`unetlab.data.ome.description`; an MRC label file's header label:
    :func:`unetlab.data.mrc.carried_mrc_key`; a NIfTI label volume's ``descrip``:
    :func:`unetlab.data.nifti.carried_nifti_key`), read from its header; None where it carries none
    (a file saved over it, one cut off, an OME-Zarr without its attributes: not written to
    the end). OSError where it cannot be read (an I/O error, no permission): a reader that
    cannot tell is not told "another file" (a manifest line dropped for good as the user's
    edit: :func:`unetlab.outputs.output_folder`'s ``carried``)."""
    path = Path(path)
    try:
        if path.suffix.lower() == ".png":  # its chunks' text: Pillow's .text decodes the image
            text = read_png_text(path).get(TIFF_KEY)
        elif path.suffix.lower() in (".tif", ".tiff") and path.is_file():
            text = _tiff_text(path)
        elif path.suffix.lower() == ".mrc" and path.is_file():  # its header's label
            return carried_mrc_key(path)
        elif is_nifti(path) and path.is_file():  # its header's descrip
            return carried_nifti_key(path)
        elif path.suffix.lower() == ".zarr" and path.is_dir():
            attrs = json.loads((path / ".zattrs").read_text(encoding="utf-8"))
            return ((attrs.get("unetlab") or {}).get("prediction") or {}).get("key")
        else:
            return None
        return json.loads(text).get("key") if text else None
    except (FileNotFoundError, NotADirectoryError, ValueError, AttributeError, struct.error):
        return None  # struct's: a TIFF cut off within its first 8 bytes


#: the suffixes of outputs that carry their key (:func:`carried_key`); a NIfTI volume's
#: too (``.nii``, ``.nii.gz``: :func:`~unetlab.data.nifti.is_nifti`)
_KEYED = (".png", ".tif", ".tiff", ".zarr", ".mrc")


def carries_key(name: str | os.PathLike) -> bool:
    """Whether an output called ``name`` carries its record's key (:func:`carried_key`):
    labels, probabilities, object ids and overlays, a streamed image's OME-TIFF and
    OME-Zarr ones (session 35 repro 2: a stopped run's were predicted again), an MRC label
    file (s72) and a NIfTI label volume (s73); not a table. The MRC and NIfTI entries are
    listed for what those carry, and change no outcome a test sees (s73 review: mutants
    dropping them, here, in ``output_rules._ours`` and in ``slides.refuse_claimed_only``,
    passed every test): a label volume, its input's one output, is its own proof."""
    return Path(name).suffix.lower() in _KEYED or is_nifti(name)


def edits_keep_key(name: str | os.PathLike) -> bool:
    """Whether an editor saves an output called ``name`` with the key it carries: a NIfTI
    label volume's ``descrip`` (nibabel's ``Nifti1Image(a, img.affine, img.header)``), an
    MRC label file's header label (mrcfile's mode ``r+``), a TIFF's ImageJ properties
    (tifffile given ``imagej_metadata`` back, Fiji), so that its manifest line records its
    content too (:func:`unetlab.outputs.output_folder`'s ``digested``; s73 review, s74: one
    edited to the same size was replaced without a word). Pillow writes a PNG anew,
    without it."""
    return Path(name).suffix.lower() in (".mrc", ".tif", ".tiff") or is_nifti(name)


def _tiff_text(path: Path) -> str | None:
    import tifffile

    with tifffile.TiffFile(path) as tif:
        if tif.is_ome:  # a streamed image's: the last line of the image's Description
            return _ome_text(tif.ome_metadata)
        if tif.is_imagej:
            return ((tif.imagej_metadata or {}).get("Properties") or {}).get(TIFF_KEY)
        return (tif.shaped_metadata or [{}])[0].get(TIFF_KEY)


def tiff_record(path: str | os.PathLike) -> dict | None:
    """The record a TIFF output carries (:func:`tiff_kwargs`; a streamed image's OME-TIFF
    description), as a dict; None where it carries none or cannot be read."""
    try:
        text = _tiff_text(Path(path))
        found = json.loads(text) if text else None
    except (OSError, ValueError, AttributeError):
        return None
    return found if isinstance(found, dict) else None


#: how an OME-TIFF output's description gives its record (:func:`unetlab.data.ome.description`)
_OME_LINE = "unetlab prediction: "


def _ome_text(xml: str | None) -> str | None:
    """The record's JSON in an OME-XML image description, None where there is none."""
    from xml.etree import ElementTree

    try:
        root = ElementTree.fromstring(xml) if xml else None
    except ElementTree.ParseError:
        return None
    for element in root.iter() if root is not None else ():
        if element.tag.endswith("}Description") and element.text:
            for line in element.text.splitlines():
                if line.startswith(_OME_LINE):
                    return line[len(_OME_LINE) :]
    return None


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
