"""A semantic model's staged lookup of a slide's page (``lookup_<page>.npz``): written
atomically, so a run killed while writing it leaves none half written; one found damaged
when its objects are published (a crash before it reached the disk) is one line naming it
and the fix, not a BadZipFile or EOFError traceback (s61)."""

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.test_slide_resume import Stop, _outputs, _slide, pinned_version  # noqa: F401
from tests.test_slide_resume_publish import _run, small_chunks  # noqa: F401
from unetlab.errors import OutputError
from unetlab.inference import slide_objects
from unetlab.inference.objects import ObjectOptions
from unetlab.models import UNet

pytestmark = pytest.mark.usefixtures("small_chunks")

HOW = dict(objects=ObjectOptions())  # a semantic model's objects: a staged lookup


def _net() -> UNet:
    torch.manual_seed(0)
    return UNet(1, 2, depth=2, base_channels=4, padding="valid").eval()


def _stopped_publishing(net, slide, out: Path, monkeypatch) -> Path:
    """The staging folder of a run of ``slide`` into ``out`` stopped while it published
    the objects (its page done, its lookup staged)."""

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(slide_objects, "write_csv", stopped)
        with pytest.raises(KeyboardInterrupt):
            _run(net, slide, out, Stop(), **HOW)
    return out / ".s_objects.tif.ids.partial"


