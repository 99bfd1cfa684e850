"""bioimage.io model packages (the BioImage Model Zoo's format 0.5): export and import.

A package is a folder (or a .zip of it) that deepImageJ (Fiji), ilastik, QuPath and
``bioimageio.core`` run without unetlab::

    rdf.yaml                 the description: axes, tiling rule, pre-processing, weights, ...
    README.md                what the model does, its classes, and a "Validation" section
    cover.png                the test image beside its prediction
    test_input.npy           (1, C, H, W) float32, the raw image (before normalisation)
    test_output.npy          (1, K, H', W') float32, the class probabilities unetlab predicts
    sample_input.tif,        the same as (C, H, W) and (K, H', W') TIFFs (the format's
    sample_output.tif        "sample tensors", for viewers)
    weights.pt               the state dict of ...
    unet_architecture.py     ... this self-contained module (torch only), callable
                             ``ProbabilityUNet(**kwargs)``
    weights_torchscript.pt   the traced module (what deepImageJ and QuPath run)
    weights.onnx             the same net for ONNX Runtime

Every weight format maps the normalised image to class probabilities (softmax over the
classes, sigmoid for a one-class net), so the package needs no post-processing. The
normalisation is the format's own pre-processing step: ``zero_mean_unit_variance`` over y and x
per sample and channel for unetlab's ``per_image``, ``fixed_zero_mean_unit_variance`` for
``fixed`` and ``dataset``, ``scale_linear`` by 1 / the sample's dtype maximum for ``scale``,
``scale_range`` with the model's two percentiles over y and x for ``percentile``, ``clip`` to
the training foreground's percentiles then ``fixed_zero_mean_unit_variance`` for ``ct`` (one
range for every channel: a model of several channels clipped each to its own is refused).

A pixel size becomes the space axes' ``unit`` and ``scale`` in the coarsest unit in which the
format's sums ``n * scale / scale`` come out exact (:func:`axis_scale`: 0.5 micrometer, 325
nanometer for 0.325 µm). Where ``bioimageio.spec`` is installed, the finished package is
loaded through it (``load_description``) before it is published: one it finds invalid is
unetlab's bug, raised, and nothing is written (:func:`spec_problems`). An instance model's
README says how unetlab makes objects of its three maps
(:func:`unetlab.inference.object_recipe.object_recipe`), and its tags say
``instance-segmentation``.

The package names its source (audit s34 repro F6): ``config.unetlab.source`` holds the
checkpoint's file name, sha256, training epoch and step and the code that trained it
(:func:`unetlab.checkpoint.export_source`), ``config.unetlab.exported_with`` the code that
exported it, and the README says the same in a line; its weight files carry the record in their
own metadata. Exporting one checkpoint twice with the same options gives the same files: the
rdf's ``timestamp`` is when the checkpoint file was written (its modification time), not the
export's, and a .zip's members are dated 1980-01-01 in name order.

Import (:func:`unetlab.packages.load_package`) reads back a package whose ``pytorch_state_dict`` weights are a unetlab UNet
(what :func:`export_bioimageio` writes), from a folder, a .zip or an ``rdf.yaml``; a zip is
read member by member (nothing extracted), member names that leave the package are refused,
and the weights are read with ``torch.load(weights_only=True)``.

A package is built beside its path in ``.<name>.<12 hex digits>.tmp`` (the form of
``unetlab.outputs.TEMPORARY``), a folder the export holds (``flock`` on the folder itself,
dropped by the kernel however the process ends) and then renames into place (or zips); the
next export of that name removes the build folders no export holds any more, left by one
that was killed (:func:`remove_stale_builds`: each holds copies of the weights).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging
import math
import os
import re
import secrets
import string
import zipfile
from collections.abc import Collection, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import numpy as np
import tifffile
import torch
import yaml

from unetlab.atomic import atomic_path, remove_tree, write_error
from unetlab.checkpoint import export_source, package_format
from unetlab.data.checks import nonfinite_count
from unetlab.data.datasets import training_split
from unetlab.data.exclude import as_config, shown
from unetlab.data.grey_masks import trained_grey_masks
from unetlab.data.io import grey_for_stains, read_image, write_png
from unetlab.data.normalize import channels_of
from unetlab.data.pairs import PairReader
from unetlab.errors import DatasetError, Spelled, UnetlabError, said_as, spelled
from unetlab.inference.export import (
    ProbabilityUNet,
    probability_model,
    refuse_other_source,
    require_onnx,
    write_onnx,
    write_torchscript,
)
from unetlab.inference.object_recipe import is_instance_model, object_recipe
from unetlab.inference.offset import describe_offset, label_offset
from unetlab.inference.pages import stains_of, trained_axes
from unetlab.inference.predict import trained_exclude_rows
from unetlab.models import UNet
from unetlab.outputs import try_hold
from unetlab.packages import sha256_hex, zipped_package
from unetlab.provenance import code_identity
from unetlab.words import numbered, worded
from unetlab.zip_damage import ZipFixes, open_zip, read_member

log = logging.getLogger(__name__)

FORMAT_VERSION = "0.5.4"
INPUT_ID, OUTPUT_ID = "raw", "probabilities"
WEIGHT_FORMATS = ("torchscript", "onnx", "pytorch_state_dict")
FILES = {
    "torchscript": "weights_torchscript.pt",
    "onnx": "weights.onnx",
    "pytorch_state_dict": "weights.pt",
    "architecture": "unet_architecture.py",
}
#: archive suffixes a package path may not have (only .zip is written as an archive)
ARCHIVES = {".tar", ".gz", ".tgz", ".bz2", ".xz", ".zst", ".7z", ".rar"}
UNET_CITATION = {
    "text": "Ronneberger, O., Fischer, P., Brox, T. U-Net: Convolutional Networks for "
    "Biomedical Image Segmentation. MICCAI 2015, LNCS 9351, 234-241.",
    "doi": "10.1007/978-3-319-24574-4_28",
}


@dataclass(frozen=True)
class PackageInfo:
    """What a package says about its model besides the weights.

    ``pixel_size``: micrometres per pixel of the training images (None: unknown, the axes
    get no unit). ``description``, ``tags``: None gives the model's (:func:`description`,
    :func:`tags`: an instance model's name instance segmentation).
    """

    name: str = "unetlab U-Net"
    description: str | None = None
    authors: tuple[str, ...] = ("unetlab user",)
    license: str = "MIT"
    pixel_size: float | None = None
    tags: tuple[str, ...] | None = None

    def __post_init__(self):
        allowed = set(string.ascii_letters + string.digits + "_+- ()")
        if not 5 <= len(self.name) <= 128 or not set(self.name) <= allowed:
            said = f"model name {self.name!r}: bioimage.io wants 5-128 letters, digits, spaces "
            # the name stays out of a format ('my {model}' raised KeyError)
            raise UnetlabError(**spelled(lambda n: f"{said}and _+-(); choose another {n}", NAME))
        if not self.authors:
            raise UnetlabError(
                **spelled("a bioimage.io package needs at least one {}".format, AUTHOR)
            )
        if bad := [a for a in self.authors if not a.strip() or set(a) & set("/\\")]:
            raise UnetlabError(**spelled(functools.partial(_bad_author, bad[0]), AUTHOR))
        size = self.pixel_size
        if size is not None and not (math.isfinite(size) and size > 0):
            said = "{} must be a positive number of micrometres, not " + str(size)
            raise UnetlabError(**spelled(said.format, PIXEL_SIZE))


#: the package's settings as :class:`PackageInfo`'s keywords and ``unetlab export``'s flags
#: name them (a notebook was told --author and --sample, s54)
NAME = Spelled("name (PackageInfo(name=...))", "--name")
AUTHOR = Spelled("author (PackageInfo(authors=('Ada Lovelace',)))", "--author")
PIXEL_SIZE = Spelled("pixel_size", "--pixel-size")
SAMPLE = Spelled("sample=", "--sample")


def _bad_author(author: str, name: str) -> str:
    """The line of an ``author`` bioimage.io cannot take, one given as ``name`` says."""
    return (
        f"author {author!r}: bioimage.io wants a name without / or \\ (e.g. 'Ada Lovelace'); "
        f"give each as one {name}"
    )


# --- the architecture file --------------------------------------------------------------


def architecture_source() -> str:
    """A self-contained Python module (torch only) defining ``ProbabilityUNet``, built from
    unetlab's own model sources, so the package's state dict loads without unetlab."""
    from unetlab import errors
    from unetlab.inference import offset
    from unetlab.models import architecture, blocks, sizes
    from unetlab.models import unet as unet_module

    imports: list[str] = []
    bodies: list[str] = [inspect.getsource(errors.UnetlabError).rstrip("\n")]
    for module in (sizes, architecture, blocks, unet_module):
        body = []
        for line in inspect.getsource(module).splitlines():
            if line.startswith(("from __future__", "from unetlab")):
                if line.endswith("("):  # its names would follow on lines kept as code
                    raise RuntimeError(f"{module.__name__}: write {line!r} on one line")
                continue
            if line.startswith(("import ", "from ")):
                if line not in imports:
                    imports.append(line)
                continue
            if line == "@refuses_assignment":  # unetlab's words for a notebook (errors.py)
                continue
            body.append(line)
        bodies.append("\n".join(body).strip("\n"))
        if module is sizes:
            # unet.py calls the size functions as sizes.<name>
            bodies.append("sizes = types.SimpleNamespace(**globals())")
    head = (
        '"""A U-Net (Ronneberger et al. 2015) returning class probabilities, written by unetlab\n'
        "from its modules errors.py (UnetlabError), models/sizes.py, models/architecture.py,\n"
        "models/blocks.py, models/unet.py, inference/offset.py and inference/export.py.\n"
        'Needs only torch: ProbabilityUNet(**kwargs).load_state_dict(torch.load("weights.pt")).'
        '\n"""\n\nfrom __future__ import annotations\n\nimport types\n'
    )
    moves = [inspect.getsource(f) for f in (offset._along, offset._source, offset.shift_axis)]
    tail = inspect.getsource(ProbabilityUNet)
    parts = [head + "\n".join(imports), *bodies, *moves, tail]
    return "\n\n\n".join(p.rstrip("\n") for p in parts) + "\n"


