"""Training configuration: nested plain dataclasses, loaded from YAML plus ``key=value`` overrides.

Precedence: overrides (``--set train.epochs=5``) > YAML file > the defaults. Unknown keys
are errors that name the known ones, and every value is type-checked, so a typo never silently
falls back to a default. ``Config.to_dict()`` / ``save_config`` / ``load_config`` round-trip
exactly; the resolved config is written to every run folder and into every checkpoint.

Example::

    cfg = load_config("small_cpu", ["train.epochs=5", "data.root=data/isbi"])
    cfg.train.lr, cfg.model.preset   # 0.003, 'small'

The package's modules, one concern each: :mod:`~unetlab.config.sections` (the dataclasses and
each key's help), :mod:`~unetlab.config.checks` (each value's range and choices),
:mod:`~unetlab.config.convert` (types), :mod:`~unetlab.config.files` (YAML, shipped configs),
:mod:`~unetlab.config.yaml_dialect` (the YAML they are read as),
:mod:`~unetlab.config.load` (file + overrides -> config), :mod:`~unetlab.config.removed`
(keys unetlab removed, read or refused as such), :mod:`~unetlab.config.resume`
(what a resumed run may change) and :mod:`~unetlab.config.reference` (every key's type,
default and meaning, for ``unetlab config`` and docs/config.md).
"""

from unetlab.config.checks import AMP_MODES, CLASS_WEIGHTS, OPTIMIZERS, SCHEDULES
from unetlab.config.convert import unknown_key_message
from unetlab.config.files import (
    find_config,
    save_config,
    shipped_configs,
    write_config,
)
from unetlab.config.guard import assigned_keys
from unetlab.config.load import (
    apply_overrides,
    changed_keys,
    chosen_keys,
    explicit_keys,
    given_config,
    load_config,
)
from unetlab.config.resume import (
    RESUMABLE,
    check_resumed,
    config_changes,
    describe_changes,
    load_run_config,
    resumed_config,
)
from unetlab.config.sections import (
    AugmentSection,
    Config,
    DataSection,
    ModelSection,
    RunSection,
    TrainSection,
    option,
)
from unetlab.config_keys import SHIPPED


def __getattr__(name: str):
    """``DuplicateKeyError``, from :mod:`~unetlab.config.yaml_dialect` at its first use: that
    module imports PyYAML, which a predict with a .pt checkpoint does not read (PEP 562)."""
    if name == "DuplicateKeyError":
        from unetlab.config.yaml_dialect import DuplicateKeyError

        return DuplicateKeyError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AMP_MODES",
    "CLASS_WEIGHTS",
    "OPTIMIZERS",
    "RESUMABLE",
    "SCHEDULES",
    "SHIPPED",
    "AugmentSection",
    "Config",
    "DataSection",
    "DuplicateKeyError",
    "ModelSection",
    "RunSection",
    "TrainSection",
    "apply_overrides",
    "assigned_keys",
    "changed_keys",
    "chosen_keys",
    "check_resumed",
    "config_changes",
    "describe_changes",
    "explicit_keys",
    "find_config",
    "given_config",
    "load_config",
    "load_run_config",
    "option",
    "resumed_config",
    "save_config",
    "shipped_configs",
    "unknown_key_message",
    "write_config",
]
