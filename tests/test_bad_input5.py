"""Bad input, s55 badinput5: one clear line, naming the file so it can be found."""

import re
from pathlib import Path

import numpy as np
import pytest
import tifffile
import torch
from PIL import Image
from torch.utils.data import Dataset

from unetlab.data.io import ChannelsMaskError
from unetlab.data.loader import UserErrorLoader
from unetlab.errors import UnetlabError
from unetlab.inference.every_file import Takes, refuse_for_every_file
from unetlab.inference.tree import predict_tree

from .test_bad_input4 import _ngff, _zarr, most_channels
from .test_train import write_blobs


def test_an_ome_zarr_whose_scale_is_given_by_path_has_its_channels_counted(tmp_path):
    """most_channels was None for an OME-Zarr whose levels give their scale by 'path' (the
    reader refuses such a scale), so a --channel beyond its channels was refused per file,
    after the model loaded, not up front (s54 noticed): its axes and shape are read."""
    ngff = _ngff()
    for dataset in ngff["multiscales"][0]["datasets"]:
        dataset["coordinateTransformations"] = [{"type": "scale", "path": "s" + dataset["path"]}]
    store = _zarr(tmp_path / "a.ome.zarr", 2, ngff)
    assert most_channels(store) == 2
    with pytest.raises(UnetlabError, match=r"has 2 channels \(valid: channel=0 to 1\)"):
        refuse_for_every_file(tmp_path, [store], {"channel": 5})
    refuse_for_every_file(tmp_path, [store], {"channel": 1})  # it has that one


class _ReadsBadMasks(Dataset):
    """Items whose reading refuses a mask, as a worker reading files would."""

    def __len__(self):
        return 4

    def __getitem__(self, index):
        if index == 2:
            raise ChannelsMaskError(Path("masks/m.tif"), 5)
        return torch.zeros(2)


def test_a_loader_worker_s_bad_input_comes_back_as_itself():
    """torch re-raised a worker's ChannelsMaskError as a RuntimeError (its type takes
    (path, channels), not torch's traceback text) and a UnetlabError as "Caught UnetlabError
    in DataLoader worker process 0." plus the traceback (s54 noticed): the same error, the
    same one line, as without workers."""
    for workers in (0, 1):
        loader = UserErrorLoader(_ReadsBadMasks(), batch_size=2, num_workers=workers)
        with pytest.raises(ChannelsMaskError) as refused:
            list(loader)
        assert str(refused.value) == str(ChannelsMaskError(Path("masks/m.tif"), 5))
    good = UserErrorLoader(_ReadsBadMasks(), batch_size=2, num_workers=1, sampler=[0, 1, 3])
    assert [b.shape for b in good] == [(2, 2), (1, 2)]


def _summed(items: list) -> torch.Tensor:
    """A caller's collate_fn: the batch's sum, not torch's stack (module level: it pickles)."""
    return torch.stack(items).sum(0)


def test_a_caller_s_collate_fn_makes_the_batches_with_workers_as_without():
    """With workers UserErrorLoader replaced a caller's collate_fn by torch's default,
    silently; without, it was honoured (review fixT s56). Both the same now; a bad item
    still comes back as itself."""
    for workers in (0, 1):
        kept = UserErrorLoader(
            _ReadsBadMasks(), batch_size=2, num_workers=workers, collate_fn=_summed, sampler=[0, 1]
        )
        assert [b.shape for b in kept] == [(2,)], workers
        loader = UserErrorLoader(
            _ReadsBadMasks(), batch_size=2, num_workers=workers, collate_fn=_summed
        )
        with pytest.raises(ChannelsMaskError):
            list(loader)


def _refuses_sizes(items: list) -> torch.Tensor:
    """A caller's collate_fn that refuses its batch as bad input (module level: it pickles)."""
    raise UnetlabError("a.png: its size differs from b.png's; crop them alike")


def test_a_caller_s_collate_fn_s_bad_input_is_one_line_with_workers_as_without():
    """A UnetlabError of the caller's own collate_fn was one line without workers, and
    "Caught UnetlabError in DataLoader worker process 0" plus the traceback with them (review
    F1): the same error, the same one line, the worker's traceback a note."""
    said = "a.png: its size differs from b.png's; crop them alike"
    for workers in (0, 1):
        loader = UserErrorLoader(
            _ReadsBadMasks(), batch_size=2, num_workers=workers, collate_fn=_refuses_sizes
        )
        with pytest.raises(UnetlabError) as refused:
            list(loader)
        assert type(refused.value) is UnetlabError and str(refused.value) == said, workers
    (note,) = refused.value.__notes__
    assert note.startswith("in DataLoader worker process 0:\nTraceback"), note
    assert "in _refuses_sizes\n    raise UnetlabError(" in note, note


