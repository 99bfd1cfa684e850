"""A radiologist's follow-ups on organs' 3-D objects (s74): a rerun with --skip-existing
names the one output it lacks, and a changed background or no-class option is no skip."""

import logging

from tests.test_nifti_organs import _predicted_folder
from unetlab import predict_folder
from unetlab.inference.objects import ObjectOptions


def test_a_rerun_names_the_classes_csv_it_lacks(tmp_path, caplog):
    """Only ``ct_classes.csv`` gone: the line said "(objects missing)", as if the object ids
    and table were gone too. Seen failing without the fix: '(objects missing)'."""
    net, out, how = _predicted_folder(tmp_path)
    (out / "ct_classes.csv").unlink()
    with caplog.at_level(logging.INFO):
        predict_folder(net, tmp_path / "in", out, skip_existing=True, **how)
    assert "(ct_classes.csv missing)" in caplog.text and "(objects missing)" not in caplog.text
    for name in ("ct_objects.tif", "ct_objects.csv", "ct_classes.csv"):
        (out / name).unlink()
    caplog.clear()
    with caplog.at_level(logging.INFO):
        predict_folder(net, tmp_path / "in", out, skip_existing=True, **how)
    assert "(objects missing)" in caplog.text  # all of them: the kind, as before


def test_another_background_or_no_class_is_predicted_again(tmp_path):
    """predict.json records ``background`` where it is not class 0 and ``no_class`` where
    there is one (the key of outputs found otherwise), so --skip-existing predicts again an
    input found with the other option, and skips it with the same. Pins (passes on the
    old code too)."""
    net, out, how = _predicted_folder(tmp_path)
    for options in (ObjectOptions(background=None), ObjectOptions(no_class=(3,))):
        again = dict(how, objects=options)
        done = predict_folder(net, tmp_path / "in", out, skip_existing=True, **again)
        assert (len(done.written), len(done.skipped)) == (1, 0), options
        done = predict_folder(net, tmp_path / "in", out, skip_existing=True, **again)
        assert len(done.skipped) == 1, options
