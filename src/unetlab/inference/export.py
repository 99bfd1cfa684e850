"""ONNX and TorchScript export of a UNet, checked against PyTorch; an ONNX Runtime runner.

The exported graph maps ``image`` (N, C_in, H, W) float32 to ``logits`` (N, num_classes,
H', W') float32, like ``UNet.forward``; batch, height and width are dynamic axes
(:func:`size_rule`), and every graph runs any height and width (:class:`AnySize`): it
extends the input inside to the net's next valid size by mirroring, as ``unetlab predict``
does, and crops the output back. A same-padding net's output is the input's size and equals
``unetlab predict``'s probabilities of that image (a 90 x 70 image into a depth-4 net, which
takes multiples of 8: the graph mirrors it to 96 x 72 at the bottom and right); a
valid-padding net's output is the input's size less twice the border, so an image mirrored by
the border on every side gives the map ``unetlab predict`` gives. The file's metadata carries what inference needs
besides the weights: ``unetlab_config``, ``classes``, ``normalization``, ``label_values``,
the size facts (``border``, ``size_multiple``, ``min_input_size``, ``receptive_field``), as
JSON strings, and for a deployer in words: ``size_rule`` (how to pad and crop) and
``normalization_formula`` (per channel, which statistics, the std's floor); with
``class_colors`` (the colour of each class, from the data set's palette) and
``ignore_value`` (the mask value training ignored) where the model has them, and
``pixel_size_um`` where the export is given one (``pixel_size``, micrometres per pixel).
Both formats name their source (audit s34 repro F6): ``source_checkpoint`` (JSON: the
checkpoint's file name, sha256, training epoch and step, the code that trained it:
:func:`unetlab.checkpoint.export_source`), ``source_checkpoint_sha256`` (the sha256 alone) and
``exported_with`` (JSON: the unetlab version, commit, torch, ... that exported it);
:func:`exported_source` reads the record back from either file or a package.

Exporting one checkpoint twice with the same options gives the same bytes: ONNX's as torch
writes them; TorchScript's once :func:`reproducible_archive` has made them depend on the
module alone (no random id, no dates, no Python stack of the trace) and the trace has been
named as in a fresh process (:func:`_own_compilation_unit`).

Needs the ``onnx`` extra (``pip install "unetlab[onnx]"``): onnx and onnxruntime.

The TorchScript file (what deepImageJ and QuPath run) maps the normalised image (N, C_in,
H, W) float32 to class probabilities (N, K, H', W') float32: softmax over the classes, or a
sigmoid for a one-class net, moved by the checkpoint's label offset as unetlab moves its
predictions (:class:`ProbabilityUNet`); the ONNX graph's logits are not moved, its
``label_offset`` metadata says by how much unetlab would and ``label_offset_formula`` how (the
probabilities of the padded map, before the crop). Both say ``label_offset_applied`` (true
for a probabilities graph). It needs only torch to load (``torch.jit.load``) and carries the
same metadata as JSON in its extra file ``unetlab.json``.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import warnings
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from unetlab.atomic import atomic_path
from unetlab.checkpoint import (
    export_source,
    is_torchscript,
    onnx_props,
    readable_source,
    source_record,
    source_words,
    torchscript_extra,
)
from unetlab.data.classes import class_colours
from unetlab.data.normalize import normalization_formula
from unetlab.errors import OutputError, Spelled, UnetlabError, first_line, spelled
from unetlab.inference.offset import describe_offset, label_offset, shift_axis
from unetlab.model_identity import SAME_MODEL, model_sha256s
from unetlab.models import UNet
from unetlab.models.loading import take_weights
from unetlab.outputs import OVERWRITE, claim_files
from unetlab.packages import (
    RDF_EITHER,
    RDF_NAMES,
    ZIP_DAMAGE,
    damaged_zip,
    open_zip,
    package_record,
    zipped_package,
)
from unetlab.provenance import code_identity
from unetlab.runtime import available_cpus

log = logging.getLogger(__name__)

DEFAULT_OPSET = 17
MAX_TRACE = 4096  # px a side of the traced input
MIN_OPSET = 11  # Resize (bilinear upsampling) with dynamic sizes
INPUT_NAME, OUTPUT_NAME = "image", "logits"
EXPORT_COMMAND = "export"  # the command whose files (manifest) an export may replace


@dataclass(frozen=True)
class ExportReport:
    """What :func:`export_onnx` or :func:`export_torchscript` wrote and how well it matched.

    ``checked_shape``: the (N, C, H, W) input of the check, a different size from the traced
    one when the axes are dynamic; ``max_abs_diff``: max |exported - PyTorch| of the outputs
    there (None when not checked); ``max_abs_logit``: the scale it compares to (the largest
    logit for ONNX, 1 for TorchScript's probabilities); ``kind``: ``"ONNX"`` or
    ``"TorchScript"`` (whose ``opset`` is None).
    """

    path: Path
    traced_shape: tuple[int, int, int, int]
    checked_shape: tuple[int, int, int, int] | None
    max_abs_diff: float | None
    max_abs_logit: float | None
    dynamic: bool
    opset: int | None
    kind: str = "ONNX"
    size_rule: str | None = None
    also_checked: tuple[int, int, int, int] | None = None

    def describe(self) -> str:
        size_mb = self.path.stat().st_size / 1e6 if self.path.exists() else 0.0
        axes = "static shape"
        if self.dynamic:
            rule = f": {self.size_rule}" if self.size_rule else ""
            axes = f"batch, height and width dynamic{rule}"
        what = f"opset {self.opset}" if self.opset is not None else self.kind
        line = f"wrote {self.path} ({size_mb:.1f} MB, {what}, {axes})"
        if self.max_abs_diff is not None:
            shapes = [s for s in (self.checked_shape, self.also_checked) if s is not None]
            at = " and ".join("x".join(str(n) for n in s) for s in shapes)
            scale = "logits" if self.kind == "ONNX" else "probabilities"
            line += (
                f"; checked against PyTorch at {at}: max abs diff {self.max_abs_diff:.2e} "
                f"({scale} up to {self.max_abs_logit:.2f})"
            )
        return line


class AnySize(torch.nn.Module):
    """``net`` for any input height and width, as its exported graph runs it.

    The input is extended at the bottom and right to the net's next valid size
    (``min_input_size`` + k x ``size_multiple``, worked out from the input's shape in the
    graph) and the output cropped to the input's size less twice the ``border``, from its top
    left. The extension mirrors the image the way unetlab's tiling does (numpy's "reflect" at
    any distance), so the map is the one ``unetlab predict`` gives: for a same-padding net
    (border 0) the input is the image; for a valid-padding net it is taken as the image
    mirrored by ``border`` px on every side (what the ``size_rule`` metadata asks). (Zeros
    would not do: through the pooling grid a pixel near the edge of a larger input sees up to
    a size step beyond its window.) At a valid size nothing changes: this is the net's own
    forward. A valid net's input of at most 2 x ``border`` px gives an empty map. Without it
    a traced same net failed off its size step inside the graph (torch's traceback), and a
    traced valid net ran any size (its skips are centre-cropped) and returned a wrong map."""

    def __init__(self, net: torch.nn.Module):
        super().__init__()
        self.net = net
        self.low, self.step, self.border = net.min_input_size, net.size_multiple, net.border

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2], x.shape[-1]  # 0-d tensors while traced: the graph keeps them
        x = self._extend(self._extend(x, 2, torch.as_tensor(h)), 3, torch.as_tensor(w))
        out = self.net(x)
        return out[:, :, : self._kept(h), : self._kept(w)]

    def _extend(self, x: torch.Tensor, axis: int, n: torch.Tensor) -> torch.Tensor:
        """``x`` (``n`` px along ``axis``) extended to the next valid size by mirroring the
        image it holds (its ``border`` px on each side dropped) about its last pixel."""
        b, one = self.border, torch.ones_like(n)
        target = n + torch.remainder(self.low - n, self.step)
        target = torch.where(target < self.low, torch.full_like(n, self.low), target)
        i = torch.arange(target)
        image = torch.where(n - 2 * b > 1, n - 2 * b, one)  # the image's size (>= 1)
        period = torch.where(image > 1, 2 * image - 2, one)
        r = torch.remainder(i - b, period)
        mirrored = torch.where(r < image, r, period - r) + b
        return x.index_select(axis, torch.where(i < n, i, mirrored))

    def _kept(self, n) -> torch.Tensor:
        kept = torch.as_tensor(n) - 2 * self.border
        return torch.where(kept > 0, kept, torch.zeros_like(kept))


def exportable(model: torch.nn.Module) -> torch.nn.Module:
    """What an export traces: the net wrapped in :class:`AnySize`, so the file is right
    for every height and width (an encoder net's own zero padding is then never used: the
    graph mirrors, as unetlab's tiling does)."""
    return AnySize(model)


def size_rule(model) -> str:
    """The input heights and widths an exported graph runs, in a few words: any size (the
    graph mirrors the input to the net's next valid size and crops the output); a
    valid-padding net's output is smaller by twice its border."""
    m, low, border = model.size_multiple, model.min_input_size, model.border
    if border == 0 and low == m:
        return f"any size, output the input's size (the graph mirror-pads to a multiple of {m})"
    return (
        f"any size, output {2 * border} px smaller (mirror-pad the image by {border} px first; "
        f"the graph extends it to {low} + a multiple of {m})"
    )


def size_recipe(model) -> str:
    """:func:`size_rule` as a deployer follows it (the ``size_rule`` metadata)."""
    m, low, border = model.size_multiple, model.min_input_size, model.border
    if border == 0 and low == m:
        return (
            f"any height and width: run the normalised image; the output is its size. Inside, "
            f"the graph pads it at the bottom and right by reflection to the next multiple of "
            f"{m} px (the net's size step), as unetlab predict does, and crops the output back"
        )
    return (
        f"any height and width: pad the normalised image by reflection, {border} px on every "
        f"side, and run; the output is the image's size (the input's less {2 * border} px, its "
        f"centre). Inside, the graph extends the input at the bottom and right to its next "
        f"valid size ({low} + a multiple of {m} px: {low}, {low + m}, ...) by continuing that "
        f"reflection of the image, and crops the output back"
    )


def offset_recipe(model) -> str:
    """How the label offset is (or is to be) applied, in words (the ``label_offset_formula``
    metadata): unetlab moves the probabilities of the padded map, then crops the padding."""
    dy, dx = label_offset(model)
    if (dy, dx) == (0.0, 0.0):
        return "none: unetlab does not move this model's predictions"
    if isinstance(model, ProbabilityUNet):
        return (
            f"already applied: the output is the probabilities moved by (dy, dx) = ({dy}, {dx}) "
            "px; do not move them again"
        )
    return (
        f"not applied: unetlab moves the class probabilities (softmax, or sigmoid for one "
        f"class, of these logits) by (dy, dx) = ({dy}, {dx}) px (positive: down and right; "
        f"here {describe_offset((dy, dx))}), before it crops the padding: out[k, i, j] = "
        f"p[k, i - dy, j - dx], bilinear, the padded map's edge values repeated beyond its "
        f"edges{_padding_recipe(model)}"
    )


def _padding_recipe(model) -> str:
    """How a script gets the padded map that ``offset_recipe`` moves: a valid net's input is
    mirrored on every side; a same net's graph crops its own padding, so the script pads."""
    m = model.size_multiple
    if model.padding == "valid":
        return (
            f"; a valid net's input is then mirrored by {model.border + m} px (the border and "
            f"a size step) on every side, and the moved map cropped by {m} px on every side"
        )
    return (
        f"; the graph crops its own padding, so mirror the normalised image yourself at the "
        f"bottom and right to the next multiple of {m} px (numpy.pad mode 'reflect'; the "
        f"graph then pads nothing), move its map, then crop it to the image's size (moved "
        f"after the graph's crop, the last row and column can differ)"
    )


def _require_onnx():
    return require_onnx("ONNX export needs")


def require_onnx(needs: str, otherwise: str = ""):
    """The ``onnx`` and ``onnxruntime`` modules; UnetlabError where one is missing, its line
    ``needs`` what, the install and ``otherwise`` (another way, if any)."""
    try:
        import onnx
        import onnxruntime
    except ImportError as exc:
        raise UnetlabError(
            f"{needs} onnx and onnxruntime ({exc.name} is missing): "
            f'pip install "unetlab[onnx]"{otherwise}'
        ) from exc
    return onnx, onnxruntime


def _metadata(model: UNet, pixel_size: float | None = None) -> dict[str, str]:
    meta = {
        "unetlab_config": json.dumps(asdict(model.config)),
        "classes": json.dumps(list(model.classes)),
        "normalization": json.dumps(dict(model.normalization)),
        "normalization_formula": normalization_formula(model.normalization),
        "label_values": json.dumps(model.label_values),
        "border": str(model.border),
        "size_multiple": str(model.size_multiple),
        "min_input_size": str(model.min_input_size),
        "receptive_field": str(model.receptive_field),
        "size_rule": size_recipe(model),
        # a probabilities graph moves its output by the label offset; a logits graph does not
        "label_offset": json.dumps(list(label_offset(model))),
        "label_offset_applied": json.dumps(isinstance(model, ProbabilityUNet)),
        "label_offset_formula": offset_recipe(model),
        # what the graph's output holds: OnnxRunner stands in for UNet.forward (logits) only
        "output": "probabilities" if isinstance(model, ProbabilityUNet) else "logits",
    }
    palette = getattr(model, "palette", None)
    if palette is not None and model.label_values is not None:  # class k: its value's colour
        meta["class_colors"] = json.dumps(class_colours(palette, model.label_values).tolist())
    if (ignore := getattr(model, "ignore_value", None)) is not None:
        meta["ignore_value"] = json.dumps(int(ignore))
    if (channel := getattr(model, "channel", None)) is not None:  # data.channel
        # the image channel(s) the graph's input channels are, in order (a band subset)
        meta["image_channels"] = json.dumps(channel)
    if pixel_size is not None:  # micrometres per pixel of the training images
        meta["pixel_size_um"] = json.dumps(float(pixel_size))
    return meta | source_metadata(model)


def source_metadata(model) -> dict[str, str]:
    """The metadata naming what ``model`` was exported from and with (strings, as ONNX's
    metadata_props hold them): ``source_checkpoint`` and ``source_checkpoint_sha256`` where a
    checkpoint file names it (:func:`unetlab.checkpoint.export_source`), ``exported_with``."""
    meta = {"exported_with": json.dumps(code_identity(), sort_keys=True)}
    if (source := export_source(model)) is not None:
        meta["source_checkpoint"] = json.dumps(source, sort_keys=True)
        meta["source_checkpoint_sha256"] = str(source["sha256"])
    return meta


def exported_source(path: str | os.PathLike) -> dict | None:
    """The source record (:func:`unetlab.checkpoint.export_source`) that the ONNX file,
    TorchScript file or bioimage.io package at ``path`` names; None where it names none
    (exported before unetlab recorded it, or from a model built in Python; a TorchScript
    file ``torch.jit.save`` wrote) or where the record cannot be read (a damaged or foreign export: :func:`readable_source`).
    UnetlabError (one line naming the file) for a file that is no export: bytes onnx cannot
    read as a model, a zip or folder without the rdf.yaml of a package, a missing path."""
    path = Path(path)
    if not path.exists():
        raise UnetlabError(f"{path}: {_NO_EXPORT.format('no such file or folder')}")
    if path.suffix.lower() == ".onnx":
        _require_onnx()
        if (props := onnx_props(path)) is None:
            raise UnetlabError(f"{path}: {_NO_EXPORT.format('no ONNX model onnx can read')}")
    elif zipfile.is_zipfile(path) and (extra := _torchscript_extra(path)) is not None:
        props = extra
    elif is_torchscript(path):  # torch.jit.save's own: no record (it said "no rdf.yaml")
        return None
    else:
        _refuse_no_package(path)
        return source_record(package_record(path).get("source"))
    return readable_source(props)


#: the end of :func:`exported_source`'s refusal of a file that is no export ({}: what it is)
_NO_EXPORT = (
    "{}; give an .onnx or TorchScript file unetlab export wrote, or a bioimage.io package"
    f" (.zip or folder) holding its {RDF_EITHER}"
)


def _torchscript_extra(path: Path) -> dict | None:
    """:func:`~unetlab.checkpoint.torchscript_extra` of the zip ``path``; UnetlabError in
    one line where it is damaged (:func:`~unetlab.packages.damaged_zip`)."""
    try:
        return torchscript_extra(path)
    except ZIP_DAMAGE as exc:
        raise damaged_zip(path, exc) from None


def _refuse_no_package(path: Path) -> None:
    """UnetlabError naming ``path``, a zip or folder without a package's description
    (:data:`~unetlab.packages.RDF_NAMES`; a bare KeyError or FileNotFoundError before,
    s55)."""
    if path.is_dir():
        holds = any((path / name).is_file() for name in RDF_NAMES)
    elif zipfile.is_zipfile(path):
        open_zip(path).close()  # a damaged one is said so (a BadZipFile traceback, s60)
        holds = zipped_package(path)
    else:
        return  # an rdf.yaml itself
    if not holds:
        kind = "a folder" if path.is_dir() else "a zip"
        raise UnetlabError(f"{path}: {_NO_EXPORT.format(f'{kind} without {RDF_EITHER}')}")


def _random(*shape: int) -> torch.Tensor:
    """The check's random input, the same on every export (so are the figures it reports)."""
    return torch.randn(*shape, generator=torch.Generator().manual_seed(0))


#: the export's settings as Python's keywords and the command line's flags name them (a
#: notebook was told --opset and --static, s54)
OPSET = Spelled(f"opset={DEFAULT_OPSET}", f"--opset {DEFAULT_OPSET}")
STATIC = Spelled("dynamic=False", "--static")
ONNX = Spelled("export_onnx(model, PATH)", "--onnx")
STATIC_AT = Spelled(
    "dynamic=False at the size you need (input_size=)", "--static at the size you need"
)


def _too_large(input_size: int, size: str, static: str) -> str:
    """The line of an ``input_size`` too large to trace, naming the size as ``size`` and how
    a fixed size is asked for as ``static`` (a keyword, or a flag: :data:`STATIC`)."""
    return (
        f"{size} {input_size} is larger than unetlab traces ({MAX_TRACE}); trace at a small "
        f"size: the exported height and width are dynamic (or use {static} at most that)"
    )


def check_input_size(model: UNet, input_size: int | None) -> int:
    """The input size an export of ``model`` traces: ``input_size`` (UnetlabError naming
    the nearest valid sizes, or a size too large to trace), or a small valid one for None."""
    return _check_size(model, input_size)


def _check_size(model: UNet, input_size: int | None) -> int:
    if input_size is None:
        # the smallest input that still has every level above 1 px: cheap to trace
        return model.valid_input_sizes(model.min_input_size + 2 * model.size_multiple, 1)[0]
    if input_size > MAX_TRACE:  # the trace runs the net once at this size, in memory
        raise UnetlabError(
            _too_large(input_size, "input_size", STATIC.python),
            cli=_too_large(input_size, "--input-size", STATIC.cli),
        )
    model.output_size(input_size)  # UnetlabError naming the nearest valid sizes
    return input_size


@contextlib.contextmanager
def _opset_hint(opset: int):
    """torch's refusal of an opset it cannot export to, as one line with the fix."""
    if opset < MIN_OPSET:
        raise UnetlabError(f"opset {opset} is too old for this graph: use {MIN_OPSET} or newer")
    try:
        with warnings.catch_warnings():  # torch warns of a too-new opset, then dumps the graph
            warnings.filterwarnings("error", message=r".*opset version \d+ is not supported")
            yield
    except (RuntimeError, Warning) as exc:
        if "opset" not in str(exc).lower():
            raise
        reason = first_line(exc).split(". by ")[0]
        raise UnetlabError(**spelled(f"opset {opset}: {reason}; try {{}}".format, OPSET)) from exc


def claim_exports(
    formats: Mapping[str | os.PathLike, str],
    *,
    inputs: Iterable[str | os.PathLike] = (),
    overwrite: bool = False,
    model: UNet | None = None,
) -> None:
    """The output rule of every export file, ``formats`` mapping each path to its kind
    (``"ONNX"``, ``"TorchScript"``): OutputError (one line, nothing written) for a path that
    is one of ``inputs`` (the checkpoint), a file of a training run, a file whose suffix names
    another format (an image, a .json), an existing file that unetlab export did not
    write, or an export of another checkpoint than ``model``'s (:func:`refuse_other_source`),
    both unless ``overwrite`` (the message names the fix as its caller spells it:
    :func:`unetlab.errors.said_as`); an export of the same model, or of none named, is
    replaced. The paths are listed in their folders' manifests
    (:func:`unetlab.outputs.claim_files`). :func:`export_onnx` and :func:`export_torchscript`
    ask it; ``unetlab export`` asks it for all its files first."""
    if model is not None:  # before claim_files lists them (s68 review)
        refuse_other_source(formats, model, overwrite=overwrite)
    claim_files(
        list(formats),
        inputs=inputs,
        overwrite=overwrite,
        command=EXPORT_COMMAND,
        formats=formats,
    )


def refuse_other_source(
    paths: Iterable[str | os.PathLike], model: UNet, *, overwrite: bool = False
) -> None:
    """OutputError where one of ``paths`` is an export (ONNX, TorchScript, a package) of
    another model than ``model``'s checkpoint (s68 deploy walk: a half-trained run's export
    replaced the deployed model's file without a word), as evaluate keeps a report of another
    model: the :func:`unetlab.model_identity.model_sha256s` of its record and of the
    checkpoint's share none (a best.pt rewritten at its run's end is the same model, whichever
    of the two was exported first, the record keeping the sha256 before the end; one trained
    on since is another). Nothing is refused with ``overwrite``, or for a model that no file
    names."""
    if overwrite or (source := export_source(model)) is None:
        return
    for path in map(Path, paths):
        earlier = _earlier_source(path)
        if earlier is not None and not set(_model_shas(earlier)) & set(_model_shas(source)):
            raise OutputError(**spelled(_other_source_words(path, earlier, source), OVERWRITE))


def _model_shas(source: dict) -> list[str]:
    """The sha256s that name the model of a source record (:func:`export_source`): its
    file's, and the one before its run's end where it records that (s69 deploy walk: an
    export of the ended best.pt refused a copy of best.pt as it was before, as another
    model)."""
    return model_sha256s(source["sha256"], source.get(SAME_MODEL))


def _earlier_source(path: Path) -> dict | None:
    """The source record of the export at ``path``; None where there is none (no file, a
    damaged or foreign one: claim_files' or check_package_target's rules decide it)."""
    if not path.exists():
        return None
    try:
        return exported_source(path)
    except UnetlabError:
        return None


def _other_source_words(path: Path, earlier: dict, source: dict):
    """The refusal of :func:`refuse_other_source`, given the fix (``--overwrite``). A record
    holds the checkpoint's file name only, so where both name the same file ("best.pt", as
    every run, sweep and fold names its own) it cannot tell another run's from one trained on
    since, and says both: "not of this best.pt (sha256 ..., epoch 12, step 96: another
    run's, or trained on since)"."""
    other = source_words(source)
    if earlier["checkpoint"] == source["checkpoint"]:
        other = f"this {source_words(source, note=_SAME_NAME)}"
    return lambda fix: (
        f"{path} is the export of {source_words(earlier)}, not of {other}: give another name, "
        f"or {fix} to replace it"
    )


#: what :func:`_other_source_words` adds where both records name the same file name
_SAME_NAME = ": another run's, or trained on since"


def _model_inputs(model) -> list[str]:
    """The file ``model`` was loaded from (``model.checkpoint``), which no export replaces."""
    source = getattr(model, "checkpoint", None)
    return [source] if source else []


def export_onnx(
    model: UNet,
    path: str | os.PathLike,
    *,
    input_size: int | None = None,
    dynamic: bool = True,
    opset: int = DEFAULT_OPSET,
    check: bool = True,
    tolerance: float = 1e-4,
    pixel_size: float | None = None,
    overwrite: bool = False,
) -> ExportReport:
    """Write ``model`` as an ONNX file at ``path`` (atomically) and check it.

    No file but one an earlier export of the same model wrote is replaced (OutputError: a
    user's file, an image, the model's own checkpoint, another checkpoint's export, a best.pt
    trained on since included;
    ``overwrite=True`` replaces a file of the ONNX format's name that unetlab did not write,
    or another checkpoint's export): :func:`claim_exports`, as ``unetlab export``.
    The other keywords: :func:`write_onnx`."""
    claim_exports(
        {path: "ONNX"},
        inputs=_model_inputs(model),
        overwrite=overwrite,
        model=model,
    )
    return write_onnx(
        model,
        path,
        input_size=input_size,
        dynamic=dynamic,
        opset=opset,
        check=check,
        tolerance=tolerance,
        pixel_size=pixel_size,
    )


def write_onnx(
    model: UNet,
    path: str | os.PathLike,
    *,
    input_size: int | None = None,
    dynamic: bool = True,
    opset: int = DEFAULT_OPSET,
    check: bool = True,
    tolerance: float = 1e-4,
    pixel_size: float | None = None,
) -> ExportReport:
    """Write ``model`` as an ONNX file at ``path`` (atomically) and check it, in a folder
    the caller owns (a package being built): no output rule is asked, :func:`export_onnx`
    is the public way.

    ``input_size``: square H = W traced (a valid input size; default a small one). With
    ``dynamic`` the batch, height and width axes are free (:func:`size_rule`: the graph
    takes any size, :class:`AnySize`). ``check`` runs ONNX Runtime and PyTorch on
    random inputs (when dynamic: batch 2 at another square valid size, and batch 1 at a
    non-square one off the size step) and raises :class:`UnetlabError` if max |difference| exceeds
    ``tolerance`` x max(1, max |logit|).
    """
    onnx, _ = _require_onnx()
    size = _check_size(model, input_size)
    path = Path(path)
    model = model.to("cpu").eval()
    x = torch.randn(1, model.in_channels, size, size)
    _write_graph(onnx, model, x, path, dynamic=dynamic, opset=opset, pixel_size=pixel_size)
    rule = size_rule(model) if dynamic else None
    report = ExportReport(path, tuple(x.shape), None, None, None, dynamic, opset, size_rule=rule)
    if check:
        report = check_onnx(
            model, path, dynamic=dynamic, traced=size, tolerance=tolerance, opset=opset
        )
    log.debug("%s", report.describe())  # the CLI prints it; callers have the report
    return report


def _write_graph(
    onnx, model: UNet, x: torch.Tensor, path: Path, *, dynamic: bool, opset: int, pixel_size
) -> None:
    """Trace ``model`` on ``x`` into an ONNX file at ``path`` (atomically), with unetlab's
    metadata (:func:`_metadata`)."""
    axes = {0: "batch", 2: "height", 3: "width"}
    out_axes = {0: "batch", 2: "out_height", 3: "out_width"}
    with warnings.catch_warnings():
        # the TorchScript exporter is deprecated in favour of one that needs onnxscript;
        # its traces of center_crop's Python conditions are correct for every valid size
        warnings.simplefilter("ignore", (DeprecationWarning, torch.jit.TracerWarning))
        with atomic_path(path) as tmp, torch.no_grad(), _opset_hint(opset):
            torch.onnx.export(
                exportable(model),
                (x,),
                str(tmp),
                dynamo=False,
                input_names=[INPUT_NAME],
                output_names=[OUTPUT_NAME],
                dynamic_axes={INPUT_NAME: axes, OUTPUT_NAME: out_axes} if dynamic else None,
                opset_version=opset,
            )
            proto = onnx.load(str(tmp))
            for key, value in _metadata(model, pixel_size).items():
                entry = proto.metadata_props.add()
                entry.key, entry.value = key, value
            onnx.save(proto, str(tmp))


def check_onnx(
    model: UNet,
    path: str | os.PathLike,
    *,
    dynamic: bool = True,
    traced: int | None = None,
    tolerance: float = 1e-4,
    opset: int = DEFAULT_OPSET,
) -> ExportReport:
    """Compare the ONNX file's logits with ``model``'s on random inputs: (2, C, s, s), s the
    next valid size after ``traced``, and for a dynamic file also (1, C, s + m, s + 2m), m
    the size step, 3 and 1 px more (off the step: the graph runs any size; the PyTorch side
    is :class:`AnySize` too), so a size frozen by the trace, or a square-only graph,
    shows."""
    runner = OnnxRunner(path, outputs=("logits", "probabilities"))  # raw outputs compared
    size = traced or _check_size(model, None)
    shapes = [(1, model.in_channels, size, size)]
    if dynamic:
        size = model.valid_input_sizes(size + model.size_multiple, 1)[0]
        h, w = size + model.size_multiple + 3, size + 2 * model.size_multiple + 1  # any size
        shapes = [(2, model.in_channels, size, size), (1, model.in_channels, h, w)]
    diff = scale = 0.0
    for shape in shapes:
        d, s = _onnx_difference(model, runner, _random(*shape), path)
        diff, scale = max(diff, d), max(scale, s)
    if not diff <= tolerance * max(1.0, scale):
        raise UnetlabError(
            f"{path}: ONNX Runtime differs from PyTorch by {diff:.3g} (logits up to {scale:.3g}); "
            "report this with your torch and onnx versions"
        )
    traced_shape = (1, model.in_channels, traced or size, traced or size)
    return ExportReport(
        Path(path),
        traced_shape,
        shapes[0],
        diff,
        scale,
        dynamic,
        opset,
        size_rule=size_rule(model) if dynamic else None,
        also_checked=shapes[1] if len(shapes) > 1 else None,
    )


def _onnx_difference(model: UNet, runner, x: torch.Tensor, path) -> tuple[float, float]:
    """(max |ONNX - PyTorch|, max |PyTorch logit|) on the input ``x``."""
    with torch.inference_mode():
        expected = exportable(model.to("cpu").eval())(x)
    got = runner(x)
    if got.shape != expected.shape:
        said = f"{path}: ONNX output shape {tuple(got.shape)} differs from PyTorch's "
        raise UnetlabError(
            **spelled(f"{said}{tuple(expected.shape)}: export with {{}}".format, STATIC_AT)
        )
    return float((got - expected).abs().max()), float(expected.abs().max())


# --- TorchScript ------------------------------------------------------------------------


class ProbabilityUNet(UNet):
    """A UNet whose forward returns class probabilities (N, K, H', W') float32: softmax over
    the K classes, or a sigmoid for a one-class net, moved by ``label_offset`` (dy, dx) px as
    unetlab moves its predictions (:mod:`unetlab.inference.offset`: bilinear, the edge values
    repeated; a valid net then loses one more size step per side, so its tiles still abut
    exactly). Same parameters and state-dict keys as the UNet."""

    def __init__(self, *args, label_offset=(0.0, 0.0), **kwargs):
        super().__init__(*args, **kwargs)
        self.label_offset = (float(label_offset[0]), float(label_offset[1]))

    @property
    def offset_crop(self) -> int:
        """Pixels per side the move costs: a size step for a moved valid net, else 0."""
        moved = self.label_offset != (0.0, 0.0)
        return self.size_multiple if moved and self.padding == "valid" else 0

    @property
    def border(self) -> int:
        return super().border + self.offset_crop

    @property
    def min_input_size(self) -> int:
        return super().min_input_size + 2 * self.offset_crop

    def output_size(self, input_size):
        sizes = (input_size,) if isinstance(input_size, int) else tuple(input_size)
        if self.offset_crop and min(sizes) < self.min_input_size:  # the move's crop leaves nothing
            raise UnetlabError(
                f"{min(sizes)} is too small for this net moved by its label offset: "
                f"use {self.min_input_size} or more"
            )
        out = super().output_size(input_size)
        crop = 2 * self.offset_crop
        return out - crop if isinstance(out, int) else tuple(o - crop for o in out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = super().forward(x)
        one = self.config.num_classes == 1
        p = torch.sigmoid(logits) if one else torch.softmax(logits, dim=1)
        if self.label_offset == (0.0, 0.0):
            return p
        p = shift_axis(shift_axis(p, self.label_offset[0], 2), self.label_offset[1], 3)
        c = self.offset_crop
        return p[:, :, c:-c, c:-c] if c else p


def probability_model(model: UNet) -> ProbabilityUNet:
    """A CPU, eval-mode :class:`ProbabilityUNet` with ``model``'s weights, metadata and
    label offset."""
    if not isinstance(model, UNet):  # an EncoderUNet: its layers are not UNet's
        said = "TorchScript and bioimage.io export take the plain U-Net, not a "
        raise UnetlabError(
            **spelled(f"{said}{type(model).__name__}: export it with {{}}".format, ONNX)
        )
    with torch.device("meta"):  # no initial weights drawn: model's replace them all
        net = ProbabilityUNet(**asdict(model.config), label_offset=label_offset(model))
    take_weights(net, model.state_dict())  # copies, on the CPU
    net.classes = list(model.classes)
    net.normalization = dict(model.normalization)
    net.label_values = model.label_values
    net.ignore_value = getattr(model, "ignore_value", None)
    net.palette = getattr(model, "palette", None)
    net.tta = getattr(model, "tta", None)  # the test-time transforms it trained with
    net.channel = getattr(model, "channel", None)  # data.channel: the channel(s) it reads
    net.objects = getattr(model, "objects", None)  # instance mode and object sizes
    net.appearance = getattr(model, "appearance", None)  # the training images' dtype, stats
    # its training's data section: the rows it leaves out of every image (exclude_rows)
    net.training_data = getattr(model, "training_data", None)
    net.source = export_source(model)  # the checkpoint it came from, for the metadata
    net.checkpoint = getattr(model, "checkpoint", None)  # its file (a package's timestamp)
    return net.eval()


def export_torchscript(
    model: UNet,
    path: str | os.PathLike,
    *,
    input_size: int | None = None,
    check: bool = True,
    tolerance: float = 1e-4,
    pixel_size: float | None = None,
    overwrite: bool = False,
) -> ExportReport:
    """Write ``model`` as a traced TorchScript file at ``path`` (atomically) and check it.

    No file but one an earlier export wrote is replaced, as :func:`export_onnx` says
    (:func:`claim_exports`). The other keywords: :func:`write_torchscript`."""
    claim_exports(
        {path: "TorchScript"},
        inputs=_model_inputs(model),
        overwrite=overwrite,
        model=model,
    )
    return write_torchscript(
        model,
        path,
        input_size=input_size,
        check=check,
        tolerance=tolerance,
        pixel_size=pixel_size,
    )


def write_torchscript(
    model: UNet,
    path: str | os.PathLike,
    *,
    input_size: int | None = None,
    check: bool = True,
    tolerance: float = 1e-4,
    pixel_size: float | None = None,
) -> ExportReport:
    """Write ``model`` as a traced TorchScript file at ``path`` (atomically) and check it,
    in a folder the caller owns (no output rule asked: :func:`export_torchscript` is the
    public way).

    The module maps the normalised image (N, C_in, H, W) float32 to class probabilities
    (N, K, H', W') float32 for any batch and any height and width (:class:`AnySize`: the
    graph mirrors the input to the next valid size and crops; traced at ``input_size``, a
    valid size, default a small one). ``check`` runs the loaded file and PyTorch on a random
    (2, C_in, h, w) input of another size, off the size step, and raises :class:`UnetlabError` if max
    |difference| exceeds ``tolerance``.
    """
    net = probability_model(model)
    size = _check_size(net, input_size)  # a moved valid net needs a larger input
    path = Path(path)
    x = torch.randn(1, model.in_channels, size, size)
    extra = {"unetlab.json": json.dumps(_metadata(net, pixel_size))}
    with warnings.catch_warnings():
        # center_crop's Python conditions trace to the same graph for every valid size
        # (valid nets crop each skip by a fixed offset; same nets never crop): the check
        # below runs another size
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        # torch 2.13 deprecates TorchScript for torch.export, whose files deepImageJ and
        # QuPath cannot run
        warnings.simplefilter("ignore", DeprecationWarning)
        # saved to memory: a file's archive is named after it, a temporary name each time
        buffer = io.BytesIO()
        with torch.no_grad(), _own_compilation_unit():
            traced = torch.jit.trace(exportable(net), (x,), check_trace=False)
            torch.jit.save(traced, buffer, _extra_files=extra)
        with atomic_path(path) as tmp:
            tmp.write_bytes(reproducible_archive(buffer.getvalue()))
    report = ExportReport(
        path, tuple(x.shape), None, None, None, True, None, "TorchScript", size_rule(net)
    )
    if check:
        report = check_torchscript(net, path, traced=size, tolerance=tolerance)
    log.debug("%s", report.describe())  # the CLI prints it; callers have the report
    return report


@contextlib.contextmanager
def _own_compilation_unit():
    """Trace into a compilation unit of its own, as in a fresh process: torch names the
    classes of a trace apart from every class it traced before in the process
    (``___torch_mangle_N``, N counting on), so a second export in one process, or one after
    ``--torchscript`` in a ``--bioimageio`` run, gave other bytes. torch's modules read the
    unit from their own ``_python_cu`` names, which are swapped for the block (where a torch
    lacks them, nothing is swapped and only the names may differ)."""
    from torch.jit import _recursive, _state, _trace

    modules = [m for m in (_state, _trace, _recursive) if hasattr(m, "_python_cu")]
    saved = [m._python_cu for m in modules]
    unit = torch._C.CompilationUnit()
    for module in modules:
        module._python_cu = unit
    try:
        yield
    finally:
        for module, old in zip(modules, saved):
            module._python_cu = old


def reproducible_archive(archive: bytes) -> bytes:
    """A TorchScript zip whose bytes depend on its module alone: torch writes a random
    ``.data/serialization_id`` into every file; here it is 40 digits of the sha256 of the
    other records, and the records are stored (uncompressed, as torch stores them) dated
    1980-01-01. The ``.debug_pkl`` records go: they hold the Python stack of the trace
    (the caller's files and lines, the install's absolute paths), which torch reads only to
    say where in the Python source a failing op was traced."""
    with zipfile.ZipFile(io.BytesIO(archive)) as src:
        names = [n for n in src.namelist() if not n.endswith(".debug_pkl")]
        records = {name: src.read(name) for name in names}
    ids = [name for name in records if name.endswith(".data/serialization_id")]
    digest = hashlib.sha256()
    for name, data in records.items():
        if name not in ids:
            digest.update(name.encode() + b"\0" + data)
    for name in ids:
        records[name] = str(int(digest.hexdigest(), 16))[:40].encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst:
        for name, data in records.items():
            dst.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)
    return out.getvalue()


def check_torchscript(
    model: UNet, path: str | os.PathLike, *, traced: int | None = None, tolerance: float = 1e-4
) -> ExportReport:
    """Compare the TorchScript file's probabilities with ``model``'s (softmax or sigmoid of
    its logits) on a random (2, C, h, w) input, h and w the next two valid sizes after
    ``traced``, h 3 px more (off the step: the graph runs any size, :class:`AnySize`), so
    a size frozen by the trace would show."""
    traced = traced or _check_size(model, None)
    h, w = model.valid_input_sizes(traced + model.size_multiple, 2)
    h = h + 3  # off the size step: the graph runs any size (AnySize)
    x = _random(2, model.in_channels, h, w)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # see export_torchscript
        loaded = torch.jit.load(str(path), map_location="cpu")
    net = probability_model(model)
    with torch.inference_mode():
        expected = exportable(net)(x)
        got = loaded(x)
    if got.shape != expected.shape:
        raise UnetlabError(
            f"{path}: TorchScript output shape {tuple(got.shape)} differs from PyTorch's "
            f"{tuple(expected.shape)}; report this with your torch version"
        )
    diff = float((got - expected).abs().max())
    if not diff <= tolerance:
        raise UnetlabError(
            f"{path}: TorchScript differs from PyTorch by {diff:.3g}; "
            "report this with your torch version"
        )
    shape = (1, model.in_channels, traced, traced)
    return ExportReport(
        Path(path), shape, tuple(x.shape), diff, 1.0, True, None, "TorchScript", size_rule(net)
    )


class OnnxRunner:
    """An ONNX Runtime session that behaves like ``UNet.forward`` for the tiling engine:
    (N, C_in, h, w) float tensor in, (N, K, h', w') float32 CPU tensor out.

    Carries the net's size facts from the file's metadata (``border``, ``size_multiple``,
    ``min_input_size``, ``receptive_field``, ``in_channels``, ``num_classes``, ``classes``,
    ``normalization``, ``label_values``), so ``tiling.Geometry.of(runner)`` works.
    ``threads``: ONNX Runtime intra-op threads (default: the CPUs this process may use).
    ``outputs``: what the graph may return (its ``output`` metadata): logits only by default,
    since the tiling engine applies the softmax itself.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        threads: int | None = None,
        outputs: tuple[str, ...] = ("logits",),
    ):
        path = Path(path)
        self.session = _onnx_session(path, threads)
        self.input_name = self.session.get_inputs()[0].name
        meta = self.session.get_modelmeta().custom_metadata_map
        _check_unetlab_graph(path, meta, outputs)
        self.config = json.loads(meta["unetlab_config"])
        self.classes = json.loads(meta["classes"])
        self.normalization = json.loads(meta["normalization"])
        self.label_values = json.loads(meta["label_values"])
        self.border = int(meta["border"])
        self.size_multiple = int(meta["size_multiple"])
        self.min_input_size = int(meta["min_input_size"])
        self.receptive_field = int(meta["receptive_field"])
        self.in_channels = int(self.config["in_channels"])
        self.num_classes = int(self.config["num_classes"])
        self.padding = self.config.get("padding", "same")  # encoder nets are "same"
        # the checkpoint it was exported from (None: not recorded)
        self.source = readable_source(meta)
        if meta.get("output", "logits") == "logits":  # moved by probability_fn, as the UNet's
            self.label_offset = tuple(json.loads(meta.get("label_offset", "[0, 0]")))
        self.path, self.any_size = path, runs_any_size(meta)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if not self.any_size:
            _refuse_off_old_rule(self, x.shape[-2], x.shape[-1])
        array = np.ascontiguousarray(x.detach().to("cpu", torch.float32).numpy())
        (out,) = self.session.run(None, {self.input_name: array})
        return torch.from_numpy(out)


def runs_any_size(meta: Mapping[str, str]) -> bool:
    """Whether an exported graph with metadata ``meta`` runs any height and width
    (:class:`AnySize`): its ``size_rule`` says so. Graphs exported before (999dd4dd for
    valid-padding nets, 98f83b36 for same-padding ones) said "height and width must be ...",
    or had no ``size_rule`` (before 91a99c39): off that rule they failed inside (a same net)
    or returned a wrong map (a valid net)."""
    return str(meta.get("size_rule", "")).startswith("any height and width")


def _refuse_off_old_rule(runner: OnnxRunner, h: int, w: int) -> None:
    """UnetlabError in one line where ``runner``'s graph, exported before graphs ran any
    size (:func:`runs_any_size`), is given a height or width off its rule (``min_input_size``
    + a multiple of ``size_multiple``), instead of ONNX Runtime's error from inside the graph
    or a wrong map."""
    low, step = runner.min_input_size, runner.size_multiple
    if all(n >= low and (n - low) % step == 0 for n in (int(h), int(w))):
        return
    rule = f"multiples of {step}" if low == step else f"{low} + a multiple of {step}"
    raise UnetlabError(
        f"{runner.path}: exported by an earlier unetlab, whose graph runs only heights and "
        f"widths of {rule} px, not {int(h)} x {int(w)}: export it again (unetlab export "
        f"--checkpoint CKPT --onnx {runner.path}), and the graph runs any size"
    )


def _onnx_session(path: Path, threads: int | None):
    """An ONNX Runtime CPU session of the file at ``path`` (``threads`` intra-op threads,
    default the CPUs this process may use); a missing or unloadable file refused."""
    _, ort = _require_onnx()
    if not path.is_file():
        raise UnetlabError(f"{path}: no such ONNX file")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or available_cpus()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    from onnxruntime.capi import onnxruntime_pybind11_state as ort_errors

    load_errors = (
        ort_errors.InvalidProtobuf,
        ort_errors.InvalidGraph,
        ort_errors.Fail,
        ort_errors.NoSuchFile,
        ort_errors.InvalidArgument,
    )
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except load_errors as exc:
        raise UnetlabError(f"{path}: ONNX Runtime cannot load it ({exc})") from exc


def _check_unetlab_graph(path: Path, meta: dict, outputs: tuple[str, ...]) -> None:
    """Refuse a file unetlab did not export, or whose graph returns none of ``outputs``."""
    if "unetlab_config" not in meta:
        raise UnetlabError(f"{path}: not exported by unetlab (no unetlab_config metadata)")
    if meta.get("output", "logits") not in outputs:
        raise UnetlabError(
            f"{path}: its graph returns {meta['output']} (the ONNX weights of a bioimage.io "
            "package); for unetlab give the checkpoint, or export it with --onnx"
        )