# --- export -----------------------------------------------------------------------------


def export_bioimageio(
    model: UNet,
    dest: str | os.PathLike,
    *,
    info: PackageInfo | None = None,
    sample: np.ndarray | str | os.PathLike | None = None,
    weight_formats: tuple[str, ...] = WEIGHT_FORMATS,
    opset: int = 17,
    overwrite: bool = False,
) -> Path:
    """Write ``model`` as a bioimage.io model package at ``dest``: a folder, or a ``.zip``.

    ``sample``: an (H, W[, C]) image (or its file) for the test tensors and the cover,
    large enough for the test size (default: an image of the checkpoint's own validation
    data when it can be found, else a synthetic EM image; which one is said in a log line:
    :func:`default_sample`). ``weight_formats``: a subset of ``WEIGHT_FORMATS``. Each
    exported format is checked against PyTorch (max abs difference <= 1e-4). ``dest`` is
    replaced only when it is a package unetlab wrote, of the same model unless ``overwrite``
    (:func:`~unetlab.inference.export.refuse_other_source`): a zip atomically, a folder built
    beside it and renamed into place (a plain mkdir's mode, 0777 less the umask), after the
    build folders a killed export of ``dest`` left are removed (:func:`remove_stale_builds`).
    """
    info = info or PackageInfo()
    dest = Path(dest)
    check_package_target(dest, weight_formats)
    refuse_other_source([dest], model, overwrite=overwrite)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_error(dest, exc) from exc
    remove_stale_builds(dest)
    with _work_folder(dest) as build:
        net = probability_model(model)
        image = _sample_image(sample, model, sample_size(net))
        _write_package(net, build, info, image, weight_formats, opset)
        _check_with_spec(build, dest)
        if dest.suffix.lower() == ".zip":
            _zip_folder(build, dest)
        else:
            _replace_folder(build, dest)
    log.debug("wrote bioimage.io package %s", dest)  # the CLI prints it
    if "floor" in model.normalization:
        log.warning("%s: %s", dest.name, FLOOR_NOTE)
    if model.normalization.get("ignore_saturated"):
        log.warning("%s: %s", dest.name, SATURATED_NOTE)
    if rows := trained_exclude_rows(model):
        log.warning("%s: %s", dest.name, EXCLUDED_NOTE.format(shown(rows)))
    if model.normalization.get("tissue"):
        log.warning("%s: %s", dest.name, TISSUE_NOTE)
    return dest


