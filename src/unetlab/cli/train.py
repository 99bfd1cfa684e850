"""``unetlab train``: train a U-Net on a data folder into a run folder (see unetlab.train.fit)."""

from __future__ import annotations

import argparse
import contextlib
import functools
import sys
from pathlib import Path

from unetlab.cli.common import add_device_arg, add_set_flag, minutes_value, user_path
from unetlab.config_keys import TRAIN_FLAGS, shipped_configs
from unetlab.errors import GroupError, UnetlabError
from unetlab.models.architecture import PRESETS
from unetlab.provenance import unetlab_command
from unetlab.signals import say_stop_line, stop_status
from unetlab.words import numbered

EPILOG = """\
examples:
  unetlab train --data ../shared/data/isbi2012/train --config configs/small_cpu.yaml
  unetlab train --data DIR --preset small-valid --set train.epochs=20 --set data.tile_size=188
  unetlab train --data DIR --config configs/nuclei.yaml   # instance masks: separate, count
  unetlab train --run-dir runs/small_cpu --resume --set train.epochs=60
  unetlab train --data DIR --run-dir runs/a --resume auto   # a job that may be requeued
  unetlab train --data DIR --config configs/paper.yaml --nproc 4     # 4 GPUs, data-parallel
  unetlab train --data DIR --minutes 10     # settings planned from the data, 10 minutes
  unetlab train --data DIR --set data.channel=0   # channel 0 of 2-channel images ([1, 0]: a list)
  unetlab train --data DIR --check --preview look   # the first 16 training tiles as PNGs
  unetlab train --data NEW --init runs/a/checkpoints/best.pt --run-dir runs/b   # fine-tune
  unetlab train --data DIR --folds 5 --epochs 40 --run-dir runs/cv   # 5-fold cross-validation
  unetlab train --run-dir runs/cv --folds 5 --resume      # go on with a stopped one

Unless --no-plan or --resume, the data is measured first (sizes, dtype, intensities, class
shares, object sizes and contacts) and the keys the config and --set leave open are planned
from it; the plan and its reasons are printed and saved as plan.yaml in the run folder. Masks
that contradict each other (0/1 and 0/255 files) stop the run before it starts, with
--no-plan too (it drops the plan's choices, not its checks).

--resume goes on with the run's own config.yaml (its plan included), the original command
line or not: it may change how long and where the run trains (epochs, minutes, batch, device,
workers, patience, val_every, the data folder's place); a key that would change what is
trained (model, tile, loss, normalisation, ...) and differs from the run's is refused. It
trains on the files split.json lists (files added to the data folder since are left out;
one missing or changed is refused), and history.yaml gets the command, what it changed, the
code, the machine and the resolved device, precision and net; summary.json (steps, epochs,
best and last scores, ...) is written when the run ends.

The run folder holds config.yaml (resolved), metrics.csv, train.log, curves.png and
checkpoints/best.pt, last.pt; --run-dir is a new or empty folder, or a run's (a folder of
other things is refused). Relative data.root, model.encoder_weights and
model.init_checkpoint are read from the current folder and recorded absolute. Any config key
can be set with --set section.key=value: unetlab config lists them all with their defaults
and meanings (also docs/config.md).
"""


def add_parser(sub) -> None:
    p = sub.add_parser(
        "train",
        help="train a U-Net on a folder of images and masks",
        description="Train a U-Net. Settings: --set flags > the --config YAML > defaults.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--data",
        type=user_path,
        help="data folder: images/ + masks/ (a mask may be Fiji's RoiSet.zip or QuPath's "
        ".geojson), train/ + val/ of those, X.tif beside X_mask.png, VOC, ISBI stacks, the "
        "Data Science Bowl's ID/images/ID.png + ID/masks/, or the Cell Tracking Challenge's "
        "01/t000.tif beside 01_GT/SEG/man_seg000.tif",
    )
    p.add_argument(
        "--config",
        type=user_path,
        help=f"YAML config file, or a shipped one by name: {', '.join(shipped_configs())} "
        "(configs/NAME.yaml)",
    )
    _add_settings(p)
    _add_run_folder(p)
    _add_check_preview(p)
    _add_repeats(p)
    _add_how(p)
    add_device_arg(p)
    p.set_defaults(run=run, device=None)