def test_a_run_killed_while_writing_a_lookup_leaves_none_half_written(tmp_path, monkeypatch):
    slide, net = _slide(tmp_path / "s.tif"), _net()
    savez = np.savez

    def killed(path, **arrays):  # half of it written, then the kill
        savez(path, **arrays)
        data = Path(path).read_bytes()
        Path(path).write_bytes(data[: len(data) // 2])
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(np, "savez", killed)
        with pytest.raises(KeyboardInterrupt):
            _run(net, slide, tmp_path / "out", Stop(), **HOW)
    stage = tmp_path / "out" / ".s_objects.tif.ids.partial"
    assert (stage / "unetlab-resume.json").exists()
    assert not list(stage.glob("lookup_*.npz")) and not list(stage.glob(".lookup*"))
    _run(net, slide, tmp_path / "whole", Stop(), **HOW)
    _run(net, slide, tmp_path / "out", Stop(), **HOW)  # resumed
    assert _outputs(tmp_path / "out") == _outputs(tmp_path / "whole")


@pytest.mark.parametrize("kept", [0.0, 0.5, 0.9])
def test_a_damaged_lookup_of_a_done_page_is_one_line(tmp_path, monkeypatch, kept):
    slide, net = _slide(tmp_path / "s.tif"), _net()
    stage = _stopped_publishing(net, slide, tmp_path / "out", monkeypatch)
    lookup = stage / "lookup_0.npz"
    data = lookup.read_bytes()
    lookup.write_bytes(data[: int(len(data) * kept)])
    with pytest.raises(OutputError) as refused:
        _run(net, slide, tmp_path / "out", Stop(), **HOW)
    said = str(refused.value)
    assert said.startswith(f"{lookup}: a damaged or truncated zip ("), said
    assert said.endswith(f"; remove {stage} and run again (it predicts the slide afresh)")
    assert "\n" not in said
    shutil.rmtree(stage)  # the fix it says
    _run(net, slide, tmp_path / "whole", Stop(), **HOW)
    _run(net, slide, tmp_path / "out", Stop(), **HOW)
    assert _outputs(tmp_path / "out") == _outputs(tmp_path / "whole")


def test_a_damaged_lookup_of_a_done_page_is_refused_before_any_tile(tmp_path, monkeypatch):
    """A run stopped in page 1 of 2, page 0's staged lookup damaged since: the rerun
    predicted page 1's tiles and only then, publishing page 0, refused it (review s62:
    minutes of work thrown away). It refuses it as it resumes, no tile predicted."""
    slide, net = _slide(tmp_path / "s.tif", pages=2), _net()
    whole = Stop()
    _run(net, slide, tmp_path / "whole", whole, **HOW)
    with pytest.raises(KeyboardInterrupt):  # page 0 done, page 1 begun
        _run(net, slide, tmp_path / "out", Stop(whole.tiles // 2 + 1), **HOW)
    stage = tmp_path / "out" / ".s_objects.tif.ids.partial"
    lookup = stage / "lookup_0.npz"
    assert not (stage / "lookup_1.npz").exists()
    lookup.write_bytes(lookup.read_bytes()[:100])
    again = Stop()
    with pytest.raises(OutputError) as refused:
        _run(net, slide, tmp_path / "out", again, **HOW)
    assert again.tiles == 0
    said = str(refused.value)
    assert said.startswith(f"{lookup}: a damaged or truncated zip ("), said
    assert said.endswith(f"; remove {stage} and run again (it predicts the slide afresh)")
    shutil.rmtree(stage)  # the fix it says
    _run(net, slide, tmp_path / "out", Stop(), **HOW)
    assert _outputs(tmp_path / "out") == _outputs(tmp_path / "whole")


@pytest.mark.parametrize(
    ("code", "fix"),
    [
        ("EMFILE", "close other programs, or raise the limit of open files (ulimit -n)"),
        (
            "EIO",
            "check the disk it is on and run again, or remove {stage} and run again"
            " (it predicts the slide afresh)",
        ),
    ],
)
def test_a_file_system_error_reading_a_lookup_is_no_damage(tmp_path, monkeypatch, code, fix):
    """EMFILE, EACCES or EIO reading a healthy lookup was said "a damaged or truncated zip"
    with a fix that threw the slide's staged work away (review s61), then raised as it is
    (a traceback called a bug, s62 review): one line with the fix, the lookup kept."""
    import errno
    import os

    path = tmp_path / "lookup_0.npz"
    np.savez(path, keys=np.arange(3), values=np.arange(3))

    def failing(*_args, **_kwargs):
        raise OSError(getattr(errno, code), os.strerror(getattr(errno, code)))

    monkeypatch.setattr(np, "load", failing)
    with pytest.raises(OutputError) as refused:
        slide_objects._staged_lookup(path)
    reason = os.strerror(getattr(errno, code))
    assert str(refused.value) == f"{path}: cannot read it ({reason}); {fix.format(stage=tmp_path)}"
    assert path.exists()


def test_a_lookup_the_disk_never_reads_is_got_past_as_the_line_says(tmp_path, monkeypatch):
    """A staged lookup the disk cannot read (EIO, every time) was said with "check the disk
    it is on" alone, and a rerun read it again and failed for ever (review s63): the line
    also says to remove the staging folder; removed, the rerun predicts the slide afresh
    and finishes, its outputs an uninterrupted run's."""
    import errno
    import os
    import re

    slide, net = _slide(tmp_path / "s.tif"), _net()
    stage = _stopped_publishing(net, slide, tmp_path / "out", monkeypatch)
    load = np.load

    def unreadable(file, *args, **kwargs):
        if Path(getattr(file, "name", file)) == stage / "lookup_0.npz":
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return load(file, *args, **kwargs)

    with monkeypatch.context() as m:  # the disk cannot read that file, run after run
        m.setattr(np, "load", unreadable)
        for _ in range(2):
            with pytest.raises(OutputError) as refused:
                _run(net, slide, tmp_path / "out", Stop(), **HOW)
            said = re.fullmatch(
                r".*lookup_0\.npz: cannot read it \(.+\); check the disk it is on and run"
                r" again, or remove (.+) and run again \(it predicts the slide afresh\)",
                str(refused.value),
            )
            assert said is not None, refused.value
            assert Path(said[1]) == stage and stage.is_dir()  # nothing lost by the refusal
        shutil.rmtree(said[1])  # as the line says: the unread file goes with it
    _run(net, slide, tmp_path / "whole", Stop(), **HOW)
    _run(net, slide, tmp_path / "out", Stop(), **HOW)
    assert _outputs(tmp_path / "out") == _outputs(tmp_path / "whole")


def test_a_resumed_slide_checks_its_lookups_by_their_zip_directories(tmp_path, monkeypatch):
    """check_staged read every staged lookup whole as a run resumed (~1 ms a page: 10000
    pages 8-10 s, read again as they are published; review s62): it opens each one's zip
    directory, which a crash cuts off, and no array. One without its values, or whose
    directory puts a member before the file's start (a bare OSError EINVAL before), is
    refused in one line."""
    import types

    stage = tmp_path / "stage"
    stage.mkdir()
    for page in range(3):
        np.savez(slide_objects.lookup_path(stage, page), keys=np.arange(5), values=np.arange(5))
    staged = types.SimpleNamespace(stage=stage)

    def read(*_args, **_kwargs):
        raise AssertionError("an array read")

    with monkeypatch.context() as m:
        m.setattr(np, "load", read)
        slide_objects.SlideObjects.check_staged(staged, 3)
    fix = f"; remove {stage} and run again (it predicts the slide afresh)"
    lookup = slide_objects.lookup_path(stage, 1)
    np.savez(lookup, keys=np.arange(5))
    with pytest.raises(OutputError) as refused:
        slide_objects.SlideObjects.check_staged(staged, 3)
    assert str(refused.value).startswith(f"{lookup}: a damaged or truncated zip (")
    assert str(refused.value).endswith(fix)
    np.savez(lookup, keys=np.arange(5), values=np.arange(5))
    data = bytearray(lookup.read_bytes())
    end = data.rfind(b"PK\x05\x06")
    offset = int.from_bytes(data[end + 16 : end + 20], "little")
    data[end + 16 : end + 20] = (offset + 5000).to_bytes(4, "little")
    lookup.write_bytes(bytes(data))
    with pytest.raises(OutputError) as refused:
        slide_objects.SlideObjects.check_staged(staged, 3)
    assert str(refused.value) == (
        f"{lookup}: a damaged or truncated zip (its keys.npy lies before the zip's start){fix}"
    )
    with pytest.raises(OutputError) as refused:  # as its page is published: no traceback
        slide_objects._staged_lookup(lookup)
    assert str(refused.value).endswith(fix)
