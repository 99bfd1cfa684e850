"""One rule names a checkpoint's model (``unetlab.model_identity``): the sha256 the file had
before its run's end was recorded in it (``same_model_sha256``), else its bytes'. Predictions'
records, evaluate's reports and compare each computed it on their own before (s46 ident);
these tests hold the rule and that all three now follow it on the same rewritten file."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import weakref

import numpy as np
import pytest
import torch

from unetlab import checkpoint
from unetlab.checkpoint import checkpoint_source, load_model, save_model, update_checkpoint
from unetlab.compare.records import _holds, _identities
from unetlab.inference.predict import PredictOptions, inference_session, weight_layout
from unetlab.inference.records import prediction_record
from unetlab.model_identity import (
    laid_out_again,
    model_sha256,
    model_sha256s,
    report_model_sha256,
    report_model_sha256s,
    state_sha256,
    weights_sha256,
)
from unetlab.models import UNet


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_sha256_before_the_rewrite_names_the_model_first():
    assert model_sha256s("b", "a") == ["a", "b"]
    assert model_sha256("b", "a") == "a"
    assert model_sha256s("b") == ["b"] and model_sha256("b", None) == "b"
    assert model_sha256s("a", "a") == ["a"]  # once
    assert model_sha256s(None, None) == [] and model_sha256(None) is None
    assert model_sha256s(3, "") == []  # a report's odd field names nothing


def test_a_report_names_its_model_by_its_fields():
    report = {"checkpoint_sha256": "b", "checkpoint_model_sha256": "a"}
    assert report_model_sha256(report) == "a" and report_model_sha256s(report) == ["a", "b"]
    assert report_model_sha256({"checkpoint_sha256": "b"}) == "b"
    assert report_model_sha256({}) is None and report_model_sha256s({}) == []


def test_predict_evaluate_and_compare_name_a_rewritten_file_alike(tmp_path):
    path = save_model(tmp_path / "best.pt", UNet(1, 2, depth=2, base_channels=2))
    first = _sha(path)
    update_checkpoint(path, same_model=True, run_progress={"finished": True})
    assert _sha(path) != first  # the bytes changed, the model did not
    model = load_model(path)
    record = prediction_record(model, PredictOptions().for_model(model))
    report = checkpoint_source(path, model)  # what evaluate --json records
    assert record.identity == report_model_sha256(report) == first
    assert _identities(report) == {first, _sha(path)} and _holds(path, {first})
    update_checkpoint(path, label_offset=[1.0, 0.0])  # moves the labels: another model
    model = load_model(path)
    record = prediction_record(model, PredictOptions().for_model(model))
    report = checkpoint_source(path, model)
    assert record.identity == report_model_sha256(report) == _sha(path)
    assert not _holds(path, {first})


class _Net(torch.nn.Module):
    def __init__(self, weights: torch.Tensor):
        super().__init__()
        self.w = torch.nn.Parameter(weights, requires_grad=False)  # its storage shared


def test_a_new_net_with_a_freed_nets_id_and_storage_is_hashed_as_its_own():
    """Keyed by id(), a freed net's hash named the next net that took its id and held its
    tensors (s59). Each try's new net holds the freed net's very tensor (its object, version
    count and address: the same stamp) with other bytes; where CPython gives it the freed
    net's id too (mostly), all the better; in each, the freed net's entry is gone with it."""
    from unetlab.model_identity import _HASHES

    weights = torch.zeros(6)
    for _ in range(20):
        old = _Net(weights)
        weights_sha256(old)
        old_id, gone = id(old), weakref.ref(old)
        weights.data += 1  # the next net's bytes, uncounted: its stamp is the freed net's
        del old
        assert gone() is None and all(id(net) != old_id for net in _HASHES)
        new = _Net(weights)
        assert weights_sha256(new) == state_sha256(new.state_dict())
        del new


def test_a_changed_net_is_hashed_again_and_cached_false_reads_it_whole():
    net = torch.nn.Linear(3, 2)
    first = weights_sha256(net)
    with torch.no_grad():
        net.weight += 1  # counted by torch: hashed again
    second = weights_sha256(net)
    assert second != first and second == state_sha256(net.state_dict())
    net.weight.data += 1  # uncounted: only a hash computed again sees it
    assert weights_sha256(net) == second
    assert weights_sha256(net, cached=False) == state_sha256(net.state_dict()) != second


def _record(model):
    return prediction_record(model, PredictOptions().for_model(model))


def test_a_net_whose_file_was_trained_further_or_trained_on_is_named_by_its_weights(
    tmp_path, monkeypatch
):
    torch.manual_seed(0)
    path = save_model(tmp_path / "best.pt", UNet(1, 2, depth=2, base_channels=2))
    net = load_model(path)
    assert _record(net).checkpoint == str(path) and _record(net).sha256 == _sha(path)
    with monkeypatch.context() as m:  # told by its stamp, in microseconds: not read again
        m.setattr(checkpoint, "file_weights_sha256", None)
        with inference_session(net, "cpu"):  # laid out again (channels-last): the same net
            assert weight_layout(net) == torch.channels_last
            assert _record(net).checkpoint == str(path)
        assert weight_layout(net) == torch.contiguous_format
        assert _record(net).checkpoint == str(path)
    net.to(memory_format=torch.channels_last)  # a user's bare move: new memory, hashed
    assert _record(net).checkpoint == str(path)  # against the file's: still its own
    torch.manual_seed(1)  # train --resume rewrote the file with other weights
    save_model(path, UNet(1, 2, depth=2, base_channels=2), overwrite=True)
    record = _record(net)  # the net holds the weights it was loaded with
    assert record.checkpoint is None and record.sha256 == weights_sha256(net) != _sha(path)
    net = load_model(path)
    assert _record(net).checkpoint == str(path)
    with torch.no_grad():
        next(net.parameters()).add_(1.0)  # trained on in memory, as an optimizer step does
    record = _record(net)
    assert record.checkpoint is None and record.sha256 == weights_sha256(net) != _sha(path)


def test_a_net_laid_out_again_is_not_hashed_again(monkeypatch):
    """Each prediction lays the net out channels-last and back (inference_session), which
    moves every tensor: the cache, keyed by their addresses, hashed a net trained on in
    memory again for each file (review D: the paper net 0.3 s a file)."""
    from unetlab import model_identity

    net = UNet(1, 2, depth=2, base_channels=2)
    first = weights_sha256(net)
    hashed = []
    monkeypatch.setattr(model_identity, "state_sha256", lambda s: hashed.append(s) or "new")
    for layout in (torch.channels_last, torch.contiguous_format, torch.channels_last):
        with laid_out_again(net):
            net.to(memory_format=layout)
        assert weights_sha256(net) == first
    with inference_session(net, "cpu"):
        assert weights_sha256(net) == first
    assert not hashed
    net.to(memory_format=torch.contiguous_format)  # unannounced: new memory, hashed again
    assert weights_sha256(net) == "new" and len(hashed) == 1


@pytest.mark.parametrize("laid_out", [False, True])
def test_a_net_whose_values_were_replaced_is_not_named_by_its_file(tmp_path, laid_out):
    """``p.data = new`` keeps the parameter's object and version count: the stamp missed it
    and the record named the file for other weights (s59 noticed); the stamp now holds each
    tensor's address, which the net laid out again by a prediction keeps as it was."""
    path = save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=2))
    net = load_model(path)
    if laid_out:
        with inference_session(net, "cpu"):
            assert _record(net).checkpoint == str(path)
    p = next(net.parameters())
    p.data = torch.zeros_like(p)
    record = _record(net)
    assert record.checkpoint is None and record.sha256 == state_sha256(net.state_dict())
    assert record.sha256 != weights_sha256(load_model(path))


