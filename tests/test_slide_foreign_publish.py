"""A file another program puts in the output folder while a slide streams, under the name of
one of its outputs, is not replaced when the outputs are published (audit s41 auditslide: a
file written into the folder 25 s into a 2-minute slide was replaced without a word; the
folder's check at the start had passed)."""

import numpy as np
import tifffile
import torch

from tests.test_slide_resume import pinned_version  # noqa: F401 (autouse)
from unetlab import UNet
from unetlab.inference import slides
from unetlab.inference.folders import predict_folder


def test_a_file_put_beside_a_streaming_slide_is_not_replaced(tmp_path, monkeypatch):
    torch.manual_seed(0)
    model = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    model.normalization = {"mode": "per_image"}
    rng = np.random.default_rng(0)
    tifffile.imwrite(tmp_path / "s.tif", rng.integers(0, 255, (64, 64)).astype(np.uint8))
    out = tmp_path / "out"
    said = slides.say_streamed_appearance

    def meanwhile(*a, **k):  # another program writes into the folder as the slide streams
        (out / "s.tif").write_text("Fiji's")
        return said(*a, **k)

    monkeypatch.setattr(slides, "say_streamed_appearance", meanwhile)
    done = predict_folder(model, [tmp_path / "s.tif"], out, large_threshold=100)
    assert (out / "s.tif").read_text() == "Fiji's"
    (why,) = done.failed.values()
    assert "s.tif was written by another program while this slide was predicted" in why, why
    assert not done.written
    # the predicted rows stay staged: moved away, the rerun publishes them
    assert [p.name for p in out.iterdir() if p.name.startswith(".s")] == [".s.tif.partial"]
    (out / "s.tif").rename(tmp_path / "fiji.tif")
    monkeypatch.setattr(slides, "say_streamed_appearance", said)
    done = predict_folder(model, [tmp_path / "s.tif"], out, large_threshold=100)
    assert not done.failed and tifffile.TiffFile(out / "s.tif").is_ome
    assert not [p.name for p in out.iterdir() if p.name.startswith(".s")]


def test_a_file_given_another_inode_alone_keeps_its_stamp(tmp_path):
    """Network mounts may renumber a file's inode during a long run: the same size and
    modification time is the same file (review s41), a rewrite is not."""
    import os
    import shutil

    from unetlab.inference.slide_outputs import file_stamps

    path = tmp_path / "slide_objects.csv"
    path.write_text("id,area\n1,5\n")
    before = file_stamps([path])
    shutil.copy2(path, tmp_path / "copy.csv")  # same size and mtime, another inode
    os.replace(tmp_path / "copy.csv", path)
    assert file_stamps([path]) == before
    path.write_text("id,area\n1,6\n")
    os.utime(path, ns=(1, 1))
    assert file_stamps([path]) != before
