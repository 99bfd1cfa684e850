"""One training run as its parts share it (:class:`Run`), built by :func:`setup_run`: data,
net, loader, optimiser and schedule, and what its history.yaml records of them."""

from __future__ import annotations

import functools
import logging
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, Sampler

from unetlab.checkpoint import save_model
from unetlab.config import Config, ModelSection, write_config
from unetlab.cpu_share import CpuReading, ThreadsWatch, cpu_reading
from unetlab.data.datasets import TileDataset
from unetlab.data.loader import UserErrorLoader
from unetlab.distributed import Group
from unetlab.errors import Spelled, UnetlabError, said_as
from unetlab.losses import build_loss
from unetlab.models import EncoderUNet, UNet
from unetlab.provenance import code_identity, command_line, describe_code, machine
from unetlab.run_records import HISTORY_FILE, append_history, history_entry
from unetlab.runtime import available_cpus, cap_threads
from unetlab.train.init import init_from_checkpoint, refuse_checkpoint_as_encoder_weights
from unetlab.train.log import log_loading, log_start
from unetlab.train.loop import Precision, TrainState, val_classes
from unetlab.train.resume import (
    epoch_steps,
    listed_split,
    log_changes,
    planned_steps,
    recorded_split,
    recorded_validation,
    restore_checkpoint,
)
from unetlab.train.rundir import MetricsFile, record_split
from unetlab.train.schedule import (
    BudgetSchedule,
    TimeBudget,
    ValidationPacer,
    build_optimizer,
    build_scheduler,
    first_validation_steps,
    on_clock,
    time_budget,
)
from unetlab.train.setup import (
    Data,
    build_model,
    class_weights,
    prepare_data,
    refuse_class_weight_count,
    tile_sizes,
)

log = logging.getLogger(__name__)

CURVES_EVERY = 30.0  # seconds between drawings of curves.png during a run


