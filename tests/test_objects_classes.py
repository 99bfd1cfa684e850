"""Objects of a multi-class semantic model: a class column, counts per class, a least size
per class (audits s31 grains 5 and photos 4: grains and pores in one table, 1-px "spots")."""

import logging

import numpy as np
import torch

from unetlab.cli.predict import _notes, _report_objects
from unetlab.inference.measure import TableSums, class_counts, measure_objects, object_table
from unetlab.inference.objects import (
    ObjectOptions,
    class_min_areas,
    objects_from_probabilities,
    predict_objects,
)
from unetlab.models import UNet
from unetlab.train.setup import class_object_statistics

NAMES = ["background", "grain", "pore"]


def grains_and_pores() -> tuple[np.ndarray, np.ndarray]:
    """Class labels (0 background, 1 grain, 2 pore) and their objects' ids: two grains (one
    with a background hole), a pore, and a one-pixel pore speck."""
    labels = np.zeros((20, 24), np.int64)
    labels[1:9, 1:9] = 1
    labels[4:6, 4:6] = 0  # a hole in the grain: background pixels inside it
    labels[11:18, 2:10] = 1
    labels[3:6, 14:17] = 2
    labels[15, 20] = 2
    ids = np.zeros_like(labels)
    ids[1:9, 1:9] = 1  # holes filled, as objects_from_probabilities fills them
    ids[11:18, 2:10] = 2
    ids[3:6, 14:17] = 3
    ids[15, 20] = 4
    return labels, ids


def test_the_table_gets_each_objects_class_and_name_after_its_id():
    labels, ids = grains_and_pores()
    table = object_table(ids, classes=labels, class_names=NAMES, background=0)
    assert list(table)[:4] == ["id", "class", "class_name", "area"]
    assert table["class"].tolist() == [1, 1, 2, 2]  # the hole's background does not win
    assert table["class_name"].tolist() == ["grain", "grain", "pore", "pore"]
    assert class_counts(table) == {"grain": 2, "pore": 2}
    plain = object_table(ids)
    assert "class" not in plain and class_counts(plain) == {}
    empty = object_table(np.zeros_like(ids), classes=labels, class_names=NAMES)
    assert list(empty)[:3] == ["id", "class", "class_name"] and len(empty["class"]) == 0
    # a mostly-hole object: its class is still its outline's, not the background
    ring = np.zeros((9, 9), np.int64)
    ring[1:8, 1:8], ring[2:7, 2:7] = 2, 0
    assert object_table((ring >= 0).astype(int), classes=ring, background=0)["class"][0] == 2


def test_classes_of_pieces_add_up_to_the_whole():
    labels, ids = grains_and_pores()
    sums = TableSums(int(ids.max()))
    for y in (0, 7, 13):
        rows = slice(y, {0: 7, 7: 13, 13: 20}[y])
        sums.add(y, ids[rows], classes=labels[rows])
    pieces = sums.table(height=20, width=24, class_names=NAMES, background=0)
    whole = object_table(ids, classes=labels, class_names=NAMES, background=0)
    assert pieces["class"].tolist() == whole["class"].tolist()
    assert pieces["class_name"].tolist() == whole["class_name"].tolist()


def test_measure_objects_takes_a_class_map_of_a_stack_too():
    labels, ids = grains_and_pores()
    table = measure_objects(np.stack([ids, ids]), classes=np.stack([labels, labels]))
    assert table["class"].tolist() == [1, 1, 2, 2] * 2
    assert table["page"].tolist() == [0] * 4 + [1] * 4


def record(**by_class) -> dict:
    stats = {"target": "semantic", "count": 40, "area_p05": 2.0, "area_p95": 400.0}
    return {**stats, **by_class}


def test_each_class_gets_its_own_least_size_from_the_record():
    grain = {"count": 30, "area_p05": 40.0}
    pore = {"count": 10, "area_p05": 8.0}
    assert class_min_areas(record(by_class=[None, grain, pore]), 0) == (1, 10, 2)
    assert class_min_areas(record(), 0) is None  # an old checkpoint: as before
    assert class_min_areas(record(by_class=[None, grain]), 0) is None  # one class of objects


def probabilities_of(labels: np.ndarray, classes: int = 3) -> np.ndarray:
    return np.eye(classes)[labels].transpose(2, 0, 1).astype(np.float32)


def test_a_speck_of_one_class_goes_while_small_objects_of_another_stay():
    labels, _ = grains_and_pores()
    labels[18, 22] = 1  # a 1-px grain
    p = probabilities_of(labels)
    by_class = ObjectOptions(min_area=1, class_min_areas=(1, 1, 4))
    ids = objects_from_probabilities(p, by_class)
    areas = np.bincount(ids.ravel())[1:]
    assert sorted(areas.tolist()) == [1, 9, 56, 64]  # the pore speck gone, the grain speck kept
    assert objects_from_probabilities(p, ObjectOptions(min_area=1)).max() == 5


class ThreeClassNet(UNet):
    """Class = the image's value (0, 1, 2) at each pixel (logits one-hot of it)."""

    def forward(self, x):
        b = self.border
        v = x[:, :1, b : x.shape[2] - b, b : x.shape[3] - b]
        return torch.cat([-((v - k) ** 2) * 50 for k in (0.0, 1.0, 2.0)], dim=1)


