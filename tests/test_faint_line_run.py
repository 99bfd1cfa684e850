"""The "faint objects may be missed" line (an image's contrast 0.5x-0.7x the model's floor)
is said as the "read as nearly empty" one is: in full for a run's first such image, then one
short line pointing to it; kept by a held run for the main process; one line for a stack's or
a streamed slide's pages; never of an image above 0.7x the floor, and never pointed to (nor
from) a nearly empty image's line."""

import logging

import numpy as np
import pytest
import tifffile
import torch

from unetlab import UNet
from unetlab.inference import predict
from unetlab.inference.folders import predict_folder
from unetlab.inference.predict import (
    floor_run,
    model_stats,
    run_handed,
    say_handed,
    stack_stats,
)

FLOOR = 1000.0
SPEC16 = {"mode": "per_image", "floor": [FLOOR], "dtype": "uint16"}


class _Model(torch.nn.Module):
    normalization = SPEC16


def _net():
    torch.manual_seed(0)
    model = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    model.normalization = SPEC16
    return model


def _image(share: float, seed: int = 0) -> np.ndarray:
    """A 16-bit image whose contrast (std) is ``share`` of the floor."""
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal((48, 48, 1))
    noise = (noise - noise.mean()) / noise.std()
    return np.round(20000 + share * FLOOR * noise).astype(np.uint16)


def _said(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records]


def test_faint_images_of_a_run_in_full_once_then_short(caplog):
    caplog.set_level(logging.WARNING)
    with floor_run():
        for k, name in enumerate(["a.png", "b.png", "c.png"]):
            model_stats(_Model(), _image(0.6, k), name=f"in/{name}")
        model_stats(_Model(), _image(0.75), name="in/bright.png")  # above 0.7x: nothing
    lines = _said(caplog)
    assert len(lines) == 3, lines
    assert lines[0].startswith("in/a.png: contrast 600 is 0.60x the model's floor 1000 (")
    assert "so faint objects may be missed; for a dimmer acquisition" in lines[0]
    for name, line in zip(["b.png", "c.png"], lines[1:]):
        assert line == (
            f"in/{name}: contrast 600 is 0.60x the model's floor 1000: faint objects may be "
            "missed (see a.png)"
        )


def test_a_faint_and_a_nearly_empty_image_are_each_said_in_full(caplog):
    caplog.set_level(logging.WARNING)
    with floor_run():
        for name, share in [("a", 0.6), ("d", 0.3), ("b", 0.65), ("e", 0.2)]:
            model_stats(_Model(), _image(share), name=f"{name}.png")
    a, d, b, e = _said(caplog)
    assert "faint objects may be missed; for a dimmer" in a and "nearly empty" not in a
    assert "read as nearly empty; if it holds objects" in d and "faint" not in d
    assert b.endswith("faint objects may be missed (see a.png)")
    assert e.endswith("read as nearly empty (see d.png)")


def test_a_held_run_keeps_the_faint_line_for_the_main_process(caplog):
    """``--nproc``: another process's faint images are said by the main one, in full once."""
    caplog.set_level(logging.WARNING)
    with floor_run(held=True):
        for name in ["a.png", "b.png"]:
            model_stats(_Model(), _image(0.6), name=name)
        handed = run_handed()
    assert not _said(caplog)  # kept, not said
    assert {key[:2] for key in handed[0]} == {("faint", "a.png"), ("faint", "b.png")}
    with floor_run():
        say_handed(handed)
    first, second = _said(caplog)
    assert first.startswith("a.png: contrast 600") and "for a dimmer acquisition" in first
    assert second.endswith("faint objects may be missed (see a.png)")