def _add_settings(p) -> None:
    """The flags that set config keys, beside --data and --config."""
    p.add_argument("--preset", choices=sorted(PRESETS), help="architecture preset (model.preset)")
    add_set_flag(p)
    p.add_argument(
        "--init",
        metavar="CKPT",
        type=user_path,
        help="fine-tune: start a new run from the weights of this trained unetlab checkpoint "
        "(model.init_checkpoint; the same net); --resume continues a run instead",
    )
    p.add_argument("--epochs", type=int, help="train.epochs")
    p.add_argument(
        "--minutes",
        type=minutes_value,
        metavar="M",
        help="train.max_minutes: train for M minutes, the learning rate annealed on the "
        "clock to end at M whatever the machine's speed",
    )
    p.add_argument(
        "--axes",
        metavar="AXES",
        help="data.axes: the axes of TIFF images that record none or wrong ones, e.g. ZYX for "
        "stacks ImageJ saved without axes (else read as channels); their TIFF masks are read "
        "with them less C where they have as many axes",
    )
    p.add_argument(
        "--no-plan",
        action="store_true",
        help="do not derive settings from the data (tile, batch, normalisation, loss, "
        "augmentation): use the config's and the defaults",
    )


def _add_run_folder(p) -> None:
    """The run folder and what to do with it: --resume, --overwrite or --check."""
    p.add_argument(
        "--run-dir",
        type=user_path,
        help="run folder (default: run.dir/run.name of the config, runs/unet)",
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--resume",
        nargs="?",
        const=True,
        default=False,
        type=_resume_value,
        metavar="auto",
        help="continue the run in --run-dir from last.pt, with its own config.yaml; --resume "
        "auto: resume when --run-dir holds a checkpoint (last.pt), else start the run (a "
        "batch job that may be requeued)",
    )
    mode.add_argument("--overwrite", action="store_true", help="replace the run in --run-dir")
    mode.add_argument(
        "--check",
        action="store_true",
        help="check the data and show the plan, the data and the net as the run would start "
        "them, then stop: nothing is written (exit 0; 2 with the problems)",
    )


def _add_check_preview(p) -> None:
    """What --check draws: the first training tiles as the net gets them."""
    p.add_argument(
        "--preview",
        metavar="DIR",
        type=user_path,
        help="with --check: write the first training tiles as the net gets them (augmented "
        "input, coloured target, weight map) to DIR, one PNG each and tiles.png of all",
    )
    p.add_argument(
        "--preview-tiles",
        type=int,
        default=16,
        metavar="N",
        help="how many tiles --preview draws (default 16)",
    )


def _add_repeats(p) -> None:
    """Runs made of other runs: one repeated on its files (--split), K folds (--folds)."""
    p.add_argument(
        "--split",
        metavar="PATH",
        type=user_path,
        help="train and validate on the files a run's split.json lists (PATH: it, or the run "
        "folder), to repeat that run exactly: one gone or changed is refused, files added "
        "since are left out",
    )
    p.add_argument(
        "--folds",
        type=int,
        metavar="K",
        help="K-fold cross-validation: K runs into RUN_DIR/fold_1..K, each validating on "
        "another 1/K of the images (shuffled by data.seed; each image once) and training on "
        "the rest; RUN_DIR/folds.csv and the mean ± sd over the folds; --minutes is each "
        "fold's; with --resume a stopped cross-validation goes on (the folds done are kept)",
    )


def _add_how(p) -> None:
    """How the run shows itself and in how many processes it trains."""
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--nproc",
        type=int,
        default=1,
        metavar="N",
        help="data-parallel training in N processes on this machine: one per GPU "
        "(NCCL), or CPU processes (gloo); the same as torchrun --nproc_per_node N "
        "-m unetlab train ... (default 1)",
    )


def _resume_value(text: str) -> str:
    if text != AUTO:
        raise argparse.ArgumentTypeError(f"takes no value, or {AUTO!r}, not {text!r}")
    return text


AUTO = "auto"  # --resume auto (train.rundir.RESUME_AUTO: not imported, the parser loads no torch)


def run(args) -> int:
    from unetlab.data.held import stacks_held
    from unetlab.data.io import check_axes
    from unetlab.data.mask_reading import masks_read_as
    from unetlab.data.pairs import page_counts_held

    check_axes(args.axes)  # one line, before the config and any file are read
    cfg, explicit = _config(args)
    # every mask the command reads; each file's page count read once (the plan pairs too);
    # each file the plan reads whole, read once for the load (or the mask scan) too
    held = stacks_held(held_budget(args.nproc))
    with masks_read_as(cfg.data), page_counts_held(), held:
        return _command(args, cfg, explicit)


#: the share of the machine's available memory the files the plan reads may take, kept
#: for training's load: that then holds the whole data set, in float32, anyway
HELD_SHARE = 0.25