def three_class_net(by_class=None) -> UNet:
    net = ThreeClassNet(in_channels=1, num_classes=3, depth=2, base_channels=4, padding="valid")
    net.classes = NAMES
    net.normalization = {"mode": "fixed", "mean": [0.0], "std": [1.0]}
    net.objects = record(**({} if by_class is None else {"by_class": by_class}))
    return net.eval()


def test_predict_objects_of_a_semantic_model_carry_the_class_and_its_least_size():
    labels, _ = grains_and_pores()
    net = three_class_net([None, {"count": 3, "area_p05": 40.0}, {"count": 3, "area_p05": 8.0}])
    ids, table = predict_objects(net, labels.astype(np.float32))
    assert table["class_name"].tolist() == ["grain", "pore", "grain"]  # the speck dropped
    old = three_class_net()  # no per-class record: one least size, today's (1/4 of 2 px)
    ids, table = predict_objects(old, labels.astype(np.float32))
    assert table["class_name"].tolist() == ["grain", "pore", "grain", "pore"]
    assert ObjectOptions.for_model(net, min_area=5).class_min_areas is None  # the user's wins
    two = UNet(in_channels=1, num_classes=2, depth=2, base_channels=4, padding="same").eval()
    _, table = predict_objects(two, np.zeros((20, 20), np.float32), min_area=1)
    assert "class" not in table  # one class of objects: no column, as before


def test_training_records_each_classs_object_sizes():
    labels, _ = grains_and_pores()
    masks = [labels, np.where(labels == 2, 1, labels)]
    stats = class_object_statistics(masks, background=0, classes=3)
    assert stats["count"] == 3 + 3  # the 1-px specks are slivers: no object size
    assert stats["by_class"][0] is None
    assert stats["by_class"][1]["count"] == 5 and stats["by_class"][2]["count"] == 1
    assert stats["by_class"][2]["area_min"] == 9.0 and stats["by_class"][2]["area_max"] == 9.0


def test_the_summary_line_counts_each_class(caplog):
    with caplog.at_level(logging.INFO, logger="unetlab.cli.predict"):
        _report_objects({"g10.tif": [127]}, {"g10.tif": {"grain": 116, "pore": 11}})
        _report_objects({"p.jpg": [95]}, {"p.jpg": {"1": 80, "2": 15}})
    assert "g10.tif: 127 objects: 116 grain, 11 pore" in caplog.text
    assert "p.jpg: 95 objects: 80 class 1, 15 class 2" in caplog.text
    net = three_class_net([None, {"count": 3, "area_p05": 40.0}, {"count": 3, "area_p05": 8.0}])
    lines = _notes(net, ObjectOptions.for_model(net))
    assert "min area by class grain 10 px, pore 2 px" in lines[-1]


def test_predict_keeps_holes_out_of_the_objects_when_told(tmp_path, monkeypatch):
    """--no-fill-holes: a grain's hole stays out of its area (a gland's lumen, glass inside
    tissue; audit s32 histo 5); by default the hole is the grain's, as before."""
    import csv

    import tifffile

    import unetlab.checkpoint
    from unetlab.checkpoint import save_model
    from unetlab.cli import main

    labels, _ = grains_and_pores()
    net = three_class_net()
    save_model(tmp_path / "m.pt", net)
    monkeypatch.setattr(unetlab.checkpoint, "load_model", lambda *a, **k: net)
    (tmp_path / "in").mkdir()
    tifffile.imwrite(tmp_path / "in" / "g.tif", labels.astype(np.float32))
    areas = {}
    for flag in ("--fill-holes", "--no-fill-holes"):
        out = tmp_path / flag.strip("-")
        argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(tmp_path / "in")]
        assert main([*argv, "--output", str(out), "--instances", "--min-area", "1", flag]) == 0
        rows = list(csv.DictReader((out / "g_objects.csv").read_text().splitlines()))
        areas[flag] = sorted(int(r["area"]) for r in rows if r["class_name"] == "grain")
    assert areas == {"--fill-holes": [56, 64], "--no-fill-holes": [56, 60]}


def test_the_least_area_of_each_class_is_said_at_the_scale_used():
    """predict --scale 2 said 'min area by class grain 60 px, pore 20 px' where the
    images were held to 15 and 5 px (each class's default at training scale / 2², as
    defaults_at_scale scales them); a --min-area given leaves no class line."""
    from unetlab.inference.objects import defaults_at_scale

    net = three_class_net([None, {"count": 3, "area_p05": 240.0}, {"count": 3, "area_p05": 80.0}])
    default = ObjectOptions.for_model(net)
    assert defaults_at_scale(net, default, 2.0).class_min_areas[1:] == (15, 5)
    line = _notes(net, default, 2)[-1]
    assert "min area by class grain 15 px, pore 5 px" in line
    assert "60, 20 at training scale / 2²" in line
    line = _notes(net, default, "auto")[-1]
    assert "grain 60 px, pore 20 px" in line and "each image's --scale auto factor²" in line
    assert "min area by class grain 60 px, pore 20 px (1/4" in _notes(net, default)[-1]
