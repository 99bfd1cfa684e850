"""Objects found in bands with a margin of context (an instance model's, or a semantic
model's with a distance split or watershed seeds: those the exact semantic path does not
take) equal the image read whole where the margin is twice the tallest object (a hypothesis
fuzz); a streamed slide with taller objects says that its seams may differ."""

import logging
import re
from dataclasses import replace

import numpy as np
import pytest
import tifffile
from scipy import ndimage

from tests.test_postprocess import disc_ids, same_partition, soft
from tests.test_predict_objects import local_net, nuclei_image
from unetlab.data import ome
from unetlab.data.instances import boundary_target
from unetlab.inference import slide_objects
from unetlab.inference.files import predict_file
from unetlab.inference.objects import ObjectOptions, objects_from_probabilities, objects_in_bands
from unetlab.inference.slide_objects import seam_note

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    size=st.tuples(st.integers(30, 90), st.integers(20, 60)),
    radius=st.floats(2.0, 7.0),
    min_area=st.integers(1, 20) | st.integers(60, 200),  # above CUT_MIN_AREA: cut kept
    split=st.booleans(),
    rows=st.tuples(st.integers(1, 30), st.integers(1, 20)),
    nodata=st.booleans(),
)
def test_fuzz_instance_bands_equal_the_whole_image_with_a_margin_twice_the_tallest(
    seed, size, radius, min_area, split, rows, nodata
):
    """Also with least sizes above CUT_MIN_AREA, and nodata blobs that cut the objects
    beside them (review s33 1, 2: a band's cut rows cut nothing; nodata cuts alike)."""
    rng = np.random.default_rng(seed)
    h, w = size
    centres = rng.integers(0, [h, w], (int(h * w / (radius * radius * 8)), 2))
    probabilities = soft(
        boundary_target(disc_ids((h, w), centres, radius), boundary_width=1), seed % 1000
    )
    outside = None
    if nodata:
        outside = ndimage.gaussian_filter(rng.random((h, w)), 1.5) > 0.62
    options = ObjectOptions(mode="instances", min_area=min_area, distance_split=split)
    whole = objects_from_probabilities(probabilities, options, outside=outside)
    every = objects_from_probabilities(probabilities, replace(options, min_area=1))
    boxes = [b for b in ndimage.find_objects(every) if b is not None]  # those dropped too
    tallest = max((b[0].stop - b[0].start for b in boxes), default=0)
    band, block = rows
    blocks = ((y, probabilities[:, y : y + block]) for y in range(0, h, block))
    cut = None if outside is None else (lambda top, bottom: outside[top:bottom])
    parts = objects_in_bands(
        blocks, height=h, options=options, band_rows=band, margin=2 * tallest + 1, outside=cut
    )
    assert same_partition(np.concatenate([ids for _, ids in parts]), whole)


def test_the_seam_note_counts_objects_taller_than_half_the_margin():
    table = {"bbox_top": np.array([0, 10, 50]), "bbox_bottom": np.array([16, 27, 70])}
    assert seam_note([table], 40) is None
    assert seam_note([table, table], 32).startswith("4 objects are taller than half the 32-row")


def test_a_streamed_slide_with_tall_objects_says_so(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(ome, "CHUNK", 16)
    monkeypatch.setattr(slide_objects, "STREAM_ROWS", 16)
    monkeypatch.setattr(slide_objects, "PIECE_PIXELS", 256)
    monkeypatch.setattr(slide_objects, "OBJECT_BAND_ROWS", 16)
    image = nuclei_image(120, 48, seed=3)
    image[10:110, 30:42] = 210  # a bright bar of 100 rows, its rim darker
    image[10:110, [30, 41]] = image[[10, 109], 30:42] = 120
    path = tmp_path / "bar.tif"
    tifffile.imwrite(path, image)
    with caplog.at_level(logging.INFO, logger="unetlab.inference.slide_objects"):
        predict_file(
            local_net(), path, tmp_path / "s", objects=ObjectOptions.for_model, large_threshold=100
        )
    notes = [m for m in caplog.messages if "taller than half the 32-row margin" in m]
    assert len(notes) == 1 and re.match(r"bar_objects.tif: [12] objects are taller", notes[0])
