"""One conversion of an OME-Zarr axis's unit to micrometres (data.ngff.micrometres), shared
by the napari reader, the slide reader and ome.output_pages (s73 review: three, each its
own; an unknown unit 1.0 in one, None in the others)."""

import pytest

from unetlab.data.ngff import axis_units, micrometres


@pytest.mark.parametrize(
    "unit, per",
    [("micrometer", 1.0), ("Micrometer", 1.0), ("nanometer", 1e-3), ("angstrom", 1e-4)],
)
def test_the_units_ngff_names_in_micrometres(unit, per):
    assert micrometres(unit) == per


@pytest.mark.parametrize("unit", [None, "", "parsec"])
def test_no_unit_or_an_unknown_one_is_none(unit):
    assert micrometres(unit) is None


def test_the_axes_units_none_where_an_axis_names_none():
    scales = {"axes": [{"name": "z", "unit": "nanometer"}, {"name": "y"}, "x"]}
    assert axis_units(scales) == ["nanometer", None, None]