def test_a_loader_worker_s_error_keeps_the_worker_s_traceback_as_a_note():
    """Pickled back from a worker, the error lost the worker's traceback, which ``--debug``
    showed as the main process's alone (revE): the worker's is a note (Python prints it
    below the traceback; the one line, ``str``, is unchanged); raised in the main process
    (no workers), its own traceback holds it and no note is added."""
    with pytest.raises(ChannelsMaskError) as refused:
        list(UserErrorLoader(_ReadsBadMasks(), batch_size=2, num_workers=1))
    (note,) = refused.value.__notes__
    assert note.startswith("in DataLoader worker process 0:\nTraceback"), note
    assert "in __getitem__\n    raise ChannelsMaskError(" in note, note
    assert str(refused.value) == str(ChannelsMaskError(Path("masks/m.tif"), 5))
    with pytest.raises(ChannelsMaskError) as refused:
        list(UserErrorLoader(_ReadsBadMasks(), batch_size=2, num_workers=0))
    assert not hasattr(refused.value, "__notes__")


class _Counted(_ReadsBadMasks):
    """:class:`_ReadsBadMasks` that notes each item read."""

    def __init__(self):
        self.read: list[int] = []

    def __getitem__(self, index):
        self.read.append(index)
        return super().__getitem__(index)


def test_without_workers_an_item_s_error_is_raised_as_its_reading_raises_it():
    """With num_workers=0 the loader wrapped the dataset all the same: the error was kept as
    an item, the batch's next item read before it was raised (tidy6). Now the loader is
    torch's own there: one line, no note, nothing read past the refused item."""
    dataset = _Counted()
    loader = UserErrorLoader(dataset, batch_size=2, num_workers=0)
    with pytest.raises(ChannelsMaskError) as refused:
        list(loader)
    assert dataset.read == [0, 1, 2] and loader.dataset is dataset
    assert str(refused.value) == str(ChannelsMaskError(Path("masks/m.tif"), 5))
    assert len(str(refused.value).splitlines()) == 1 and not hasattr(refused.value, "__notes__")


class _RefusesOddly(Dataset):
    """An item whose error does not pickle back as itself (``how``: an attribute pickle
    refuses, or an ``__init__`` of other arguments than the message)."""

    def __init__(self, how: str):
        self.how = how

    def __len__(self):
        return 4

    def __getitem__(self, index):
        if index == 2 and self.how == "two-arg":
            from unetlab.evaluate.checks import MaskValuesError

            raise MaskValuesError("masks: label_values=[0, 255]", "masks: --label-values 0 255")
        if index == 2:
            error = UnetlabError("masks: refused", cli="masks: refused (CLI)")
            error.hook = lambda: 0  # pickle refuses a lambda
            raise error
        return torch.zeros(2)


def test_a_loader_worker_s_error_that_does_not_pickle_comes_back_as_its_line():
    """An error pickle refused was dropped by the worker's feeder thread and training waited
    forever; a MaskValuesError (message, cli) came back as a TypeError (revE): each comes
    back as a UnetlabError of its lines (``timeout``: a hang fails the test)."""
    said = {"two-arg": ("masks: label_values=[0, 255]", "masks: --label-values 0 255")}
    said["lambda"] = ("masks: refused", "masks: refused (CLI)")
    for how, (line, cli) in said.items():
        loader = UserErrorLoader(_RefusesOddly(how), batch_size=2, num_workers=1, timeout=20)
        with pytest.raises(UnetlabError) as refused:
            list(loader)
        assert (str(refused.value), refused.value.cli) == (line, cli), how
        assert "in DataLoader worker process 0:" in refused.value.__notes__[0]


