"""A semantic model with no background class makes no object over its ignored class (no
class), as over nodata: an object beside it is a piece, cut there, held to ``cut_min_area``
as one beside nodata is (s70: beside the ignored class it was held to its whole least area
and dropped)."""

from __future__ import annotations

import csv
from dataclasses import replace

import numpy as np
import tifffile
import torch

from unetlab.inference.files import predict_file
from unetlab.inference.objects import ObjectOptions, objects_from_probabilities, predict_objects
from unetlab.models import UNet

_OPTIONS = ObjectOptions(background=None, no_class=(2,), min_area=100, cut_min_area=10)


def _probabilities(piece: np.ndarray) -> np.ndarray:
    """(3, 40, 40): class 0 everywhere (one object), class 1 on ``piece``."""
    probs = np.zeros((3, 40, 40), np.float32)
    probs[0] = 1.0
    probs[0][piece], probs[1][piece] = 0.0, 1.0
    return probs


def test_an_object_beside_the_ignored_class_is_cut_as_one_beside_nodata():
    """Seen failing without the fix (the piece beside the ignored class dropped)."""
    piece = np.zeros((40, 40), bool)
    piece[15:20, 15:21] = True  # 30 px: under min_area 100, over cut_min_area 10
    beside = np.zeros((40, 40), bool)
    beside[15:20, 21:30] = True
    by_nodata = objects_from_probabilities(_probabilities(piece), _OPTIONS, outside=beside)
    probs = _probabilities(piece)
    probs[:, beside] = 0.0
    probs[2][beside] = 1.0  # the ignored class there instead
    by_ignored = objects_from_probabilities(probs, _OPTIONS)
    assert np.count_nonzero(by_nodata[piece]) == 30
    assert np.array_equal(by_ignored > 0, by_nodata > 0)
    alone = objects_from_probabilities(_probabilities(piece), _OPTIONS)
    assert np.unique(alone).tolist() == [1]  # beside neither: dropped, joined to class 0's


class _Fixed(torch.nn.Module):
    """A net whose classes everywhere are the (H, W) map ``cls`` (its input that size)."""

    def __init__(self, cls: np.ndarray):
        super().__init__()
        self.cls = torch.from_numpy(cls.astype(np.int64))

    def forward(self, x):
        one_hot = torch.nn.functional.one_hot(self.cls, 3).permute(2, 0, 1)
        return one_hot[None].float().expand(len(x), -1, -1, -1) * 10


def _ignoring_net() -> UNet:
    """Classes "0", "1", "2" without label values, trained ignoring mask value 0: class 0 is
    no class and none is the background. It predicts class 2 but a 30-px piece of class 1
    with the ignored class 0 beside it."""
    cls = np.full((48, 48), 2)
    cls[20:25, 20:26] = 1
    cls[20:25, 26:34] = 0
    net = UNet(1, 3, depth=2, base_channels=4, padding="same").eval()
    net.forward = _Fixed(cls).forward
    net.classes, net.label_values, net.ignore_value = ["0", "1", "2"], None, 0
    return net


def _rows(table) -> list[tuple[int, bool]]:
    return sorted((int(a), str(t).lower() == "true") for a, t in table)


def test_the_table_flags_the_piece_the_ignored_class_cuts(tmp_path):
    """Review s70: the piece cut beside the ignored class was kept but its row said
    touches_border false (beside nodata: true), and streamed (a large image's
    SemanticBands) it was dropped, not cut. Now the array API, a file read whole and one
    streamed give the same rows, the piece cut. Seen failing without the fix ((30, False)
    read whole; streamed no row of 30)."""
    net = _ignoring_net()
    options = replace(ObjectOptions.for_model(net), min_area=100, cut_min_area=10)
    assert (options.background, options.no_class) == (None, (0,))
    image = np.random.default_rng(0).integers(0, 255, (48, 48)).astype(np.uint8)
    _, table = predict_objects(net, image, object_options=options)
    want = [(30, True), (2234, True)]
    assert _rows(zip(table["area"], table["touches_border"])) == want
    tifffile.imwrite(tmp_path / "a.tif", image)
    for how, kw in (("whole", {}), ("stream", {"large_threshold": 100})):
        predict_file(net, tmp_path / "a.tif", tmp_path / how, objects=options, tile_size=48, **kw)
        rows = list(csv.DictReader((tmp_path / how / "a_objects.csv").open()))
        assert _rows((r["area"], r["touches_border"]) for r in rows) == want, how


class _Thresholded(torch.nn.Module):
    """A net of classes "0" and "1": class 1 where its (normalized) input is above 0."""

    def forward(self, x):
        return torch.cat([-x[:, :1], x[:, :1]], 1) * 10


def test_3d_objects_of_the_array_api_are_cut_by_the_ignored_class_as_a_files(tmp_path):
    """Review s70: predict_objects(..., objects_3d=True) said touches_border false of an
    object the ignored class cut, which predict_file(..., objects_3d=True) said true of (its
    docstring: "as predict_file(..., objects_3d=True) writes a file's"). Seen failing
    without the fix ([True, False] from the array)."""
    net = UNet(1, 2, depth=2, base_channels=4, padding="same").eval()
    net.forward = _Thresholded().forward
    net.classes, net.label_values, net.ignore_value = ["0", "1"], None, 0
    options = ObjectOptions.for_model(net)
    assert (options.background, options.no_class) == (None, (0,))  # objects of class 1 only
    stack = np.zeros((4, 48, 48), np.uint8)
    stack[:, :10, :10] = 200  # at the stack's sides
    stack[1:3, 20:30, 20:30] = 200  # inside it, amid the ignored class 0
    ids, table = predict_objects(net, stack, object_options=options, objects_3d=True)
    assert table["touches_border"].tolist() == [True, True]
    tifffile.imwrite(tmp_path / "s.tif", stack, metadata={"axes": "ZYX"})
    predict_file(net, tmp_path / "s.tif", tmp_path / "o", objects=options, objects_3d=True)
    assert np.array_equal(ids, tifffile.imread(tmp_path / "o" / "s_objects.tif"))
    rows = list(csv.DictReader((tmp_path / "o" / "s_objects.csv").open()))
    assert [r["touches_border"] for r in rows] == ["true", "true"]