def held_budget(nproc: int) -> float:
    """The bytes of files read whole that one of ``nproc`` training processes (or of those
    torchrun started on this machine) keeps for their next read
    (:func:`unetlab.data.held.stacks_held`): its share of :data:`HELD_SHARE` of the
    available memory (none where that is unknown)."""
    import os

    from unetlab.runtime import available_memory

    available = available_memory("cpu")
    processes = max(nproc, int(os.environ.get("LOCAL_WORLD_SIZE", 1)))
    return 0.0 if available is None else HELD_SHARE * available / processes


def _command(args, cfg, explicit: set[str]) -> int:
    """:func:`run` once the config is read: --folds, --check, or the run."""
    from unetlab.distributed import Group, check_nproc, launch, without_nproc

    split = _split(args, cfg.data)
    if args.preview is not None and not args.check:
        raise UnetlabError("--preview draws the tiles of a --check: add --check")
    check_nproc(args.nproc, cfg.train.device)  # before --check: what the run would refuse
    if args.folds is not None:
        return _folds(args, cfg, explicit, split)
    if args.check:
        return _check(args, cfg, explicit, split)
    group = Group.from_env()
    run_dir = _run_dir(args, cfg, try_lock=group.is_main)
    if args.nproc > 1 and not group.active:  # start the processes; each runs this command
        failed = lambda outlived: _launch_failed(run_dir, args.nproc, outlived)  # noqa: E731
        # stopped before its main process said its line: the run folder and how to go on
        stopped = lambda how, status: _stop_line(run_dir, how, args.nproc)  # noqa: E731
        argv = without_nproc(args.argv)
        return launch(args.nproc, argv, given=args.argv, failed=failed, stopped=stopped)
    plan = None
    if not (args.resume or args.no_plan):
        cfg, plan = _plan(cfg, explicit)
        _check_memory(cfg, plan, say=group.is_main)  # fit checks it again
    elif args.no_plan and not args.resume:
        _check_data(cfg, explicit)
    return _train(args, cfg, run_dir, group, plan=plan, split=split)


def _folds(args, cfg, explicit: set[str], split: dict | None) -> int:
    """``--folds K``: K runs of cross-validation (:func:`unetlab.train.folds.fit_folds`),
    planned once from the whole data folder; each fold's line and their mean ± sd."""
    from unetlab.train.folds import FOLDS_FILE, describe_folds, fit_folds
    from unetlab.train.log import miou_name

    for given, flag in ((split, "--split"), (args.check, "--check")):
        if given:
            raise UnetlabError(f"--folds trains new runs on splits of its own: drop {flag}")
    if args.nproc > 1:
        raise UnetlabError("--folds trains its runs one after another in one process: drop --nproc")
    run_dir = _run_dir(args, cfg, try_lock=True)
    plan = None  # a resume goes on with its folds' config.yaml, their plan included
    if not (args.resume or args.no_plan):
        cfg, plan = _plan(cfg, explicit)
    elif not args.resume:
        _check_data(cfg, explicit)
    _check_memory(cfg, plan)  # before fold_1 is made
    fitting = dict(overwrite=args.overwrite, progress=not args.no_progress, plan=plan)
    # a stop (Ctrl-C, SIGTERM): fit_folds logs how to go on, main says it and exits 130, 143
    summary = fit_folds(cfg, args.folds, run_dir=run_dir, resume=args.resume, **fitting)
    name = miou_name(summary.get("val_miou_classes") or ())
    for row in summary["folds"]:
        best, last = row["best_val_miou"], row["last_val_miou"]
        print(
            f"fold {row['fold']}: validated on {row['validated_on']}; val {name} of best.pt "
            f"{'n/a' if best is None else f'{best:.4f}'}, of the last epoch "
            f"{'n/a' if last is None else f'{last:.4f}'} ({row['run_dir']})"
        )
    print(f"{describe_folds(summary)}\nfolds: {run_dir / FOLDS_FILE}")
    return 0


def _fold_to_resume(resume, run_dir: Path) -> Path | None:
    """``--folds K --resume``: the folder of the first fold of ``run_dir`` that saved a
    checkpoint, whose config.yaml the cross-validation goes on with; None to start it
    (``--resume auto`` finding none, or no --resume)."""
    from unetlab.train.folds import begun_folds

    if not resume:
        return None
    begun = begun_folds(run_dir)
    if resume == AUTO:
        said = "resuming the folds it holds" if begun else "no fold to resume: starting them"
        print(f"--resume auto: {run_dir}: {said}", file=sys.stderr)
    elif not begun:
        raise UnetlabError(
            f"{run_dir} holds no cross-validation to resume (no fold_*/checkpoints/last.pt): "
            "start it without --resume (--resume auto resumes folds, or starts them)"
        )
    return begun[0] if begun else None


