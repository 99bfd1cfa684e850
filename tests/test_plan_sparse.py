"""The plan for few, sparsely labelled images with a rare class (audit 'sparse', session 28):
the rare class weighted once, unlabelled values named, object sizes only from labelled
pixels, and classes missing from validation said."""

from tests.test_plan import facts
from unetlab.config import load_config
from unetlab.plan import make_plan


def _chosen(fp, overrides=(), explicit=()):
    cfg = load_config(None, list(overrides))
    plan = make_plan(fp, cfg, explicit=set(explicit), device="cpu")
    return {c.key: c for c in plan.choices}, plan


def test_the_rare_class_is_weighted_once_beside_the_border_weight_map():
    """The weight map's w_c already balances the classes: class weights on top sent the
    contact class ~82 % of the cross-entropy weight and nucleus IoU to 0.003."""
    touching = facts(counts=(5, 95), areas=[300.0] * 10, touching=8, n=4)
    chosen, plan = _chosen(touching)
    assert chosen["data.weight_map"].value is True
    weights = chosen["train.class_weights"]
    assert weights.value == "none" and "weight map already balances" in weights.reason
    assert "5.0% of the pixels" in weights.reason and plan.notes == []
    apart = facts(counts=(5, 95), areas=[300.0] * 10, touching=0, n=4)  # no weight map
    assert _chosen(apart)[0]["train.class_weights"].value == "sqrt_median_frequency"


def test_the_users_class_weights_keep_the_weight_map_off_and_both_are_a_note():
    touching = facts(counts=(5, 95), areas=[300.0] * 10, touching=8, n=4)
    weighted = ["train.class_weights=median_frequency"]
    chosen, _ = _chosen(touching, weighted, {"train.class_weights"})
    assert chosen["data.weight_map"].value is False
    assert "would weight the rare class again" in chosen["data.weight_map"].reason
    mapped = ["data.weight_map=true"]
    chosen, _ = _chosen(facts(counts=(5, 95), n=4), mapped, {"data.weight_map"})
    assert chosen["train.class_weights"].value == "none"  # no objects: still weighted once
    both = weighted + mapped
    _, plan = _chosen(touching, both, {"train.class_weights", "data.weight_map"})
    assert len(plan.notes) == 1 and "weighted twice" in plan.notes[0]
