"""Earlier outputs in a prediction folder that no input of it stands behind any more: those
of an input that changed since and now fails (removed: they were made from a file that no
longer exists, and a merge of the folder's tables would take them for this night's), those
of inputs gone from their folder (kept, and named in one line), and those of an unchanged
input not predicted now because another input's outputs would have their names (kept:
they are that input's as it is, and a rerun with ``skip_existing`` once the clash is
renamed skips it; named in the clash's line)."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

from unetlab.atomic import remove_tree
from unetlab.inference.output_rules import input_source
from unetlab.manifest import forget, made_from

log = logging.getLogger("unetlab")

COMMAND = "predict"


def drop_failed_changed(
    out_dir: Path, failed: Mapping[Path, str], changed: Mapping[str, str]
) -> list[str]:
    """Remove (and unlist) the outputs in ``out_dir`` of each ``failed`` input whose file
    changed since they were made (``changed``: output name -> input, taken before the run:
    :func:`~unetlab.manifest.changed_outputs`); one line each. Returns the names removed."""
    removed = []
    for path in failed:
        source = input_source(path)
        names = sorted(n for n, s in changed.items() if s == source)
        names = [n for n in names if os.path.lexists(out_dir / n)]
        for name in names:
            if (out_dir / name).is_dir() and not (out_dir / name).is_symlink():
                remove_tree(out_dir / name)  # a slide's OME-Zarr
            else:
                (out_dir / name).unlink()
        if names:
            forget(out_dir, names, COMMAND, sources=dict.fromkeys(names, source))
            log.warning(
                "removed %s's earlier outputs (%s): made from the file before it changed, "
                "and the file now fails",
                path.name,
                ", ".join(names),
            )
        removed += names
    return removed


def say_gone_inputs(out_dir: Path) -> list[str]:
    """One line naming the outputs in ``out_dir`` whose input (as the manifest names it) is
    gone from a folder that still exists: kept, not in this run's tables. Returns them."""
    gone = {}
    for name, source in made_from(out_dir, COMMAND).items():
        if source is None or not (out_dir / name).exists():
            continue
        if not os.path.lexists(source) and Path(source).parent.is_dir():
            gone.setdefault(Path(source).name, []).append(name)
    names = [n for kept in gone.values() for n in kept]
    if names:
        inputs = ", ".join(sorted(gone)[:3]) + (
            f" and {len(gone) - 3} more" if len(gone) > 3 else ""
        )
        log.info(
            "%d outputs belong to inputs no longer in the input folder (%s): kept; move "
            "them away if a merge of the folder's tables should not read them",
            len(names),
            inputs,
        )
    return sorted(names)


def name_kept_outputs(
    out_dir: Path, apart: Mapping[Path, str], changed: Mapping[str, str]
) -> dict[Path, str]:
    """``apart`` (the inputs not predicted because their outputs would clash -> the line of
    their clash: :func:`~unetlab.inference.output_rules.shared_outputs`) with each line
    naming the earlier outputs in ``out_dir`` of its inputs, which are kept: a merge of the
    folder's tables reads them while ``predict.json`` says the input failed (s37: ``a.jpg``
    beside last night's ``a.png``). Those of an input that changed since (``changed``:
    output name -> input) are left out: :func:`drop_failed_changed` removes them."""
    sources = made_from(out_dir, COMMAND)
    kept: dict[Path, list[str]] = {}
    for path in apart:
        source = input_source(path)
        names = [n for n, s in sources.items() if s == source and n not in changed]
        if names := sorted(n for n in names if os.path.lexists(out_dir / n)):
            kept[path] = names
    lines = {}
    for path, line in apart.items():
        mine = [
            f"{f.name}'s outputs {', '.join(kept[f])}"
            for f in apart
            if apart[f] == line and f in kept
        ]
        if mine:
            line += (
                f"; kept from an earlier run: {' and '.join(mine)} (move them "
                "away if a merge of the folder's tables should not read them)"
            )
        lines[path] = line
    return lines
