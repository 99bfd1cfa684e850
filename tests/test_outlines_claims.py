"""The outline writers of the public API claim their file as every unetlab output does
(audit s48 apiwalk: the README's write_geojson(path, ids) wrote JSON over an image)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from unetlab.errors import OutputError, command_spelling
from unetlab.inference.outlines import write_geojson, write_imagej_rois
from unetlab.outputs import claim_files

IDS = np.zeros((16, 16), np.uint16)
IDS[2:6, 2:6] = 1
WRITERS = {"geojson": (write_geojson, ".geojson"), "imagej": (write_imagej_rois, ".zip")}


@pytest.mark.parametrize("kind", sorted(WRITERS))
def test_an_image_is_never_replaced(tmp_path, kind):
    write, _ = WRITERS[kind]
    image = tmp_path / "00.png"
    image.write_bytes(b"\x89PNG mine")
    for overwrite in (False, True):
        with pytest.raises(OutputError):
            write(image, IDS, overwrite=overwrite)
    assert image.read_bytes() == b"\x89PNG mine"


@pytest.mark.parametrize("kind", sorted(WRITERS))
def test_a_foreign_file_needs_overwrite_and_its_own_is_replaced(tmp_path, kind):
    write, suffix = WRITERS[kind]
    path = tmp_path / f"cells{suffix}"
    path.write_bytes(b"mine")
    with pytest.raises(OutputError, match="not written by unetlab.*overwrite=True"):
        write(path, IDS)
    assert path.read_bytes() == b"mine"
    assert write(path, IDS, overwrite=True) == path and path.read_bytes() != b"mine"
    assert write(path, IDS) == path  # its own file: replaced again


def test_the_same_objects_give_the_same_roi_zip_bytes_at_any_time(tmp_path, monkeypatch):
    """Audit s48 apiwalk: predict_folder's and the command's _objects_rois.zip of one image
    differed in their entries' times alone (the ONNX and bioimage.io zips fix theirs)."""
    import time

    first = write_imagej_rois(tmp_path / "a.zip", IDS).read_bytes()
    later = time.time() + 3600
    monkeypatch.setattr(time, "time", lambda: later)
    assert write_imagej_rois(tmp_path / "b.zip", IDS).read_bytes() == first


def test_a_file_an_outline_writer_wrote_is_named_by_its_call_not_a_command(tmp_path):
    path = write_geojson(tmp_path / "a_objects.geojson", IDS)
    calls = "unetlab's write_geojson, write_imagej_rois (a Python call)"
    with command_spelling(), pytest.raises(OutputError) as cli:  # predict's own claim
        claim_files([path], command="predict")
    assert f"was written by {calls}, not by unetlab predict:" in str(cli.value)
    assert "unetlab outlines" not in str(cli.value)  # no such command
    with pytest.raises(OutputError, match=rf"was written by {re.escape(calls)}, not by this"):
        claim_files([path], command="predict")