@dataclass
class Run:
    """One training run as the parts of ``fit`` share it (:mod:`unetlab.train.fitting`): what
    setup built, where the run is, and its clock."""

    cfg: Config
    run_dir: Path
    device: torch.device
    group: Group
    precision: Precision
    data: Data
    model: UNet | EncoderUNet
    net: nn.Module  # DistributedDataParallel under torchrun, else the model
    dataset: TileDataset
    loader: DataLoader
    items: _EpochItems
    optimizer: torch.optim.Optimizer
    scheduler: object
    scaler: torch.amp.GradScaler
    loss_fn: nn.Module
    steps_per_epoch: int
    state: TrainState = field(default_factory=TrainState)
    metrics: MetricsFile | None = None  # the main process's metrics.csv
    started: float = field(default_factory=time.perf_counter)
    # the last curves.png: the first 30 s in, so a short run draws once, at its end
    plotted: float = field(default_factory=lambda: curves_clock())
    last: dict = field(default_factory=dict)  # the latest validation
    freeze: Callable[[int], None] = lambda epoch: None  # the encoder's state for an epoch
    clock: Callable[[], float] = time.perf_counter  # the time budget's (shared by processes)
    out_of_time: Callable[[], bool] = lambda: False  # is the time budget spent?
    budget: TimeBudget | None = None  # a time budget not run by the schedule (none, plateau)
    pacer: ValidationPacer | None = None  # spaces validations under a time budget
    # the line on the time budget loading took, said by fit where a step is to come (a
    # finished run resumed said '0 s left': s66 notebook)
    say_loading: Callable[[], None] = lambda: None
    split: dict | None = None  # which files train and validate (split.json; main process)
    ended: str | None = None  # why training stopped early: "time budget", "early stop"
    # the CPU's clocks when the setup began (the start's busy line), then training (cpu_share)
    cpu: CpuReading | None = None
    # a run on the clock's look at the cores other work holds (train/log.rethread)
    threads_watch: ThreadsWatch | None = None
    # summary.json's threads where this command trains no step (a finished run resumed):
    # the count its steps ran on, which a repeat is to be given (train/log.threads_record)
    trained_threads: dict | None = None
    # the run_progress of the last last.pt and best.pt saved here, by file name
    saved_progress: dict = field(default_factory=dict)

    def curves_due(self) -> bool:
        """Whether curves.png is to be drawn again: over :data:`CURVES_EVERY` s since the last
        (read on :func:`curves_clock`); a plot costs ~0.3 s, the last is at the run's end."""
        return curves_clock() - self.plotted > CURVES_EVERY

    def drew_curves(self) -> None:
        """Note that curves.png was drawn now (:meth:`curves_due` counts from it)."""
        self.plotted = curves_clock()

    def save(self, name: str, **extra) -> Path | None:
        """Write ``checkpoints/<name>`` with everything a resume needs (main process only);
        ``last.pt`` and ``best.pt`` also say how far the run is (:meth:`progress`)."""
        if not self.group.is_main:
            return None
        if name in ("last.pt", "best.pt"):
            self.saved_progress[name] = extra.setdefault(
                "run_progress", self.progress(self.training_ended(), saved_as=name)
            )
        scheduler = self.scheduler.state_dict() if self.scheduler else None
        budget = self.budget.state_dict() if self.budget else None
        return save_model(
            self.run_dir / "checkpoints" / name,
            self.model,
            overwrite=True,  # the run's own checkpoint (fit holds its run folder)
            optimizer=self.optimizer.state_dict(),
            scheduler=scheduler,
            budget=budget,
            scaler=self.scaler.state_dict(),
            train_state=asdict(self.state),
            train_config=self.cfg.to_dict(),
            rng=torch.get_rng_state(),
            processes=self.group.world,  # the global batch is batch_size x processes
            split=self.split,
            init_checkpoint=getattr(self.model, "init_checkpoint", None),  # fine-tuned from
            val_precision=self.precision.inference,  # train.log's val figures' (evaluate says)
            last_validation=dict(self.last),  # what a resume past the last one returns
            **extra,
        )

    def training_ended(self) -> bool:
        """Whether training ends at this state, as far as it knows without the clock: at an
        epoch's end with train.epochs done, patience spent, or an end decided (``ended``:
        the time budget's, which :func:`unetlab.train.fitting` marks in last.pt after)."""
        t, state = self.cfg.train, self.state
        patience = bool(t.patience) and state.bad_epochs >= t.patience
        ended = state.epoch >= t.epochs or patience or self.ended is not None
        return state.batch == 0 and ended

    def planned_steps(self, state: TrainState) -> int:
        """The steps the run will have taken at epoch train.epochs's end from ``state``, at
        its batch, tiles per epoch and processes (:func:`unetlab.train.resume.planned_steps`:
        a resume may have changed them)."""
        t = self.cfg.train
        return planned_steps(
            state,
            epochs=t.epochs,
            tiles=self.cfg.data.tiles_per_epoch,
            batch_size=t.batch_size,
            world=self.group.world,
        )

    def progress(self, finished: bool, saved_as: str = "last.pt") -> dict:
        """The ``run_progress`` record of last.pt and best.pt (``saved_as``): whether the
        run's training had ended, and the epochs and steps it was to train (at most, under
        ``max_minutes``, a time budget), which :func:`unetlab.checkpoint.unfinished_line`
        says of a stopped run's last.pt."""
        t = self.cfg.train
        return {
            "finished": bool(finished),
            "planned_epochs": t.epochs,
            "planned_steps": self.planned_steps(self.state),
            "max_minutes": t.max_minutes,
            "saved_as": saved_as,
        }


def curves_clock() -> float:
    """The clock that spaces the drawings of curves.png (a function of its own, so that a
    test sets it rather than depend on how fast a loaded machine trains)."""
    return time.perf_counter()


def setup_run(
    cfg: Config,
    run_dir: Path,
    *,
    device: torch.device,
    group: Group,
    resume: bool,
    clock: Callable[[], float] = time.perf_counter,
    begun: float | None = None,
    split: dict | None = None,
) -> Run:
    """Data, model, loader, optimiser and schedule of a run (restored from ``last.pt`` when
    resuming); the main process writes config.yaml and starts metrics.csv and the log. A time
    budget counts from ``begun``, the ``clock``'s reading when ``fit`` began (None: now).
    ``split``: a split record (another run's split.json) whose files a new run trains and
    validates on, to repeat that run exactly (a file gone or changed is refused)."""
    t = cfg.train
    clocks = cpu_reading()  # other work's cores over the setup: the start's busy line
    precision = Precision.choose(t.amp, t.channels_last, device)
    if device.type == "cpu":
        cap_threads(group.local_world if group.active else None)  # predict's rule
    torch.manual_seed(t.seed)
    if resume:  # its first line, where it goes on from, said by fit before (fitting)
        files = recorded_split(run_dir, cfg)
    else:
        files = listed_split(split, cfg, doing="training") if split is not None else None
    data, model, sizes = started(cfg, files, init=not resume, run_dir=run_dir)
    built = dict(precision=precision, data=data, model=model, sizes=sizes)
    run, weights = _assemble(cfg, run_dir, device, group, **built, clock=clock, begun=begun)
    run.cpu = clocks
    timer, loading = _time_budget(run, begun)
    if resume:
        last = run_dir / "checkpoints" / "last.pt"
        parts = (run.model, run.optimizer, run.scheduler, run.scaler, run.state)
        restore = dict(budget=run.budget, processes=group.world, epochs=t.epochs)
        run.last = restore_checkpoint(last, *parts, **restore, planned=run.planned_steps)
        run.data.normalization = dict(run.model.normalization)  # an older run's own: kept
    if group.is_main:
        _start_records(run, resume=resume, sizes=sizes, weights=weights)
        if resume and not run.last:  # an older last.pt: metrics.csv's (what fit returns)
            run.last = recorded_validation(run.metrics.rows, run.model.classes, run_dir)
        if timer is not None:
            say = log_loading if loading < timer.seconds else log_spent
            run.say_loading = functools.partial(say, loading, timer)
    return run