def test_a_net_whose_values_were_replaced_at_the_same_address_is_not_named_by_its_file(
    tmp_path,
):
    """A second ``p.data = new`` often lands at the address of the loaded tensor, freed by
    the first, with its object and version count: a stamp of addresses named the file for
    other weights (s60 review). The storage, held weakly, is told apart; here the new one
    is made at that very address (the loaded tensor's memory, given to another storage)."""
    path = save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=4, padding="same"))
    for name, _ in load_model(path).named_parameters():  # the reviewer's way: mostly freed
        net = load_model(path)
        p = dict(net.named_parameters())[name]
        p.data = torch.zeros_like(p)
        p.data = torch.full_like(p, 3.0)
        assert _record(net).checkpoint is None, name
    net = load_model(path)
    p = next(net.parameters())
    first, version, shared = p.data_ptr(), p._version, p.detach().numpy()
    p.data = torch.from_numpy(shared)  # another storage, at the same address
    shared[...] = 3.0
    assert (p.data_ptr(), p._version) == (first, version)
    assert _record(net).checkpoint is None


@pytest.mark.parametrize("change", ["half", "step", "added", "half_float", "values"])
def test_a_net_changed_while_laid_out_again_is_not_named_by_its_file(tmp_path, change):
    """``laid_out_again`` carried the stamp from before over whatever happened inside it
    (a cast, a step); it keeps it only where each tensor kept its object, version count,
    dtype and shape, and got new memory only with a new device or strides (a cast there and
    back, ``p.data = new`` as it was laid: s60 re-review)."""
    path = save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=2))
    net = load_model(path)
    with laid_out_again(net):
        if change == "half":
            net.half()
        elif change == "step":
            with torch.no_grad():
                next(net.parameters()).add_(1.0)
        elif change == "added":
            net.conv = torch.nn.Conv2d(1, 1, 1)  # one more tensor
        elif change == "half_float":  # back to its dtype and strides, with other values
            net.half().float()
        else:  # new values where it stays, as it was laid
            p = next(net.parameters())
            p.data = torch.full_like(p, 3.0)
    assert _record(net).checkpoint is None


