"""``predict --instances`` with a semantic model (trained on 0/255 masks of touching nuclei)
says once, over the command's images, when its objects look like several touching ones
found as one, and names ``--distance-split`` (``distance_split=True`` from Python): it gave
merged nuclei with no hint (:mod:`unetlab.inference.merged_objects`)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from tests.test_folders_group_seconds import two_ranks
from unetlab.data.io import write_png
from unetlab.errors import command_spelling
from unetlab.inference.folders import predict_folder
from unetlab.inference.merged_objects import merged_counts, merged_line, unsplit
from unetlab.inference.objects import ObjectOptions
from unetlab.models import UNet

RADIUS = 7
SAID = "look like several touching objects found as one"


class BrightNet(UNet):
    """A valid-padding semantic "net": the foreground where the normalised image (a 3 x 3
    mean) is bright, so that its objects are the image's discs."""

    def forward(self, x):
        b = self.border - 1
        v = F.avg_pool2d(x[:, :1, b : x.shape[2] - b, b : x.shape[3] - b], 3, stride=1)
        return torch.cat([4 * (0.5 - v), 4 * (v - 0.5)], dim=1)


def bright_net() -> UNet:
    net = BrightNet(in_channels=1, num_classes=2, depth=2, base_channels=4, padding="valid")
    net.objects = {"target": "semantic", "count": 9, "area_p05": 100.0, "area_p95": 300.0}
    return net.eval()


def _disc(image: np.ndarray, y: float, x: float, r: float = RADIUS) -> None:
    yy, xx = np.ogrid[: image.shape[0], : image.shape[1]]
    image[(yy - y) ** 2 + (xx - x) ** 2 <= r * r] = 220


def nuclei(pairs: int, singles: int, *, touching: bool = True) -> np.ndarray:
    """Bright round nuclei on a dark ground: ``pairs`` of two (touching: one region with a
    neck, else apart) and ``singles`` alone, of sizes that vary a little."""
    image = np.full((48, 40 * (pairs + singles)), 30, np.uint8)
    for i in range(pairs + singles):
        x = 40 * i + 20
        if i < pairs:
            gap = (1.9 if touching else 2.6) * RADIUS
            _disc(image, 24, x - gap / 2)
            _disc(image, 24, x + gap / 2)
        else:
            _disc(image, 24, x, RADIUS + i % 3 - 1)
    return image


def _said(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if SAID in r.getMessage()]


def test_the_line_names_the_flag_or_the_keyword_and_needs_a_share():
    assert merged_line(1, 24) is None  # under 5%
    assert merged_line(0, 0) is None
    line = merged_line(6, 24)
    assert line.startswith("objects: 6 of the 24 objects (25%) look like"), line
    assert "distance_split=True splits them" in line
    with command_spelling():
        assert "--distance-split splits them" in merged_line(6, 24)


def test_only_a_semantic_models_objects_that_nothing_splits():
    semantic = ObjectOptions(mode="semantic")
    assert unsplit(semantic)
    assert not unsplit(None)
    assert not unsplit(ObjectOptions(mode="instances"))
    assert not unsplit(ObjectOptions(mode="semantic", distance_split=True))
    assert not unsplit(ObjectOptions(mode="semantic", split_necks=True))
    assert not unsplit(ObjectOptions(mode="semantic", watershed_seeds=0.7))


def test_counts_over_pages():
    pages = [(nuclei(3, 9) > 100).astype(np.int32), np.zeros((8, 8), np.int32)]
    from scipy import ndimage

    ids = [ndimage.label(p)[0] for p in pages]
    assert merged_counts(ids) == (3, 12)


@pytest.mark.parametrize(
    ("touching", "split", "lines"),
    [(True, None, 1), (False, None, 0), (True, True, 0)],
    ids=["touching", "apart", "distance-split"],
)
def test_a_folder_says_it_once_where_its_objects_look_merged(
    tmp_path, caplog, touching, split, lines
):
    (tmp_path / "in").mkdir()
    for i in range(3):
        write_png(tmp_path / "in" / f"a{i}.png", nuclei(3, 9, touching=touching))
    objects = ObjectOptions.for_model(bright_net(), distance_split=split)
    caplog.set_level(logging.INFO, logger="unetlab")
    result = predict_folder(bright_net(), tmp_path / "in", tmp_path / "out", objects=objects)
    assert len(result.written) == 3
    said = _said(caplog)
    assert len(said) == lines, said  # once for the folder, not once a file
    if lines:
        assert said[0].startswith("objects: 9 of the 36 objects (25%)"), said


