"""The plan's tile holds several of the largest class's objects (audit s32 histo 8)."""

import numpy as np

from unetlab.data.fingerprint import Fingerprint, measure_pair
from unetlab.errors import command_spelling
from unetlab.plan.geometry import Geometry
from unetlab.plan.tiles import plan_tile

SAME = Geometry(4, "same")


def glands_and_nuclei(side=256) -> np.ndarray:
    """A mask of 0 stroma, 1 glands (four discs ~48 px across), 2 nuclei (many, 9 px
    across): the nuclei's median is the data set's."""
    yy, xx = np.mgrid[:side, :side]
    mask = np.zeros((side, side), np.uint8)
    for cy, cx in ((50, 50), (50, 180), (180, 60), (190, 190)):
        mask[np.hypot(yy - cy, xx - cx) <= 24] = 1
    for cy in range(10, side - 10, 20):
        for cx in range(110, 150, 20):
            mask[np.hypot(yy - cy, xx - cx) <= 4.5] = 2
    return mask


def fingerprint_of(mask) -> Fingerprint:
    image = np.zeros(mask.shape, np.uint8)
    return Fingerprint([measure_pair(image, mask, instances=False)])


def test_the_tile_holds_two_of_the_largest_classs_objects_where_the_batch_stays_large():
    fp = fingerprint_of(glands_and_nuclei())
    assert set(fp.class_areas()) == {1, 2} and len(fp.class_areas()[2]) > 12
    choice = plan_tile(fp, SAME, "cuda", {1: "gland", 2: "nuclei"})
    assert choice.value == 96  # 4 nuclei across: 37 px; 2 glands across: 96 px (was 40)
    assert "objects are ~9 px across" in choice.reason
    assert "the largest class, mask value 1 (gland), has objects ~48 px across" in choice.reason
    assert choice.reason.endswith("2 across need a 96 px output")


def test_on_a_cpu_the_reason_names_the_largest_class_and_the_tile_stays():
    fp = fingerprint_of(glands_and_nuclei())
    choice = plan_tile(fp, SAME, "cpu", {1: "gland", 2: "nuclei"})
    assert choice.value == 40  # 96 px tiles: 14 per step of 128k px, under 16
    assert "mask value 1 (gland), has objects ~48 px across" in choice.reason
    assert "fewer than 16 tiles per step on cpu or pass the tile limit: not planned" in (
        choice.reason
    )
    assert "CPU run; cfg.data.tile_size = N sets it)" in choice.reason  # was the bare key
    with command_spelling():
        again = plan_tile(fp, SAME, "cpu", {1: "gland", 2: "nuclei"}).reason
    assert "CPU run; --set data.tile_size=N sets it)" in again


def test_one_object_class_and_small_largest_classes_leave_the_tile_as_it_was():
    mask = glands_and_nuclei()
    one = fingerprint_of(np.where(mask == 2, 1, mask))  # glands and nuclei one class
    assert plan_tile(one, SAME, "cuda").value == 40
    assert "largest class" not in plan_tile(one, SAME, "cuda").reason
    few = mask.copy()
    few[few == 1] = 0
    few[200:210, 10:20] = 1  # the only object of class 1: too few to size by
    assert plan_tile(fingerprint_of(few), SAME, "cuda").value == 40


def test_the_largest_class_grows_no_tile_past_the_smallest_image():
    small = fingerprint_of(np.zeros((80, 80), np.uint8)).pairs  # the smallest image: 80 px
    fp = Fingerprint(fingerprint_of(glands_and_nuclei()).pairs + small)
    choice = plan_tile(fp, SAME, "cuda")
    assert choice.value == 40 and "pass the tile limit: not planned" in choice.reason