def test_predict_of_three_files_hashes_no_weights_and_reads_no_second_weights(
    tmp_path, monkeypatch
):
    """The command line lays the loaded net out once (channels-last on a CPU): a bare
    ``.to()`` moved every tensor, so the first file's record hashed the weights and read the
    checkpoint again (s60 review: the paper net's predict 4.06 s -> 6.20 s)."""
    from PIL import Image

    from unetlab import model_identity
    from unetlab.cli import main

    path = save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=2, padding="same"))
    (tmp_path / "in").mkdir()
    for i in range(3):
        Image.fromarray(np.full((24, 24), 40 * i, np.uint8)).save(tmp_path / "in" / f"{i}.png")
    called = []
    monkeypatch.setattr(checkpoint, "_weights_in", lambda p: called.append("file"))
    monkeypatch.setattr(model_identity, "state_sha256", lambda s: called.append("hash"))
    out = tmp_path / "out"
    assert (
        main(
            [
                "predict",
                "--checkpoint",
                str(path),
                "--input",
                str(tmp_path / "in"),
                "--output",
                str(out),
            ]
        )
        == 0
    )
    assert len(list(out.glob("*.png"))) == 3 and not called


@pytest.mark.parametrize("cast", ["half", "double"])
def test_a_cast_net_is_named_by_its_weights_not_its_file(tmp_path, cast):
    """``.half()`` (or ``.double()``) casts each tensor in place of its object, its version
    count unchanged: the record still named the file (float32 weights) while evaluate named
    the weights (review D)."""
    torch.manual_seed(0)
    path = save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=2))
    net = load_model(path)
    before = weights_sha256(net)
    assert _record(net).checkpoint == str(path)
    getattr(net, cast)()
    assert {t.dtype for t in net.state_dict().values() if t.is_floating_point()} == {
        getattr(torch, cast)
    }
    record = _record(net)
    assert record.checkpoint is None and record.sha256 == state_sha256(net.state_dict())
    assert weights_sha256(net) != before


def test_the_file_s_check_changes_no_cache_and_the_report_reads_the_weights_whole(tmp_path):
    """``_file_holds_weights`` only checks: it hashed the weights whole and kept that in the
    cache as a side effect of one of its flags; ``scored_source`` now hashes them itself."""
    from unetlab.checkpoint import _file_holds_weights, names_its_net, scored_source
    from unetlab.model_identity import _HASHES

    path = save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=2))
    net = load_model(path)
    first = weights_sha256(net)
    next(net.parameters()).data += 1  # uncounted: the stamp and the cache still say the file
    cached = dict(_HASHES)
    assert names_its_net(net) and _file_holds_weights(net, hashed=first)
    assert not _file_holds_weights(net, hashed="other")
    assert dict(_HASHES) == cached and weights_sha256(net) == first
    report = scored_source(net)  # read whole: the weights as they are, now the cache's too
    assert report == {"weights_sha256": state_sha256(net.state_dict())} != {"weights_sha256": first}
    assert weights_sha256(net) == report["weights_sha256"]


class _Wrapper(torch.nn.Module):
    """A DDP-style wrapper: the net as ``.module``, none of its attributes."""

    def __init__(self, net):
        super().__init__()
        self.module = net


def test_a_wrapped_net_is_recorded_as_the_net_inside():
    """records._weights_record read ``checkpoint`` off the wrapper: a DDP-style net was
    recorded by the wrapper's weights (names prefixed ``module.``), not its file (review D)."""
    from unetlab.inference.records import _weights_record

    net = UNet(1, 2, depth=2, base_channels=2)
    assert _weights_record(_Wrapper(net)) == (None, weights_sha256(net), None)


