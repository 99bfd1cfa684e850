"""Fine-tuning: a new run that starts from the weights of a trained unetlab checkpoint
(``model.init_checkpoint``, ``unetlab train --init CKPT``), as nnU-Net's pretrained weights and
Cellpose's ``--pretrained_model`` do. Unlike ``--resume``, which goes on with a run's own
optimiser, schedule, step and data, the new run has its own: only the weights are taken.

The net must be the checkpoint's (the same preset and model keys, the same input channels);
where only the class count differs, every weight but the 1x1 output head is taken and the
head starts afresh. What started the run (the file's absolute path and sha256, its epoch and
step) goes into history.yaml and every checkpoint of the run (``init_checkpoint``)."""

from __future__ import annotations

import logging
import os
from dataclasses import asdict
from pathlib import Path

from unetlab.checkpoint import FORMAT, checkpoint_source, load_checkpoint, load_torch_file
from unetlab.errors import NONE, Spelled, UnetlabError, said_as, set_all, set_to, spelled

log = logging.getLogger(__name__)

#: the net's options that hold no weights: they may differ from the checkpoint's
_FREE = frozenset({"dropout"})
_HEAD = "head."


def init_from_checkpoint(model, path: str | os.PathLike) -> dict:
    """Load the weights of the unetlab checkpoint at ``path`` into ``model`` (a new run's net,
    built from its config and data); returns what identifies the file (``checkpoint``,
    ``checkpoint_sha256``, ``checkpoint_epoch``, ``checkpoint_step``), also set as
    ``model.init_checkpoint``. A net that differs from the checkpoint's in more than its class
    count is refused in one line naming each difference."""
    checkpoint = load_checkpoint(path)
    mine = asdict(model.config)
    differs = net_differences(checkpoint["config"], mine)
    fresh_head = set(differs) == {"num_classes"}
    if differs and not fresh_head:
        raise UnetlabError(**_refusal(path, checkpoint["config"], mine, differs))
    state = checkpoint["model"]
    if fresh_head:
        state = {k: v for k, v in state.items() if not k.startswith(_HEAD)}
    missing, unexpected = model.load_state_dict(state, strict=not fresh_head)
    if unexpected or any(not k.startswith(_HEAD) for k in missing):  # a bug: a checked net
        raise RuntimeError(f"{path}: missing {missing}, unexpected {unexpected}")
    trained = checkpoint.get("train_state") or {}
    record = checkpoint_source(path) | {
        f"checkpoint_{k}": trained[k] for k in ("epoch", "step") if k in trained
    }
    head = (
        f"; its {differs['num_classes'][0]}-class output head is replaced by a new one of "
        f"{differs['num_classes'][1]} (the rest of the net is the checkpoint's)"
        if fresh_head
        else ""
    )
    epoch = record.get("checkpoint_epoch")  # save_model's file: none ("epoch ?", s65 walk)
    epoch = "no training state" if epoch is None else f"epoch {epoch}"
    log.info(
        "fine-tuning: the net starts from the weights of %s (sha256 %s…, %s)%s",
        record["checkpoint"],
        record["checkpoint_sha256"][:12],
        epoch,
        head,
    )
    _warn_other_normalization(checkpoint.get("normalization") or {}, model.normalization, path)
    model.init_checkpoint = record
    return record


def _warn_other_normalization(theirs: dict, mine: dict, path) -> None:
    """A warning where the new run normalises its images in another mode than the checkpoint
    trained with: the net would start on inputs of another scale than it learnt."""
    if theirs.get("mode", "per_image") == mine.get("mode", "per_image"):
        return
    spec = {k: v for k, v in theirs.items() if k not in ("floor", "dtype", "floors")}
    # as the caller sets it (a notebook's fit was told the CLI's, s53; the CLI's JSON lost
    # its quotes in the shell: data.normalization={mode:per_image} is an unknown key, s54)
    keep = set_to("data.normalization", spec)
    log.warning(
        "warning: %s trained on %s normalisation, this run uses %s: the net starts on inputs "
        "of another scale than it learnt; to keep the checkpoint's: %s",
        path,
        theirs.get("mode", "per_image"),
        mine.get("mode", "per_image"),
        said_as(keep),
    )


def net_differences(theirs: dict, mine: dict) -> dict:
    """``{option: (the checkpoint's value, this net's)}`` for each net option (of the UNet's
    or EncoderUNet's config) that differs, but those that hold no weights (dropout)."""
    keys = (set(theirs) | set(mine)) - _FREE
    return {k: (theirs.get(k), mine.get(k)) for k in sorted(keys) if theirs.get(k) != mine.get(k)}


