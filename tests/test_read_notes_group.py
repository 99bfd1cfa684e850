"""``predict --nproc N``: the files every process read are in the main process's read-notes
lines (transparent or nodata pixels left out, files turned by their EXIF tag), not only its
own share: each process said its own lines at its end, and the others' (INFO, which a
process but the main one does not show) went unsaid, so 2 of 4 images were named."""

from __future__ import annotations

import logging

import numpy as np
import torch
from PIL import Image

from tests.test_folders_group_seconds import two_ranks
from unetlab import UNet
from unetlab.inference.folders import predict_folder


def test_the_main_process_says_the_files_every_process_read(tmp_path, caplog):
    (tmp_path / "in").mkdir()
    rng = np.random.default_rng(0)
    for i in range(4):  # dealt in turn: two to each rank
        image = rng.integers(0, 255, (24, 32, 4), dtype=np.uint8)
        image[..., 3] = 255
        image[:6, :, 3] = 0  # a quarter transparent
        Image.fromarray(image, "RGBA").save(tmp_path / "in" / f"i{i}.png")
    torch.manual_seed(0)
    net = UNet(3, 2, depth=2, base_channels=2, padding="same").eval()
    caplog.set_level(logging.INFO, logger="unetlab.data.read_notes")
    two_ranks(lambda group: predict_folder(net, tmp_path / "in", tmp_path / "out", group=group))
    said = [r.getMessage() for r in caplog.records if "transparent pixels (" in r.getMessage()]
    assert len(said) == 1, said  # the main process's, of all four
    assert said[0].startswith("4 images with nodata or transparent pixels"), said
    folder = tmp_path / "in"
    assert f"({folder / 'i0.png'} 25% transparent, {folder / 'i1.png'} 25%" in said[0], said


def test_every_field_of_the_notes_is_handed_over_and_taken():
    """handed_notes empties, and take_notes gathers, every field but what was said (one
    list of the by-file fields, where three functions each listed them)."""
    from dataclasses import fields

    from unetlab.data import read_notes as rn

    with rn.read_notes() as main:
        # another process's gathering (evaluating too: that flag is handed on as well)
        with rn.read_notes(predicting=True, evaluating=True) as other:
            rn.note_turned("b.jpg", 6)
            rn.note_transparent("b.png", 0.5)
            rn.note_left_out_page("s.tif", (0, 2), (10, 100), "nodata")
            rn.note_left_out_page("s.tif", (1, 2), (30, 100), "nodata")
            other.left_out["c.tif"] = (0.25, "nodata")
            other.overlaps["masks"] = 3
            rn.note_regions("a.geojson", 2, 1)  # and one detection redrawn by hand
            other.written.add("0")
            rn.note_side("s.tif", 0.5)
            rn.note_converted("d.png", "colour image given to a grey model")
            rn.note_alike("e.tif", "2 pages and no axis metadata: read as 2 planes")
            rn.note_images(4)  # the files read to predict: the count's total
            handed = rn.handed_notes()
            # what the gathering is (predicting) and what it said (the first converted
            # image's line, said at once) stay; what it gathered is handed
            kept = {f.name: getattr(other, f.name) for f in fields(other)}
            stay = ("said", "noted", "again", "predicted", "evaluated")
            kept = {k: v for k, v in kept.items() if k not in stay}
            assert not any(kept.values()), kept
        rn.note_turned("a.jpg", 3)
        rn.take_notes(handed)
    said = {"said", "noted", "again"}  # what was said: each process's own, not handed
    taken = {f.name for f in fields(main) if f.name not in said and getattr(main, f.name)}
    assert taken == {f.name for f in fields(main)} - said
    assert list(main.turned) == ["a.jpg", "b.jpg"]  # by name, not by process
    assert main.shares()["s.tif"] == (0.2, "nodata")
