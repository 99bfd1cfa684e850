"""Training: ``train_one_epoch`` and ``validate`` (one screen each), and ``fit(cfg)`` around them.

``fit`` owns the run folder (``config.yaml``, ``metrics.csv``, ``train.log``,
``checkpoints/{best,last}.pt``, ``curves.png``), resumes exactly where a run stopped (the
training tiles of epoch e, item i are drawn from ``rng([seed, e, i])``, and the optimiser,
schedule, step and RNG state travel in ``last.pt``, so an interrupted and resumed run ends with
the same weights as an uninterrupted one), and stops on a non-finite loss with the step and
values. Launched by torchrun (``unetlab train --nproc N``), it trains data-parallel
(:mod:`unetlab.distributed`): each process on its share of the tiles, the main one writing.

The modules, one concern each: ``loop`` (the epoch and the validation), ``schedule`` (optimiser,
lr schedule, time budget, validation pacing), ``stop`` (signals), ``rundir`` (the run folder and
its files), ``setup`` (data and net), ``run`` (a run's parts, built), ``resume`` (a run's state
restored), ``offset`` (the label offset), ``log`` (what a run says), ``fitting`` (``fit``).
"""

from unetlab.progress import in_notebook, progress_bar
from unetlab.signals import Stopped
from unetlab.train.fitting import fit, smooth
from unetlab.train.loop import (
    FULL_PRECISION,
    Precision,
    TrainingError,
    TrainState,
    train_one_epoch,
    validate,
)
from unetlab.train.offset import fit_label_offset
from unetlab.train.resume import resume_command
from unetlab.train.run import built_model, run_info
from unetlab.train.rundir import (
    CHECKPOINTS,
    OFFSET_FILE,
    RUN_FILES,
    check_run_dir,
    prepare_run_dir,
)
from unetlab.train.schedule import (
    OFFSET_SHARE,
    VALIDATION_SHARE,
    BudgetSchedule,
    TimeBudget,
    ValidationPacer,
    build_optimizer,
    build_scheduler,
    offset_fit_cost,
    schedule_factor,
    shared_clock,
)
from unetlab.train.setup import (
    Data,
    build_model,
    class_weights,
    default_normalization,
    object_record,
    prepare_data,
    tile_sizes,
)

__all__ = [
    "CHECKPOINTS",
    "FULL_PRECISION",
    "OFFSET_FILE",
    "OFFSET_SHARE",
    "RUN_FILES",
    "VALIDATION_SHARE",
    "BudgetSchedule",
    "Data",
    "Precision",
    "Stopped",
    "TimeBudget",
    "TrainState",
    "TrainingError",
    "ValidationPacer",
    "build_model",
    "build_optimizer",
    "build_scheduler",
    "built_model",
    "check_run_dir",
    "class_weights",
    "default_normalization",
    "fit",
    "fit_label_offset",
    "in_notebook",
    "object_record",
    "offset_fit_cost",
    "prepare_data",
    "prepare_run_dir",
    "progress_bar",
    "resume_command",
    "run_info",
    "schedule_factor",
    "shared_clock",
    "smooth",
    "tile_sizes",
    "train_one_epoch",
    "validate",
]