#: a budget that trains, as fit's caller (no --minutes, s54) and the command line give it
ENOUGH_MINUTES = Spelled(
    "set cfg.train.max_minutes to {} or more", "give --minutes {} or more (train.max_minutes)"
)


def log_spent(seconds: float, timer: TimeBudget) -> None:
    """The line for a budget that loading the data (``seconds``) spent before training began:
    the run still trains one step and validates once (the end of the budget ends an epoch
    after its first step, and a run's last epoch validates), the least that leaves a usable,
    scored best.pt; and the budget that would train (loading a quarter of it at most)."""
    enough = max(1, math.ceil(4 * seconds / 60))
    log.warning(
        "loading the data and building the net took %.1f s of the %g-minute budget (%.0f s): "
        "none left to train; one step and one validation follow, so that the run leaves a "
        "usable checkpoint; %s to train",
        seconds,
        timer.seconds / 60,
        timer.seconds,
        said_as(ENOUGH_MINUTES).format(enough),
    )


def started(
    cfg: Config,
    split: tuple[list, list] | None = None,
    *,
    init: bool = True,
    run_dir: Path | None = None,
) -> tuple[Data, UNet | EncoderUNet, tuple[int, int]]:
    """The data (``split``: the pairs of a recorded split; its normalisation's floor in the
    training images' units), the net built for it and its (input, output) tile sizes, as a
    run starts them (``unetlab train --check`` shows them). ``init``: the net takes the
    weights of ``model.init_checkpoint`` where one is set (a new run; a resume takes its
    own). ``run_dir``: the run's folder, which the split's lines name."""
    refuse_checkpoint_as_encoder_weights(cfg.model.encoder_weights)
    data = prepare_data(cfg, split, run_dir=run_dir)
    model = build_model(cfg, data, drawn=init)  # a resume: last.pt gives every weight
    refuse_class_weight_count(cfg.train.class_weights, data.class_names, max(model.num_classes, 2))
    if init and cfg.model.init_checkpoint:
        init_from_checkpoint(model, cfg.model.init_checkpoint)
    return data, model, tile_sizes(model, cfg.data.tile_size, data.train)


def _assemble(
    cfg: Config,
    run_dir: Path,
    device: torch.device,
    group: Group,
    *,
    precision: Precision,
    data: Data,
    model: UNet | EncoderUNet,
    sizes: tuple[int, int],
    clock: Callable[[], float],
    begun: float | None,
) -> tuple[Run, list[float] | None]:
    """The run around its net (in this order, which the random state follows): the tile
    data set, the net on the device (wrapped under torchrun), optimiser, loader, scaler, loss
    and schedule; and the class weights of its loss."""
    t = cfg.train
    dataset = tile_dataset(cfg, data, sizes)
    layout = torch.channels_last if precision.channels_last else torch.preserve_format
    model.to(device, memory_format=layout)
    net = group.wrap(model, device)
    if group.active:
        torch.manual_seed(t.seed + group.rank)  # own dropout masks per process
    steps_per_epoch = _steps_per_epoch(cfg, group)
    optimizer = build_optimizer(model, t)
    loader, items = _loader(dataset, t, device, group)
    scaler = torch.amp.GradScaler(device.type, enabled=precision.amp_dtype == torch.float16)
    weights = class_weights(cfg, data, model.num_classes)
    loss = build_loss(t.loss, focal_gamma=t.focal_gamma, class_weights=weights)
    scheduler = build_scheduler(optimizer, t, steps_per_epoch * t.epochs, clock=clock, since=begun)
    parts = (model, net, dataset, loader, items, optimizer, scheduler, scaler, loss)
    run = Run(cfg, run_dir, device, group, precision, data, *parts, steps_per_epoch)
    pretrained = _pretrained(cfg.model)
    run.freeze = _encoder_freezer(model, t.freeze_encoder_epochs, group, pretrained=pretrained)
    run.clock = clock
    return run, weights


