"""An inverted binary mask among the others is named (audit s34 messy 2)."""

from __future__ import annotations

from types import SimpleNamespace

from unetlab.data.mask_shares import inverted_masks


def _facts(name, share, values=(0, 255), total=1000):
    fg = round(share * total)
    return SimpleNamespace(name=name, values=values, counts=(total - fg, fg))


def test_the_inverted_mask_is_named():
    pairs = [_facts(f"img_{k:03}", 0.06 + 0.0025 * k) for k in range(13)]
    pairs.insert(10, _facts("img_010", 0.94))
    pairs.append(SimpleNamespace(name="empty", values=(0,), counts=(1000,)))  # no cells
    line = inverted_masks(pairs)
    assert line.startswith("mask value 255 covers 94% of img_010 but 0-9% of each ")
    assert "of the 14 other masks: an inverted mask (0 and 255 swapped)? Fiji" in line


def test_masks_of_one_kind_and_spread_shares_are_not_named():
    assert inverted_masks([_facts(str(k), 0.1 * k) for k in range(1, 9)]) is None
    assert inverted_masks([_facts(str(k), 0.08) for k in range(6)]) is None
    assert inverted_masks([_facts("a", 0.9), _facts("b", 0.1), _facts("c", 0.1)]) is None


def test_other_masks_are_left_alone():
    pairs = [_facts(str(k), 0.07) for k in range(5)] + [_facts("x", 0.9, values=(0, 1))]
    assert inverted_masks(pairs) is None
    three = SimpleNamespace(name="t", values=(0, 1, 2), counts=(5, 5, 90))
    assert inverted_masks([_facts(str(k), 0.07) for k in range(5)] + [three]) is None


def test_a_dense_field_just_past_a_half_is_no_inverted_mask():
    """55% foreground among masks of 20-29% is a crowded field, not a flip (once inverted it
    would be 45%, no nearer the others' range): not named (review s34)."""
    pairs = [_facts(f"m{k}", 0.2 + 0.01 * k) for k in range(10)] + [_facts("dense", 0.55)]
    assert inverted_masks(pairs) is None
