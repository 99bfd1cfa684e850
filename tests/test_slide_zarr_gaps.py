"""An OME-Zarr input that lacks chunks of the level predicted (a partial copy, an interrupted
conversion, or a Zarr written sparse on purpose) says so in one warning line: the file, the
level, how many chunks of how many, where, and what they read as; one line, not a warning,
where the nodata setting leaves them out (data/zarr_chunks.py, inference/slide_nodata.py)."""

import logging

import numpy as np
import pytest
import zarr

from tests.test_slide_nodata import _model
from unetlab.data.slides import open_slide
from unetlab.inference.files import predict_file

#: how each layout stores its arrays: zarr format and create_array's keywords
LAYOUTS = {
    "v2": (2, {}),
    "v2-nested": (2, {"chunk_key_encoding": {"name": "v2", "separator": "/"}}),
    "v3": (3, {}),
    "v3-sharded": (3, {"shards": (1, 40, 40)}),
}


def _write(path, layout, image):
    """A two-level OME-Zarr of the (H, W, 3) ``image``, every chunk (1, 20, 20) stored
    (no pixel holds the fill value 0); returns the group."""
    version, extra = LAYOUTS[layout]
    group = zarr.open_group(path, mode="w", zarr_format=version)
    for i, level in enumerate([image, image[::2, ::2]]):
        data = np.moveaxis(level, -1, 0)
        array = group.create_array(
            str(i), shape=data.shape, dtype=data.dtype, chunks=(1, 20, 20), fill_value=0, **extra
        )
        array[:] = data
    axes = [{"name": a, "type": "channel" if a == "c" else "space"} for a in "cyx"]
    datasets = [
        {"path": str(i), "coordinateTransformations": [{"type": "scale", "scale": [1, 2**i, 2**i]}]}
        for i in range(2)
    ]
    scales = [{"version": "0.4", "axes": axes, "datasets": datasets}]
    group.attrs.update(
        {"multiscales": scales} if version == 2 else {"ome": {"multiscales": scales}}
    )
    return group


def _drop(path, level: int, keys):
    """Delete the stored objects ``keys`` (chunk coordinates) of array ``level``."""
    array = zarr.open_array(path / str(level), mode="r")
    for at in keys:
        (path / str(level) / array.metadata.encode_chunk_key(at)).unlink()


def _image(shape=(60, 50)):
    return np.random.default_rng(0).integers(1, 255, (*shape, 3), dtype=np.uint8)


def _said(caplog):
    return [r.getMessage() for r in caplog.records if "chunks (within" in r.getMessage()]


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_missing_chunks_of_the_level_predicted_give_one_warning(tmp_path, caplog, layout):
    path = tmp_path / "m.ome.zarr"
    _write(path, layout, _image())
    sharded = layout == "v3-sharded"  # shards (1, 40, 40): a grid of 3 x 2 x 2
    gone = [(0, 1, 0)] if sharded else [(0, 2, 1), (1, 2, 1), (2, 2, 2)]  # of 3 x 3 x 3
    _drop(path, 0, gone)
    model = _model()
    with caplog.at_level(logging.INFO):
        predict_file(model, path, tmp_path / "o1", level=1, tile_size=32)  # level 1: whole
        assert not _said(caplog)
        predict_file(model, path, tmp_path / "o0", tile_size=32)
        predict_file(model, path, tmp_path / "o0b", nodata="none", tile_size=32)  # said once
    said = _said(caplog)
    assert len(said) == 1, said
    warned = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warned] == said
    count, columns = ("1 of 12", "0-39") if sharded else ("3 of 27", "20-49")
    assert said[0].startswith(
        f"{path}: level 0 lacks {count} chunks (within rows 40-59, columns {columns}), "
        "which read as its fill value 0 and are predicted as pixels of 0"
    )
    assert "background), nodata=0 leaves out its pixels of 0" in said[0]  # no flag (s56)


def test_the_command_line_is_told_the_nodata_flag(tmp_path, caplog):
    """The line gave both forms inline, "unetlab predict --nodata 0 (Python: nodata=0)"; the
    command line is told its flag alone (s56)."""
    from unetlab.checkpoint import save_model
    from unetlab.cli import main

    _write(tmp_path / "m.ome.zarr", "v2", _image((40, 40)))
    _drop(tmp_path / "m.ome.zarr", 0, [(0, 1, 1)])
    save_model(tmp_path / "m.pt", _model())
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--tile-size", "32"]
    argv += ["--input", str(tmp_path / "m.ome.zarr"), "--output", str(tmp_path / "o")]
    with caplog.at_level(logging.INFO):
        assert main(argv) == 0
    (said,) = _said(caplog)
    assert "background), --nodata 0 leaves out its pixels of 0" in said and "nodata=" not in said


