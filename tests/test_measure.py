"""Per-object measurements: scikit-image's regionprops as the oracle, and a table summed
over pieces equal to the one of the whole image."""

import numpy as np
import pytest
from skimage.measure import regionprops_table

import unetlab
from unetlab.inference.measure import (
    INTENSITY_COLUMNS,
    SHAPE_COLUMNS,
    TableSums,
    measure_objects,
    object_table,
)

ORACLE = {  # regionprops_table's name -> ours
    "area": "area",
    "centroid-0": "centroid_y",
    "centroid-1": "centroid_x",
    "bbox-0": "bbox_top",
    "bbox-1": "bbox_left",
    "bbox-2": "bbox_bottom",
    "bbox-3": "bbox_right",
    "perimeter": "perimeter",
    "solidity": "solidity",
    "equivalent_diameter_area": "equivalent_diameter",
    "axis_major_length": "major_axis_length",
    "axis_minor_length": "minor_axis_length",
}
INTENSITY = {
    "intensity_mean": "mean_intensity",
    "intensity_min": "min_intensity",
    "intensity_max": "max_intensity",
    "intensity_std": "std_intensity",
}


def blobs(h=90, w=110, seed=0) -> np.ndarray:
    """Touching ellipses of many shapes, some cut by the edges, a hole, a line, a single
    pixel, and a gap in the ids (id 5 is absent)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:h, :w]
    ids = np.zeros((h, w), np.int32)
    for k in range(1, 16):
        cy, cx = rng.uniform(-5, [h + 5, w + 5])
        a, b, t = rng.uniform(2, 14), rng.uniform(2, 9), rng.uniform(0, np.pi)
        u = (yy - cy) * np.cos(t) + (xx - cx) * np.sin(t)
        v = -(yy - cy) * np.sin(t) + (xx - cx) * np.cos(t)
        ids[(u / a) ** 2 + (v / b) ** 2 <= 1] = k
    ids[ids == 5] = 0
    ids[40:44, 50:54] = 16
    ids[41:43, 51:53] = 0  # a hole
    ids[5, 60:75] = 17  # a line
    ids[80, 100] = 18  # one pixel
    return ids


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_table_equals_regionprops(seed):
    ids = blobs(seed=seed)
    image = np.random.default_rng(seed).integers(0, 4000, ids.shape).astype(np.uint16)
    table = object_table(ids, image)
    oracle = regionprops_table(ids, image, properties=["label", *_props()])
    np.testing.assert_array_equal(table["id"], oracle["label"])
    for theirs, ours in {**ORACLE, **INTENSITY}.items():
        np.testing.assert_allclose(table[ours], oracle[theirs], rtol=1e-10, atol=1e-10)
    area, perimeter = table["area"], table["perimeter"]
    one = perimeter == 0
    assert list(area[one]) == [1] and np.isnan(table["circularity"][one]).all()
    circularity = 4 * np.pi * area[~one] / perimeter[~one] ** 2
    np.testing.assert_allclose(table["circularity"][~one], circularity)
    sums = [image[ids == i].astype(float).sum() for i in table["id"]]
    np.testing.assert_array_equal(table["integrated_intensity"], sums)


def _props():
    return [k.split("-")[0] for k in {**ORACLE, **INTENSITY} if not k[-1].isdigit()] + [
        "centroid",
        "bbox",
    ]


@pytest.mark.parametrize(("rows", "cols"), [(7, 200), (13, 9), (1, 1), (90, 5)])
def test_pieces_give_the_table_of_the_whole_image(rows, cols):
    ids = blobs(seed=3)
    image = np.random.default_rng(3).normal(0, 1, (*ids.shape, 2)).astype(np.float32)
    whole = object_table(ids, image)
    sums = TableSums(int(ids.max()))
    for y in range(0, ids.shape[0], rows):
        for x in range(0, ids.shape[1], cols):
            sums.add(y, ids[y : y + rows, x : x + cols], image[y : y + rows, x : x + cols], x)
    pieces = sums.table(height=ids.shape[0], width=ids.shape[1])
    assert list(pieces) == list(whole) and "std_intensity_1" in whole
    for key in whole:
        np.testing.assert_allclose(pieces[key], whole[key], rtol=1e-10, atol=1e-12)


def test_a_disc_and_a_square_have_the_expected_shape_measures():
    yy, xx = np.mgrid[:61, :61]
    ids = ((yy - 30) ** 2 + (xx - 30) ** 2 <= 20**2).astype(np.uint8)
    ids[2:12, 2:12] = 2
    table = object_table(ids)
    disc, square = 0, 1
    assert table["solidity"][square] == 1 and table["solidity"][disc] > 0.95
    assert table["circularity"][disc] == pytest.approx(0.908, abs=0.001)  # Fiji: ~0.98
    assert table["perimeter"][square] == 36  # through the boundary pixels' centres
    assert table["equivalent_diameter"][disc] == pytest.approx(40, abs=0.5)
    assert table["major_axis_length"][disc] == pytest.approx(table["minor_axis_length"][disc])


def test_measure_objects_is_public_and_gives_micrometres():
    assert "measure_objects" in unetlab.__all__ and unetlab.measure_objects is measure_objects
    ids = blobs()
    square = measure_objects(ids, pixel_size=0.5)
    np.testing.assert_allclose(square["perimeter_um"], square["perimeter"] * 0.5)
    np.testing.assert_allclose(square["area_um2"], square["area"] * 0.25)
    np.testing.assert_allclose(square["equivalent_diameter_um"], square["equivalent_diameter"] / 2)
    oblong = measure_objects(ids, pixel_size=(0.4, 0.2))
    assert "perimeter_um" not in oblong  # a perimeter in px has no one scale
    np.testing.assert_allclose(oblong["centroid_y_um"], oblong["centroid_y"] * 0.4)
    np.testing.assert_allclose(
        oblong["equivalent_diameter_um"], np.sqrt(4 * oblong["area"] * 0.08 / np.pi)
    )
    with pytest.raises(ValueError, match="integer"):
        measure_objects(ids.astype(float))


def test_an_empty_label_image_gives_empty_columns():
    table = object_table(np.zeros((5, 6), np.uint16), np.ones((5, 6)))
    assert len(table["id"]) == 0 and "max_intensity" in table and "solidity" in table


def test_the_documented_columns_are_the_tables_in_its_order():
    table = object_table(blobs(), blobs().astype(np.float32))
    assert tuple(table) == (*SHAPE_COLUMNS, *INTENSITY_COLUMNS, "touches_border")


def test_named_channels_names_each_channels_columns_once():
    from unetlab.inference.measure import named_channels

    table = {"id": [1], "mean_intensity_0": [2.0], "mean_intensity_1": [3.0], "area": [4]}
    table |= {
        f"{m}_intensity_{c}": [0.0] for m in ("min", "max", "std", "integrated") for c in (0, 1)
    }
    named = named_channels(table, ["CD8", "DAPI (405 nm)"])
    assert named["mean_intensity_CD8"] == [2.0] and "max_intensity_DAPI_405_nm" in named
    assert list(named)[:2] == ["id", "mean_intensity_CD8"] and len(named) == len(table)
    for names in ([], ["a"], ["a", "a"], ["a", "b", "c"]):  # not one name each: indices
        assert named_channels(table, names) is table


def test_channel_names_name_the_intensity_columns_of_the_csv(tmp_path):
    """measure_objects took no channel names: a 3-channel image's intensity columns were
    _0/_1/_2 where predict names them by the file's channel names; channel_names= names them
    (in 2-D, 3-D, a grey image's too), the CSV's header with them, values unchanged; names
    that do not name each channel once are one line (s51 axes4d item 5)."""
    from unetlab.data.io import write_csv
    from unetlab.errors import UnetlabError

    ids = np.zeros((2, 12, 12), np.uint16)
    ids[:, 2:6, 3:8] = 1
    image = np.random.default_rng(0).integers(0, 255, (2, 12, 12, 3), dtype=np.uint8)
    names = ["DAPI", "GFP", "Cy5 (647 nm)"]
    plain = measure_objects(ids[0], image[0])
    named = measure_objects(ids[0], image[0], channel_names=names)
    header = write_csv(tmp_path / "o.csv", named).read_text().splitlines()[0].split(",")
    assert "mean_intensity_DAPI" in header and "integrated_intensity_Cy5_647_nm" in header
    assert not any(c.endswith(("_0", "_1", "_2")) for c in header) and len(named) == len(plain)
    np.testing.assert_array_equal(named["mean_intensity_GFP"], plain["mean_intensity_1"])
    joined = measure_objects(ids, image, objects_3d=True, channel_names=names)
    assert [c for c in joined if c.startswith("mean_")] == ["mean_intensity_DAPI"] + [
        "mean_intensity_GFP",
        "mean_intensity_Cy5_647_nm",
    ]
    grey = measure_objects(ids[0], image[0, ..., 0], channel_names=["DAPI"])
    assert "mean_intensity_DAPI" in grey and "mean_intensity" not in grey
    for bad in (["DAPI", "GFP"], ["a", "a", "b"], "DAPI"):
        with pytest.raises(UnetlabError, match="^channel_names .*one (distinct )?name"):
            measure_objects(ids[0], image[0], channel_names=bad)
