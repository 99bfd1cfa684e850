"""Size arithmetic of valid and same U-Nets (pure functions, exact values)."""

import pytest

from unetlab.models import sizes


def test_paper_geometry():
    assert sizes.output_size(572, 5, "valid") == 388
    assert sizes.border(5, "valid") == 92
    assert sizes.receptive_field(5, "valid") == 185
    assert sizes.min_input_size(5, "valid") == 188
    assert sizes.size_multiple(5) == 16


def test_paper_valid_sizes_step_by_16_and_lose_184():
    for size in range(100, 1300):
        valid = sizes.is_valid_size(size, 5, "valid")
        assert valid == (size >= 188 and (size - 188) % 16 == 0), size
        if valid:
            assert sizes.output_size(size, 5, "valid") == size - 184


def test_invalid_size_names_neighbours():
    with pytest.raises(
        ValueError, match="573 is not a valid input size for this net: try 572 or 588"
    ):
        sizes.output_size(573, 5, "valid")
    with pytest.raises(ValueError, match="try 188"):
        sizes.output_size(100, 5, "valid")


@pytest.mark.parametrize("depth", [1, 2, 3, 4, 5, 6])
def test_valid_sizes_agree_with_trace(depth):
    first = sizes.min_input_size(depth, "valid")
    step = sizes.size_multiple(depth)
    # nothing below the first size works, and the grid above it is exactly every step
    assert not any(sizes.is_valid_size(s, depth, "valid") for s in range(1, first))
    for s in range(first, first + 5 * step):
        assert sizes.is_valid_size(s, depth, "valid") == ((s - first) % step == 0)
    b = sizes.border(depth, "valid")
    assert sizes.output_size(first + 3 * step, depth, "valid") == first + 3 * step - 2 * b
    assert sizes.receptive_field(depth, "valid") == 2 * b + 1


@pytest.mark.parametrize("depth", [2, 3, 4, 5])
def test_same_padding_needs_multiples(depth):
    m = sizes.size_multiple(depth)
    assert sizes.border(depth, "same") == 0
    for s in range(1, 5 * m):
        assert sizes.is_valid_size(s, depth, "same") == (s % m == 0)
        if s % m == 0:
            assert sizes.output_size(s, depth, "same") == s
    with pytest.raises(ValueError, match=f"try {m} or {2 * m}"):
        sizes.output_size(m + 1, depth, "same")


def test_valid_input_sizes_centred():
    assert sizes.valid_input_sizes(572, 5, "valid", 3) == [556, 572, 588]
    assert sizes.valid_input_sizes(0, 5, "valid", 2) == [188, 204]
    assert sizes.nearest_valid_sizes(573, 5, "valid") == (572, 588)


def test_bad_padding():
    with pytest.raises(ValueError, match="padding"):
        sizes.output_size(572, 5, "reflect")
