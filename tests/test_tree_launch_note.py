"""The main process of ``predict --recursive --nproc N`` notes the tree's place for the
launcher at every folder (:meth:`TreeStop.note_for_launch`), which rebuilds it for the line
of a launch stopped before that process said its own (:func:`launch_tree_stop`)."""

from __future__ import annotations

import builtins
from pathlib import Path

from unetlab.distributed import STATUS_FILE
from unetlab.inference.folders import FolderPrediction
from unetlab.inference.tree import TREE_STEPS, TreeStop, launch_tree_stop


def _tree(n: int) -> list[tuple[Path, list[Path]]]:
    return [
        (Path(f"plate{i}"), [Path(f"/in/plate{i}/img{j}.tif") for j in range(2)]) for i in range(n)
    ]


def _noted(tmp_path, monkeypatch, folders, results: dict, *, upto: int) -> list[int]:
    """Note the tree of ``folders`` (``results``: of each folder, by its path) in a launch
    whose status file is ``tmp_path/status`` at each of its folders before ``upto``: the
    characters each note wrote beside the status file."""
    tmp_path.mkdir(exist_ok=True)
    status = str(tmp_path / "status")
    monkeypatch.setenv(STATUS_FILE, status)
    written, real_open = [0], builtins.open

    class Counted:
        def __init__(self, f):
            self.f = f

        def write(self, text):
            written[0] += len(text)
            return self.f.write(text)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return self.f.__exit__(*exc)

    def counted_open(file, *args, **kw):
        f = real_open(file, *args, **kw)
        return Counted(f) if str(file).startswith(status) and "r" not in (args or "r")[0] else f

    each = []
    with monkeypatch.context() as m:
        m.setattr(builtins, "open", counted_open)
        for at in range(upto):
            before = written[0]
            TreeStop.begun(
                "/in", "/out", folders, at, {r: results[r] for r, _ in folders[:at]}, noted=True
            )
            each.append(written[0] - before)
    return each


def test_a_folder_notes_as_much_in_a_large_tree_as_in_a_small_one(tmp_path, monkeypatch):
    """Each folder rewrote the tree's every folder and every one that ran: quadratic (s54
    review: 0.78 s for 1,000 folders, 10.9 s for 4,000). A folder's note now writes its own
    place only, the same in a tree of 400 folders as in one of 20."""
    ran = FolderPrediction(written={Path("x"): [Path("y")]})
    small, large = _tree(20), _tree(400)
    results = {rel: ran for rel, _ in large}
    at_small = _noted(tmp_path / "s", monkeypatch, small, results, upto=20)
    at_large = _noted(tmp_path / "l", monkeypatch, large, results, upto=20)
    assert at_large[0] > at_small[0] > 0  # the tree's folders, noted once
    assert max(at_large[1:]) <= max(at_small[1:]) + 10, (at_small, at_large)  # digits of "at"


def test_the_launcher_rebuilds_the_place_noted(tmp_path, monkeypatch):
    """The folders that ran (not the one refused), the one it was in and its inputs."""
    folders, ran = _tree(5), FolderPrediction(written={Path("x"): [Path("y")]})
    refused = FolderPrediction(failed={Path("/in/plate1"): "plate1/: refused"})
    results = {Path("plate0"): ran, Path("plate1"): refused, Path("plate2"): ran}
    _noted(tmp_path / "l", monkeypatch, folders, results, upto=4)
    status = str(tmp_path / "l" / "status")
    stop = launch_tree_stop(status)
    assert (stop.root, stop.out_dir, stop.at) == (Path("/in"), Path("/out"), 3)
    assert [rel for rel, _ in stop.folders] == [rel for rel, _ in folders]
    assert stop.folders[3][1] == folders[3][1]
    assert list(stop.results) == [Path("plate0"), Path("plate2")]
    assert launch_tree_stop(str(tmp_path / "none")) is None  # stopped before its first folder


def _cut(status: str, keep: int) -> None:
    """The tree's note of steps of the launch ``status`` as a process killed as it wrote
    its last line leaves it: that line's first ``keep`` characters."""
    steps = Path(f"{status}.{TREE_STEPS}")
    lines = steps.read_text(encoding="utf-8").splitlines(keepends=True)
    steps.write_text("".join(lines[:-1]) + lines[-1][:keep], encoding="utf-8")


def test_a_step_cut_off_as_it_was_noted_names_the_folder_it_began(tmp_path, monkeypatch):
    """A kill as the process noted plate4 left its line cut off; the launcher left it out
    and named plate3, done, as the folder it stopped in ("folder 4 of 5", plate4 "not
    started"). It was in plate4: its inputs are not known (said without a count), and no
    record was noted for it (it had not held it: none of its inputs predicted)."""
    folders, ran = _tree(5), FolderPrediction(written={Path("x"): [Path("y")]})
    results = {rel: ran for rel, _ in folders}
    for keep in (40, 12, 5, 1):
        place = tmp_path / str(keep)
        _noted(place, monkeypatch, folders, results, upto=5)
        _cut(str(place / "status"), keep)  # in its inputs; before whether plate3 ran; in "at"
        stop = launch_tree_stop(str(place / "status"))
        assert (stop.at, stop.folders[4]) == (4, (Path("plate4"), None))
        done = "plate0/, plate1/, plate2/ and 1 more"
        assert stop.where({}) == (
            "in /in/plate4/ (folder 5 of 5) before any of its inputs was predicted; "
            f"done: {done}; not started: none"
        )
    _noted(tmp_path / "first", monkeypatch, folders, results, upto=1)
    _cut(str(tmp_path / "first" / "status"), 1)  # its first folder's line
    assert launch_tree_stop(str(tmp_path / "first" / "status")).at == 0


