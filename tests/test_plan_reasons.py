"""The plan's reasons state what is so: the pixels a step does take, and an offset that is
measured later, not claimed before training."""

from unetlab.plan import plan_batch, plan_offset


def test_the_batch_reason_gives_the_pixels_a_step_takes():
    capped = plan_batch(16, "cpu")  # 32 tiles of 16 px = 8k px, not the 128k aimed at
    assert capped.value == 32
    assert capped.reason.startswith("32 tiles of 16 px: ~8k px per step on cpu (at most 32")
    assert plan_batch(128, "cpu").reason == "8 tiles of 128 px: ~128k px per step on cpu"
    assert plan_batch(1024, "cpu").reason == "1 tile of 1024 px: ~1024k px per step on cpu"


def test_the_label_offset_reason_says_what_will_be_measured():
    reason = plan_offset(5).reason
    assert reason.startswith("measures after training whether the predictions meet the labels")
    assert "the 5 validation images" in reason
    assert "under a time budget only where it costs a small share of it" in reason