def _config(args) -> tuple:
    """(config, the keys the command sets): the --config file with the flags, or on
    --resume (--resume auto finding a run) the run's own config.yaml with what may change;
    data.root and model.encoder_weights read from here as fit reads them (a resume keeps
    the weights file its config.yaml names, as it names it)."""
    from unetlab.config import explicit_keys, load_config
    from unetlab.distributed import Group
    from unetlab.train.fitting import absolute_paths
    from unetlab.train.rundir import resume_wanted

    config, overrides = _settings(args)
    cfg, explicit = load_config(config, overrides), explicit_keys(config, overrides)
    refuse_root_beside_config(cfg, config)
    run_dir = _run_folder(args, cfg)
    if args.resume and not args.check and Group.from_env().is_main:
        _refuse_in_use(run_dir)  # a live run's folder: in use, not a run to resume (yet)
    if args.folds is not None:  # a cross-validation resumes with the config of its folds
        fold = _fold_to_resume(args.resume, run_dir)
        args.resume = fold is not None
        if fold is not None:
            cfg = _resumed(fold, cfg, explicit)
        return absolute_paths(cfg, fold or run_dir, resume=args.resume), explicit
    args.resume = resume_wanted(args.resume, run_dir)  # --resume auto
    if args.resume:  # the run's own config, the plan included, with what may change
        cfg = _resumed(run_dir, cfg, explicit)
    return absolute_paths(cfg, run_dir, resume=args.resume), explicit


def refuse_root_beside_config(cfg, config: str | None) -> None:
    """A relative data.root that the --config file sets is read from the current folder, as
    --data is (the README): where it is no folder there but one beside the file, refused
    naming both and the fix (s51 walkcluster: "/tmp/data: no such data folder" for
    ``root: ../data`` in a config file beside the data)."""
    from unetlab.config.files import find_config

    root = cfg.data.root
    if config is None or root is None or "data.root" not in cfg.file_keys:
        return
    if Path(root).expanduser().is_absolute() or Path(root).is_dir():
        return
    beside = (find_config(config).parent / root).resolve()
    if beside.is_dir():
        raise UnetlabError(
            f"{config}: data.root {root} is read from the current folder ({Path.cwd()}), as "
            f"--data is, not from the config file's, and there is no {root} there: give "
            f"--data {beside}, or write that path in the file"
        )


def _train(args, cfg, run_dir: Path, group, *, plan, split: dict | None) -> int:
    """fit's run and its summary (the main process), or a stop (Ctrl-C, SIGTERM, SIGHUP) or
    a lost process of a group said in one line; the exit status. fit warns of a run's
    config.yaml given with data other than that run's."""
    from unetlab.distributed import lost_peer_told, peer_lost, peer_silent
    from unetlab.train import fit

    try:
        result = fit(
            cfg,
            run_dir=run_dir,
            resume=args.resume,
            overwrite=args.overwrite,
            progress=not args.no_progress,
            plan=plan,
            split=split,
            config_file=args.config,
        )
    except KeyboardInterrupt as exc:  # Ctrl-C, or unetlab.signals.Stopped: SIGTERM, SIGHUP
        return _stopped(run_dir, exc, say=group.is_main, processes=group.world)
    except Exception as exc:
        if group.active and peer_lost(exc):  # not a bug: a process killed, out of memory
            # named, as predict names it, where the launch noted it: waited for once, a look
            # as the line is said (kept on exc: train.log's, asked first, says the same),
            # the stop under way as it waits
            lost = lost_peer_told(exc)
            said, fix = (lost.said(), lost.fix()) if lost else (None, "")
            raise GroupError(_group_lost(run_dir, group.world, said=said, fix=fix)) from exc
        if group.active and peer_silent(exc):  # a process gone, or a bug: both said
            line = _group_lost(run_dir, group.world, timed_out=True)
            print(f"unetlab train: {line}", file=sys.stderr)
        raise
    if group.is_main:
        _summary(run_dir, result)
    return 0


def _split(args, data) -> dict | None:
    """``--split``: the split record it names (a split.json, or a run folder's); None
    without it. Refused with --resume, which trains on its run's own, and where its masks
    are of a Cell Tracking Challenge truth other than the one ``data`` (the config's data
    section) reads: before the plan measures the folder's."""
    from unetlab.data.split_record import SPLIT_FILE, read_split, refuse_record_truth

    if args.split is None:
        return None
    if args.resume:
        raise UnetlabError("--resume trains on the files its run recorded: drop --split")
    path = Path(args.split)
    record = read_split(path / SPLIT_FILE if path.is_dir() else path)
    if record is None:
        run = path if path.is_dir() else path.parent
        if (run / "config.yaml").is_file() and (run / "checkpoints").is_dir():
            raise UnetlabError(_unrecorded_split(run))
        raise UnetlabError(
            f"--split {path}: no such split record: give a run's {SPLIT_FILE}, or its folder"
        )
    refuse_record_truth(record, data, f"--split {path}")
    return record