def _write_package(net, folder: Path, info: PackageInfo, image, formats, opset) -> None:
    size = sample_size(net)
    raw, expected = _test_tensors(net, image, size)
    np.save(folder / "test_input.npy", raw)
    np.save(folder / "test_output.npy", expected)
    for name, tensor in (("sample_input.tif", raw[0]), ("sample_output.tif", expected[0])):
        # (C, Y, X) as channels: 3 of them are no RGB picture (tifffile's default for now)
        tifffile.imwrite(folder / name, tensor, photometric="minisblack", metadata={"axes": "CYX"})
    _write_cover(folder / "cover.png", image, expected[0], size)
    checks = {}
    if "pytorch_state_dict" in formats:
        torch.save(net.state_dict(), folder / FILES["pytorch_state_dict"])
        (folder / FILES["architecture"]).write_text(architecture_source())
    with _quiet("unetlab.inference.export"):  # its lines would name the temporary folder
        if "torchscript" in formats:
            checks["torchscript"] = write_torchscript(net, folder / FILES["torchscript"])
        if "onnx" in formats:
            checks["onnx"] = write_onnx(net, folder / FILES["onnx"], opset=opset)
    for name, report in checks.items():
        log.info("%s weights: max abs diff from PyTorch %.2e", name, report.max_abs_diff)
    rdf = model_rdf(net, info, formats, opset=opset, dtype=image.dtype)
    (folder / "README.md").write_text(readme(net, info, checks, size))
    rdf = _add_hashes(rdf, folder)
    (folder / "rdf.yaml").write_text(yaml.safe_dump(rdf, sort_keys=False, allow_unicode=True))


def spec_problems(rdf: Path) -> list[str] | None:
    """The errors ``bioimageio.spec`` finds in the package of ``rdf`` (its rdf.yaml), each
    ``where: what`` ([]: valid); None where bioimageio.spec is not installed, or is too old
    to know the format version unetlab writes (:data:`FORMAT_VERSION`)."""
    try:
        from bioimageio.spec import InvalidDescr, load_description
        from bioimageio.spec.model.v0_5 import ModelDescr
    except ImportError:
        return None
    known = tuple(getattr(ModelDescr, "implemented_format_version_tuple", ()))
    if known < tuple(int(v) for v in FORMAT_VERSION.split(".")):
        log.info("bioimageio.spec knows format %s, not %s: not checked", known, FORMAT_VERSION)
        return None
    descr = load_description(rdf, perform_io_checks=True)
    if not isinstance(descr, InvalidDescr):
        return []
    details = descr.validation_summary.details
    found = [f"{'.'.join(map(str, e.loc))}: {e.msg}" for d in details for e in d.errors]
    return found or [descr.validation_summary.status]


def _check_with_spec(build: Path, dest: Path) -> None:
    """RuntimeError (unetlab's bug) where bioimageio.spec, if installed, finds the package
    just built in ``build`` invalid: ``dest`` is then left as it was."""
    problems = spec_problems(build / "rdf.yaml")
    if problems is None:
        return
    from bioimageio.spec import __version__ as version

    if problems:
        raise RuntimeError(
            f"bioimageio.spec {version} finds the package invalid, so {dest} was not written: "
            + "; ".join(problems[:5])
        )
    log.info("bioimageio.spec %s finds the package valid", version)


@contextlib.contextmanager
def _quiet(logger_name: str):
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _sample_image(sample, model: UNet, size: int) -> np.ndarray:
    if sample is None:
        image = default_sample(model, size)
    elif isinstance(sample, np.ndarray):
        image = sample
    else:
        image = read_image(sample)
    if model.in_channels > 1 and image.ndim == 2:  # a grey sample given (never the default)
        # refused as predict refuses it for a stains model, else repeated, as said
        if (stains := stains_of(model)) is not None:
            name = "the sample image" if isinstance(sample, np.ndarray) else str(sample)
            raise UnetlabError(grey_for_stains(name, stains, model.in_channels))
        log.warning(
            "the sample image is grey, the model takes %d channels: its channel is repeated "
            "(the test tensors and the cover show an image unlike the training ones; give an "
            "image like them as %s)",
            model.in_channels,
            said_as(SAMPLE),
        )
        image = np.repeat(image[:, :, None], model.in_channels, axis=2)
    if count := nonfinite_count(np.asarray(image), channel_axis=image.ndim == 3):
        name = "the sample image" if isinstance(sample, np.ndarray | None) else str(sample)
        said = f"{name}: {numbered(count, 'NaN or infinite pixel')}: the package's test tensors would be NaN"
        raise UnetlabError(  # the path stays out of a format (s{x}.tif raised KeyError)
            **spelled(
                lambda s: f"{said}; replace them (e.g. with 0) or give another image as {s}", SAMPLE
            )
        )
    channels = channels_of(image)
    if channels != model.in_channels:
        said = f"the sample image has {numbered(channels, 'channel')}, the model takes {model.in_channels}"
        raise UnetlabError(
            **spelled(f"{said}: give an image like the training images as {{}}".format, SAMPLE)
        )
    return image


def default_sample(model: UNet, size: int) -> np.ndarray:
    """The sample image when none is given: the first image of the checkpoint's validation
    split (:func:`validation_image`) of at least ``size`` x ``size`` px, else a synthetic EM
    image, its one channel repeated into the model's channels (a grey stand-in for a
    model of stains is not refused as a grey sample given is: review s47); which one, and
    why, said in one log line (the stand-in was said to be "the sample image is grey", of a
    sample never given: review s48)."""
    image, found = validation_image(model, size)
    if image is not None:
        log.info(
            "sample image: %s, from the checkpoint's validation data (%s gives another)",
            found,
            said_as(SAMPLE),
        )
        return image
    from unetlab.data.synthetic import synthetic_em

    n = model.in_channels
    repeated = f", its one channel repeated into the model's {n}" if n > 1 else ""
    log.warning(
        "sample image: a synthetic EM image (%s)%s; an image like the training images as %s "
        "gives the test tensors and the cover a real one",
        found,
        repeated,
        said_as(SAMPLE),
    )
    image = synthetic_em(512, np.random.default_rng(0))[0]
    return np.repeat(image[:, :, None], n, axis=2) if n > 1 else image


def validation_image(model: UNet, size: int) -> tuple[np.ndarray | None, str]:
    """(the first image of the validation split of the data that trained ``model`` with its
    channels and at least ``size`` px a side, its file) or (None, why there is none).

    The split is made again from the checkpoint's record (``model.training_data``) as
    training made it (:func:`unetlab.data.datasets.training_split`)."""
    try:
        _, val = training_split(getattr(model, "training_data", None))
    except DatasetError as exc:
        return None, str(exc)
    names = getattr(model, "channel_names", None)  # trained by name: found in each file
    read = PairReader(names[0] if names else getattr(model, "channel", None))
    for pair in val:
        try:
            channel = read.index(pair)  # s70 review: the first file's index read panCK
        except DatasetError:  # no channel of the trained name: no sample (s70 review: rc 2)
            continue
        image = read.stack(pair.image, mask=False, axes=pair.axes)[pair.page]
        wanted = channel if isinstance(channel, list) else [channel]
        if channel is not None and image.ndim == 3 and max(wanted) < image.shape[2]:
            image = image[:, :, channel]  # the channel(s) it was trained on (data.channel)
        channels = channels_of(image)
        if channels == model.in_channels and min(image.shape[:2]) >= size:
            return image, pair.image_page
    root, named = model.training_data["root"], f"a channel {names[0]!r}, " if names else ""
    return None, (
        f"none of the {len(val)} validation images of {root} has "
        f"{named}{numbered(model.in_channels, 'channel')} and {size} px a side"
    )


