"""The config's sections: nested plain dataclasses, each key a field with its default and its
one-line ``help`` (``unetlab config`` and docs/config.md list them). Each section checks its
values as it is built (:mod:`unetlab.config.checks`); :meth:`Config.from_dict` checks the
types (:mod:`unetlab.config.convert`)."""

from __future__ import annotations

import os
import typing
from dataclasses import asdict, dataclass, field, fields, make_dataclass

from unetlab.config.checks import check_data, check_model, check_train
from unetlab.config.convert import build
from unetlab.config.guard import Section, assigned_keys, one_line, plain_value
from unetlab.data.ctc import GOLD
from unetlab.errors import UnetlabError
from unetlab.losses import FOCAL_GAMMA

#: ``train.dist_timeout_minutes``: 6 hours, for a main process that validates a large set alone
#: while the others wait (the backends' own 30 min, or NCCL's 10, ended such runs); a killed
#: process still ends the run at once, and torchrun ends the others of a failed process
DIST_TIMEOUT_MINUTES = 360.0


def option(default, help: str):
    """A config key's field: its default and its one-line ``help`` (``unetlab config`` and
    docs/config.md list them)."""
    return field(default=default, metadata={"help": help})


@dataclass(repr=False)  # Section's one line
class ModelSection(Section):
    """A preset (``paper``, ``small``, ``small-valid``) and overrides of its UNet options.

    ``None`` keeps the preset's value; ``num_classes``/``in_channels`` left ``None`` come from
    the data (number of label values; image channels). ``norm: none`` removes normalisation.
    ``encoder: vgg16 | resnet50`` builds a U-Net decoder over that backbone instead (the
    preset's options then do not apply; ``upsample`` does), ``encoder_weights`` the local
    torchvision ImageNet file to start it from (``vgg16-397923af.pth``, never downloaded).
    """

    preset: str = option(
        "small",
        "architecture preset: paper (the paper's net), small or small-valid (CPU-sized); "
        "unetlab config lists what each sets",
    )
    encoder: str = option(
        "none",
        "none (a plain U-Net from the preset), vgg16 or resnet50: a U-Net decoder over that "
        "torchvision backbone",
    )
    encoder_weights: str | None = option(
        None,
        "a local torchvision ImageNet weights file for the encoder (never downloaded); null: "
        "random start",
    )
    init_checkpoint: str | None = option(
        None,
        "fine-tuning: a trained unetlab checkpoint (.pt) whose weights a new run starts from "
        "(the same net: preset and model keys; a new output head where the class count "
        "differs), recorded with its sha256 in history.yaml; --resume instead continues a run "
        "itself; null: a random start",
    )
    in_channels: int | None = option(None, "input channels; null: the images' channel count")
    num_classes: int | None = option(
        None, "output classes; null: the number of label values (1: a sigmoid net for two values)"
    )
    depth: int | None = option(None, "levels of the U (pooling steps + 1); null: the preset's")
    base_channels: int | None = option(
        None, "channels of the first level, doubled at each level down; null: the preset's"
    )
    padding: str | None = option(
        None,
        "valid (the paper's: outputs smaller than inputs, overlap-tile exact) or same; null: the "
        "preset's",
    )
    norm: str | None = option(
        None, "batch, group or none (no normalisation layers); null: the preset's"
    )
    upsample: str | None = option(
        None, "transpose (learned up-convolution, the paper's) or bilinear; null: transpose"
    )
    fusion: str | None = option(
        None, "how a skip joins the decoder: concat (the paper's) or add; null: concat"
    )
    dropout: float | None = option(
        None, "dropout rate at the end of the contracting path, in [0, 1); null: the preset's"
    )

    def __post_init__(self):
        check_model(self)

    def overrides(self) -> dict:
        """UNet keyword overrides of the preset (``norm: none`` -> ``norm=None``)."""
        skip = ("preset", "encoder", "encoder_weights", "init_checkpoint")
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in skip}
        out = {k: v for k, v in out.items() if v is not None}
        if out.get("norm") == "none":
            out["norm"] = None
        return out