def test_a_wrapped_loaded_net_is_recorded_as_its_file(tmp_path):
    from unetlab.inference.records import _weights_record

    path = save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=2))
    assert _weights_record(_Wrapper(load_model(path)))[:2] == (str(path), _sha(path))


def test_a_wrapped_loaded_net_laid_out_by_a_prediction_is_still_its_file_s_unhashed(
    tmp_path, monkeypatch
):
    """inference_session lays out the wrapper, which moves the tensors of the net inside:
    that net's stamp is kept too, as the record asks it (not the wrapper's)."""
    from unetlab.inference.records import _weights_record

    path = save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=2))
    wrapped = _Wrapper(load_model(path))
    monkeypatch.setattr(checkpoint, "file_weights_sha256", None)  # told by the stamp alone
    for _ in range(2):
        with inference_session(wrapped, "cpu"):
            assert weight_layout(wrapped) == torch.channels_last  # moved from contiguous
            assert _weights_record(wrapped)[:2] == (str(path), _sha(path))
        assert _weights_record(wrapped)[:2] == (str(path), _sha(path))


_COPIES = {
    "deepcopy": "for _ in range(3):\n    c = copy.deepcopy(net); del c; gc.collect()",
    "pickle": "for _ in range(3):\n    c = pickle.loads(pickle.dumps(net)); del c; gc.collect()",
    "averaged": "for _ in range(3):\n    c = AveragedModel(net); del c; gc.collect()",
    "torch_save": "torch.save(net, W)\nc = torch.load(W, weights_only=False)\n"
    "assert torch.equal(next(c.parameters()), next(net.parameters())); del c; gc.collect()",
}


#: one child process runs every copy's check on a net of its own, each said as it starts
#: and as it ends, its copies collected (a crash ends the child: the check it was in fails,
#: the last one too where the child's exit crashed; one it never reached runs in a child
#: of its own)
_CHECKS = """
import copy, gc, pickle, sys, torch
from torch.optim.swa_utils import AveragedModel
from unetlab.checkpoint import load_model, names_its_net
P, W = sys.argv[1], sys.argv[2]
def check(copies):
    net = load_model(P)
    ref = {k: v.clone() for k, v in net.state_dict().items()}
    exec(copies, {**globals(), "net": net})
    junk = [torch.full_like(v, 7.0) for v in ref.values() for _ in range(3)]
    assert all(torch.equal(v, ref[k]) for k, v in net.state_dict().items())
    net(torch.zeros(1, 1, 92, 92))
    assert names_its_net(net)
for how, copies in zip(sys.argv[3::2], sys.argv[4::2]):
    print("start", how, flush=True)
    try:
        check(copies)
    except Exception as e:
        print("failed", how, repr(e), flush=True)
        continue
    gc.collect()
    print("whole", how, flush=True)
"""


def _run_checks(folder, hows) -> subprocess.CompletedProcess:
    """The checks of ``hows`` in one child process, on a net saved in ``folder``."""
    path = save_model(folder / "m.pt", UNet(1, 2, depth=2, base_channels=4))
    pairs = [part for how in hows for part in (how, _COPIES[how])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    argv = [sys.executable, "-c", _CHECKS, str(path), str(folder / "whole.pt"), *pairs]
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture(scope="module")
def copies_checked(tmp_path_factory):
    return _run_checks(tmp_path_factory.mktemp("copies"), sorted(_COPIES))


@pytest.mark.parametrize("how", sorted(_COPIES))
def test_a_copied_loaded_net_leaves_the_original_whole_and_named_by_its_file(
    copies_checked, tmp_path, how
):
    """The stamp, an attribute of the loaded net, held weak holds on its storages that a
    deepcopy, pickle or AveragedModel copied without torch counting them: each copy freed
    took one more off, and the loaded net's storage records were freed under it (s60
    re-review: a segfault, rc 139). Run in a child process, so a crash fails the test; the
    original then still computes, keeps its values, and names its file; a copy does not
    claim the file unhashed."""
    done = copies_checked
    if f"start {how}" not in done.stdout.splitlines():  # an earlier check ended the child
        done = _run_checks(tmp_path, [how])
    lines = done.stdout.splitlines()
    last = [line for line in lines if line.startswith("start ")][-1:]
    assert f"whole {how}" in lines and (done.returncode == 0 or last != [f"start {how}"]), (
        how,
        done.returncode,
        done.stdout,
        done.stderr[-800:],
    )
