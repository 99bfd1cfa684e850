"""An object beside nodata or the data bar is a piece, held to CUT_MIN_AREA for its least
size as at the image's edge, as training sizes count it (review s33 2): read whole (nodata,
the bar) and streamed (nodata), the same objects."""

import numpy as np
import tifffile

from tests.test_objects_classes import three_class_net
from unetlab.data import ome
from unetlab.inference import slide_objects
from unetlab.inference.files import predict_file
from unetlab.inference.objects import ObjectOptions

BY_CLASS = [None, {"count": 3, "area_p05": 800.0}, {"count": 3, "area_p05": 8.0}]  # grains: 200 px


def _image() -> np.ndarray:
    """(96, 64) float32 classes with a nodata (-5) block: a 100-px grain beside it across
    the row-48 seam, a 100-px grain inside, a 900-px grain."""
    image = np.zeros((96, 64), np.float32)
    image[40:50, 5:15] = 1  # beside the nodata below it
    image[70:80, 40:50] = 1  # nothing beside it
    image[5:35, 20:50] = 1
    image[50:60, 0:20] = -5
    return image


def _objects(tmp_path, name, image, **how):
    path = tmp_path / "g.tif"
    tifffile.imwrite(path, image)
    out = tmp_path / name
    predict_file(three_class_net(BY_CLASS), path, out, objects=ObjectOptions.for_model, **how)
    ids = tifffile.imread(next(out.glob("g_objects*.tif")))
    return ids, (out / "g_objects.csv").read_text()


def test_a_grain_beside_nodata_is_kept_read_whole_and_streamed(tmp_path, monkeypatch):
    monkeypatch.setattr(ome, "CHUNK", 16)
    monkeypatch.setattr(slide_objects, "OBJECT_BAND_ROWS", 16)
    whole, table = _objects(tmp_path, "w", _image(), nodata=-5)
    assert whole.max() == 2 and whole[45, 10] > 0 and whole[75, 45] == 0
    streamed, streamed_table = _objects(tmp_path, "s", _image(), nodata=-5, large_threshold=100)
    np.testing.assert_array_equal(streamed, whole)
    assert streamed_table == table


def test_a_grain_beside_the_data_bar_is_kept(tmp_path):
    image = np.clip(_image(), 0, None)
    image[50:, :] = 0
    image[50:60, 0:20] = 0
    whole, _ = _objects(tmp_path, "w", image, exclude_rows=(0, 46))
    assert whole.max() == 2 and whole[45, 10] > 0 and whole[75, 45] == 0
