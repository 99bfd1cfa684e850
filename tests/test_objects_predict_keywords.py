"""``predict_objects`` takes what ``predict --instances`` takes (audit s32 notebook 6):
``split_interior`` and ``watershed_seeds`` by the names of their ObjectOptions fields, every
field at once in ``object_options``; another ObjectOptions field among the prediction
settings is one line naming ``object_options`` (it said "unknown prediction setting")."""

from dataclasses import replace

import numpy as np
import pytest

from tests.test_predict_objects import local_net, nuclei_image
from unetlab import UNet
from unetlab.errors import UnetlabError
from unetlab.inference.objects import ObjectOptions, objects_from_probabilities, predict_objects
from unetlab.inference.predict import predict_image


def by_hand(model, image, options):
    return objects_from_probabilities(predict_image(model, image), options)


def test_split_interior_is_the_cli_flag():
    net, image = local_net(), nuclei_image(64, 64)
    ids, table = predict_objects(net, image, split_interior=True)
    options = replace(ObjectOptions.for_model(net), split_interior=True)
    np.testing.assert_array_equal(ids, by_hand(net, image, options))
    assert len(table["id"]) == ids.max()


def test_watershed_seeds_is_the_cli_flag():
    net = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    image = nuclei_image(32, 32)
    ids, _ = predict_objects(net, image, watershed_seeds=0.5, min_area=1)
    options = ObjectOptions.for_model(net, watershed_seeds=0.5, min_area=1)
    np.testing.assert_array_equal(ids, by_hand(net, image, options))


def test_split_necks_is_the_cli_flag():
    """As distance_split and split_interior: it was refused ('split_necks: an ObjectOptions
    field that predict_objects takes in object_options=...')."""
    net, image = local_net(), nuclei_image(64, 64)
    ids, _ = predict_objects(net, image, split_necks=True)
    options = ObjectOptions.for_model(net, split_necks=True)
    assert options.split_necks
    np.testing.assert_array_equal(ids, by_hand(net, image, options))


def test_object_options_gives_every_field_and_the_keywords_win():
    net, image = local_net(), nuclei_image(64, 64)
    given = replace(ObjectOptions.for_model(net), fill_holes=False, min_area=50)
    ids, _ = predict_objects(net, image, object_options=given, min_area=5)
    np.testing.assert_array_equal(ids, by_hand(net, image, replace(given, min_area=5)))
    with pytest.raises(UnetlabError, match="min_area must be at least 0 px, not -1"):
        predict_objects(net, image, object_options=given, min_area=-1)
    with pytest.raises(UnetlabError, match="object_options is an ObjectOptions, not dict"):
        predict_objects(net, image, object_options={"min_area": 5})


def test_another_field_names_object_options():
    net, image = local_net(), nuclei_image(32, 32)
    with pytest.raises(
        UnetlabError, match=r"fill_holes: an ObjectOptions field .* object_options="
    ):
        predict_objects(net, image, fill_holes=False)


def test_split_interior_of_a_semantic_model_is_refused_by_its_name():
    net = UNet(1, 2, depth=2, base_channels=2, padding="same")
    with pytest.raises(UnetlabError, match="^split_interior weighs the split"):
        predict_objects(net, np.zeros((32, 32), np.uint8), split_interior=True)


def test_evaluate_model_names_object_options_for_an_object_field(tmp_path):
    """evaluate_model(model, data, min_peak=0.5) said 'unknown prediction setting min_peak:
    the settings are tile_size, ...' (audit s38 apiaudit); before any image is read."""
    from unetlab.evaluate import evaluate_model

    said = r"^min_peak: an ObjectOptions field that evaluate_model takes in object_options="
    with pytest.raises(UnetlabError, match=said):
        evaluate_model(local_net(), tmp_path / "none", min_peak=0.5)


def test_model_areas_is_not_named_as_an_object_field(tmp_path):
    """``model_areas`` is internal (where the least areas came from): predict_objects does
    not offer it as an ObjectOptions field to set in object_options."""
    with pytest.raises(UnetlabError) as err:
        predict_objects(local_net(), np.zeros((32, 32), np.uint8), model_areas=())
    assert "ObjectOptions field" not in str(err.value)
