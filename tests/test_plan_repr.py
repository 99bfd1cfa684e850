"""A plan is one line as a notebook cell's value (s52 notebook: the dataclass's repr was some
3,000 characters of choices and the data's fingerprint), as a Report and a Comparison are."""

from unetlab.plan.record import Choice, Plan


def test_a_plan_shows_as_one_line_naming_what_it_planned():
    choices = [Choice(f"train.k{i}", i, "why") for i in range(6)]
    choices.append(Choice("data.tile_size", 64, "objects", user=True, yours=128))
    plan = Plan(choices=choices, fingerprint={"images": list(range(1000))}, notes=["rare"])
    line = repr(plan)
    assert "\n" not in line and len(line) < 200
    assert line.startswith("Plan(6 keys planned: train.k0, train.k1, train.k2, train.k3 and 2 ")
    assert "; you set 1, 1 note; print('\\n'.join(plan.lines())) for each" in line
    assert repr(Plan()).startswith("Plan(0 keys planned: none; you set 0; print(")
    one = Plan(choices=[Choice("train.epochs", 5, "why")])
    assert repr(one).startswith("Plan(1 key planned: train.epochs; you set 0; print(")
