"""A slide resumed with another CPU thread count is resumed (hours of tiles are kept) and says
that its outputs may then differ in the last bits from an uninterrupted run's: the README
promised bit-for-bit equality, and the staging did not record the threads (s36 misc)."""

import json

from unetlab.inference import slide_resume


def _staged(tmp_path, threads) -> dict:
    labels = tmp_path / "labels"
    (labels / "0").mkdir(parents=True)
    (labels / "0" / ".zarray").write_text("{}")
    record = {"input": {"path": "s.tif"}, "device": ["cpu", None], "threads": threads}
    (labels / slide_resume.RECORD).write_text(json.dumps(record))
    return {"labels": labels}


def _wanted(threads) -> dict:
    return {"input": {"path": "s.tif"}, "device": ["cpu", None], "threads": threads}


def test_another_thread_count_resumes_and_says_so(tmp_path):
    stages = _staged(tmp_path, 1)
    assert slide_resume.mismatch(stages, _wanted(2)) is None  # resumed, not started afresh
    note = slide_resume.thread_note(stages, _wanted(2))
    assert note.startswith("its staged rows were computed with 1 CPU threads, this run uses 2")
    assert note.endswith("rerun with OMP_NUM_THREADS=1")


def test_the_same_threads_or_an_unknown_count_say_nothing(tmp_path):
    assert slide_resume.thread_note(_staged(tmp_path / "a", 2), _wanted(2)) is None
    assert slide_resume.thread_note(_staged(tmp_path / "b", None), _wanted(2)) is None  # older
    assert slide_resume.thread_note(_staged(tmp_path / "c", 2), _wanted(None)) is None  # a GPU


def test_the_identity_records_the_cpu_threads(tmp_path, monkeypatch):
    from types import SimpleNamespace

    import torch

    monkeypatch.setattr(torch, "get_num_threads", lambda: 3)
    image = tmp_path / "s.tif"
    image.write_bytes(b"x")
    grid = SimpleNamespace(tile=(32, 32), out_tile=(32, 32), ys=[0], xs=[0], pad=0, abut=False)
    wanted = slide_resume.identity(image, {}, grid, 1, world=1, device="cpu")
    assert wanted["threads"] == 3
    assert slide_resume.thread_note(_staged(tmp_path, 1), wanted).startswith(
        "its staged rows were computed with 1 CPU threads, this run uses 3"
    )