@dataclass(repr=False)  # Section's one line
class DataSection(Section):
    """Where the data is and how it becomes training tiles.

    ``label_values`` are the mask values of the classes in index order (``None``: the sorted
    values found in the masks); ``class_names`` maps a mask value to a name (``{0: membrane,
    255: cell}``). Mask pixels equal to ``ignore_value`` count in no loss or metric.
    ``tile_size`` is the net's *input* tile; the loss sees the output (``tile_size - 2 *
    border`` for valid nets). ``weight_map`` turns on the paper's border weights (w0, sigma).
    ``target``: ``semantic`` (mask values are classes), ``instances`` (mask values are object
    ids; the net learns background / boundary / interior, the boundary ``boundary_width`` px
    wide) or ``auto`` (instances when no ``label_values`` are set and the masks look like
    ids: see ``unetlab.data.fingerprint.instance_masks``).
    ``normalization`` left null is per-image standardisation, or ImageNet's statistics
    (``{mode: imagenet}``) for a net started from ImageNet weights; ``{mode: dataset}``
    standardises every image with the training set's per-channel mean and std.
    ``channel``: train on this one channel (0-based) of multi-channel images (the nuclear
    stain of fluorescence files), or on a list of them in that order (``[3, 2, 1, 7]``: RGB
    and NIR of a 13-band satellite product), null for all; or on the channel a name gives
    (``DAPI``: found in each file by the names it records, OME or ImageJ, whatever its
    index); measured, trained and recorded in the checkpoint, with the channel's name where
    the files name it, so ``unetlab predict``, ``evaluate`` and ``export`` read the same
    channels (``--channel`` picks one for a 1-channel net; a net of several channels takes
    all of an image's, or those it records).
    """

    root: str | None = option(
        None,
        "the data folder (images/ + masks/, train/ + val/, an ISBI pair or PASCAL VOC); --data "
        "sets it",
    )
    val_fraction: float = option(
        0.2,
        "share of the images held out for validation, in [0, 1) (ignored when the folder has "
        "train/ and val/); stacks are kept whole (the share counted in pages), and a single "
        "stack gives its last pages after a one-page gap",
    )
    seed: int = option(
        0, "seed of the train/validation split of the folder (train.seed seeds the rest)"
    )
    label_values: list[int] | None = option(
        None,
        "the mask values of the classes in index order; null: the sorted values found in the masks",
    )
    class_names: dict[int, str] | None = option(
        None,
        "a name for each mask value, e.g. {0: membrane, 255: cell}; null: class_names.txt beside "
        "the data, else the values. The class named background (or bg, backdrop; any case), "
        "else membrane, else, of two "
        "classes, one named a boundary (boundary, edge, contour, outline, wall, border, or a "
        "name ending so: grain boundary; else mask value 0) is the background: the weight "
        "map's gaps, evaluate's boundary class",
    )
    ignore_value: int | None = option(
        None, "a mask value that counts in no loss or metric (unlabelled pixels); null: none"
    )
    ctc_truth: str = option(
        GOLD,
        "the truth a Cell Tracking Challenge data set trains on: gold (NN_GT/SEG/, drawn by "
        "people, of some frames), silver (NN_ST/SEG/, computer-made, of every frame) or both "
        "(the gold where a frame has it, else the silver)",
    )
    grey_masks: str = option(
        "colours",
        "how a grey RGB mask (R = G = B) beside a colour table (class_colors.txt, "
        "class_dict.csv, labelmap.txt) is read: colours, through the table as every RGB mask "
        "beside it (CamVid's sky and void look grey); indices, as its grey values, the class "
        "indices of grey masks saved as RGB; recorded in the checkpoint, so evaluate reads its "
        "masks the same",
    )
    h5_dataset: str | None = option(
        None,
        "the dataset read in each HDF5 image and mask file (.h5, .hdf5, .hdf, .ims) of "
        "several, by its path in the file (raw, volumes/raw); a file of one dataset (an "
        "ilastik export) is read whatever its name; recorded in the checkpoint, so predict "
        "and evaluate read it (or --h5-dataset NAME); null: refused, naming them",
    )
    h5_mask_dataset: str | None = option(
        None,
        "the dataset read as the mask in each HDF5 file (.h5, .hdf5, .hdf, .ims) of several, "
        "by its path in the file (CREMI's volumes/labels/neuron_ids): a folder of files "
        "holding it beside the image's (data.h5_dataset: volumes/raw) is a data set of files "
        "each its own mask; recorded in the checkpoint, so evaluate reads it; null: masks as "
        "images (h5_dataset)",
    )
    normalization: dict | None = option(
        None,
        "input normalisation: {mode: per_image | fixed (+ mean, std) | dataset | scale | "
        "imagenet | percentile (+ low, high) | ct (+ low, high)}; null: per_image (imagenet for "
        "ImageNet weights); "
        "dataset is fixed with each channel's mean and std over the training images, which "
        "training measures (calibrated data: reflectance keeps its absolute values); per_image "
        "and percentile also take floor, the least std or percentile range (training sets it to "
        "half its images' least, so an empty field is not stretched into objects); "
        "percentile takes ignore_saturated (true: pixels at the dtype's maximum, e.g. a data "
        "bar's text, are left out of the percentiles) and camera_ceiling (true: also those at "
        "a 10/12/14-bit camera's maximum in a 16-bit file where they pile up); the plan sets "
        "both; per_image takes "
        "tissue (true: mean and std over the tissue only, bright-field glass left out; the "
        "plan sets it for 8-bit colour bright-field: H&E, IHC); ct is nnU-Net's CT "
        "normalisation: clipped to the low-high (0.5-99.5) percentiles of the training "
        "images' foreground (mask values other than the background's and ignore_value), "
        "then standardised with its mean and std, which training measures (lower, upper, "
        "mean, std; the plan sets it for CT)",
    )
    tile_size: int = option(
        256,
        "side of the training tiles fed to the net, px (its input; valid nets output tile_size - "
        "2 x border)",
    )
    tiles_per_epoch: int = option(
        64, "tiles drawn from the training images per epoch (an epoch's steps: this / batch size)"
    )
    edge_windows: bool = option(
        False,
        "let a training tile's label window reach past the image edge, its centre drawn "
        "anywhere on the image (the input mirrored there as prediction mirrors it, the labels "
        "outside ignored), so an edge pixel trains about half as often as a central one; "
        "false: windows lie inside the image and the edge rows train rarely (row 0 of a 512 px "
        "image is in 0.4% of its 256 px windows, the middle row in 99.6%)",
    )
    weight_map: bool = option(
        False,
        "weight the loss with the paper's border weights (w0, sigma), which stress thin gaps "
        "of the background class (see class_names) between touching objects",
    )
    w0: float = option(10.0, "the border weight's height (the paper: 10)")
    sigma: float = option(5.0, "the border weight's width, px (the paper: 5)")
    target: str = option(
        "auto",
        "semantic (mask values are classes), instances (values are object ids: learn background /"
        " boundary / interior) or auto (decided from the masks)",
    )
    boundary_width: int = option(
        1, "width in px of the boundary class drawn around each object (data.target instances)"
    )
    channel: int | str | list[int] | None = option(
        None,
        "train on this one channel (0-based) of multi-channel images, or the one a name gives "
        "(DAPI: found in each file by the names it records), or on a list of indices in that "
        "order (a band subset: [3, 2, 1, 7]); recorded in the checkpoint, with its name, so "
        "predict reads the same; null: all channels",
    )
    axes: str | None = option(
        None,
        "the axes of TIFF images that record none or wrong ones, one letter each: T time, Z "
        "depth, C channels, Y rows, X columns, e.g. ZYX for stacks ImageJ saved without axes "
        "(read as CYX, channels); their TIFF masks are read with them less C where they have "
        "as many axes; recorded in the checkpoint, so predict and evaluate read its TIFFs the "
        "same unless given --axes (a TIFF that states its own, OME or an ImageJ hyperstack, as "
        "it says: refused where they cannot be these); --axes sets it; null: as each file says",
    )
    exclude_rows: dict | None = option(
        None,
        "rows of every image that are not sample (an SEM data bar): {top: T, bottom: B}, px, or "
        "a share of the height (0.1); left out of normalisation, loss, metrics and the plan; "
        "recorded in the checkpoint, so predict and evaluate leave them out too (background); "
        "null: none",
    )
    nodata: str | float = option(
        "auto",
        "pixels of an image that are no sample: auto (a GeoTIFF's nodata value, tag 42113, in "
        "every band, and alpha 0), none, or a number (pixels holding it in every band); left "
        "out of normalisation, loss and metrics, predicted as background with no object there "
        "(a TIFF label image holds a no-data value there, which its GDAL_NODATA tag names; so "
        "does a PNG where class 0 is a class of its own, a road, not a background); "
        "recorded in the checkpoint",
    )

    def __post_init__(self):
        check_data(self)

    def __setattr__(self, name: str, value) -> None:
        if name == "root":  # refused where a notebook assigns arrays, not at the plan or fit
            check_root(value)
        super().__setattr__(name, value)


