"""``unetlab compare``: training runs side by side (:func:`unetlab.compare.compare_runs`)."""

from __future__ import annotations

import argparse

from unetlab.cli.common import STDOUT, user_path

EPILOG = """examples:
  unetlab compare runs/a runs/b runs/c     # three settings tried
  unetlab compare runs/cv                  # the folds of train --folds 5 --run-dir runs/cv
  unetlab compare runs --by last --out cmp # every run in runs/; cmp/compare.csv and curves

One row per run: the config keys that differ between the runs (run.* aside), the epochs,
steps, train_minutes (the epochs' own time) and wall_minutes (the training command's,
start to end; "-" for a resumed run), best.pt's epoch and val mIoU, the last validation's mIoU and
Dice, and the mIoU of each unetlab evaluate --json report saved in a run's folder with
the checkpoint it scored (best.pt or last.pt with its epoch, "replaced since" where that
file has been overwritten since; "other NAME" for one of elsewhere); best first. Runs
that did not end as planned are marked stopped (Ctrl-C, a signal) or killed (no
summary.json from their last command), with the command that resumes them, and a run
resumed is marked "resumed Nx" (history.yaml's resumes); runs that
share every setting (folds, repeats) get a line of mean ± sd over the finished ones (the
unfinished named, left out). Runs of three classes or more get a second table: each
class's val IoU at best.pt's epoch (compare.csv: best_val_iou_NAME). A run inside a
given folder that has not finished an epoch yet is left out; one named alone is refused.
--out's curves run by training step where the runs' epochs differ in length (--curves-by).
"""


def add_parser(sub) -> None:
    p = sub.add_parser(
        "compare",
        help="training runs side by side: differing settings, length, val figures",
        description="Compare training runs: their differing settings, length and validation "
        "figures, one row per run.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "runs",
        nargs="+",
        metavar="RUN_DIR",
        type=user_path,
        help="run folders, or folders holding runs (a train --folds run's, a folder of runs)",
    )
    p.add_argument(
        "--by",
        choices=("best", "last"),
        default="best",
        help="sort by best.pt's val mIoU, or by the last validation's (default: best)",
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        type=user_path,
        help="also write DIR/compare.csv and DIR/compare_curves.png (the runs' validation "
        "curves overlaid)",
    )
    p.add_argument(
        "--curves-by",
        choices=("auto", "epoch", "step"),
        default="auto",
        help="what --out's curves run along: auto (default) draws them by training step "
        "where the runs' epochs differ in length (other data sizes, batch sizes or "
        "tiles_per_epoch), else by epoch",
    )
    p.set_defaults(run=run)


def run(args) -> int:
    from unetlab.compare import check_out_folder, compare_runs, write_comparison
    from unetlab.errors import UnetlabError

    if args.out is not None and args.out.strip() in ("", STDOUT):  # a folder "-", or nothing
        raise UnetlabError(
            f"--out {args.out!r}: give the folder for compare.csv and compare_curves.png (the "
            "table itself is printed), e.g. --out cmp"
        )
    if args.curves_by != "auto" and not args.out:
        raise UnetlabError(f"--curves-by {args.curves_by} draws --out's curves: add --out DIR")
    if args.out:  # refused before the table, so that the line is the last thing said
        check_out_folder(args.out)
    comparison = compare_runs(args.runs, by=args.by)
    # written before the table is printed: a refusal (a compare.csv of the user's) is the
    # last thing said (s68 review)
    written = write_comparison(comparison, args.out, x=args.curves_by) if args.out else []
    print(comparison.table())
    for path in written:
        print(f"wrote {path}")
    return 0