def _unrecorded_split(run: Path) -> str:
    """The line for ``--split RUN`` where the run folder holds no split.json (an older unetlab
    wrote it): its split is only drawn again, from its seed (audit s31 upgrade 3)."""
    import yaml

    try:
        data = (yaml.safe_load((run / "config.yaml").read_text(encoding="utf-8")) or {})["data"]
        drawn = f" (data.seed {data['seed']}, data.val_fraction {data['val_fraction']})"
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        drawn = ""
    return (
        f"--split {run}: this run folder was written by an older unetlab, which recorded no "
        f"split.json: its split can only be drawn again from its config.yaml{drawn}: "
        f"{unetlab_command('train', '--config', run / 'config.yaml')} --data DATA without --split (the same seed draws the "
        "same split of the same files; nothing checks that the files are those it trained on)"
    )


def _input_channels(data) -> str:
    """The net's input channels as --check says them ("13 input channels"): those of the
    first training sample as loaded (``data.channel`` picks one), so a 13-band data set read
    as 1 band, or a stack read as planes, shows before a run (audit s37 bands)."""
    count = data.train[0].image.shape[0] if data.train else 0
    return numbered(count, "input channel")


def _check(args, cfg, explicit: set[str], split: dict | None = None) -> int:
    """``--check``: the data's checks, the plan, and the data and net as the run would
    start them (loaded, built, its tile sized), logged; nothing is written."""
    import logging

    from unetlab.train.fitting import warn_other_data
    from unetlab.train.log import log_validation
    from unetlab.train.resume import listed_split
    from unetlab.train.run import started

    log = logging.getLogger("unetlab.train")
    warn_other_data(args.config, cfg, data=split is None)  # as fit warns (--check: no resume)
    run_dir = _run_dir(args, cfg, try_lock=False, checking=True)  # one that cannot be right
    _say_started(run_dir, log)
    plan = None
    if not args.no_plan:
        cfg, plan = _plan(cfg, explicit)
        plan.log()
    else:
        _check_data(cfg, explicit)
    files = listed_split(split, cfg, doing="checking") if split is not None else None
    memory = _check_memory(cfg, plan, say=False)  # before the data loads, as training checks
    data, model, (tile, out) = started(cfg, files, run_dir=run_dir)
    log_validation(data.pairs, cfg.data.root)
    if args.preview is not None:
        _preview(args, cfg, data, (tile, out))
    params = sum(p.numel() for p in model.parameters())
    log.info(
        "check: %d training and %d validation images, classes %s; net %s parameters, %s, tile %d "
        "-> output %d px, batch %d: %s; nothing %s: train with the same command without %s",
        len(data.train),
        len(data.val),
        _classes_checked(data),
        f"{params:,}",
        _input_channels(data),
        tile,
        out,
        cfg.train.batch_size,
        memory.said(tile, cfg.train.batch_size),
        *(("else written", "--check and --preview") if args.preview else ("written", "--check")),
    )
    return 0


def _classes_checked(data) -> str:
    """The classes ``--check`` names: ``0 (road), 1 (sidewalk), ...`` as the run's data line
    does (audit s43 scenes: it gave the values alone), or an instance target's three
    classes of the masks' object ids."""
    from unetlab.train.log import classes_text

    if data.objects and data.objects.get("target") == "instances":
        values = ", ".join(map(str, data.label_values))
        return f"{values} ({', '.join(data.class_names)} of the masks' object ids)"
    return classes_text(data.class_names, data.label_values)


def _preview(args, cfg, data, sizes: tuple[int, int]) -> None:
    """``--preview DIR``: the run's first training tiles drawn into DIR."""
    import logging

    from unetlab.data.preview import tile_colours, write_preview
    from unetlab.train.run import tile_dataset

    paths = write_preview(
        tile_dataset(cfg, data, sizes),
        args.preview,
        count=args.preview_tiles,
        class_names=data.class_names,
        colours=tile_colours(data.label_values, data.palette, data.class_names, data.ignore_value),
    )
    logging.getLogger("unetlab.train").info(
        "preview: %d training tiles (epoch 1) in %s, all of them in %s",
        len(paths) - 1,
        args.preview,
        paths[-1],
    )


def _absolute(path: str) -> str:
    """``path`` (``~`` expanded) read from the current folder, as a string."""
    return str(Path(path).expanduser().resolve())


