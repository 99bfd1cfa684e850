"""`unetlab summary` reproduces the SPEC §1 layer table row for row."""

import re

import pytest

from tests.conftest import REPO
from unetlab.cli import main
from unetlab.models import UNet
from unetlab.models.summary import summarize

# SPEC §1, the source's torchsummary print-out of the paper net at 572x572.
PAPER_TABLE = """\
Layer (type)          Output Shape          Param #
Conv2d-1              [-1, 64, 570, 570]    640
Conv2d-2              [-1, 64, 568, 568]    36,928
MaxPool2d-3           [-1, 64, 284, 284]    0
Conv2d-4              [-1, 128, 282, 282]   73,856
Conv2d-5              [-1, 128, 280, 280]   147,584
MaxPool2d-6           [-1, 128, 140, 140]   0
Conv2d-7              [-1, 256, 138, 138]   295,168
Conv2d-8              [-1, 256, 136, 136]   590,080
MaxPool2d-9           [-1, 256, 68, 68]     0
Conv2d-10             [-1, 512, 66, 66]     1,180,160
Conv2d-11             [-1, 512, 64, 64]     2,359,808
MaxPool2d-12          [-1, 512, 32, 32]     0
Conv2d-13             [-1, 1024, 30, 30]    4,719,616
Conv2d-14             [-1, 1024, 28, 28]    9,438,208
ConvTranspose2d-15    [-1, 512, 56, 56]     2,097,664
Conv2d-16             [-1, 512, 54, 54]     4,719,104
Conv2d-17             [-1, 512, 52, 52]     2,359,808
ConvTranspose2d-18    [-1, 256, 104, 104]   524,544
Conv2d-19             [-1, 256, 102, 102]   1,179,904
Conv2d-20             [-1, 256, 100, 100]   590,080
ConvTranspose2d-21    [-1, 128, 200, 200]   131,200
Conv2d-22             [-1, 128, 198, 198]   295,040
Conv2d-23             [-1, 128, 196, 196]   147,584
ConvTranspose2d-24    [-1, 64, 392, 392]    32,832
Conv2d-25             [-1, 64, 390, 390]    73,792
Conv2d-26             [-1, 64, 388, 388]    36,928
Conv2d-27             [-1, 2, 388, 388]     130
Total params: 31,030,658
"""

ROW = re.compile(r"^(\w+-\d+)\s+(\[[-\d, ]+\])\s+([\d,]+)$")


def parse(table: str) -> tuple[list[tuple[str, str, str]], str]:
    rows = [m.groups() for line in table.splitlines() if (m := ROW.match(line.strip()))]
    total = next(line for line in table.splitlines() if line.startswith("Total params"))
    return rows, total


def test_embedded_table_is_the_spec_table():
    spec = REPO.parent / "shared" / "SPEC.md"
    if not spec.exists():
        pytest.skip(f"{spec} not found (../shared beside the repo)")
    block = spec.read_text().split("Layer (type)", 1)[1].split("```", 1)[0]
    assert parse("Layer (type)" + block) == parse(PAPER_TABLE)


def test_cli_summary_reproduces_spec_table(capsys):
    assert main(["summary", "--preset", "paper", "--input-size", "572"]) == 0
    out = capsys.readouterr().out
    rows, total = parse(out)
    expected_rows, expected_total = parse(PAPER_TABLE)
    assert len(expected_rows) == 27
    assert rows == expected_rows
    assert total == expected_total
    assert "Output size: 2x388x388" in out
    assert "Border per side: 92 px" in out
    assert "Receptive field: 185x185 px" in out
    assert "GFLOPs per tile: 300.9" in out


def test_summary_of_batchnorm_bilinear_variant_lists_norms_and_upsampling():
    s = summarize(UNet.from_preset("small", upsample="bilinear"), 256)
    kinds = {r.name.rsplit("-", 1)[0] for r in s.rows}
    assert {"Conv2d", "BatchNorm2d", "MaxPool2d", "Upsample"} <= kinds
    assert s.total_params == sum(r.params for r in s.rows)
    assert s.output_size == (256, 256) and s.border == 0


def test_summary_refuses_invalid_size(capsys):
    assert main(["summary", "--preset", "paper", "--input-size", "573"]) == 2
    assert "573 is not a valid input size for this net: try 572 or 588" in capsys.readouterr().err


def test_sizes_command(capsys):
    assert main(["sizes", "--near", "572", "--count", "3"]) == 0
    out = capsys.readouterr().out
    assert "572     388      92   46.0%" in out
    assert "556" in out and "588" in out


def test_the_default_size_is_one_the_net_takes():
    from unetlab import UNet, summarize

    table = summarize(UNet.from_preset("small")).table()  # same padding: 512, not 572
    assert "[-1, 16, 512, 512]" in table
    assert "[-1, 64, 570, 570]" in summarize(UNet.from_preset("paper")).table()


def test_a_summary_shows_as_one_line_in_a_notebook():
    """s52 notebook: the dataclass's repr was 2,356 characters of rows for the paper net."""
    line = repr(summarize(UNet.from_preset("paper"), 572))
    assert "\n" not in line and len(line) < 200
    assert line.startswith("Summary(31,030,658 parameters, 1x572x572 -> 2x388x388, border 92 px")
    assert line.endswith("27 rows; print(s.table()) for the layer table)")