def test_a_refused_folder_is_not_done_wherever_the_next_line_was_cut(tmp_path, monkeypatch):
    """Cut before "ran" (its first 12 characters, or 1), the line did not say whether plate3
    ran, and the launcher counted it done: refused, it is not (s56). Whether the folder
    before ran is now a line's first character: any line cut off says it."""
    folders, ran = _tree(5), FolderPrediction(written={Path("x"): [Path("y")]})
    results = {rel: ran for rel, _ in folders}
    results[Path("plate3")] = FolderPrediction(failed={Path("/in/plate3"): "plate3/: refused"})
    for keep in (40, 12, 1):
        place = tmp_path / str(keep)
        _noted(place, monkeypatch, folders, results, upto=5)
        _cut(str(place / "status"), keep)
        stop = launch_tree_stop(str(place / "status"))
        assert list(stop.results) == [Path(f"plate{i}") for i in range(3)], keep


def test_a_note_not_one_line_a_folder_is_refused(tmp_path, monkeypatch):
    """The launcher took the lines as one a folder in order: one left out (plate2's), the
    place after it was named from the others, wrongly; ValueError now (the launcher's line
    then says the stop alone), as for a line noted twice."""
    import pytest

    folders = _tree(4)
    _noted(tmp_path, monkeypatch, folders, {rel: FolderPrediction() for rel, _ in folders}, upto=4)
    steps = tmp_path / f"status.{TREE_STEPS}"
    lines = steps.read_text(encoding="utf-8").splitlines(keepends=True)
    for kept in (lines[:2] + lines[3:], lines + lines[-1:], lines[:2] + lines[1:2], lines[1:]):
        steps.write_text("".join(kept), encoding="utf-8")
        with pytest.raises(ValueError, match="tree's note"):
            launch_tree_stop(str(tmp_path / "status"))
    steps.write_text("".join(lines), encoding="utf-8")
    assert launch_tree_stop(str(tmp_path / "status")).at == 3


def test_the_launcher_counts_by_the_record_noted_for_the_folder_it_stopped_in(
    tmp_path, monkeypatch
):
    """The record a process noted once it held a folder is the one the launcher counts the
    stopped folder's outputs by; one noted for the folder before (stopped before it held
    this one, whose settings may differ: axes dropped for a folder of PNGs) is not."""
    from unetlab.inference.records import Provenance, note_for_launch

    folders = _tree(4)
    _noted(tmp_path, monkeypatch, folders, {rel: FolderPrediction() for rel, _ in folders}, upto=4)
    status = str(tmp_path / "status")
    made = Provenance(checkpoint="/m.pt", sha256="ab" * 32, model={"axes": "YX"})
    note_for_launch(made, Path("/out/plate2"))  # plate2 held, plate3 not yet
    stop = launch_tree_stop(status)
    assert stop.record is None
    # not counted without a record: another model's outputs there were this run's (s56)
    assert "(folder 4 of 4) before any of its inputs was predicted; done" in stop.where({})
    note_for_launch(made, Path("/out/plate3"))
    stop = launch_tree_stop(status)
    assert stop.record == made
    assert "before any" not in stop.where({})


def test_the_tree_s_line_counts_its_folder_as_a_folder_s_line_does(tmp_path):
    """:meth:`TreeStop.where` says the folder it stopped in by
    :func:`~unetlab.inference.output_rules.inputs_done` (it rebuilt that sentence): its
    inputs done by the record given, "before any of its inputs" where it held none and has
    no record, and no count where its inputs are not known (a launch's line cut off)."""
    from tests.test_predict_objects import local_net
    from unetlab.inference.output_rules import inputs_done
    from unetlab.inference.records import PredictOptions, prediction_record

    net = local_net()
    record = prediction_record(net, PredictOptions().for_model(net))
    folders, out = _tree(2), tmp_path / "out"
    (out / "plate0").mkdir(parents=True)
    files = folders[0][1]
    stop = TreeStop(Path("/in"), out, folders, 0, record=record)
    counted = inputs_done(files, out / "plate0", {}, record)
    assert counted == f"with the outputs of 0 of 2 inputs in {out / 'plate0'}"
    said = f"in /in/plate0/ (folder 1 of 2) {counted}; done: none; not started: plate1/"
    assert stop.where({}) == said
    unheld = TreeStop(Path("/in"), out, folders, 0, held=False)
    assert unheld.where({}).startswith(
        "in /in/plate0/ (folder 1 of 2) before any of its inputs was predicted; done: none"
    )
    cut = TreeStop(Path("/in"), out, [(Path("plate0"), None), folders[1]], 0, record=record)
    assert cut.where({}) == "in /in/plate0/ (folder 1 of 2); done: none; not started: plate1/"
