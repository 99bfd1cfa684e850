"""An MRC label file carries the key of the record that made it (a second header label,
``unetlab key ...``), as TIFF and PNG labels carry theirs: a run killed once its
``tomo.mrc`` was in place, before its manifest line said so, has it proved its own by the
rerun (s72 fix: plain, --skip-existing and --overwrite reruns all refused it as a user's
file, "move it elsewhere"; streamed and read whole alike), and a user's MRC file put there
is still refused."""

import pytest

from tests.test_mrc_streamed_labels import STREAMED, _folder, _names, _net
from unetlab import predict_folder
from unetlab.data.mrc import KEY_NOTE, carried_mrc_key, mrc_header
from unetlab.errors import OutputError
from unetlab.inference import slide_outputs
from unetlab.inference.records import OutputOptions, carried_key


def _killed_once_written(monkeypatch, folder, out, outputs, name="tomo.mrc", net=None) -> None:
    """A run stopped right after its publishing folder put the label file ``name`` in place
    (:func:`~unetlab.inference.slide_outputs.finish`, as an image read whole puts its
    outputs in place too), as by kill -9 then: its manifest line only claims it."""
    finish = slide_outputs.finish

    def stopped(folder):
        done = finish(folder)
        if done is not None:
            raise KeyboardInterrupt
        return done

    with monkeypatch.context() as m:
        m.setattr(slide_outputs, "finish", stopped)
        with pytest.raises(KeyboardInterrupt):
            predict_folder(net or _net(), folder, out, outputs)
    assert (out / name).is_file()


def _counted(net) -> list[int]:
    """The batches ``net`` is given from now on, counted into the list returned."""
    calls = [0]
    net.register_forward_pre_hook(lambda *_: calls.__setitem__(0, calls[0] + 1))
    return calls


WAYS = {"streamed": STREAMED, "whole": OutputOptions()}


@pytest.mark.parametrize("way", sorted(WAYS))
@pytest.mark.parametrize("flag", ["", "skip_existing", "overwrite"])
def test_a_run_killed_once_its_label_file_is_in_place_has_it_its_own(
    tmp_path, monkeypatch, way, flag
):
    folder, _ = _folder(tmp_path)
    outputs, out = WAYS[way], tmp_path / "out"
    _killed_once_written(monkeypatch, folder, out, outputs)
    again = OutputOptions(**{**vars(outputs), **({flag: True} if flag else {})})
    net = _net()
    calls = _counted(net)
    done = predict_folder(net, folder, out, again)
    assert not done.failed, done.failed
    if flag == "skip_existing":  # the killed run's own label file taken as done (pins, s73)
        assert calls[0] == 0
    predict_folder(_net(), folder, tmp_path / "straight", outputs)
    assert (out / "tomo.mrc").read_bytes() == (tmp_path / "straight" / "tomo.mrc").read_bytes()
    assert _names(out) == ["tomo.mrc"]


def test_the_key_is_the_headers_second_label(tmp_path):
    folder, _ = _folder(tmp_path)
    predict_folder(_net(), folder, tmp_path / "out")
    path = tmp_path / "out" / "tomo.mrc"
    raw = mrc_header(path).raw
    key = carried_mrc_key(path)
    assert raw[304:384].decode().rstrip() == f"{KEY_NOTE} {key}" and raw[220:224] == b"\2\0\0\0"
    assert carried_key(path) == key and len(key.split("-")) == 2
    assert carried_mrc_key(folder / "tomo.rec") is None  # another program's file


def test_a_users_mrc_file_under_a_killed_runs_claim_is_still_refused(tmp_path, monkeypatch):
    folder, image = _folder(tmp_path)
    out = tmp_path / "out"
    _killed_once_written(monkeypatch, folder, out, STREAMED)
    (out / "tomo.mrc").write_bytes(image.read_bytes())  # theirs, under the claimed name
    done = predict_folder(_net(), folder, out, STREAMED)
    (why,) = done.failed.values()
    assert "tomo.mrc was not written by unetlab (a stopped run had only claimed" in why
    assert (out / "tomo.mrc").read_bytes() == image.read_bytes()


@pytest.mark.parametrize("way", sorted(WAYS))
def test_a_users_edit_in_place_that_keeps_the_key_is_kept(tmp_path, way):
    """An MRC label file edited in place (mrcfile's mode r+: its header, key and size kept)
    is the user's: a rerun keeps it (s73 review: it was replaced without a word, its line's
    stamp being its size and key alone)."""
    folder, _ = _folder(tmp_path)
    out = tmp_path / "out"
    predict_folder(_net(), folder, out, WAYS[way])
    path = out / "tomo.mrc"
    edited = bytearray(path.read_bytes())
    edited[-1] ^= 1  # one voxel painted over
    path.write_bytes(edited)
    assert carried_mrc_key(path) is not None  # its header's key kept
    with pytest.raises(OutputError, match=r"changed since unetlab wrote it \(yours now"):
        predict_folder(_net(), folder, out, WAYS[way])
    assert path.read_bytes() == edited
