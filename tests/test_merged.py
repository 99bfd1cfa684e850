"""Regions of 0/255 masks that look like several touching objects drawn as one: the pure
estimate (:mod:`unetlab.data.merged`), the plan's line and evaluate's line."""

import logging

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from unetlab.data.fingerprint import Fingerprint, measure_pair
from unetlab.data.merged import blob_like, looks_merged, merged_regions, region_counts, solidity
from unetlab.evaluate import evaluate_predictions
from unetlab.plan.notes import merged_note

RADIUS = 7


def _disc(mask: np.ndarray, y: float, x: float, r: float = RADIUS) -> None:
    yy, xx = np.ogrid[: mask.shape[0], : mask.shape[1]]
    mask[(yy - y) ** 2 + (xx - x) ** 2 <= r * r] = 255


def _nuclei(pairs: int, singles: int, *, touching: bool = True) -> np.ndarray:
    """A 0/255 mask of round nuclei on a grid: ``pairs`` of two touching ones (centres
    1.9 radii apart: one region with a neck) where ``touching``, else apart, and
    ``singles`` alone."""
    cells = pairs + singles
    mask = np.zeros((40, 40 * cells), np.uint8)
    for i in range(cells):
        x = 40 * i + 20
        if i < pairs:
            gap = 1.9 * RADIUS if touching else 2.6 * RADIUS
            _disc(mask, 20, x - gap / 2)
            _disc(mask, 20, x + gap / 2)
        else:
            _disc(mask, 20, x, RADIUS + (i % 3) - 1)  # sizes vary a little
    return mask


def _crosses(n: int) -> np.ndarray:
    """A 0/255 mask of ``n`` plus-shaped cells of growing size: irregular cells, as EM's,
    that are not convex alone."""
    mask = np.zeros((48, 48 * n), np.uint8)
    for i in range(n):
        arm, x = 8 + i % 5 * 3, 48 * i + 24
        mask[24 - arm : 24 + arm, x - 2 : x + 3] = 255
        mask[22:27, x - arm : x + arm] = 255
    return mask


def _regions(mask: np.ndarray) -> np.ndarray:
    return ndimage.label(mask > 0)[0]


def test_solidity_of_a_disc_a_square_and_an_l():
    disc = np.zeros((31, 31), np.uint8)
    _disc(disc, 15, 15, 12)
    square = np.zeros((31, 31), np.uint8)
    square[5:25, 5:25] = 255
    ell = square.copy()
    ell[5:20, 10:25] = 0
    for mask, low, high in ((disc, 0.94, 1.0), (square, 0.99, 1.0), (ell, 0.4, 0.65)):
        points = np.argwhere(mask > 0)
        assert low <= solidity(int((mask > 0).sum()), points) <= high
    assert solidity(5, np.array([[0, 0], [0, 1], [0, 2], [0, 3], [0, 4]])) == 1.0  # a line


def test_touching_pairs_are_found_and_singles_are_not():
    mask = _nuclei(pairs=3, singles=9)
    regions = _regions(mask)
    assert regions.max() == 12
    pairs = {int(regions[20, 40 * i + 20]) for i in range(3)}
    assert set(looks_merged(regions).tolist()) == pairs
    assert merged_regions(regions) == 3


def test_region_counts_are_the_merged_and_the_regions_from_one_count():
    """predict's hint and evaluate counted each image's regions twice (np.unique beside
    merged_regions' own count): one count gives both, ids with gaps and a page of none."""
    regions = _regions(_nuclei(pairs=3, singles=9))
    gapped = np.where(regions > 6, regions + 40, regions)  # ids 1-6 and 47-52: 12 regions
    assert region_counts(gapped) == (3, 12)
    assert region_counts(np.zeros((8, 8), np.int32)) == (0, 0)
    assert region_counts(np.ones((8, 8), np.int32)) == (0, 1)  # one region, no background


@pytest.mark.parametrize(
    "mask",
    [
        _nuclei(pairs=3, singles=9, touching=False),  # well separated round nuclei
        _crosses(12),  # irregular cells: not blobs, so not merged ones
        np.zeros((20, 20), np.uint8),
    ],
    ids=["separated", "irregular", "empty"],
)
def test_no_merged_regions_where_the_objects_are_apart_or_not_blobs(mask):
    assert merged_regions(_regions(mask)) == 0


def test_blob_like():
    assert blob_like([0.95, 0.97, 0.99])
    assert not blob_like([0.85, 0.88, 0.9])
    assert not blob_like([])


def _fingerprint(masks) -> Fingerprint:
    image = np.full(masks[0].shape, 10, np.uint8)
    return Fingerprint([measure_pair(image, m, name=f"{i}.png") for i, m in enumerate(masks)])


def test_the_plan_says_when_the_masks_merge_touching_objects():
    note = merged_note(_fingerprint([_nuclei(pairs=3, singles=9)] * 2))
    assert note is not None
    assert note.startswith("25% of the 24 objects of the masks look like several touching")
    assert "instance masks (object ids" in note and "--instances --distance-split" in note


def test_the_plan_says_nothing_where_they_are_apart_or_ids():
    assert merged_note(_fingerprint([_nuclei(pairs=3, singles=9, touching=False)] * 2)) is None
    assert merged_note(_fingerprint([_crosses(12)] * 2)) is None
    ids = _regions(_nuclei(pairs=3, singles=9)).astype(np.uint16)  # one region, one id
    image = np.full(ids.shape, 10, np.uint8)
    fp = Fingerprint([measure_pair(image, ids, instances=True)])
    assert fp.pairs[0].merged == 0 and merged_note(fp) is None


