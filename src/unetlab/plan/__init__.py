"""From a data set's fingerprint to training settings, each with its reason.

``unetlab train`` measures the data (:mod:`unetlab.data.fingerprint`), refuses data that
contradicts itself (:func:`check_data`), then derives tile size, batch, normalisation, loss,
the object settings, augmentation, the precision this CPU runs fastest, the processes that
make tiles beside a GPU and, under a time budget, the epoch cap (:func:`make_plan`).
Every choice is an ordinary config key: a key set in the YAML file or with ``--set`` is the
user's and wins (the choice is kept in the plan, marked ``user``). The plan goes to the run
folder (``plan.yaml``) and its reasons to ``train.log``.

One module per concern: ``record`` (a choice, the plan, its YAML and log), ``geometry``
(the net's sizes), ``checks`` (the data's contradictions), ``tiles``, ``normalization``,
``loss``, ``augment`` and ``device`` (the rules per topic), ``make`` (every choice),
``notes`` (warnings no setting answers) and ``training`` (all of it for a config).

Example::

    fp = fingerprint(train_pairs + val_pairs, target=cfg.data.target)
    check_data(fp, cfg, explicit)
    plan = make_plan(fp, cfg, explicit=explicit, device="cpu")
    cfg = plan.apply(cfg)
"""

from unetlab.plan.augment import (
    FEW_IMAGES,
    LAYOUT_IMAGES,
    UP_DOWN_LAYOUT,
    plan_augment,
    plan_orientation,
)
from unetlab.plan.checks import (
    CLASS_KEYS,
    VOID_MASKS,
    check_data,
    declared_names,
    label_value_problems,
    void_note,
    void_problems,
)
from unetlab.plan.device import MAX_WORKERS, plan_precision, plan_workers
from unetlab.plan.geometry import Geometry
from unetlab.plan.loss import (
    DICE_BELOW,
    WEIGHTING,
    WEIGHTS_BELOW,
    one_balance,
    plan_loss,
    plan_objects,
)
from unetlab.plan.make import BUDGET_EPOCHS, make_plan, plan_offset
from unetlab.plan.normalization import BRIGHT_MEDIAN, BRIGHT_TOP, plan_normalization
from unetlab.plan.notes import (
    RARE_IMAGES,
    SEEDS_TRIED,
    rare_classes,
    unvalidated_classes,
    unvalidated_values,
)
from unetlab.plan.record import Choice, Plan
from unetlab.plan.tiles import (
    MAX_BATCH,
    MAX_TILE,
    OBJECTS_PER_TILE,
    PIXELS_PER_STEP,
    plan_batch,
    plan_tile,
    plan_tiles_per_epoch,
)
from unetlab.plan.training import check_training_data, plan_training

__all__ = [
    "check_training_data",
    "BRIGHT_MEDIAN",
    "BRIGHT_TOP",
    "BUDGET_EPOCHS",
    "CLASS_KEYS",
    "DICE_BELOW",
    "FEW_IMAGES",
    "LAYOUT_IMAGES",
    "MAX_BATCH",
    "MAX_TILE",
    "MAX_WORKERS",
    "OBJECTS_PER_TILE",
    "PIXELS_PER_STEP",
    "RARE_IMAGES",
    "SEEDS_TRIED",
    "UP_DOWN_LAYOUT",
    "VOID_MASKS",
    "WEIGHTING",
    "WEIGHTS_BELOW",
    "Choice",
    "Geometry",
    "Plan",
    "check_data",
    "declared_names",
    "label_value_problems",
    "make_plan",
    "one_balance",
    "plan_augment",
    "plan_batch",
    "plan_loss",
    "plan_normalization",
    "plan_objects",
    "plan_offset",
    "plan_orientation",
    "plan_precision",
    "plan_tile",
    "plan_tiles_per_epoch",
    "plan_training",
    "plan_workers",
    "rare_classes",
    "unvalidated_classes",
    "unvalidated_values",
    "void_note",
    "void_problems",
]