def test_a_stacks_faint_pages_are_one_line_apart_from_its_nearly_empty_ones(caplog):
    caplog.set_level(logging.WARNING)
    pages = [_image(share, k) for k, share in enumerate([0.6, 0.3, 0.65, 0.2, 0.62, 1.0])]
    stack_stats(_Model(), pages, name="s.tif")
    faint, dim = _said(caplog)
    assert faint.startswith("s.tif page 0: contrast 600 is 0.60x the model's floor 1000")
    assert faint.endswith("(and 2 more pages)") and "nearly empty" not in faint
    assert dim.startswith("s.tif page 1: contrast 300") and dim.endswith("(and 1 more page)")


def test_a_streamed_stacks_faint_planes_are_one_line(tmp_path, caplog):
    path = tmp_path / "stack.tif"
    planes = np.stack([_image(0.6, k)[..., 0] for k in range(3)] + [_image(1.0)[..., 0]])
    tifffile.imwrite(path, planes, imagej=True, metadata={"axes": "ZYX"})
    caplog.set_level(logging.WARNING)
    with floor_run():
        predict_folder(_net(), path, tmp_path / "out", progress=False, large_threshold=100)
    (line,) = [m for m in _said(caplog) if "faint" in m]
    assert f"{path} plane 0: contrast 600 is 0.60x" in line
    assert line.endswith("(and 2 more planes)"), line
    assert tifffile.TiffFile(tmp_path / "out" / "stack.tif").is_ome  # it streamed


def test_a_folder_says_two_faint_images_once_in_full(tmp_path, caplog):
    folder = tmp_path / "in"
    folder.mkdir()
    for k, (name, share) in enumerate([("a", 0.6), ("b", 0.6), ("c", 0.8)]):
        tifffile.imwrite(folder / f"{name}.tif", _image(share, k)[..., 0])
    caplog.set_level(logging.WARNING)
    predict_folder(_net(), folder, tmp_path / "out", progress=False)
    lines = [m for m in _said(caplog) if "floor" in m]
    assert len(lines) == 2, lines
    assert lines[0].startswith(f"{folder / 'a.tif'}: contrast 600 is 0.60x the model's floor")
    assert "for a dimmer acquisition, scale it" in lines[0]
    assert lines[1] == (
        f"{folder / 'b.tif'}: contrast 600 is 0.60x the model's floor 1000: faint objects may "
        "be missed (see a.tif)"
    )


def test_outside_any_run_the_faint_line_is_said_in_full_once_a_process(monkeypatch, caplog):
    """A notebook's loop of ``predict_image`` calls: the first in full, then pointed to."""
    monkeypatch.setattr(predict, "_DIM_SAID", {})
    caplog.set_level(logging.WARNING)
    for name, share in [("a.png", 0.6), ("d.png", 0.3), ("b.png", 0.6)]:
        model_stats(_Model(), _image(share), name=name)
    a, d, b = _said(caplog)
    assert "so faint objects may be missed; for a dimmer acquisition" in a
    assert "read as nearly empty; if it holds objects" in d
    assert b.startswith("b.png: contrast 600 is 0.60x the model's floor 1000 (trained on")
    assert b.endswith("faint objects may be missed, as said in full for a.png")


def test_a_runs_later_stacks_point_to_the_first_ones_lines(caplog):
    """A folder of dim stacks said each stack's page lines in full (300 characters each),
    where single images point to the first (s47): the first stack's in full, the next ones'
    short, each with its count of pages."""
    caplog.set_level(logging.WARNING)
    pages = [_image(share, k) for k, share in enumerate([0.6, 0.3, 0.65, 0.2, 1.0])]
    with floor_run():
        stack_stats(_Model(), pages, name="in/s.tif")
        stack_stats(_Model(), pages[:4] + pages[-1:], name="in/t.tif")
    faint, dim, faint_t, dim_t = _said(caplog)
    assert "for a dimmer acquisition" in faint and faint.endswith("(and 1 more page)")
    assert dim.startswith("in/s.tif page 1: contrast 300") and "if it holds objects" in dim
    assert faint_t == (
        "in/t.tif page 0: contrast 600 is 0.60x the model's floor 1000: faint objects may be "
        "missed (and 1 more page; see s.tif page 0)"
    )
    assert dim_t.startswith("in/t.tif page 1: contrast 300 is 3.3x below the model's floor 1000")
    assert dim_t.endswith("read as nearly empty (and 1 more page; see s.tif page 1)")