def test_train_with_loader_workers_says_a_worker_s_bad_input_in_one_line(
    tmp_path, monkeypatch, capsys
):
    """With train.num_workers=1 an error raised while drawing a tile (here an augmentation
    that refuses the data, standing in for any read in a worker) was torch's traceback."""
    from unetlab.cli import main

    def refuse(cfg):
        def augment(image, mask, weight, *, rng):
            raise UnetlabError("data/masks/0.png: refused", cli="data/masks/0.png: refused (CLI)")

        return augment

    monkeypatch.setattr("unetlab.train.run._augment", refuse)  # a forked worker inherits it
    data = write_blobs(tmp_path / "data", 2, size=32)
    sets = ["model.depth=2", "model.base_channels=4", "data.tile_size=32", "train.epochs=1"]
    sets += ["data.tiles_per_epoch=4", "train.batch_size=2", "train.num_workers=1"]
    sets += ["train.device=cpu", "data.label_values=[0, 255]"]
    args = ["train", "--data", str(data), "--run-dir", str(tmp_path / "run")]
    assert main([*args, *(a for s in sets for a in ("--set", s))]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == "unetlab train: error: data/masks/0.png: refused (CLI)", err


def _cyx(path: Path, channels: int) -> Path:
    pixels = np.zeros((channels, 16, 16), np.uint8)
    tifffile.imwrite(_parent(path), pixels, photometric="minisblack", metadata={"axes": "CYX"})
    return path


def _cli_refusal(tmp_path: Path, inputs: list[Path], bands: list[str], capsys) -> str:
    """The one line ``predict --channel BANDS`` of ``inputs`` says (exit 2), with a
    3-channel model."""
    from unetlab.checkpoint import save_model
    from unetlab.cli import main
    from unetlab.models import UNet

    save_model(tmp_path / "c.pt", UNet(3, 2, depth=2, base_channels=4, padding="same"))
    args = ["predict", "--checkpoint", str(tmp_path / "c.pt"), "--input", *map(str, inputs)]
    assert main([*args, "--output", str(tmp_path / "out"), "--channel", *bands]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    return line


def test_a_band_list_beyond_every_input_s_channels_is_refused_up_front(tmp_path, capsys):
    """``--channel 3 2 1`` of 3-channel images failed each file after the model loaded
    (since s54 a single ``--channel C`` is refused before): its highest band is checked
    against each header in the same one line, exit 2."""
    a, b = _cyx(tmp_path / "in" / "a.tif", 3), _cyx(tmp_path / "in" / "b.tif", 3)
    with pytest.raises(UnetlabError) as refused:
        refuse_for_every_file(tmp_path / "in", [a, b], {"channel": (3, 2, 1)})
    assert str(refused.value).startswith("channel=[3, 2, 1]: band 3 is out of range: all 2")
    assert str(refused.value).endswith("(valid: channel=0 to 2); give bands among those")
    refuse_for_every_file(tmp_path / "in", [a, b], {"channel": [2, 1, 0]})  # it has those
    wider = _cyx(tmp_path / "in" / "c.tif", 4)
    refuse_for_every_file(tmp_path / "in", [a, wider], {"channel": (3, 2, 1)})  # c has band 3
    line = _cli_refusal(tmp_path, [a, b], ["3", "2", "1"], capsys)
    assert line == (
        "unetlab predict: error: --channel 3 2 1: band 3 is out of range: all 2 inputs "
        f"({a}, ...) have 3 channels (valid: --channel 0 to 2); give bands among those"
    ), line
    assert not (tmp_path / "out").exists()


def test_a_tree_folder_lacking_the_channel_is_not_told_to_leave_it_out(tmp_path, capsys):
    """A tree folder of grey images, beside one of colour images, was told "leave --channel
    out for images of one channel", which would change the other folder's run too: its
    line says the others are predicted and to predict it alone."""
    from unetlab.checkpoint import save_model
    from unetlab.cli import main
    from unetlab.models import UNet

    root = tmp_path / "tree"
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(_parent(root / "grey" / "g.png"))
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(_parent(root / "colour" / "c.png"))
    save_model(tmp_path / "c.pt", UNet(1, 2, depth=2, base_channels=4, padding="same"))
    args = ["predict", "--checkpoint", str(tmp_path / "c.pt"), "--input", str(root)]
    main([*args, "--recursive", "--output", str(tmp_path / "out"), "--channel", "1"])
    failed = [ln for ln in capsys.readouterr().err.splitlines() if "failed:" in ln]
    assert failed == [
        f"unetlab predict: failed: {root / 'grey'}/: --channel 1 is out of range: the input, "
        f"{root / 'grey' / 'g.png'}, has 1 channel (valid: --channel 0); the tree's other "
        "folders are predicted; predict this folder alone (leave --channel out for images "
        "of one channel)"
    ], failed
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["colour"]  # grey: none
    assert (tmp_path / "out" / "colour" / "c.png").is_file()


def _parent(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def test_a_tree_s_lines_name_each_file_by_its_path_as_given(tmp_path, caplog, capsys):
    """Two folders of a tree holding ``x.png`` were both named ``x.png: ...`` in their
    per-file lines (s54 noticed), then ``a/x.png: ...`` (s55), which under the header
    ``tree/a:`` reads as tree/a/a/x.png and lost the path as given from ``result.failed``
    (revE): a tree's file is named by its path as given, in its warnings and its failures,
    in Python and on the CLI; a file given alone (predict_file) by its path as given."""
    from unetlab.checkpoint import save_model
    from unetlab.cli import main
    from unetlab.inference.files import predict_file

    from .test_bad_input4 import _net

    root = tmp_path / "tree"
    for folder in ("a", "b"):  # colour images to a grey net: one line naming both
        Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(_parent(root / folder / "x.png"))
    with caplog.at_level("WARNING"):
        predict_tree(_net(), root, tmp_path / "out", progress=False)
    xs = [str(root / "a" / "x.png"), str(root / "b" / "x.png")]
    assert _luminance_named(caplog) == f"2 images in all ({', '.join(xs)})"
    done = predict_tree(_net(), root, tmp_path / "out1", progress=False, level=1)
    failed = [line for r in done.values() for line in r.failed.values()]
    assert [line.split(": ")[0] for line in failed] == xs, failed  # no pyramid: each fails
    save_model(tmp_path / "c.pt", _net())
    args = ["predict", "--checkpoint", str(tmp_path / "c.pt"), "--input", str(root)]
    main([*args, "--recursive", "--output", str(tmp_path / "out2"), "--level", "1"])
    err = capsys.readouterr().err.splitlines()
    failed = [ln.split(": ")[2] for ln in err if "failed: " in ln]
    assert failed == xs, err
    caplog.clear()
    with caplog.at_level("WARNING"):
        predict_file(_net(), root / "a" / "x.png", tmp_path / "alone")
    assert _luminance_named(caplog) == str(root / "a" / "x.png")


def _luminance_named(caplog) -> str:
    """What a command's luminance lines name (a colour image given to a grey model): the
    first image's line, ``x.png``, said once, and for more images their count at the end,
    ``2 images in all (x.png, y.png)`` (a folder of 400 colour images said 400 lines, s61;
    the first is said at once, s62)."""
    said = [r.getMessage() for r in caplog.records if "colour image given" in r.getMessage()]
    assert len(said) in (1, 2), said
    first = re.match(r"(.*?): colour image given to a grey model; predicting", said[0]).group(1)
    if len(said) == 1:
        return first
    counted = re.fullmatch(
        r"(.*?), each a colour image given to a grey model \(said at the first\)", said[1]
    )
    assert counted and f"({first}, " in counted.group(1), said
    return counted.group(1)


def test_a_benchmark_s_warm_up_names_the_first_file_as_its_timed_pass(tmp_path, caplog):
    """``--benchmark`` predicts the first file once untimed, outside the naming of the
    timed pass: its line was said twice, as ``in/x.png`` then ``x.png`` (revE)."""
    import contextlib

    from unetlab.inference.folders import predict_folder

    from .test_bad_input4 import _net

    for name in ("x.png", "y.png"):  # colour images to a grey net: one line naming both
        Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(_parent(tmp_path / "in" / name))
    with caplog.at_level("WARNING"):
        clock = lambda model: contextlib.nullcontext()  # noqa: E731 - the benchmark's place
        predict_folder(_net(), tmp_path / "in", tmp_path / "out", progress=False, clock=clock)
    assert _luminance_named(caplog) == "2 images in all (x.png, y.png)"


def test_a_band_list_on_grey_inputs_offers_no_range_a_model_of_those_bands_refuses(
    tmp_path, capsys
):
    """``--channel 2 1 0`` (a 3-channel model's bands) of grey inputs said "(valid:
    --channel 0)", which that model refuses (revE): the inputs are grey, the bands a
    3-channel model's; the fix names colour inputs, a 1-channel model, or no --channel."""
    a, b = (tmp_path / "in" / n for n in ("a.png", "b.png"))
    for path in (a, b):
        Image.fromarray(np.zeros((16, 16), np.uint8)).save(_parent(path))
    line = _cli_refusal(tmp_path, [a, b], ["2", "1", "0"], capsys)
    assert line == (
        "unetlab predict: error: --channel 2 1 0: band 2 is out of range: all 2 inputs "
        f"({a}, ...) have 1 channel (grey), and 3 bands are for a 3-channel model; give "
        "colour inputs, predict them with a 1-channel model, or leave --channel out (a grey "
        "image's channel is repeated)"
    ), line
    with pytest.raises(UnetlabError) as refused:
        refuse_for_every_file(tmp_path / "in", [a, b], {"channel": [2, 1, 0]})
    assert "(valid:" not in str(refused.value)
    assert str(refused.value).endswith("or leave channel= out (a grey image's channel is repeated)")
    three = [_cyx(tmp_path / "in" / f"{n}.tif", 2) for n in "cd"]  # 2 channels, 3 bands
    with pytest.raises(
        UnetlabError,
        match=r"fewer than the 3 bands listed \(a 3-channel model.s\); give inputs of 3",
    ):
        refuse_for_every_file(tmp_path / "in", three, {"channel": [2, 1, 0]}, takes=Takes(3))


def test_the_command_line_names_the_files_of_its_one_folder_by_their_names(tmp_path, caplog):
    """``predict --input DIR``: the files of the one folder given are named by their names,
    as ``predict_folder(model, DIR)`` names them; the command line gives that folder as its
    root, which was taken for a tree's (review s55 G1: ``in/x.png``)."""
    from unetlab.checkpoint import save_model
    from unetlab.cli import main

    from .test_bad_input4 import _net

    for name in ("x.png", "y.png"):  # colour images to a grey net: one line naming both
        Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(_parent(tmp_path / "in" / name))
    save_model(tmp_path / "g.pt", _net())
    args = ["predict", "--checkpoint", str(tmp_path / "g.pt"), "--input", str(tmp_path / "in")]
    with caplog.at_level("WARNING"):
        assert main([*args, "--output", str(tmp_path / "out"), "--no-progress"]) == 0
    assert _luminance_named(caplog) == "2 images in all (x.png, y.png)"


def test_the_errors_a_loader_worker_may_send_come_back_as_themselves():
    """A worker's error is pickled to the main process: MaskValuesError (made from two forms)
    did not unpickle and came back a plain DatasetError, and ColourMaskError without the
    worker's traceback note (review s55 G6)."""
    import pickle

    from unetlab.data.datasets import _UnknownValues
    from unetlab.data.io import ChannelsMaskError, ColourMaskError
    from unetlab.evaluate.checks import MaskValuesError

    made = [
        MaskValuesError("give label_values=[0, 255]", "give --label-values 0 255"),
        ColourMaskError(Path("m.png")),
        _UnknownValues("values 7, 9 are no class", {7, 9}),
        ChannelsMaskError(Path("m.tif"), 5),  # each of the four made from other arguments
    ]
    for error in made:
        error.add_note("in DataLoader worker process 0: ...")
        again = pickle.loads(pickle.dumps(error))
        assert type(again) is type(error) and str(again) == str(error)
        assert again.cli == error.cli and again.__notes__ == error.__notes__
    assert pickle.loads(pickle.dumps(made[2])).values == {7, 9}
    assert pickle.loads(pickle.dumps(made[3])).problem == made[3].problem


def test_colour_images_to_a_grey_model_are_said_in_one_line_a_command(tmp_path, caplog):
    """A folder of colour images given to a grey model said "colour image given to a grey
    model; predicting its luminance" once an image (400 images, 400 lines; s61): predict
    and evaluate say it once, the image count and the first three named."""
    from unetlab.evaluate import evaluate_model
    from unetlab.inference.folders import predict_folder

    from .test_bad_input4 import _net

    names = [f"{c}.png" for c in "abcde"]
    for name in names:
        Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(_parent(tmp_path / "images" / name))
        Image.fromarray(np.zeros((16, 16), np.uint8)).save(_parent(tmp_path / "masks" / name))
    with caplog.at_level("WARNING"):
        predict_folder(_net(), tmp_path / "images", tmp_path / "out", progress=False)
    assert _luminance_named(caplog) == "5 images in all (a.png, b.png, c.png and 2 more)"
    caplog.clear()
    with caplog.at_level("WARNING"):
        evaluate_model(_net(), tmp_path, progress=False)
    assert _luminance_named(caplog).endswith("and 2 more)")