def halo(model: UNet) -> int:
    """Output pixels per side a tile of a same-padding net should drop, a multiple of the
    size step; 0 for valid nets.

    A tiler (bioimage.io's) starts its first tile a halo before the image: off the step the
    net would see the image on a shifted pooling grid (a halo of 44 for a depth-4 net left
    bioimageio.core's map up to 0.8 from unetlab's). And a pixel sees the zero padding of a
    tile's edge from further in than half the receptive field: through the pools and
    up-samplings up to a size step and one pixel more (measured on random nets of depth 2-5,
    transposed and bilinear up-sampling: 9, 25, 53, 109 px for half-fields of 8, 20, 44, 92;
    ``tests/test_bioimageio.py``), so the halo is that, rounded up to the step."""
    if model.padding != "same":
        return 0
    step = model.size_multiple
    reach = model.receptive_field // 2 + step + 1
    return -(-reach // step) * step


def min_tile_size(model: UNet) -> int:
    """The smallest valid input of the package: a same net's must exceed twice the halo."""
    if model.padding == "valid":
        return model.min_input_size
    step = model.size_multiple
    return (2 * halo(model) // step + 1) * step


def sample_size(model: UNet) -> int:
    """The test tensors' square input size: a valid size whose output keeps >= 64 px beyond
    the lost border or halo, and at least 128 px."""
    near = max(128, 2 * (model.border + halo(model)) + 64)
    lower, upper = _nearest(model, near)
    return lower if lower == near else upper


def _nearest(model: UNet, size: int) -> tuple[int | None, int]:
    from unetlab.models.sizes import nearest_valid_sizes

    return nearest_valid_sizes(size, model.depth, model.padding)


def _centre_crop(image: np.ndarray, size: int) -> np.ndarray:
    h, w = image.shape[:2]
    if h < size or w < size:
        said = f"the sample image is {h} x {w} px, the package's test input needs {size} x {size}"
        raise UnetlabError(**spelled(f"{said}: give a larger image as {{}}".format, SAMPLE))
    top, left = (h - size) // 2, (w - size) // 2
    return image[top : top + size, left : left + size]


def _test_tensors(net: ProbabilityUNet, image: np.ndarray, size: int):
    """(1, C, s, s) float32 raw input and (1, K, s', s') float32 probabilities unetlab gives."""
    from unetlab.data.normalize import normalize

    crop = _centre_crop(image, size)
    raw = np.asarray(crop, dtype=np.float32)
    raw = (raw[None] if raw.ndim == 2 else np.moveaxis(raw, -1, 0))[None]
    x = torch.from_numpy(normalize(crop, net.normalization))[None]
    with torch.inference_mode():
        expected = net(x).numpy()
    return np.ascontiguousarray(raw), expected


def _write_cover(path: Path, image: np.ndarray, probs: np.ndarray, size: int) -> None:
    """The test input (the part the output covers) beside its labels drawn over it: 2:1."""
    from unetlab.inference.predict import labels_from_probabilities
    from unetlab.plots import display_rgb, overlay

    crop = _centre_crop(image, size)
    out = probs.shape[-1]
    shown = _centre_crop(crop, out)
    labels = labels_from_probabilities(probs)
    write_png(path, np.concatenate([display_rgb(shown), overlay(shown, labels)], axis=1))


# --- the description ----------------------------------------------------------------------


#: what a package cannot say of unetlab's normalisation (its README, and a line at export)
FLOOR_NOTE = (
    "unetlab also keeps the std (or percentile range) at or above a floor, half the least "
    "contrast of the training images, so that an empty field is not stretched into objects; "
    "bioimage.io's preprocessing cannot say that, so other tools stretch empty fields "
    "(`unetlab predict` on this package does not)"
)


#: the same for the percentiles that leave saturated pixels out (``ignore_saturated``)
SATURATED_NOTE = (
    "unetlab's percentiles leave out saturated pixels (the dtype's maximum, e.g. a data bar's "
    "text; with camera_ceiling, a 12-bit camera's 4095 in a 16-bit file too); bioimage.io's "
    "scale_range counts them, so other tools normalise images with many saturated pixels "
    "otherwise (`unetlab predict` on this package does not)"
)


#: and for per-image statistics over the tissue only (``tissue``: bright-field glass left out)
TISSUE_NOTE = (
    "unetlab takes each image's mean and std over its tissue only (pixels with a channel "
    "under 0.85 of the dtype's maximum: glass left out); bioimage.io's zero_mean_unit_variance "
    "counts every pixel, so other tools scale a slide with much glass otherwise (`unetlab "
    "predict` on this package does not)"
)


#: and for the rows a model leaves out of every image (data.exclude_rows: a data bar)
EXCLUDED_NOTE = (
    "the model leaves rows {} of every image out (a data bar); bioimage.io's description "
    "cannot say that, so other tools predict them (`unetlab predict` on this package does not)"
)


def preprocessing(model: UNet, dtype: np.dtype) -> list[dict]:
    """unetlab's normalisation in the format's terms (see the module docstring)."""
    spec = model.normalization
    mode = spec.get("mode")
    if mode == "per_image":
        return [{"id": "zero_mean_unit_variance", "kwargs": {"axes": ["y", "x"], "eps": 1e-6}}]
    if mode in ("fixed", "dataset"):  # dataset: the training images' mean and std
        return [_fixed_step(model, spec)]
    if mode == "ct":  # clipped to the foreground's percentiles, then its mean and std
        return [_clip_step(model, spec), _fixed_step(model, spec)]
    if mode == "scale":
        top = float(np.iinfo(dtype).max) if np.issubdtype(dtype, np.integer) else 1.0
        return [{"id": "scale_linear", "kwargs": {"gain": 1.0 / top, "offset": 0.0}}]
    if mode == "percentile":
        return [{"id": "scale_range", "kwargs": _percentile_kwargs(spec)}]
    raise UnetlabError(
        f"normalization mode {mode!r} has no bioimage.io equivalent: export --onnx or "
        "--torchscript (their metadata gives the formula), or train with per_image, fixed, "
        "scale or percentile normalisation"
    )


def _fixed_step(model: UNet, spec: dict) -> dict:
    """The format's ``fixed_zero_mean_unit_variance`` of ``spec``'s mean and std (floored at
    1e-6, as unetlab), one of each per channel."""
    mean = _each_channel(model, spec["mean"])
    std = _each_channel(model, np.maximum(np.asarray(spec["std"], float), 1e-6))
    kwargs = {"mean": mean, "std": std, "axis": "channel"}
    return {"id": "fixed_zero_mean_unit_variance", "kwargs": kwargs}


def _each_channel(model: UNet, values) -> list[float]:
    """``values`` (one, or one per channel) as a float for each of the model's channels."""
    return [float(v) for v in np.broadcast_to(np.asarray(values, float), (model.in_channels,))]


def _clip_step(model: UNet, spec: dict) -> dict:
    """The ``ct`` mode's clip (to the training foreground's ``lower`` and ``upper``) as the
    format's ``clip``, which takes one range for every channel: exact where the channels
    share one (a CT volume's one channel); UnetlabError for a model of channels clipped
    each to its own."""
    lower, upper = _each_channel(model, spec["lower"]), _each_channel(model, spec["upper"])
    if len(set(lower)) > 1 or len(set(upper)) > 1:
        raise UnetlabError(
            f"normalization mode ct clips each of the {model.in_channels} channels to its "
            "own range, and bioimage.io's clip takes one range for all: export --onnx or "
            "--torchscript (their metadata gives the formula)"
        )
    return {"id": "clip", "kwargs": {"min": lower[0], "max": upper[0]}}


def _percentile_kwargs(spec: dict) -> dict:
    """unetlab's ``percentile`` mode as the format's ``scale_range``: per image and channel
    (axes y, x), linear percentiles as numpy's, no clipping, as unetlab; the format adds
    ``eps`` to the range where unetlab floors the range at it (1e-6: the same wherever the
    range exceeds it: 1.2e-7 apart, float32 rounding, on a 16-bit image; bench/README.md)."""
    from unetlab.data.normalize import PERCENTILES, STD_FLOOR

    low, high = float(spec.get("low", PERCENTILES[0])), float(spec.get("high", PERCENTILES[1]))
    if high <= 1:  # the format's own limit, against percentiles given as fractions
        raise UnetlabError(
            f"the high normalisation percentile is {high}: bioimage.io's scale_range takes "
            "more than 1; export --onnx or --torchscript instead"
        )
    return {"axes": ["y", "x"], "min_percentile": low, "max_percentile": high, "eps": STD_FLOOR}


def check_exportable(model: UNet) -> None:
    """UnetlabError, before anything is written, for a model no package can hold (not the
    plain U-Net, or a normalisation the format cannot say)."""
    probability_model(model)
    preprocessing(model, np.dtype(np.uint16))


def _space_axes(model: UNet, info: PackageInfo, *, output: bool) -> list[dict]:
    axes = []
    for axis in ("y", "x"):
        entry: dict = {"type": "space", "id": axis}
        if not output:
            entry["size"] = {"min": min_tile_size(model), "step": model.size_multiple}
        else:
            # valid nets: output = input - the border lost on both sides
            offset = -2 * model.border
            entry["size"] = {"tensor_id": INPUT_ID, "axis_id": axis, "offset": offset}
            if model.padding == "same":
                entry["halo"] = halo(model)
        if info.pixel_size is not None:
            unit, scale = axis_scale(info.pixel_size)
            entry.update(unit=unit, scale=scale)
        axes.append(entry)
    return axes


#: the units an axis's scale may be written in, with their size in 10^-k micrometres
LENGTH_UNITS = (
    ("micrometer", 0),
    ("nanometer", 3),
    ("picometer", 6),
    ("femtometer", 9),
    ("attometer", 12),
    ("zeptometer", 15),
    ("yoctometer", 18),
)


def axis_scale(pixel_size: float) -> tuple[str, float]:
    """(unit, scale) of the space axes of pixels ``pixel_size`` micrometres a side: the
    coarsest of :data:`LENGTH_UNITS` in which the size (to 9 significant digits) is a whole
    number of 1/256ths, e.g. 0.5 micrometer, 325 nanometer for 0.325 µm.

    The format works out sizes as ``n * scale / scale``, in float, and refuses a package
    whose output halo comes back as no integer: with 0.325 (no binary fraction) 56 * 0.325 /
    0.325 is 55.99999999999999; with 325 (or 162.5) every such product is exact."""
    size = Decimal(repr(float(pixel_size)))
    size = size.quantize(Decimal(1).scaleb(size.adjusted() - 8))
    for unit, power in LENGTH_UNITS:
        value = size.scaleb(power)
        if value * 256 % 1 == 0:
            return unit, float(value)
    return "micrometer", float(pixel_size)  # below 1e-18 um: the spec check says so


#: what rdf.yaml says of the input tensor
INPUT_WORDS = "the raw image; normalised by the preprocessing"

#: what the pages of a TIFF axis are, as a package's description names them
PAGE_WORDS = {"T": "time point", "Z": "plane", "Q": "page"}


def axes_descriptions(axes: str | None) -> dict[str, str]:
    """What rdf.yaml's input says of the TIFF ``axes`` a model trained with (``data.axes``,
    :func:`~unetlab.inference.pages.trained_axes`), which other tools cannot read from
    ``config.unetlab``: the tensor's ``description`` ("input"), the batch axis's (a stack's
    planes, given one at a time) and the channel axis's (its C); {} for none. Each is at
    most 128 characters, the format's limit."""
    if axes is None:
        return {}
    said = {"input": f"{INPUT_WORDS}; trained on TIFFs read as {axes} (unetlab data.axes)"}
    if pages := [PAGE_WORDS[a] for a in reversed(axes) if a in PAGE_WORDS]:
        said["batch"] = f"each {' of each '.join(pages)} of a {axes} stack, one at a time"
    if "C" in axes or "S" in axes:
        said["channel"] = f"the {'C' if 'C' in axes else 'S'} axis of {axes} images"
    return said


def _tensors(model: UNet, info: PackageInfo, dtype) -> tuple[dict, dict]:
    channels = [f"channel{i}" for i in range(model.in_channels)]
    classes = [str(c) for c in model.classes][: max(model.num_classes, 1)]
    if model.num_classes == 1:
        classes = classes[-1:]  # the sigmoid channel is the foreground class
    said = axes_descriptions(trained_axes(model))
    batch, channel = {"type": "batch"}, {"type": "channel", "channel_names": channels}
    for axis, kind in ((batch, "batch"), (channel, "channel")):
        if kind in said:
            axis["description"] = said[kind]
    inp = {
        "id": INPUT_ID,
        "description": said.get("input", INPUT_WORDS),
        "axes": [batch, channel] + _space_axes(model, info, output=False),
        "test_tensor": {"source": "test_input.npy"},
        "sample_tensor": {"source": "sample_input.tif"},
        "data": {"type": "float32"},
        "preprocessing": preprocessing(model, dtype),
    }
    out = {
        "id": OUTPUT_ID,
        "description": "class probabilities (softmax over the classes; sigmoid for one class)",
        "axes": [{"type": "batch"}, {"type": "channel", "channel_names": classes}]
        + _space_axes(model, info, output=True),
        "test_tensor": {"source": "test_output.npy"},
        "sample_tensor": {"source": "sample_output.tif"},
        "data": {"type": "float32", "range": [0.0, 1.0]},
    }
    return inp, out


def _architecture_kwargs(model: UNet) -> dict:
    """ProbabilityUNet's arguments: the UNet's, and the label offset where it moves."""
    moved = label_offset(model)
    return asdict(model.config) | ({"label_offset": list(moved)} if any(moved) else {})


def _weights(model: UNet, formats, opset: int) -> dict:
    version = torch.__version__.split("+")[0]
    weights: dict = {}
    parent = "pytorch_state_dict" if "pytorch_state_dict" in formats else None
    if "pytorch_state_dict" in formats:
        weights["pytorch_state_dict"] = {
            "source": FILES["pytorch_state_dict"],
            "architecture": {
                "source": FILES["architecture"],
                "callable": ProbabilityUNet.__name__,
                "kwargs": _architecture_kwargs(model),
            },
            "pytorch_version": version,
        }
    if "torchscript" in formats:
        weights["torchscript"] = {"source": FILES["torchscript"], "pytorch_version": version}
    if "onnx" in formats:
        weights["onnx"] = {"source": FILES["onnx"], "opset_version": opset}
    for name in ("torchscript", "onnx"):
        if name in weights and parent:
            weights[name]["parent"] = parent
    return weights


def description(model: UNet, info: PackageInfo) -> str:
    """The package's description: ``info.description``, else what the model does."""
    if info.description:
        return info.description
    if is_instance_model(model):
        return (
            "U-Net instance segmentation (unetlab): background / boundary / interior "
            "probabilities; the README's Objects section says how unetlab makes objects of them"
        )
    return "U-Net semantic segmentation (unetlab)"


def tags(model: UNet, info: PackageInfo) -> list[str]:
    """The package's tags: ``info.tags``, else the model's (its kind of segmentation)."""
    if info.tags is not None:
        return list(info.tags)
    kind = "instance-segmentation" if is_instance_model(model) else "semantic-segmentation"
    return ["unet", kind, "pytorch", "2d", "unetlab"]


def model_rdf(model: UNet, info: PackageInfo, formats, *, opset: int = 17, dtype=np.uint8) -> dict:
    """The rdf.yaml content (format 0.5) of ``model``, without file hashes."""
    inp, out = _tensors(model, info, np.dtype(dtype))
    return {
        "format_version": FORMAT_VERSION,
        "type": "model",
        "name": info.name,
        "description": description(model, info),
        "authors": [{"name": a} for a in info.authors],
        "cite": [dict(UNET_CITATION)],
        "license": info.license,
        "documentation": "README.md",
        "covers": ["cover.png"],
        "tags": tags(model, info),
        "timestamp": model_time(model),
        "inputs": [inp],
        "outputs": [out],
        "weights": _weights(model, formats, opset),
        "config": {"unetlab": _unetlab_record(model)},
    }


def model_time(model: UNet) -> str:
    """When the weights were written, for rdf.yaml's ``timestamp``: the modification time of
    the file ``model`` was loaded from (a package folder's rdf.yaml), UTC to the second; now
    for a model that no file names. (The export's own time made every export another file.)"""
    path = getattr(model, "checkpoint", None)
    when = datetime.now(timezone.utc)
    if path is not None:
        path = Path(path) / "rdf.yaml" if Path(path).is_dir() else Path(path)
        with contextlib.suppress(OSError):
            when = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)
    return when.replace(microsecond=0).isoformat()


def _unetlab_record(model: UNet) -> dict:
    """What unetlab reads back of ``model`` from a package (``config.unetlab``), with the
    format version and features a reader must know to read it."""
    from unetlab import __version__

    record = {
        "exported_by": f"unetlab {__version__}",
        "config": asdict(model.config),
        "classes": list(model.classes),
        "normalization": dict(model.normalization),
        "label_values": model.label_values,
        "ignore_value": getattr(model, "ignore_value", None),
        "label_offset": list(label_offset(model)),
        # the test-time transforms it trained with (None: all 8)
        "tta": None if getattr(model, "tta", None) is None else list(model.tta),
        # the channel of multi-channel images it reads (data.channel), a list of them, or None
        "channel": getattr(model, "channel", None),
        # the training masks' objects: instance mode and the default min area
        # (ObjectOptions.for_model); without it a package's objects are semantic
        "objects": _plain(getattr(model, "objects", None)),
        # the data set's (256, 3) mask colours (palette masks), or None
        "palette": _plain(getattr(model, "palette", None)),
        # rows of every image that are not sample (a data bar), or None
        "exclude_rows": as_config(trained_exclude_rows(model)),
        # the axes its training read TIFFs that record none with (data.axes: ZYX), or None
        "axes": trained_axes(model),
        # how its training read grey RGB masks beside a colour table (data.grey_masks), or
        # None: evaluate with the package reads them so
        "grey_masks": trained_grey_masks(model),
        # the training images' dtype and per-channel statistics (None: a model built in
        # Python, an older checkpoint): prediction's intensity check, and whether a model
        # that records no axes takes stains (more than 8 bits), which a grey image is not
        "appearance": _plain(getattr(model, "appearance", None)),
        # the checkpoint it was exported from (None: a model built in Python)
        "source": export_source(model),
        # the code that exported it (version, commit, torch, ...)
        "exported_with": code_identity(),
    }
    return record | package_format(record)


def _plain(value):
    """``value`` with numpy arrays and scalars as lists and numbers (what YAML writes)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value.tolist() if isinstance(value, (np.ndarray, np.generic)) else value


def _add_hashes(rdf: dict, folder: Path) -> dict:
    """Each file's sha256 beside its ``source`` (the format checks them on load)."""

    def visit(node):
        if isinstance(node, dict):
            if isinstance(node.get("source"), str) and (folder / node["source"]).is_file():
                node["sha256"] = sha256_hex((folder / node["source"]).read_bytes())
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(rdf)
    return rdf


def readme(model: UNet, info: PackageInfo, checks: dict, size: int) -> str:
    """The package's README.md: the model, its classes and input, and a Validation section."""
    lines = [
        f"# {info.name}",
        "",
        description(model, info),
        "",
        _architecture(model),
        "",
        *_model_facts(model, info),
        "",
        *object_recipe(model),
        "## Validation",
        "",
        *_validation(checks, size),
        "",
        "## Citation",
        "",
        UNET_CITATION["text"] + f" doi:{UNET_CITATION['doi']}",
        "",
    ]
    return "\n".join(lines)


def _architecture(model: UNet) -> str:
    """One paragraph: the net's shape, and the input channel(s) it takes."""
    c = model.config
    return (
        f"A U-Net (Ronneberger et al. 2015) of depth {c.depth}, {c.base_channels} base channels, "
        f"{c.padding} padding, norm {c.norm}, {c.upsample} upsampling, {c.fusion} skips, "
        f"trained with unetlab. {numbered(c.in_channels, 'input channel')}"
        + _channel_words(getattr(model, "channel", None))
    )


def _channel_words(channel: int | list[int] | None) -> str:
    """The end of :func:`_net_paragraph`'s sentence on the channel(s) the net reads."""
    if channel is None:
        return "."
    if isinstance(channel, list):
        return (
            f": channels {', '.join(map(str, channel))} (counting from 0, in that order) of the "
            "multi-channel images it trained on; give it those channels alone."
        )
    return (
        f": channel {channel} (counting from 0) of the multi-channel images it trained on; "
        "give it that channel alone."
    )


def _model_facts(model: UNet, info: PackageInfo) -> list[str]:
    """The list of what a user must know: classes, normalisation, tiling, output, pixel
    size, source (the last two lines may be empty)."""
    classes = ", ".join(
        f"{i}: {n}" for i, n in enumerate(model.classes[: max(model.config.num_classes, 2)])
    )
    steps = " then ".join(step["id"] for step in preprocessing(model, np.dtype(np.uint8)))
    return [
        f"- Classes: {classes}.",
        f"- Input normalisation: unetlab `{model.normalization.get('mode')}` "
        f"({steps} in rdf.yaml)." + (f" {FLOOR_NOTE}" if "floor" in model.normalization else ""),
        f"- Tiling: {_tiling(model)}.",
        *_axes_lines(trained_axes(model)),
        "- Output: class probabilities (softmax; sigmoid for one class), in every weight format"
        + (
            f", moved {describe_offset(label_offset(model))} to where the training labels sit "
            "(unetlab's `train.label_offset`; a moved valid net loses one more size step per side)."
            if any(label_offset(model))
            else "."
        ),
        _pixel_line(info.pixel_size),
        _source_line(export_source(model)),
    ]


def _axes_lines(axes: str | None) -> list[str]:
    """The README's line on the TIFF ``axes`` the model trained with (``data.axes``), what
    other tools must give it; none for none."""
    if axes is None:
        return []
    said = axes_descriptions(axes)
    given = [
        f"{said['batch']} (rdf.yaml's batch axis)" if "batch" in said else "",
        f"{said['channel']} as its input channels" if "channel" in said else "",
    ]
    return [
        f"- Training axes: {axes} (unetlab `data.axes`): the training TIFFs were read so; give "
        f"the 2-D net {' and '.join(g for g in given if g)}. `unetlab predict` on this package "
        f"reads TIFFs that state no axes of their own as {axes} too."
    ]


def _tiling(model: UNet) -> str:
    """The input sizes the net takes and the output it gives for them."""
    if model.padding == "valid":
        return (
            f"valid padding: inputs of {model.min_input_size} + n x {model.size_multiple} px; the "
            f"output is {2 * model.border} px smaller (the border lost on each side is {model.border} px)"
        )
    return (
        f"same padding: inputs of {min_tile_size(model)} + n x {model.size_multiple} px, "
        f"output of the input's size; drop a halo of {halo(model)} px when tiling"
    )


def _validation(checks: dict, size: int) -> list[str]:
    """What the test tensors are, each weight format's difference from PyTorch, and how to
    check the package."""
    lines = [
        f"`test_input.npy` is a {size} x {size} crop of the sample image; `test_output.npy` is "
        "what unetlab predicts for it (its own normalisation, the PyTorch weights). "
        "`cover.png` shows the crop beside its labels.",
        "",
    ]
    for name, report in checks.items():
        shapes = [s for s in (report.checked_shape, report.also_checked) if s is not None]
        lines.append(
            f"- {name}: max abs difference from PyTorch {report.max_abs_diff:.2e} on random "
            f"{' and '.join('x'.join(map(str, s)) for s in shapes)} inputs (tolerance 1e-4)."
        )
    return lines + [
        "",
        "Check the package with the format's own test (it re-runs the test tensors and "
        "other valid sizes): `bioimageio test rdf.yaml` (`pip install bioimageio.core`).",
    ]


def _source_line(source: dict | None) -> str:
    """The README's line naming the checkpoint the package was exported from."""
    if source is None:
        return "- Source: a model built in Python (no checkpoint file)."
    trained = ", ".join(f"{k} {source[k]}" for k in ("epoch", "step") if k in source)
    code = source.get("code") or {}
    by = f"unetlab {code.get('unetlab')}" if code else ""
    if code.get("commit"):
        by += f" (git {code['commit'][:12]})"
    extra = "".join(f", {part}" for part in (trained, f"trained with {by}" if by else "") if part)
    return f"- Source: checkpoint `{source['checkpoint']}` (sha256 `{source['sha256']}`){extra}."


def _pixel_line(pixel_size: float | None) -> str:
    if not pixel_size:
        return "- Pixel size: not recorded."
    unit, scale = axis_scale(pixel_size)
    written = "" if unit == "micrometer" else f" ({scale:.12g} {unit} in rdf.yaml's axes)"
    return f"- Pixel size: {pixel_size} um{written}."


# --- writing the package safely -------------------------------------------------------------


def _written_by_unetlab(rdf_bytes: bytes) -> bool:
    try:
        rdf = yaml.safe_load(rdf_bytes)
    except yaml.YAMLError:
        return False
    return isinstance(rdf, dict) and "unetlab" in (rdf.get("config") or {})


def check_package_target(dest: str | os.PathLike, weight_formats: Collection[str]) -> None:
    """UnetlabError (before any work) for weight formats not in ``WEIGHT_FORMATS`` or none,
    and unless ``dest`` is absent, an empty folder, or a package unetlab wrote."""
    if unknown := set(weight_formats) - set(WEIGHT_FORMATS):
        raise UnetlabError(
            f"unknown {worded(len(unknown), 'weight format')} {sorted(unknown)}: choose from {WEIGHT_FORMATS}"
        )
    if not weight_formats:
        raise UnetlabError(f"no weight format given: choose from {WEIGHT_FORMATS}")
    if "onnx" in weight_formats:  # before the sample is read and anything is built
        others = ",".join(f for f in WEIGHT_FORMATS if f != "onnx")
        require_onnx(
            "a bioimage.io package's ONNX weights need",
            f", or leave them out: --weights {others} (weight_formats=)",
        )
    dest = Path(dest)
    if set(s.lower() for s in dest.suffixes) & ARCHIVES:
        stem = dest.name.split(".")[0] or "package"
        raise UnetlabError(
            f"{dest}: a package is written as a folder or a .zip file, not {''.join(dest.suffixes)}:"
            f" name it {stem}.zip or {stem}"
        )
    if not dest.exists():
        return
    if dest.is_dir():
        if not any(dest.iterdir()):
            return
        rdf = dest / "rdf.yaml"
        if rdf.is_file() and _written_by_unetlab(rdf.read_bytes()):
            return
    elif dest.suffix.lower() == ".zip" and (zipfile.is_zipfile(dest) or zipped_package(dest)):
        if _zip_written_by_unetlab(dest):
            return
    elif zipped_package(dest):  # "not a package unetlab wrote", of one it wrote (s59)
        named = dest.with_name(dest.name + ".zip")  # in its folder, as given (s60)
        raise UnetlabError(
            f"{dest} is a zipped package named without .zip, and a package of such a name is "
            f"written as a folder: export to {named}, or choose a new path"
        )
    raise UnetlabError(
        f"{dest} exists and is not a package unetlab wrote: choose a new path or remove it"
    )


def _zip_written_by_unetlab(dest: Path) -> bool:
    """Whether the zip ``dest`` is a package unetlab wrote; a damaged one is one line
    (:func:`~unetlab.zip_damage.damaged_zip`): a traceback before, or, its end cut off, "a
    zipped package named without .zip: export to x.zip.zip" (s61); an encrypted one too,
    or one whose rdf.yaml zipfile cannot read (:func:`~unetlab.zip_damage.unreadable`)."""
    with open_zip(dest, _TARGET_FIXES) as zf:
        if "rdf.yaml" not in zf.namelist():
            return False
        return _written_by_unetlab(read_member(zf, "rdf.yaml", dest, _TARGET_FIXES))


#: the fix :func:`_zip_written_by_unetlab` says for a zip to overwrite that it cannot read;
#: its disk's is no copy of the zip to give (the export would overwrite it, review s63)
_TARGET_FIXES = ZipFixes(
    *["remove it or choose a new path"] * 3,
    disk="check the disk it is on, or remove it or choose a new path",
)


def _zip_folder(folder: Path, dest: Path) -> None:
    """``folder``'s files zipped at ``dest`` (atomically), in name order, each dated
    1980-01-01 and readable by all: the zip's bytes depend on the files' alone."""
    with atomic_path(dest) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(folder.iterdir()):
            entry = zipfile.ZipInfo(f.name, date_time=(1980, 1, 1, 0, 0, 0))
            entry.external_attr = 0o644 << 16
            zf.writestr(entry, f.read_bytes(), compress_type=zipfile.ZIP_DEFLATED)


def _replace_folder(folder: Path, dest: Path) -> None:
    """Rename the finished ``folder`` to ``dest``; an old package there goes only after (from
    a work folder of its own, so that a kill while it is removed leaves a stale build)."""
    if not dest.exists():
        folder.rename(dest)
        return
    with _work_folder(dest) as trash:
        old = trash / dest.name
        dest.rename(old)
        try:
            folder.rename(dest)
        except OSError:
            old.rename(dest)
            raise


# --- build folders: held while an export runs, removed when stale ----------------------------


def _build_pattern(dest: Path) -> re.Pattern:
    """The names of the build folders of packages at ``dest``: ``.<name>.<12 hex>.tmp``."""
    return re.compile(rf"\.{re.escape(dest.name)}\.[0-9a-f]{{12}}\.tmp")


@contextlib.contextmanager
def _work_folder(dest: Path) -> Iterator[Path]:
    """A new folder beside ``dest`` named by :func:`_build_pattern`, made as a plain mkdir
    makes one (0777 less the umask: the package others open), held by this process while the
    block runs and removed after it (if still there, not renamed)."""
    while True:
        folder = dest.parent / f".{dest.name}.{secrets.token_hex(6)}.tmp"
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        except OSError as exc:  # a read-only folder or disk: one line, as for --onnx
            raise write_error(dest, exc) from exc
        try:
            fd = _hold(folder)
            break
        except (BlockingIOError, FileNotFoundError):
            continue  # another export's sweep took it the moment it was made: a new name
    try:
        yield folder
    finally:
        remove_tree(folder, ignore_errors=True)
        if fd is not None:
            os.close(fd)


def _hold(folder: Path) -> int | None:
    """A file descriptor holding ``folder`` (:func:`unetlab.outputs.try_hold` on the folder
    itself: dropped when it is closed or the process ends); None where folders cannot be
    locked (no fcntl on Windows, some network file systems, a folder of another user).
    Raises BlockingIOError when another process holds it, FileNotFoundError when it is
    gone (or was replaced)."""
    try:
        return try_hold(folder)
    except (BlockingIOError, FileNotFoundError):
        raise
    except OSError:
        return None


def remove_stale_builds(dest: str | os.PathLike) -> list[Path]:
    """Remove the build folders of packages at ``dest`` (:func:`_build_pattern`, beside it)
    that no export holds: those of an export that was killed, each with copies of the
    weights. Build folders of other names, and any that cannot be locked, stay. Returns what
    it removed."""
    dest = Path(dest)
    pattern, removed = _build_pattern(dest), []
    for path in dest.parent.iterdir():
        if not pattern.fullmatch(path.name) or path.is_symlink() or not path.is_dir():
            continue
        try:
            fd = _hold(path)
        except (BlockingIOError, FileNotFoundError):
            continue  # another export's, or gone already
        if fd is None:
            continue
        try:
            remove_tree(path, ignore_errors=True)
        finally:
            os.close(fd)
        removed.append(path)
    if removed:
        said = numbered(len(removed), "build folder")
        stopped = worded(len(removed), "a stopped export", "stopped exports")
        log.info("removed %s of %s of %s", said, stopped, dest)
    return removed