def _stopped(run_dir: Path, exc: KeyboardInterrupt, *, say: bool, processes: int = 1) -> int:
    """Say where the stopped run is (``say``: the main process of a group), the command that
    continues it where fit's stop line has not said it; the exit status of a process ended
    by the signal, 128 + signum (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP)."""
    how, code = stop_status(exc)
    if not say:
        return code
    line = _stop_line(run_dir, how, processes, resume_said=getattr(exc, "resume_said", False))
    say_stop_line(line)  # a closed terminal (SIGHUP): train.log says it
    return code


def _stop_line(run_dir: Path, how: str, processes: int, *, resume_said: bool = False) -> str:
    """The line of a run stopped (``how``: "interrupted"): the last.pt it saved and the
    command that continues it (``resume_said``: fit's stop line said it), or that it
    stopped before saving one. Also a ``--nproc`` launch's, stopped before its main process
    said it (a signal as it waited for a dead torchrun's processes: s54, the stop alone)."""
    from unetlab.train import resume_command
    from unetlab.train.resume import saved_at

    last = run_dir / "checkpoints" / "last.pt"
    again = f"\ncontinue with: {resume_command(run_dir, processes)}"
    said = (
        f"{how}; saved {last}{'' if resume_said else again}"
        if saved_at(run_dir) is not None  # a second Ctrl-C in the first step: none
        else f"{how} before {last} was saved: start the run again with the same command"
    )
    return f"unetlab train: {said}"


def _launch_failed(
    run_dir: Path, processes: int, outlived: bool | None = None, *, wait: float | None = None
) -> None:
    """After a --nproc launch that failed with no process saying why in its line (one
    killed, torchrun's report above; torchrun killed, its processes stopping as a stopped
    run does): where the run is and how to go on, once the run's main process has let the
    run folder go. ``outlived``: torchrun ended first, and the launch waited for its
    processes, which ended (True) or still run (False); None: none was seen to outlive it
    (off Linux), the run folder then waited for up to ``wait`` seconds (a stopped launch's,
    ``STOP_WAIT``): its main process saves last.pt first. Said at once, the line named the
    step before the one it then saved (s51 walkcluster)."""
    from unetlab.distributed import STOP_WAIT, torchrun_ended
    from unetlab.outputs import held_by_another, wait_let_go

    wait = STOP_WAIT if wait is None else wait
    said = torchrun_ended(processes)
    with contextlib.suppress(OSError):  # a closed terminal (SIGHUP)
        if outlived is None and held_by_another(run_dir):  # its main process runs on
            print(
                f"unetlab train: {said}: waiting for them to save and end (at most {wait:g} s)",
                file=sys.stderr,
                flush=True,
            )
            outlived = wait_let_go(run_dir, wait)  # False: saving still, or stuck
        if outlived is False and (line := _still_held(run_dir, processes, said, wait)):
            print(f"unetlab train: {line}", file=sys.stderr)
            return
        said = None if outlived is None else said  # torchrun's report above: one was killed
        print(f"unetlab train: {_group_lost(run_dir, processes, said=said)}", file=sys.stderr)


def _still_held(run_dir: Path, processes: int, said: str, wait: float) -> str | None:
    """The line for a launch (``said``: torchrun ended) whose main process still holds
    ``run_dir`` ``wait`` s later: its pid, and the command that resumes the run once it has
    ended; not the step saved, which it may change yet, nor "start the run again" (s52
    fix1: said as if it had ended). None where it has let the folder go since (its lock
    file gone: s52, the line would have named "pid unknown")."""
    from unetlab.outputs import lock_owner
    from unetlab.train import resume_command
    from unetlab.train.resume import saved_at

    if (owner := lock_owner(run_dir)) == "unknown":  # read once: let go since the wait
        return None
    unsaved = saved_at(run_dir) is None  # so far: it may save yet
    return (
        f"{said}; its main process (pid {owner}) still holds {run_dir} after "
        f"{wait:g} s, saving or stuck: once it has ended (end it if it hangs), continue with: "
        + resume_command(run_dir, processes)
        + (" (if it saved no checkpoint: start the run again with the same command)" * unsaved)
    )


def _group_lost(
    run_dir: Path,
    processes: int,
    *,
    timed_out: bool = False,
    said: str | None = None,
    fix: str = "",
) -> str:
    """The line for a data-parallel run one of whose processes ended (``timed_out``: may
    have ended, or a bug left it waiting; ``said``: what ended, where known: the process
    lost as predict names it, :attr:`~unetlab.distributed.LostPeer.said`, or torchrun): where
    its last checkpoint is, and the command that resumes it (audit s30 ops 2); after
    ``fix`` where it ended on an error (:meth:`~unetlab.distributed.LostPeer.fix`: "fix the
    error above, then ", or "report or fix" a bug's; s67 review: the same command, as if
    nothing were wrong)."""
    from unetlab.train import resume_command
    from unetlab.train.resume import saved_at

    said = said or f"a process of the {processes}-process group ended (killed? out of memory?)"
    if timed_out:
        said = (
            f"a collective timed out: a process of the {processes}-process group may have "
            "ended (killed? out of memory?), or a bug left it waiting (traceback below)"
        )
    if (at := saved_at(run_dir)) is None:
        return (
            f"{said} before a checkpoint was saved: {fix}start the run again with the same command"
        )
    last = run_dir / "checkpoints" / "last.pt"
    return f"{said}; the run is saved in {last} ({at}); {fix}continue with: " + resume_command(
        run_dir, processes
    )