def tile_dataset(cfg: Config, data: Data, sizes: tuple[int, int]) -> TileDataset:
    """The random training tiles of a run: ``data.train`` cut to ``sizes`` (input, output),
    augmented as ``cfg.augment`` says, drawn from ``cfg.train.seed`` (``unetlab train
    --preview`` draws the same)."""
    return TileDataset(
        data.train,
        input_size=sizes[0],
        output_size=sizes[1],
        augment=_augment(cfg),
        tiles_per_epoch=cfg.data.tiles_per_epoch,
        seed=cfg.train.seed,
        edge_windows=cfg.data.edge_windows,
    )


def _time_budget(run: Run, begun: float | None) -> tuple[object, float | None]:
    """Set the run's time budget up (``train.max_minutes``: a budget of its own where the
    schedule does not run on the clock; the check and the validation pacer); returns the
    budget's timer (None without one) and the seconds it has spent since ``fit`` began."""
    cfg, scheduler = run.cfg, run.scheduler
    if cfg.train.max_minutes > 0 and not on_clock(cfg.train):
        run.budget = TimeBudget(60 * cfg.train.max_minutes, clock=run.clock, since=begun)
    first = first_validation_steps(cfg, run.model, run.data.val)  # kept until one has run
    run.out_of_time, run.pacer = time_budget(cfg, scheduler, run.budget, first_validation=first)
    timer = scheduler if isinstance(scheduler, BudgetSchedule) else run.budget
    return timer, (timer.seconds_spent if timer is not None else None)


def _start_records(
    run: Run, *, resume: bool, sizes: tuple[int, int], weights: list[float] | None
) -> None:
    """The main process's records of a run's start: the changes of a resume, split.json,
    config.yaml, metrics.csv, the start of the log and an entry in history.yaml."""
    cfg, run_dir = run.cfg, run.run_dir
    changes = log_changes(run_dir / "config.yaml", cfg) if resume else {}
    run.split = record_split(run_dir, cfg, run.data)
    write_config(cfg, run_dir / "config.yaml", header=_provenance())
    scored = val_classes(run.model)["val_miou_classes"]  # the ignored class: no column
    run.metrics = MetricsFile(run_dir / "metrics.csv", scored, keep_epochs=run.state.epoch)
    log_start(run, *sizes)
    entry = history_entry(resume=resume, state=asdict(run.state), changes=changes)
    append_history(run_dir, entry | run_info(run, weights))


def _steps_per_epoch(cfg: Config, group: Group) -> int:
    """Each process takes every world-th tile: global batch = batch_size x processes."""
    steps = epoch_steps(cfg.data.tiles_per_epoch, 0, cfg.train.batch_size, group.world)
    if steps == 0:
        raise UnetlabError(
            f"data.tiles_per_epoch {cfg.data.tiles_per_epoch} is fewer than the "
            f"{group.world} processes: raise it"
        )
    return steps


