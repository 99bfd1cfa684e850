"""The names in an output folder, listed once where stagings are looked for
(:func:`unetlab.outputs.folder_names`, predict's and the claim's one helper): a folder that
cannot be listed raises, not taken as holding no staging (review s67: the claim's own
helper swallowed the error); and the claim's undoing after a one-line error removes the
manifest it made in the user's folder."""

from __future__ import annotations

import os

import pytest

import unetlab.outputs
from unetlab.errors import UnetlabError
from unetlab.outputs import MANIFEST, folder_names, output_folder, remove_finished_stagings


def test_a_folder_not_there_has_no_names_and_one_not_listed_raises(tmp_path, monkeypatch):
    assert folder_names(tmp_path / "none") is None
    (tmp_path / "file").write_text("x")
    assert folder_names(tmp_path / "file") is None
    (tmp_path / "out" / ".a.png.partial").mkdir(parents=True)
    assert folder_names(tmp_path / "out") == {".a.png.partial"}
    listdir = os.listdir

    def unreadable(path="."):  # searchable, not readable (root reads it anyway: mocked)
        if os.fspath(path) == os.fspath(tmp_path / "out"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return listdir(path)

    monkeypatch.setattr(unetlab.outputs.os, "listdir", unreadable)
    with pytest.raises(PermissionError):
        folder_names(tmp_path / "out")
    # its staging was taken as absent ([] removed); now looked at by name (s67 re-read)
    staged = tmp_path / "out" / ".a.png.partial"
    assert remove_finished_stagings(tmp_path / "out", ["a.png"]) == [staged]


def test_a_claim_undone_after_an_error_removes_the_manifest_it_made(tmp_path):
    """A run refused after its claim (a user's objects_summary.csv, audit s41) leaves no
    hidden manifest in a folder that had none: the claim's names shadowed whether it had
    one (s67 branch: the manifest stayed)."""
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "notes.txt").write_text("the user's")
    refused = pytest.raises(UnetlabError, match="refused")
    with refused, output_folder(folder, ["a.png"], overwrite=True):
        assert (folder / MANIFEST).exists()
        raise UnetlabError("refused")
    assert sorted(os.listdir(folder)) == ["notes.txt"]


def test_a_claim_undone_in_a_folder_not_listed_says_the_refusal(tmp_path, monkeypatch):
    """folder_names' PermissionError, raised in the claim's undoing under the user's one-line
    error, replaced it with a traceback (review s67); its stagings are looked at one by one
    instead: a.png's, made during the run, keeps its name claimed."""
    folder = tmp_path / "out"
    folder.mkdir()

    def unreadable(path):
        raise PermissionError(13, "Permission denied", os.fspath(path))

    with pytest.raises(UnetlabError, match="refused"), output_folder(folder, ["a.png"]):
        monkeypatch.setattr(unetlab.outputs, "folder_names", unreadable)
        (folder / ".a.png.partial").mkdir()
        raise UnetlabError("refused")
    assert "a.png" in (folder / MANIFEST).read_text()


def test_a_run_that_wrote_its_outputs_in_a_folder_not_listed_settles(tmp_path, monkeypatch):
    """_settle listed the folder with nothing to catch its PermissionError: a run that had
    written its outputs ended on a traceback, its manifest never settled (s67 re-read); its
    stagings are looked at one by one there, as the claim's undoing does."""
    folder = tmp_path / "out"
    folder.mkdir()

    def unreadable(path):
        raise PermissionError(13, "Permission denied", os.fspath(path))

    with output_folder(folder, ["a.png"]):
        monkeypatch.setattr(unetlab.outputs, "folder_names", unreadable)
        (folder / "a.png").write_bytes(b"png")
    assert "a.png" in (folder / MANIFEST).read_text()
    assert remove_finished_stagings(folder, ["a.png"]) == []