def _say_started(run_dir: Path, log) -> None:
    """Under --check, which writes nothing and so needs no free run folder: a run folder that
    holds a run said in a note, the training's refusal with its fixes (audit s33 readme3 2)."""
    try:
        _refuse_started(run_dir)
    except UnetlabError as exc:
        log.warning("note: training without --check would stop here: %s", exc)


def _refuse_started(run_dir: Path) -> None:
    """A run folder that holds a run (a checkpoint) is refused without --resume or
    --overwrite, in the CLI's words (fit's own refusal names the Python arguments too)."""
    from unetlab.train import CHECKPOINTS
    from unetlab.train.rundir import stopped_at

    if not (held := [n for n in CHECKPOINTS if (run_dir / "checkpoints" / n).is_file()]):
        return
    if "last.pt" not in held:  # --resume needs last.pt: it was said to add it (s43 review)
        best = run_dir / "checkpoints" / "best.pt"
        raise UnetlabError(
            f"{run_dir} already holds a run that cannot be resumed (checkpoints/best.pt, no "
            f"last.pt): give another --run-dir (--init {best} starts from its weights), or "
            "--overwrite to start again (its best.pt goes)"
        )
    raise UnetlabError(
        f"{run_dir} already holds a run{stopped_at(run_dir)} (checkpoints/{', '.join(held)}): "
        "add --resume to continue it from there (--resume auto in a job that may be requeued: "
        "it resumes a run, or starts one), --overwrite to start again, or give another --run-dir"
    )


def _run_folder(args, cfg) -> Path:
    # run.dir: ~/runs in a YAML file is the home's, as --run-dir=~/runs is (cli.common.user_path)
    return Path(args.run_dir) if args.run_dir else Path(user_path(cfg.run.dir)) / cfg.run.name


def _resumed(run_dir: Path, asked, explicit: set[str]):
    """The config a resumed run goes on with: the run's config.yaml, with the keys this
    command sets that may change on resume (unetlab.config.resumed_config). A folder whose
    run files unetlab did not write is refused before its config.yaml is read."""
    from unetlab.config import load_run_config, resumed_config
    from unetlab.train.resume import minutes_spent
    from unetlab.train.rundir import refuse_others

    refuse_others(run_dir)

    if not (run_dir / "checkpoints" / "last.pt").is_file():
        raise UnetlabError(
            f"{run_dir} holds no run to resume (no checkpoints/last.pt): give the --run-dir of "
            "a run that saved a checkpoint, or start a new run without --resume (--resume "
            "auto resumes a run, or starts one)"
        )
    own = run_dir / "config.yaml"
    if not own.is_file():
        raise UnetlabError(
            f"{own} is missing: the run's settings are unknown, so it cannot be resumed; "
            "start a new run (another --run-dir, or --overwrite)"
        )
    # a value this version refuses is replaced by the one the command sets (--set KEY=VALUE)
    recorded = load_run_config(own, asked, explicit)[0]
    spent = functools.partial(minutes_spent, run_dir)  # read for the refusal that names it
    asked = _same_weights(recorded, asked)
    return resumed_config(recorded, asked, explicit, source=str(own), spent=spent)


def _same_weights(own, asked):
    """``asked`` with its ``model.encoder_weights`` and ``model.init_checkpoint`` spelled as
    the run's config.yaml spells them where both name the same file from here (the first command's relative path given
    again): not a change of the run's settings. Another file is made absolute, so that the
    refusal shows which file each one is."""
    for key in ("encoder_weights", "init_checkpoint"):
        mine, given = getattr(own.model, key), getattr(asked.model, key)
        if given:
            same = bool(mine) and _absolute(mine) == _absolute(given)
            setattr(asked.model, key, mine if same else _absolute(given))
    return asked


