"""The data check's words when the data match the record (audit s34 repro 10: a reviewer
could not tell "checked and the same" from "not checked")."""

from unetlab.data.split_record import describe_unchanged


def _entry(name, page=0):
    return {"image": f"images/{name}", "mask": f"masks/{name}", "page": page}


def test_unchanged_data_is_said_in_one_line_naming_the_record_and_the_split():
    record = {"train": [_entry("a.png"), _entry("b.png")], "val": [_entry("c.png")]}
    said = describe_unchanged(record, "runs/a/split.json")
    assert said == (
        "data checked against runs/a/split.json: its 3 images and their masks are unchanged "
        "(sha256), split the same way (2 training, 1 validation)"
    )
    stack = {"train": [_entry("s.tif", 0), _entry("s.tif", 1)], "val": [_entry("s.tif", 2)]}
    said = describe_unchanged(stack, "split.json", split=False)
    assert "its 1 image and its mask is unchanged" in said and said.endswith(
        "as it lists them (2 training, 1 validation)"
    )