def test_two_processes_say_it_once_over_both_shares(tmp_path, caplog):
    """Files are dealt in turn: the main process's two hold no touching nuclei, the other's
    two do; the line counts both shares (the main one's alone would say nothing)."""
    (tmp_path / "in").mkdir()
    for i in range(4):
        write_png(tmp_path / "in" / f"a{i}.png", nuclei(3, 9, touching=i % 2 == 1))
    net = bright_net()
    objects = ObjectOptions.for_model(net)

    def run(group):
        predict_folder(net, tmp_path / "in", tmp_path / "out", objects=objects, group=group)

    caplog.set_level(logging.INFO, logger="unetlab")
    two_ranks(run)
    said = _said(caplog)
    assert len(said) == 1, said
    assert said[0].startswith("objects: 6 of the 54 objects (11%)"), said


def test_a_tree_says_it_once_over_all_its_folders(tmp_path, caplog):
    """predict --recursive (review s49): each folder said its own count, so the first folder
    over the share spoke for the tree (20 of 100 where the tree held 22 of 300); the tree's
    folders are counted together and said once, after the last."""
    from unetlab.inference.tree import predict_tree

    for name, touching in (("a", False), ("b", True), ("c", False)):
        (tmp_path / "in" / name).mkdir(parents=True)
        write_png(tmp_path / "in" / name / "x.png", nuclei(3, 9, touching=touching))
    objects = ObjectOptions.for_model(bright_net())
    caplog.set_level(logging.INFO, logger="unetlab")
    predict_tree(bright_net(), tmp_path / "in", tmp_path / "out", objects=objects)
    said = _said(caplog)
    assert len(said) == 1, said
    assert said[0].startswith("objects: 3 of the 42 objects (7%)"), said


def test_a_run_within_a_run_hands_and_says_its_own_counts():
    """A tree's folder hands over (--nproc) only its own counts, not the earlier folders'
    again, and leaves the saying to the tree's run, which adds them up."""
    from unetlab.inference.merged_objects import handed_merged, merged_run, tally_merged

    with merged_run() as tree:
        for counts in [(1, 10), (2, 10)]:
            with merged_run():
                tally_merged(counts)
                assert handed_merged() == [counts]
    assert tree == [(1, 10), (2, 10)]


def test_a_file_that_failed_after_its_objects_were_counted_is_in_no_total(
    tmp_path, caplog, monkeypatch
):
    """Its objects were tallied as they were written, before its labels: a file whose
    labels then failed was in the line's count (9 of the 36 for the 2 files written)."""
    import unetlab.inference.files as files
    from unetlab.errors import UnetlabError

    (tmp_path / "in").mkdir()
    for i in range(3):
        write_png(tmp_path / "in" / f"a{i}.png", nuclei(3, 9))
    write_labels = files._write_labels

    def failing(file, path, *args, **kwargs):
        if file.path.name == "a1.png":
            raise UnetlabError("a1.png: the disk said no")
        return write_labels(file, path, *args, **kwargs)

    monkeypatch.setattr(files, "_write_labels", failing)
    objects = ObjectOptions.for_model(bright_net())
    caplog.set_level(logging.INFO, logger="unetlab")
    result = predict_folder(bright_net(), tmp_path / "in", tmp_path / "out", objects=objects)
    assert len(result.written) == 2 and len(result.failed) == 1
    said = _said(caplog)
    assert len(said) == 1, said
    assert said[0].startswith("objects: 6 of the 24 objects (25%)"), said


def test_the_warm_up_of_a_timed_run_is_not_counted(tmp_path, caplog):
    """predict --benchmark predicts its first file once untimed beforehand: now that a
    file's objects are counted without counted= (predict_file alone), the warm-up's were
    counted too (6 of the 54 where the 3 files hold 3 of 42)."""
    import contextlib

    (tmp_path / "in").mkdir()
    for i in range(3):
        write_png(tmp_path / "in" / f"a{i}.png", nuclei(3, 9, touching=i == 0))
    objects = ObjectOptions.for_model(bright_net())
    caplog.set_level(logging.INFO, logger="unetlab")

    def clock(model):
        return contextlib.nullcontext()

    predict_folder(bright_net(), tmp_path / "in", tmp_path / "out", objects=objects, clock=clock)
    said = _said(caplog)
    assert len(said) == 1, said
    assert said[0].startswith("objects: 3 of the 42 objects (7%)"), said


def test_a_file_predicted_alone_from_python_says_its_own_line(tmp_path, caplog):
    """predict_file called alone (a notebook's) never got the hint, only predict_folder and
    the command did: it says its own, each call (no run gathers it)."""
    from unetlab.inference.files import predict_file

    write_png(tmp_path / "a.png", nuclei(3, 9))
    write_png(tmp_path / "b.png", nuclei(3, 9, touching=False))
    objects = ObjectOptions.for_model(bright_net())
    caplog.set_level(logging.INFO, logger="unetlab")
    for _ in range(2):
        predict_file(bright_net(), tmp_path / "a.png", tmp_path / "out", objects=objects)
    predict_file(bright_net(), tmp_path / "b.png", tmp_path / "out", objects=objects)
    said = _said(caplog)
    assert len(said) == 2, said
    assert said[0].startswith("objects: 3 of the 12 objects (25%)"), said
    assert "distance_split=True splits them" in said[0]