def _refusal(path, theirs: dict, mine: dict, differs: dict) -> dict:
    """The keywords of the error (:func:`~unetlab.errors.spelled`) that names each option in
    which this run's net config ``mine`` differs from the checkpoint's, ``theirs``
    (``differs``: :func:`net_differences`), and the settings that give the checkpoint's net,
    as its caller sets them (a notebook's fit was told ``--set model.base_channels=4``,
    s53)."""
    fixed = _fixed(theirs, mine, differs)
    fix = set_all(set_to(f"model.{k}", _setting(k, theirs)) for k in fixed)
    channels = (
        "; its input channels are the images' (data.channel picks one)"
        if "in_channels" in differs
        else ""
    )

    def say(none: str, fixed: str) -> str:
        listed = _listed(theirs, mine, differs, none)
        said = f"model.init_checkpoint {path}: this run's net differs from the checkpoint's in "
        fixed = f" ({fixed})" if fixed else ""
        return f"{said}{listed}: fine-tuning needs the checkpoint's net{fixed}{channels}"

    return spelled(say, NONE, fix)


def _listed(theirs: dict, mine: dict, differs: dict, none: str) -> str:
    """The differences ``differs`` (:func:`net_differences`) of the nets of the configs
    ``theirs`` (the checkpoint's) and ``mine`` as :func:`_refusal` lists them, ``none`` for a
    value of None (``null`` on the command line, which showed Python's word, s55): ``norm
    batch (the checkpoint's: none)``; the options one net has and the other (a plain U-Net,
    an encoder net) has not, as such, not as ``depth None`` (s55)."""
    one_sided = [k for k in differs if k != "encoder" and (k in theirs) != (k in mine)]
    listed = [
        ", ".join(
            f"{k} {_word(k, its, none)} (the checkpoint's: {_word(k, their, none)})"
            for k, (their, its) in differs.items()
            if k not in one_sided
        )
    ]
    if lacked := [f"{k} {theirs[k]}" for k in one_sided if k in theirs]:
        listed.append(f"as an encoder net it has none of the checkpoint's {', '.join(lacked)}")
    if added := [f"{k} {mine[k]}" for k in one_sided if k in mine]:
        said = ", ".join(added)
        listed.append(f"as a plain U-Net it has {said}, which the checkpoint's encoder net has not")
    return "; ".join(part for part in listed if part)


def _word(key: str, value, none: str) -> str:
    """A net option's ``value`` as :func:`_listed` says it: the model section's ``none`` for
    its None of :data:`NONE_WORD` (no norm layers, no encoder), ``none`` (the caller's word
    for None) for another's."""
    if value is None:
        return "none" if key in NONE_WORD else none
    return str(value)


#: the net options that come from the data, not from a setting the fix could name
NOT_SET = ("num_classes", "in_channels")

#: the net options whose None in a plain U-Net's checkpoint (no norm layers; no encoder) is
#: the model section's "none": its null is the preset's norm, and no encoder at all (s54:
#: ``--set model.norm=null`` was refused again, ``model.encoder=null`` by the command line)
NONE_WORD = ("norm", "encoder")


def _fixed(theirs: dict, mine: dict, differs: dict) -> list[str]:
    """The model keys the fix sets: those of ``differs`` (:func:`net_differences` of
    ``theirs`` and ``mine``), and where one net is a plain U-Net and the other an encoder
    net, every option of either, as an option one of them lacks is no difference where the
    other's is None (a checkpoint's ``norm`` None, an encoder run: pasting the fix gave the
    preset's norm, s54)."""
    keys = set(differs)
    if "encoder" in keys:
        keys |= set(theirs) | set(mine)
    return sorted(keys - set(NOT_SET))


def _setting(key: str, theirs: dict):
    """The model section's value of ``key`` that gives the net of the checkpoint's config
    ``theirs``: ``"none"`` for its None of :data:`NONE_WORD`; null for an option an encoder
    net has not (``depth``: the config must leave it out)."""
    value = theirs.get(key)
    if value is None and key in NONE_WORD and "encoder" not in theirs:
        return "none"
    return value


def refuse_checkpoint_as_encoder_weights(path: str | os.PathLike | None) -> None:
    """``model.encoder_weights`` naming a unetlab checkpoint (not torchvision's ImageNet
    file): one line pointing to ``model.init_checkpoint`` (audit s31 upgrade 8)."""
    if not path or not Path(path).is_file():
        return
    try:  # its pickle alone, the tensors on meta: an ImageNet file is 100-500 MB, and where
        # mapping fails it was read whole (s69: 100 MB read, 0.05 CPU s; now 0.03 MB)
        found = load_torch_file(path, "meta")
    except Exception:  # noqa: BLE001 - not a torch file: load_encoder_weights says what
        return
    if isinstance(found, dict) and found.get("format") == FORMAT:
        said = (  # the fix as the caller sets it (a notebook's fit was told --init, s53)
            f"model.encoder_weights {path} is a unetlab checkpoint, not torchvision ImageNet "
            "weights: to start a new run from its weights, set "
        )  # the path stays out of a format (w{x}.pt raised KeyError)
        raise UnetlabError(
            **spelled(
                lambda init, resume: f"{said}{init} instead; {resume} continues its own run",
                Spelled(
                    set_to("model.init_checkpoint", str(path)).python,
                    f"model.init_checkpoint={path} (unetlab train --init)",
                ),
                Spelled("resume=True", "--resume"),
            )
        )