def test_a_level_given_by_its_path_is_named_with_its_store(tmp_path, caplog):
    """``m.ome.zarr/0`` given: the line named '0: level 0 lacks ...', no store."""
    path = tmp_path / "m.ome.zarr"
    _write(path, "v2", _image())
    _drop(path, 0, [(0, 2, 1)])
    with caplog.at_level(logging.INFO):
        predict_file(_model(), path / "0", tmp_path / "o", tile_size=32)
    said = _said(caplog)
    assert len(said) == 1 and said[0].startswith(f"{path / '0'}: level 0 lacks 1 of 27 chunks")


def test_a_nodata_of_the_fill_value_leaves_them_out_with_a_line_not_a_warning(tmp_path, caplog):
    path = tmp_path / "m.ome.zarr"
    _write(path, "v2", _image())
    _drop(path, 0, [(0, 0, 0), (1, 0, 0), (2, 0, 0)])  # one whole window: no sample there
    with caplog.at_level(logging.INFO):
        predict_file(_model(), path, tmp_path / "o", nodata=0, tile_size=32)
    said = _said(caplog)
    assert len(said) == 1 and "left out as nodata" in said[0], said
    assert "rows 0-19, columns 0-19" in said[0]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_unstored_chunks_counts_the_listing_against_the_grid(tmp_path):
    from unetlab.data.zarr_chunks import unstored_chunks

    path = tmp_path / "m.ome.zarr"
    _write(path, "v3", _image((100, 100)))  # level 0: 3 x 5 x 5 chunks
    with open_slide(path) as slide:
        assert unstored_chunks(slide.array, slide.layout.axes) is None  # every one stored
    _drop(path, 0, [(2, 4, 0), (0, 1, 3)])
    with open_slide(path) as slide:
        found = unstored_chunks(slide.array, slide.layout.axes)
    assert (found.missing, found.total, found.fill) == (2, 75, 0)
    assert (found.rows, found.columns) == ((20, 99), (0, 79))


def test_a_nan_fill_value_s_gap_is_said_to_stop_the_run_not_to_be_predicted(tmp_path, caplog):
    """A float Zarr whose fill value is NaN: its unstored chunks read as NaN, which the run
    refuses ('NaN or infinite pixels'); the warning said they 'are predicted as pixels of
    nan'. --nodata nan (its fix for a Zarr sparse on purpose) leaves them out."""
    from unetlab.errors import UnetlabError

    path = tmp_path / "f.zarr"
    image = np.random.default_rng(0).random((60, 50, 3)).astype(np.float32)
    array = zarr.create_array(
        path, shape=image.shape, dtype="float32", chunks=(20, 20, 3), fill_value=float("nan")
    )
    array[:] = image
    _drop(path.parent, path.name, [(1, 1, 0)])
    with caplog.at_level(logging.INFO), pytest.raises(UnetlabError, match="NaN or infinite"):
        predict_file(_model(), path, tmp_path / "o", tile_size=32)
    (said,) = _said(caplog)
    assert (
        "which read as its fill value nan and stop the run (NaN and infinite pixels are refused): "
        in said
    )
    assert "background), nodata='nan' leaves out its pixels of nan" in said  # Python's (s56)
    assert predict_file(_model(), path, tmp_path / "o2", nodata="nan", tile_size=32)


def test_a_level_its_metadata_names_but_the_zarr_lacks_is_one_read_error(tmp_path):
    """s53 reviewB: an OME-Zarr whose level 0 folder is gone (a copy cut short) raised
    zarr's KeyError '0', a bug's traceback in predict, not the file's failed line."""
    from unetlab.errors import ImageReadError

    path = tmp_path / "m.ome.zarr"
    _write(path, "v2", _image())
    for level in (0, 1):
        for stored in sorted((path / str(level)).rglob("*"), reverse=True):
            stored.unlink() if stored.is_file() else stored.rmdir()
        (path / str(level)).rmdir()
        with pytest.raises(ImageReadError, match=f"names the level '{level}', which it does not"):
            open_slide(path, level=1)  # level 1 read, level 0's shape asked; then 1 gone too
