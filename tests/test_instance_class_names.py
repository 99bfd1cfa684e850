"""Instance ids beside a class_names.txt naming several object classes: the plan says in one
line that the ids train the instance target and the names are not used, and how to count
several kinds; the check names the classes it lists (audit s35 multiclass 2)."""

import logging

from unetlab.cli import main
from unetlab.plan import plan_training

from .test_plan_instances import _cfg, write_ids


def test_names_of_two_object_classes_beside_ids_are_said_unused(tmp_path):
    root = write_ids(tmp_path / "data")
    (root / "class_names.txt").write_text("background\nhealthy\napoptotic\n")
    planned, plan = plan_training(_cfg(root))
    assert planned.data.target == "instances"
    said = [n for n in plan.notes if "object classes" in n]
    assert len(said) == 1 and "name 2 object classes (healthy, apoptotic)" in said[0]
    assert "the names are not used" in said[0] and "--instances --distance-split" in said[0]
    (root / "class_names.txt").write_text("background\nnucleus\n")  # one kind: its name
    assert not [n for n in plan_training(_cfg(root))[1].notes if "object classes" in n]


def test_the_check_names_the_instance_classes_it_lists(tmp_path, caplog):
    root = write_ids(tmp_path / "data")
    caplog.set_level(logging.INFO)
    assert main(["train", "--data", str(root), "--check", "--set", "model.depth=2"]) == 0
    (line,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("check:")]
    assert "classes 0, 1, 2 (background, boundary, interior of the masks' object ids)" in line