def _loader(dataset: TileDataset, t, device: torch.device, group: Group):
    """(DataLoader, its sampler). One loader for the run: its workers persist across epochs
    (starting them each epoch cost a GPU run ~0.5 s of 2.5 s per paper-net epoch); the
    sampler sends (epoch, index) and the dataset draws from those alone. Its own generator:
    iterating must not draw from the global RNG (dropout's)."""
    workers = min(t.num_workers, available_cpus() // group.local_world)
    if workers < t.num_workers:
        log.info("train.num_workers %d > %d CPUs: using %d", t.num_workers, workers, workers)
    items = _EpochItems()
    loader = UserErrorLoader(  # a worker's bad input: one line, not torch's traceback
        dataset,
        batch_size=t.batch_size,
        sampler=items,
        num_workers=workers,
        persistent_workers=workers > 0,
        pin_memory=device.type == "cuda",
        generator=torch.Generator(),
    )
    return loader, items


class _EpochItems(Sampler):
    """The ``(epoch, index)`` items of one epoch (or of what is left of it, on resume)."""

    def __init__(self):
        self.epoch, self.indices = 0, range(0)

    def set(self, epoch: int, indices: range) -> None:
        self.epoch, self.indices = epoch, indices

    def __iter__(self):
        return ((self.epoch, i) for i in self.indices)

    def __len__(self) -> int:
        return len(self.indices)


def _pretrained(model: ModelSection) -> bool:
    """Whether the net starts from trained weights: torchvision's ImageNet file
    (``model.encoder_weights``) or a checkpoint (``model.init_checkpoint``); only then does
    :func:`_encoder_freezer` freeze its encoder."""
    return bool(model.encoder_weights or model.init_checkpoint)


def _encoder_freezer(
    model, epochs: int, group: Group, *, pretrained: bool
) -> Callable[[int], None]:
    """``freeze(epoch)``: the encoder frozen before epoch ``epochs``, trained from then on.
    An encoder not ``pretrained`` (no ImageNet file, no checkpoint to start from) is never
    frozen: frozen, its random features would be all the decoder learns from (user2 s62:
    scenes_resnet50.yaml without its weights file); one warning says so as the first epoch
    it would freeze begins (a run resumed after them says nothing: review s62)."""
    if not epochs:
        return lambda epoch: None
    if not isinstance(model, EncoderUNet):
        raise UnetlabError("train.freeze_encoder_epochs needs an encoder net (model.encoder)")
    if group.active:
        raise UnetlabError("train.freeze_encoder_epochs is not supported with --nproc > 1")
    said = []

    def freeze(epoch: int) -> None:
        frozen = epoch < epochs
        if frozen and not pretrained:
            if not said:
                said.append(epoch)
                log.warning(
                    "train.freeze_encoder_epochs=%d: the encoder is trained from the start, "
                    "not frozen: its weights are random (model.encoder_weights is null); give "
                    "model.encoder_weights (torchvision's ImageNet file) to freeze it first",
                    epochs,
                )
            return
        if frozen != model.encoder_frozen:
            model.freeze_encoder(frozen)
            log.info("encoder %s from epoch %d", "frozen" if frozen else "trained", epoch + 1)

    return freeze


def _augment(cfg: Config):
    if not cfg.augment.enabled:
        return None
    from unetlab.data.transforms import Augment

    return Augment(**cfg.augment.options())


def _provenance() -> str:
    code = code_identity()
    return (
        f"resolved config of a unetlab run: {describe_code(code)}, torch {code['torch']}, "
        f"numpy {code['numpy']}, python {code['python']}\n"
        f"command: {command_line()}\n"
        f"each command, its code, machine, device, precision and net: {HISTORY_FILE}"
    )


def run_info(run: Run, weights: list[float] | None) -> dict:
    """What one command's training ran with (its entry in ``history.yaml``): the code, the
    machine and what the config's open choices resolved to: device, precision, threads, the
    net built
    (its preset expanded), class weights and normalisation. config.yaml keeps them as asked
    (``auto``, a preset's name), so that it runs the same way elsewhere."""
    precision, model = run.precision, run.model
    amp = str(precision.amp_dtype).removeprefix("torch.") if precision.amp_dtype else "off"
    cpu = run.device.type == "cpu"
    return {
        "code": code_identity(),
        "machine": machine(run.device),
        "resolved": {
            "device": str(run.device),
            "threads": torch.get_num_threads() if cpu else None,
            "processes": run.group.world,
            "amp": amp,
            "channels_last": precision.channels_last,
            "model": built_model(run.cfg, model),
            "class_weights": weights,
            "normalization": dict(run.data.normalization),
            **_init_record(model),
            "label_values": [int(v) for v in run.data.label_values],
            "classes": list(model.classes),
            "ignore_value": run.data.ignore_value,  # compare: a killed run's ignored class
        },
    }


def _init_record(model) -> dict:
    """``{"init_checkpoint": ...}``: the checkpoint a fine-tuned run started from (its path,
    sha256, epoch, step), where it did."""
    found = getattr(model, "init_checkpoint", None)
    return {"init_checkpoint": found} if found else {}


def built_model(cfg: Config, model: nn.Module) -> dict:
    """The net as built: its class, the preset or encoder it came from, every architecture
    option (the preset's and the data's values filled in) and its parameter count."""
    source = {"preset": cfg.model.preset} if cfg.model.encoder == "none" else {}
    if cfg.model.encoder_weights:
        source["encoder_weights"] = cfg.model.encoder_weights
    return {
        "class": type(model).__name__,
        **source,
        **asdict(model.config),
        "parameters": sum(p.numel() for p in model.parameters()),
    }
