"""The line of a prediction stopped part way through a streamed slide says where the slide
got and that the rerun resumes there (s50 slidelines: it said "interrupted with the outputs
of 0 of 1 inputs" alone, though the rerun resumed at row 1536); with --instances and no
--save-probabilities, that the slide starts again (its objects are found from staged
probabilities: :func:`tests.test_slide_resume.test_objects_without_staged_probabilities_restart_the_page`)."""

from __future__ import annotations

import logging
import re
from types import SimpleNamespace

import pytest

from tests.test_predict_objects import local_net
from tests.test_slide_resume import (  # noqa: F401
    Stop,
    _predict,
    _slide,
    _stopped,
    pinned_version,
    small_chunks,
)
from unetlab.cli.predict import _say_done
from unetlab.inference.objects import ObjectOptions


def _stop_line(out, capsys, *, instances=False, staged=False, given=None) -> str:
    args = SimpleNamespace(
        instances=instances, save_probabilities=staged, skip_existing=True, output=out
    )
    args.input, args.recursive = [str(given)] if given else [], False
    _say_done(
        args,
        lambda: "with the outputs of 0 of 1 inputs",
        "interrupted",
        KeyboardInterrupt(),
        folder=out,
    )
    return capsys.readouterr().err


@pytest.mark.usefixtures("small_chunks")
def test_the_stop_line_says_where_a_slide_resumes(tmp_path, capsys, caplog):
    net, slide = local_net(), _slide(tmp_path / "s.tif")
    _stopped(tmp_path, slide, net=net)
    line = _stop_line(tmp_path / "out", capsys, given=slide)  # named as the resume line does
    found = re.search(
        rf"\({re.escape(str(slide))} stopped at row (\d+) of 160: its rows are kept, and the "
        r"rerun resumes there\)$",
        line.strip(),
    )
    assert found is not None and int(found[1]) > 0, line
    with caplog.at_level(logging.INFO, logger="unetlab.inference.slides"):
        _predict(net, slide, tmp_path / "out", Stop())
    assert f"resuming {slide} at row {found[1]} of 160" in caplog.messages  # given alone: its path


@pytest.mark.usefixtures("small_chunks")
def test_an_instances_slide_resumes_only_with_staged_probabilities(tmp_path, capsys):
    slide = _slide(tmp_path / "s.tif")
    objects = dict(objects=ObjectOptions.for_model, save_probabilities=True)
    _stopped(tmp_path, slide, **objects)
    assert "s.tif stopped at row " in _stop_line(
        tmp_path / "out", capsys, instances=True, staged=True
    )
    _stopped(tmp_path, slide, objects=ObjectOptions.for_model)  # afresh: settings changed
    line = _stop_line(tmp_path / "out", capsys, instances=True)
    assert "starts again at its first row" in line and "resumes there" not in line


def test_the_inputs_are_listed_for_a_stop_line_only_where_a_slide_was_staged(tmp_path, monkeypatch):
    """Every stop listed the inputs again to name a staged slide, even with none staged
    (0.45 s on 2,000 PNGs; s56 review U): listed only where a .partial staging is there."""
    from unetlab.cli.predict import _restarts
    from unetlab.inference import folders

    listed = []
    monkeypatch.setattr(folders, "find_inputs", lambda given: listed.append(given) or [])
    args = SimpleNamespace(
        instances=False, save_probabilities=False, recursive=False, input=str(tmp_path)
    )
    out = tmp_path / "out"
    out.mkdir()
    assert _restarts(args, out) == "" and listed == []
    (out / ".s.tif.partial").mkdir()  # a slide's staging: now its name is looked up
    assert _restarts(args, out) == "" and listed == [str(tmp_path)]


@pytest.mark.usefixtures("small_chunks")
def test_a_tree_s_stopped_slide_is_named_by_its_path_in_the_tree(tmp_path, capsys):
    """``--recursive``: the stop line named the slide it stopped in by its name alone
    (``s.tif stopped at row ...``) where the tree's other lines name its files by their
    paths as given (s57 docs7)."""
    tree, out = tmp_path / "tree", tmp_path / "out"
    (tree / "bob").mkdir(parents=True)
    slide = _slide(tree / "bob" / "s.tif")
    with pytest.raises(KeyboardInterrupt):
        _predict(local_net(), slide, out / "bob", Stop(24))
    args = SimpleNamespace(instances=False, save_probabilities=False, skip_existing=True)
    args.input, args.output, args.recursive = [str(tree)], out, True
    _say_done(args, lambda: "in ...", "interrupted", KeyboardInterrupt(), folder=out / "bob")
    line = capsys.readouterr().err
    assert f"({slide} stopped at row " in line, line