def test_a_notebooks_later_stacks_say_their_page_count_in_one_parenthesis(monkeypatch, caplog):
    """Outside any run (a notebook's calls) a later stack's short line says its other pages
    before pointing to the first stack's line: "... (and 2 more pages), as said in full for
    ...", not a pointer followed by a second parenthesis."""
    monkeypatch.setattr(predict, "_DIM_SAID", {})
    caplog.set_level(logging.WARNING)
    pages = [_image(0.6, k) for k in range(3)] + [_image(1.0)]
    stack_stats(_Model(), pages, name="s.tif")
    stack_stats(_Model(), pages, name="t.tif")
    first, second = _said(caplog)
    assert first.endswith("(and 2 more pages)"), first
    assert second.startswith("t.tif page 0: contrast 600 is 0.60x the model's floor 1000 ("), second
    assert second.endswith(
        "faint objects may be missed (and 2 more pages), as said in full for s.tif page 0"
    )


def test_a_held_runs_stack_lines_keep_their_page_count(caplog):
    """A process of a group (--nproc) keeps a stack's lines for the main one, which says
    them with the stack's other pages counted, the first stack's in full."""
    caplog.set_level(logging.WARNING)
    pages = [_image(0.6, k) for k in range(3)] + [_image(1.0)]
    with floor_run(held=True):
        stack_stats(_Model(), pages, name="s.tif")
        stack_stats(_Model(), pages, name="t.tif")
        handed = run_handed()
    assert not _said(caplog)  # kept, not said
    with floor_run():
        say_handed(handed)
    first, second = _said(caplog)
    assert "for a dimmer acquisition" in first and first.endswith("(and 2 more pages)")
    assert second.endswith("faint objects may be missed (and 2 more pages; see s.tif page 0)")


@pytest.mark.parametrize("streamed", [False, True])
def test_a_folder_of_dim_stacks_says_the_line_in_full_once(tmp_path, caplog, streamed):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in "ab":
        pages = np.stack([_image(0.6, k)[..., 0] for k in range(3)] + [_image(1.0)[..., 0]])
        tifffile.imwrite(folder / f"{name}.tif", pages, imagej=True, metadata={"axes": "ZYX"})
    caplog.set_level(logging.WARNING)
    how = dict(large_threshold=100) if streamed else {}
    predict_folder(_net(), folder, tmp_path / "out", progress=False, **how)
    assert tifffile.TiffFile(tmp_path / "out" / "b.tif").is_ome == streamed
    lines = [m for m in _said(caplog) if "floor" in m]
    assert len(lines) == 2, lines
    assert "for a dimmer acquisition" in lines[0] and lines[0].endswith("(and 2 more planes)")
    assert lines[1].startswith(f"{folder / 'b.tif'} plane 0: contrast 600")
    assert lines[1].endswith("faint objects may be missed (and 2 more planes; see a.tif plane 0)")


def test_a_page_s_floor_is_looked_up_once(monkeypatch):
    """s72 notes: model_stats looked up a page's floor three times (its note, its floored
    contrast, its share kept for a stack's line; 10-16 us each); once now, the share kept
    as before."""
    from unetlab.data import normalize

    calls, real = [], normalize.floor_for
    counted = lambda *a: calls.append(a) or real(*a)  # noqa: E731
    monkeypatch.setattr(normalize, "floor_for", counted)
    monkeypatch.setattr(predict, "floor_for", counted)
    dim = {}
    _, scale = model_stats(_Model(), _image(1.5), name="p.tif", dim=dim)
    assert len(calls) == 1, calls
    assert dim == {predict._SHARES: [("p.tif", pytest.approx(1.5, rel=0.01))]}
    assert scale == pytest.approx([1.5 * FLOOR], rel=0.01)