def _run_dir(args, cfg, *, try_lock: bool, checking: bool = False) -> Path:
    """The run folder, checked before the data is measured: a data folder, and a run folder
    that is not a file and not among the data, nor holding a run (without --resume or
    --overwrite; ``checking``: --check, which writes nothing, passes it); with ``try_lock`` (not
    in the other processes of a --nproc run, which would find the main one's lock) one that no
    other unetlab process is using: its lock is taken and let go at once (fit takes it for
    the run)."""
    from unetlab.data.pairs import refuse_missing_root, refuse_no_root
    from unetlab.train import check_run_dir

    run_dir = _run_folder(args, cfg)
    refuse_no_root(cfg.data.root)
    # a typo or a data set's images/: said before an earlier run in run_dir is (naming --data)
    refuse_missing_root(cfg.data.root)
    check_run_dir(run_dir, cfg.data.root, folds=args.folds is not None)
    if try_lock:  # before the refusal of the run it holds: a live run's is 'in use'
        _refuse_in_use(run_dir)
    if not (args.resume or args.overwrite or checking):
        _refuse_started(run_dir)
        if args.folds is not None:  # before the data is measured
            from unetlab.train.folds import refuse_begun

            refuse_begun(run_dir)
    return run_dir


def _refuse_in_use(run_dir: Path) -> None:
    """A run folder another unetlab process holds (a run training there) refused as in use
    (FolderInUseError, exit 75), before the data is measured and planned and before what the
    folder holds is judged: a live run's last.pt is not a run to --resume or refuse. Its
    lock is taken and let go at once (fit takes it for the run)."""
    from unetlab.outputs import FolderLock

    if run_dir.is_dir():
        with FolderLock(run_dir):
            pass


def _settings(args) -> tuple:
    """(config file or None, overrides): the --config file and the flags as config keys
    (:data:`~unetlab.config_keys.TRAIN_FLAGS`; on --resume, what the command asks of the
    run's own config)."""
    from unetlab.checkpoint import refuse_empty_path

    # "model.init_checkpoint=" reads as null: it trained from scratch, unsaid (s70 re-review)
    refuse_empty_path(args.init, "--init", ", or leave --init out to start afresh")
    overrides = list(args.overrides)
    for flag, key in TRAIN_FLAGS.items():
        value = getattr(args, flag[2:].replace("-", "_"))
        if flag == "--data" and value is not None:
            value = Path(value).expanduser().resolve()  # --data=~/x
        if value is not None:
            overrides.append(f"{key}={value}")
    return args.config, overrides


def _summary(run_dir: Path, result: dict) -> None:
    from unetlab.train.log import miou_name

    best, last = result.get("best_val_miou"), result.get("val", {}).get("miou")
    smoothed = result.get("best_val_miou_smoothed")
    print(f"run folder: {run_dir}")
    line = f"best checkpoint: {result['best_checkpoint']}"
    name = f"val {miou_name(result.get('val_miou_classes') or ())}"
    if smoothed is not None:  # train.best_smoothing's average decides, not one validation
        mine = f"epoch {result['best_epoch']}, {name} {best:.4f}; " if best is not None else ""
        line += f" ({mine}chosen by the {name} averaged over validations, {smoothed:.4f}"
        line += f"; the last validation {last:.4f})" if last is not None else ")"
    print(line)
    print(
        f"metrics: {run_dir / 'metrics.csv'}, curves: {run_dir / 'curves.png'}, "
        f"log: {run_dir / 'train.log'}"
    )


def _check_data(cfg, explicit: set[str]) -> None:
    """``--no-plan``: the plan's checks of the data all the same (contradictions stop the run
    before a run folder exists), without its choices."""
    from unetlab.plan import check_training_data

    check_training_data(cfg, explicit)


def _check_memory(cfg, plan=None, *, say: bool = True):
    """The training step's memory and the loaded data's (``plan``'s measure of it; without
    a plan, from the files) against the device's (:func:`unetlab.plan.memory.check_step_memory`): a
    tile x batch that cannot fit refused in one line naming the batch that does, after
    ``plan``'s lines where ``say`` (its batch line says each step's memory, as --check
    shows it: fit logs them only once the run folder is made); else the facts, for the
    check's line."""
    from unetlab.plan.memory import check_step_memory
    from unetlab.runtime import CLI_DEVICE_FIX, resolve_device

    device = resolve_device(cfg.train.device, CLI_DEVICE_FIX).type
    try:
        return check_step_memory(cfg, device, plan=plan)
    except UnetlabError:
        if plan is not None and say:
            plan.log()
        raise


def _plan(cfg, explicit: set[str]):
    """Measure the data, refuse contradictions, and apply the plan (``fit`` logs it)."""
    from unetlab.plan import plan_training
    from unetlab.runtime import CLI_DEVICE_FIX, resolve_device

    return plan_training(
        cfg, explicit, device=resolve_device(cfg.train.device, CLI_DEVICE_FIX).type
    )