@pytest.mark.parametrize("touching", [True, False])
@pytest.mark.parametrize("read_as", [{"label_values": [0, 255]}, {"gt_instances": True}])
def test_evaluate_says_once_that_binary_truth_merges_touching_objects(
    tmp_path, caplog, touching, read_as
):
    """Read as classes or, with --gt-instances, as the connected components of a binary
    mask (walkkromp s51: 0/255 Kromp masks scored +13% too many objects, unsaid)."""
    truth = _nuclei(pairs=3, singles=9, touching=touching)
    (tmp_path / "gt").mkdir()
    (tmp_path / "pred").mkdir()
    for stem in ("a", "b"):
        Image.fromarray(truth).save(tmp_path / "gt" / f"{stem}.png")
        Image.fromarray((truth > 0).astype(np.uint8)).save(tmp_path / "pred" / f"{stem}.png")
    with caplog.at_level(logging.WARNING):
        report = evaluate_predictions(tmp_path / "pred", tmp_path / "gt", **read_as)
    assert report.summary["objects"] == (24 if touching else 30)  # a pair, one region
    said = [r.getMessage() for r in caplog.records if "drawn as one" in r.getMessage()]
    if touching:
        assert said == [
            "6 of the 24 true objects (25%) look like several touching objects drawn as one "
            "(larger than most and not convex): the masks hold classes (or one foreground "
            "value), not object ids, so touching true objects count as one region in the true count and the object "
            "scores; masks of object ids (one value per object) count them apart"
        ]
    else:
        assert said == []


def test_the_weight_map_line_says_the_touching_objects_it_cannot_see():
    from unetlab.config import Config
    from unetlab.plan.loss import plan_objects

    merged = plan_objects(_fingerprint([_nuclei(pairs=3, singles=9)] * 2), Config())
    apart = plan_objects(_fingerprint([_nuclei(pairs=3, singles=9, touching=False)] * 2), Config())
    assert merged[0].key == apart[0].key == "data.weight_map"
    assert "; 25% look like several drawn as one (see below)" in merged[0].reason
    assert "drawn as one" not in apart[0].reason


def test_evaluate_counts_the_true_regions_of_a_mask_without_background():
    """The regions counted beside the merged ones were len(unique) - 1: one too few for a
    mask with no background pixel (s49 review1)."""
    from unetlab.evaluate.accumulate import Accumulator

    gt = np.ones((16, 16), np.int64)
    acc = Accumulator(boundary_class=0, connectivity=1, objects=True)
    acc.add("a", gt, gt)
    assert acc.merged_truth.tolist() == [0, 1]


def test_pieces_cut_by_the_edge_do_not_make_a_crop_look_like_blobs():
    """A 64-px crop of EM cells (ISBI 00-07 cut into 64-px images, the issue's small-images
    set): its few small regions were convex pieces of cells cut by the crop's edge, so the
    mask looked like blobs and its large irregular cells like merged ones (9% of 123
    regions, said by the plan). The typical regions are the whole ones, at least four."""
    crop = np.zeros((64, 64), np.int32)
    crop[:8, :8], crop[:8, 56:], crop[56:, :8], crop[56:, 56:] = 1, 2, 3, 4  # cut squares
    crop[20:40, 14:20] = 5  # two large L-shaped cells inside
    crop[34:40, 14:34] = 5
    crop[14:34, 44:50] = 6
    crop[14:20, 30:50] = 6
    assert merged_regions(crop) == 0
    whole = crop.copy()  # the same cells beside four whole small squares: they tell
    for k, (y, x) in enumerate([(44, 40), (44, 50), (50, 24), (24, 26)]):
        whole[y : y + 5, x : x + 5] = 7 + k
    assert merged_regions(whole) == 2


def test_regions_that_tile_the_mask_are_cells_not_merged_objects():
    """256-px crops of ISBI's EM cells (the issue's 16-bit set): the whole small cells inside
    a crop were convex, so its large irregular cells were said to be merged nuclei (59 of
    306 regions). Regions covering most of the mask tile it, cells between membranes: not
    judged; the same shapes on a background still are."""
    cells = np.zeros((64, 64), np.int32)
    k = 0
    for y in range(0, 64, 8):  # 7-px squares between 1-px membranes: 77% of the pixels
        for x in range(0, 64, 8):
            k += 1
            cells[y : y + 7, x : x + 7] = k
    for y, x in [(8, 8), (24, 24), (40, 40)]:  # three L-shaped cells of three squares each
        cells[y : y + 15, x : x + 7] = cells[y, x]
        cells[y + 8 : y + 15, x : x + 15] = cells[y, x]
    assert (cells > 0).mean() > 0.7 and merged_regions(cells) == 0
    apart = np.zeros((128, 128), np.int32)  # the same cells on a background
    apart[:64, :64] = cells
    assert merged_regions(apart) == 3


def test_evaluate_model_of_an_instance_model_says_binary_truth_merges(
    tmp_path, caplog, instance_checkpoint
):
    """evaluate --checkpoint of an instance (nuclei) model reads 0/255 masks as their
    connected components, as --gt-instances does: the line is said there too (s51)."""
    from unetlab import evaluate_model

    truth = _nuclei(pairs=3, singles=9)
    for folder in ("images", "masks"):
        (tmp_path / "d" / folder).mkdir(parents=True)
    for stem in ("a", "b"):
        Image.fromarray(truth // 2 + 20).save(tmp_path / "d" / "images" / f"{stem}.png")
        Image.fromarray(truth).save(tmp_path / "d" / "masks" / f"{stem}.png")
    with caplog.at_level(logging.WARNING):
        report = evaluate_model(instance_checkpoint, tmp_path / "d", device="cpu")
    assert report.summary["objects"] == 24
    said = [r.getMessage() for r in caplog.records if "drawn as one" in r.getMessage()]
    assert len(said) == 1 and said[0].startswith("6 of the 24 true objects (25%)")
