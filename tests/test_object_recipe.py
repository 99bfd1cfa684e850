"""An instance model's bioimage.io package says how unetlab makes objects of its three maps,
with the model's own values, and is tagged instance segmentation (audit s33 migrant,
finding 7: other tools got three probability maps and no recipe)."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
import yaml

from unetlab.inference.bioimageio import PackageInfo, export_bioimageio, model_rdf
from unetlab.inference.object_recipe import object_recipe
from unetlab.inference.objects import CUT_MIN_AREA, MIN_PEAK, ObjectOptions, cut_least
from unetlab.models import UNet

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch.jit in torch 2.13


def _nuclei_net(record: dict | None) -> UNet:
    model = UNet(1, 3, depth=2, base_channels=2, padding="valid").eval()
    model.classes, model.label_values = ["background", "boundary", "interior"], [0, 1, 2]
    model.objects = record
    return model


NUCLEI = {"target": "instances", "count": 40, "area_p05": 116.0}


def test_an_instance_models_package_names_its_object_recipe(tmp_path):
    model = _nuclei_net(NUCLEI)
    sample = np.random.default_rng(0).integers(0, 255, (160, 160), dtype=np.uint8)
    dest = export_bioimageio(
        model, tmp_path / "n.zip", sample=sample, weight_formats=("pytorch_state_dict",)
    )
    with zipfile.ZipFile(dest) as zf:
        text = zf.read("README.md").decode()
        rdf = yaml.safe_load(zf.read("rdf.yaml"))
    options = ObjectOptions.for_model(model)
    assert (options.min_area, options.min_seed_area) == (29, 7)  # 116 / 4, and a quarter
    assert "## Objects" in text
    for words in (
        "1 - P(background) >= 0.5",
        "P(interior) >= 0.5",
        "a seed under 7 px is noise",
        "seeded watershed on -P(interior)",
        "objects under 29 px (",
        "5th percentile of the training objects' areas, 116 px",
        "Split: each object's distance to its outline",
        "--instances",
        "--outlines geojson",
    ):
        assert words in text, words
    assert "instance-segmentation" in rdf["tags"]
    assert "semantic-segmentation" not in rdf["tags"]
    assert "instance segmentation" in rdf["description"] and "Objects" in rdf["description"]


def test_the_recipe_follows_the_models_options():
    model = _nuclei_net({"target": "instances", "count": 5, "area_p05": 400.0})
    text = "\n".join(object_recipe(model))
    assert "objects under 100 px" in text and "a seed under 25 px" in text
    assert f"P(interior) stays under {MIN_PEAK:g} at every pixel is dropped" in text
    cut = int(cut_least(np.array([100]), np.array([True]))[0])  # a piece at the edge
    assert (f"a data bar cuts (a piece of one) only under {cut} px" in text) == (cut < 100)
    big = _nuclei_net({"target": "instances", "count": 5, "area_p05": 4000.0})
    assert f"a data bar cuts (a piece of one) only under {CUT_MIN_AREA} px" in "\n".join(
        object_recipe(big)
    )
    assert "unetlab's default" in "\n".join(object_recipe(_nuclei_net({"target": "instances"})))


@pytest.mark.parametrize("record", [None, {"target": "semantic", "count": 3, "area_p05": 9.0}])
def test_a_semantic_models_package_has_no_instance_recipe(record):
    model = _nuclei_net(record)
    assert object_recipe(model) == []
    rdf = model_rdf(model, PackageInfo(), ["torchscript"])
    assert "semantic-segmentation" in rdf["tags"] and "instance" not in rdf["description"]


def test_given_tags_and_description_win():
    info = PackageInfo(description="nuclei of Kromp 2020", tags=("nuclei",))
    rdf = model_rdf(_nuclei_net(NUCLEI), info, ["torchscript"])
    assert rdf["tags"] == ["nuclei"] and rdf["description"] == "nuclei of Kromp 2020"
