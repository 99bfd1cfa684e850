"""One rule says which inputs are streamed (inference/stream_rule.py): the pixel rule
(:func:`is_large`), and, with no threshold given, a one-page TIFF whose whole read is
estimated over the memory budget, except with settings for images read whole only, or
objects / an overlay in a run shared over processes."""

import numpy as np
import pytest
import tifffile

from unetlab import UNet
from unetlab.errors import UnetlabError
from unetlab.inference import sizing
from unetlab.inference.predict import PredictOptions
from unetlab.inference.records import OutputOptions
from unetlab.inference.stream_rule import is_streamed, whole_estimate


def _model():
    return UNet(3, 2, depth=2, base_channels=4, padding="same").eval()


def test_the_memory_rule_and_what_it_leaves_to_the_pixel_rule(tmp_path, monkeypatch):
    image = np.random.default_rng(0).integers(0, 255, (64, 80, 3), np.uint8)
    tifffile.imwrite(tmp_path / "a.tif", image, photometric="rgb")
    tifffile.imwrite(tmp_path / "t.tif", image, photometric="rgb", extratags=[(274, "H", 1, 6)])
    model, path = _model(), tmp_path / "a.tif"
    assert whole_estimate(path, model) == (64 * 80, sizing.whole_read_bytes(64 * 80, 3, 1, 2))
    assert not is_streamed(path, model)  # 200 KB: read whole
    monkeypatch.setattr(sizing, "WHOLE_BUDGET", 1000.0)
    assert is_streamed(path, model) and is_streamed(path, model, processes=2)
    assert not is_streamed(path, model, OutputOptions(large_threshold=10**6))  # the user's word
    assert is_streamed(path, model, OutputOptions(large_threshold=100))
    assert not is_streamed(path, model, options=PredictOptions(exclude_rows="bottom=4"))
    # axes that say what the file says stream as without (YXS: its RGB samples; YXC: colours
    # too, by the one rule, data.io.stain_axes: it was read whole as channels, not colours)
    assert is_streamed(path, model, axes="YXS") and is_streamed(path, model, axes="YXC")
    assert is_streamed(path, model, OutputOptions(objects=True, outlines="imagej"))  # s64
    assert not is_streamed(tmp_path / "t.tif", model)  # turned: read whole, turned
    for asked in (dict(objects=True), dict(draw_overlay=True)):
        assert is_streamed(path, model, OutputOptions(**asked))
        assert not is_streamed(path, model, OutputOptions(**asked), processes=2)


def test_an_unreadable_tiff_is_named_as_before(tmp_path):
    (tmp_path / "x.tif").write_bytes(b"not a tiff")
    with pytest.raises(UnetlabError, match="x.tif"):
        is_streamed(tmp_path / "x.tif", _model())


def test_objects_can_stream_a_one_page_tiff_read_whole_without_them_and_say_so(tmp_path):
    """slides5 s55: a 4,096^2 grey TIFF was read whole without --instances (labels PNG) and
    streamed with it (a pyramidal OME-TIFF that resumes), with no line saying why; the rule
    stays (memory: objects cost ~90 B/px more), said before, and --large-pixels fixes it."""
    from unetlab.errors import command_spelling
    from unetlab.inference.stream_rule import memory_note

    side = 4096
    tifffile.imwrite(tmp_path / "g.tif", np.zeros((side, side), np.uint8))
    model, path = UNet(1, 2, depth=2, base_channels=4), tmp_path / "g.tif"
    objects = OutputOptions(objects=True)
    assert not is_streamed(path, model) and is_streamed(path, model, objects)
    assert memory_note(path, model) is None  # read whole: whole_read_note says that
    note = memory_note(path, model, objects)
    # named by its path as given, as its other lines (it was its name alone, review s55 H8)
    # its restart is the streaming line's to say, once (it was said twice: s57)
    assert note.startswith(f"{path}: 16.8 MP read window by window (pyramidal outputs), as")
    kept = OutputOptions(objects=True, save_probabilities=True)  # its objects resume too
    assert "(pyramidal outputs; a stopped run resumes it), as" in memory_note(path, model, kept)
    assert "about 1.9 GB with objects (without them it is read whole" in note, note
    assert note.endswith(
        f"large_threshold={side**2 - 1} streams it either way, large_thre"
        f"shold={side**2} reads it whole"
    )
    with command_spelling():
        said = memory_note(path, model, objects)
    assert said.endswith(f"--large-pixels {side**2} reads it whole"), said
    for n, streamed in ((side**2 - 1, True), (side**2, False)):  # the user's word: one form
        for asked in (dict(), dict(objects=True)):
            given = OutputOptions(large_threshold=n, **asked)
            assert is_streamed(path, model, given) == streamed
            assert memory_note(path, model, given) is None


def test_predict_says_the_memory_rule_before_streaming(tmp_path, monkeypatch, caplog):
    from unetlab.inference.files import predict_file

    tifffile.imwrite(
        tmp_path / "g.tif", np.random.default_rng(0).integers(0, 255, (48, 40), np.uint8)
    )
    model = UNet(1, 2, depth=2, base_channels=4, padding="same").eval()
    plain = sizing.whole_read_bytes(48 * 40, 1, 1, 2)
    monkeypatch.setattr(sizing, "WHOLE_BUDGET", plain + 1)  # objects tip it over
    with caplog.at_level("INFO", logger="unetlab"):
        predict_file(model, tmp_path / "g.tif", tmp_path / "o", objects=True)
    said = [m for m in caplog.messages if "read window by window (pyramidal" in m]
    assert len(said) == 1 and "without them it is read whole" in said[0], caplog.messages
    restarts = [m for m in caplog.messages if "restarts" in m or "starts its page again" in m]
    assert len(restarts) == 1 and "restarts this page" in restarts[0], caplog.messages
    assert (tmp_path / "o" / "g.tif").is_file() and not (tmp_path / "o" / "g.png").exists()
    caplog.clear()
    with caplog.at_level("INFO", logger="unetlab"):
        predict_file(model, tmp_path / "g.tif", tmp_path / "p")  # read whole: no such line
    assert not [m for m in caplog.messages if "read window by window (" in m]
    assert (tmp_path / "p" / "g.png").is_file()
