"""Street scenes are not said to draw touching objects as one: the estimate
(:mod:`unetlab.data.merged`) judges each class's regions against that class's own typical
ones, so a scene's road, sky and buildings (a few large regions an image, of no shape in
common) are no merged objects; 14% of the 389 objects of ``bench/road_scenes.py``'s masks
were, and ``train --check``, evaluate and ``predict --instances`` advised instance masks or
``--distance-split`` (nuclei's fixes) for them."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
from scipy import ndimage

from tests.test_merged import _nuclei
from unetlab.data.fingerprint import fingerprint
from unetlab.data.io import read_mask, write_png
from unetlab.data.merged import _id_classes, looks_merged, region_counts
from unetlab.data.pairs import find_pairs
from unetlab.data.scenes import write_scene_folders
from unetlab.evaluate import evaluate_predictions
from unetlab.inference.folders import predict_folder
from unetlab.inference.objects import ObjectOptions
from unetlab.models import UNet
from unetlab.plan.notes import merged_note


@pytest.fixture(scope="module")
def roads(tmp_path_factory):
    """12 road scenes of 64 x 128 (8 train, 2 val, 2 test), grey masks 0..10, no void."""
    root = tmp_path_factory.mktemp("scenes") / "roads"
    write_scene_folders(root, n=12, size=(64, 128), seed=0, void=None)
    return root


def _said(caplog, words: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if words in r.getMessage()]


def test_each_class_is_judged_against_its_own_regions():
    """Round nuclei (class 1), three pairs of them touching, beside four large L-shaped
    regions of another class (2): judged together the Ls were larger than the median and
    not convex, so merged; alone, class 2 has no typical shape and only the pairs are."""
    nuclei = _nuclei(pairs=3, singles=9)  # 40 x 480, 255 where a nucleus is
    mask = np.zeros((88, 480), np.uint8)
    mask[:40] = np.where(nuclei > 0, 1, 0)
    for x in range(20, 480, 120):  # the Ls, apart from each other and from the edge
        mask[50:80, x : x + 8] = 2
        mask[72:80, x : x + 60] = 2
    regions = np.zeros(mask.shape, np.int32)
    for value in (1, 2):
        labelled, n = ndimage.label(mask == value)
        regions = np.where(labelled > 0, labelled + regions.max(), regions)
    pairs = {int(regions[20, 40 * i + 20]) for i in range(3)}
    assert len(pairs) == 3
    assert set(looks_merged(regions, mask).tolist()) == pairs
    assert region_counts(regions, mask) == (3, 16)
    assert region_counts(regions) == (7, 16)  # all one class: the Ls too


def test_a_region_of_several_classes_is_of_the_class_of_most_of_it():
    """predict's objects hold the specks of other classes they filled: region 1 (class 4,
    its last pixels a speck of class 9) is of class 4, region 2 of its one class 5, the
    background (0) of none asked."""
    objects = np.array([[1, 1, 1, 0], [1, 1, 1, 2], [1, 1, 1, 2]])
    classes = np.array([[4, 4, 4, 0], [4, 4, 9, 5], [4, 4, 9, 5]])
    assert _id_classes(objects, classes, 3)[1:].tolist() == [4, 5]
    assert _id_classes(objects, None, 3) is None


def test_the_plan_says_nothing_of_road_scene_masks(roads):
    fp = fingerprint(find_pairs(roads / "train"))
    assert fp.counted_objects() > 50
    assert sum(p.merged for p in fp.pairs) == 0
    assert merged_note(fp) is None


def _copied_masks(roads, to) -> None:
    """The training masks of ``roads`` written as images into ``to``."""
    to.mkdir()
    for path in sorted((roads / "train" / "masks").iterdir()):
        write_png(to / path.name, read_mask(path))


def test_evaluate_says_nothing_of_road_scene_truth(roads, tmp_path, caplog):
    _copied_masks(roads, tmp_path / "pred")  # predictions as good as the truth
    with caplog.at_level(logging.WARNING):
        report = evaluate_predictions(tmp_path / "pred", roads / "train", objects=True)
    assert report.summary["objects"] > 50  # object scores kept: the line could be said
    assert _said(caplog, "drawn as one") == []


class ClassNet(UNet):
    """A valid-padding semantic "net" whose classes are its input's values (images of class
    indices, unnormalised): its objects are the regions of the mask it is given."""

    def forward(self, x):
        b = self.border
        v = x[:, 0, b : x.shape[2] - b, b : x.shape[3] - b].round().long()
        return 8.0 * torch.nn.functional.one_hot(v, self.num_classes).permute(0, 3, 1, 2)


def test_predict_says_nothing_of_a_scene_models_regions(roads, tmp_path, caplog):
    net = ClassNet(in_channels=1, num_classes=11, depth=2, base_channels=4, padding="valid")
    net.normalization = {"mode": "fixed", "mean": [0.0], "std": [1.0]}
    net.objects = {"target": "semantic", "count": 100, "area_p05": 20.0, "area_p95": 2000.0}
    net.eval()
    _copied_masks(roads, tmp_path / "in")  # images of class indices
    objects = ObjectOptions.for_model(net)
    caplog.set_level(logging.INFO, logger="unetlab")
    result = predict_folder(net, tmp_path / "in", tmp_path / "out", objects=objects)
    assert len(result.written) == 8
    assert _said(caplog, "look like several touching objects found as one") == []


def _two_types() -> tuple[np.ndarray, np.ndarray]:
    """(ids, classes) of a 200 x 200 mask of discs of radius 9, classes alternating 1 and 2:
    three singles of each type and one touching pair of each."""
    classes = np.zeros((200, 200), np.uint8)
    yy, xx = np.ogrid[:200, :200]
    spots = [(30, 40, 1), (30, 100, 2), (30, 160, 1), (90, 40, 2), (90, 100, 1), (90, 160, 2)]
    spots += [(150, 50 + dx, 1) for dx in (-8.5, 8.5)] + [(150, 140 + dx, 2) for dx in (-8.5, 8.5)]
    for y, x, value in spots:
        classes[(yy - y) ** 2 + (xx - x) ** 2 <= 81] = value
    ids = np.zeros(classes.shape, np.int32)
    for value in (1, 2):
        labelled, _ = ndimage.label(classes == value)
        ids = np.where(labelled > 0, labelled + ids.max(), ids)
    return ids, classes


def test_nucleus_types_too_few_to_judge_alone_are_judged_together():
    """Four nuclei of each of two types are too few for a typical shape a type (fewer than
    TYPICAL_LEAST whole ones up to its median): pooled, both touching pairs are found, as
    they are with the types taken as one class."""
    ids, classes = _two_types()
    pairs = {int(ids[150, 50]), int(ids[150, 140])}
    assert region_counts(ids) == (2, 8)
    assert region_counts(ids, classes) == (2, 8)
    assert set(looks_merged(ids, classes).tolist()) == pairs