def _augment_section() -> type:
    """``AugmentSection``: an ``enabled`` switch, then every field of
    :class:`unetlab.data.transforms.Augment` with its type and default, so the config can
    never drift from the augmentation it configures."""
    from unetlab.data.transforms import Augment

    hints = typing.get_type_hints(Augment)
    specs = [
        (
            "enabled",
            bool,
            option(True, "augment the training tiles at all (off: the other keys are unused)"),
        )
    ]
    specs += [
        (f.name, hints[f.name], field(default=f.default, metadata=f.metadata))
        for f in fields(Augment)
    ]

    def options(self) -> dict:
        """Keyword arguments for ``Augment`` (everything but ``enabled``)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "enabled"}

    def __post_init__(self):
        Augment(**self.options())  # the same checks as the augmentation's own

    return make_dataclass(
        "AugmentSection",
        specs,
        bases=(Section,),
        repr=False,  # Section's one line
        namespace={
            "options": options,
            "__post_init__": __post_init__,
            "__doc__": "Paired augmentation of the training tiles: ``enabled`` and the "
            "options of ``unetlab.data.transforms.Augment`` (the paper, SPEC §4: elastic "
            "deformation, shifts, rotations, flips, grey value variation).",
            "__module__": __name__,
        },
    )


AugmentSection = _augment_section()


#: the epoch cap a plan under a time budget sets (the clock ends the run first): "no limit"
BUDGET_EPOCHS = 100_000


@dataclass(repr=False)  # Section's one line
class TrainSection(Section):
    """Optimisation. ``schedule`` is stepped per iteration (cosine, poly) or per validation
    (plateau, on val mIoU). ``amp``/``channels_last`` ``auto`` means on for CUDA, off for CPU;
    ``amp: native`` is bf16 wherever the device runs it natively (CPUs with AMX or AVX512-BF16,
    bf16 GPUs: 2-3x faster training on an AMX CPU, bench/README.md) and
    fp32 elsewhere.
    ``loss``: one of ``LOSSES``: ``ce``, ``dice``, ``ce+dice``, ``focal``,
    ``focal+dice`` (the cross entropy of each pixel times (1 - p)^``focal_gamma``) and
    ``lovasz``, ``ce+lovasz`` (Lovász-softmax, a surrogate of 1 - IoU).
    ``patience``: stop after this many validations without a better val mIoU (0: never).
    ``class_weights``: cross-entropy weight of each class: ``median_frequency`` (median class
    frequency / the class's, from the training masks), ``sqrt_median_frequency`` (its square
    root), ``none``, a list (one per class), or ``auto``: the square root of median frequency
    when the classes are very unequal (see ``unetlab.losses.AUTO_IMBALANCE``), no weight
    map is used and the target is semantic, else none (an instance target's boundary class is
    each object's own rim: weighting it widened every nucleus by about a pixel).
    ``freeze_encoder_epochs``: train only the decoder of an encoder net for this many epochs
    (a pretrained encoder's: one of random weights is trained from the start, and a line says).
    ``max_minutes``: a time budget (0: none). The cosine/poly schedule then runs on the clock
    (progress = time spent / budget, or steps done / all epochs' steps if further), so the
    run ends annealed when the time is up, validations are spaced to take at most a tenth of
    it, and ``epochs`` is only an upper bound. ``best_smoothing``: best.pt goes to the best
    exponential average of the val mIoU (``s = best_smoothing * s + (1 - best_smoothing) *
    miou``); 0 picks the single best validation.
    ``label_offset``: where the labels sit relative to what the net finds in the images
    (:mod:`unetlab.inference.offset`): ``none``; ``fit``: measured on the validation images
    after training (quarter pixels within one) and kept when it raises their mIoU, then
    every prediction of the checkpoints is moved by it; or ``[dy, dx]`` px.
    ``dist_timeout_minutes``: with ``--nproc N``, how long a process waits in a collective for
    the others; the main process validates (and fits the label offset) alone meanwhile. From 1
    minute (less timed the processes' start out) to 1e9."""

    epochs: int = option(
        50, "epochs to train (an upper bound under a time budget, train.max_minutes)"
    )
    batch_size: int = option(4, "tiles per optimisation step (per process)")
    optimizer: str = option("adamw", "adamw or sgd (with train.momentum)")
    lr: float = option(1e-3, "learning rate at the start of the schedule")
    momentum: float = option(0.99, "SGD's momentum, in [0, 1) (the paper: 0.99); unused by adamw")
    weight_decay: float = option(1e-4, "weight decay (decoupled for adamw, L2 for sgd)")
    schedule: str = option(
        "cosine",
        "learning-rate schedule: cosine or poly (per step, to 0 at the end), plateau (halved "
        "after 5 validations without a better val mIoU) or none",
    )
    grad_clip: float = option(1.0, "clip the gradient norm to this, >= 0 (0: off, no clipping)")
    loss: str = option(
        "ce",
        "ce, dice, ce+dice, focal, focal+dice, lovasz or ce+lovasz (the + forms add the two with "
        "equal weight)",
    )
    focal_gamma: float = option(
        FOCAL_GAMMA, "the focal loss's exponent: each pixel's cross entropy times (1 - p)^gamma"
    )
    amp: str = option(
        "auto",
        "mixed precision: auto (bf16/fp16 on CUDA, off on CPU), native (bf16 where the device "
        "runs it natively, else fp32), bf16, fp16 or off (fp32)",
    )
    channels_last: bool | None = option(
        None, "channels-last memory layout; null: on for CUDA, off for CPU"
    )
    device: str = option("auto", "auto (CUDA if present, else CPU), cpu, cuda or cuda:N")
    seed: int = option(
        0,
        "seed of the weights' initialisation, the tiles drawn and their augmentation (data.seed: "
        "the split)",
    )
    patience: int = option(
        0, "stop after this many validations without a better val mIoU (0: never)"
    )
    val_every: int = option(1, "validate every this many epochs (the last epoch always validates)")
    num_workers: int = option(
        0, "DataLoader worker processes drawing tiles (0: in the training process)"
    )
    max_minutes: float = option(
        0.0,
        "time budget in minutes (0: none); the schedule then runs on the clock, so the run is not"
        " repeatable to its weights",
    )
    class_weights: str | list[float] = option(
        "auto",
        "cross-entropy class weights: auto (square root of median frequency when classes are "
        "10x unequal, semantic targets only), median_frequency, sqrt_median_frequency, none, or "
        "a list (one per class)",
    )
    freeze_encoder_epochs: int = option(
        0,
        "train only the decoder of a pretrained encoder net for this many epochs (one of random "
        "weights is not frozen)",
    )
    best_smoothing: float = option(
        0.5,
        "best.pt goes to the best exponential average of val mIoU with this factor, in [0, 1) (0:"
        " the single best validation)",
    )
    label_offset: str | list[float] = option(
        "none",
        "where the labels sit relative to the images: none, fit (measured after training) or [dy,"
        " dx] px",
    )
    dist_timeout_minutes: float = option(
        DIST_TIMEOUT_MINUTES,
        "--nproc N: minutes a process waits for the others (the main one validates, fits the "
        "label offset, saves alone) before the run fails, at least 1; raise it for a longer "
        "validation",
    )

    def __post_init__(self):
        check_train(self)


@dataclass(repr=False)  # Section's one line
class RunSection(Section):
    """The run folder is ``dir/name`` unless given on the command line (``--run-dir``)."""

    name: str = option("unet", "the run folder's name under run.dir (--run-dir overrides both)")
    dir: str = option("runs", "the folder that holds run folders")


@dataclass(repr=False)  # Section's one line
class Config(Section):
    """Every setting of a training run, in sections: ``cfg.model``, ``cfg.data``,
    ``cfg.augment``, ``cfg.train``, ``cfg.run`` (``unetlab config`` lists each key with its
    type, default and meaning; docs/config.md the same).

    Make one with :func:`~unetlab.config.load_config` (``load_config(None,
    ["data.root=data", "train.epochs=5"])``, or a YAML file), set keys as attributes
    (``cfg.train.lr = 3e-4``: a misspelt name or a value of the wrong type is refused at once,
    a value out of range where the config is used, :meth:`checked`), and give it to
    ``plan_training`` and ``fit``;
    :func:`~unetlab.config.save_config` writes it as YAML, :meth:`to_dict` /
    :meth:`from_dict` as a plain dict."""

    model: ModelSection = field(default_factory=ModelSection)
    data: DataSection = field(default_factory=DataSection)
    augment: AugmentSection = field(default_factory=AugmentSection)
    train: TrainSection = field(default_factory=TrainSection)
    run: RunSection = field(default_factory=RunSection)

    #: the ``section.key`` names that :func:`load_config`'s file and overrides set (not a
    #: field: neither saved nor compared): :func:`unetlab.plan.plan_training` keeps their values
    user_keys = frozenset()
    #: those of them that the config file set (not an override), and that file's name as
    #: the user knows it (``configs/nuclei.yaml`` for a shipped one): the plan names it
    file_keys = frozenset()
    config_file = None
    #: the keys :func:`unetlab.plan.plan_training` set in the config it returns, with the
    #: values it set (copies): not the user's, :func:`~unetlab.config.chosen_keys` leaves
    #: out each one still holding its planned value (never changed in place: replaced whole)
    plan_values = {}  # noqa: RUF012 - replaced whole, never mutated

    def __repr__(self) -> str:
        """One line (a notebook cell's value; the dataclass's listed all ~80 keys, some 1,400
        characters, s52 notebook), as a Plan's: the keys that differ from the defaults, the
        first :data:`REPR_KEYS` with their values, and how to see them all (``str`` is the
        dataclass's full form)."""
        from unetlab.config.load import changed_fields

        sections = [(f.name, getattr(self, f.name)) for f in fields(self)]
        changed = [
            (f"{name}.{key}", getattr(section, key))
            for name, section in sections
            for key in changed_fields(section)
        ]
        return one_line("Config", changed, "print(cfg)")

    def value_of(self, key: str):
        """The value of the dotted config key ``key`` (``"train.lr"``)."""
        section, name = key.split(".", 1)
        return getattr(getattr(self, section), name)

    def to_dict(self) -> dict:
        """Plain nested dict (YAML-safe); ``Config.from_dict(cfg.to_dict()) == cfg``."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Config:
        """Build from a nested dict; unknown sections/keys and wrong types raise ValueError."""
        return build(cls, data or {}, "")

    def checked(self) -> Config:
        """This config checked again, as :meth:`from_dict` checks a file's (a notebook may
        have set attributes: ``cfg.train.lr = -1``), paths and numpy numbers made plain, with
        its record of the keys the user and the plan set (:meth:`recorded`; the keys assigned
        as the user's)."""
        check_root(self.data.root)
        out = self.recorded(Config.from_dict(plain_value(self.to_dict())))
        out.user_keys = self.user_keys | assigned_keys(self)  # assigned: the user's still
        return out

    def recorded(self, out: Config) -> Config:
        """``out``, a config made from this one, given this one's record of what the user and
        the plan set (:data:`RECORDS`): a copy dropped them, and saved planned keys as the
        user's (s67 notebook: ``save_config(cfg.checked(), ...)``)."""
        for name in RECORDS:
            setattr(out, name, getattr(self, name))
        return out


#: what a :class:`Config` records of where its values came from (no fields: neither saved
#: nor compared)
RECORDS = ("user_keys", "file_keys", "config_file", "plan_values")


def check_root(root) -> None:
    """Refuse a ``data.root`` that is no path (a notebook's arrays: audit s32 notebook 7,
    which failed later with numpy's "truth value of an array is ambiguous"), where it is
    assigned (``cfg.data.root = frames``) and again by :meth:`Config.checked`."""
    if root is None or isinstance(root, str | os.PathLike):
        return
    raise UnetlabError(
        f"data.root must be a folder path, not {type(root).__name__}: training reads files; "
        "write the arrays first with unetlab.write_dataset(images, masks, 'data') (it writes "
        "data/images/ and data/masks/), then cfg.data.root = 'data'"
    )
