"""Pages a TIFF records no axes for (tifffile.imwrite(path, stack) of grey planes) are read
as the model that reads them takes them: as many as its channels (more than one), one image
of those channels; else planes (Z). Each guess is said in one line naming --axes, which
overrides it; training reads them as planes and says so (lead s39)."""

from __future__ import annotations

import logging
import re

import numpy as np
import pytest
import tifffile

from unetlab.data.pairs import Pair
from unetlab.errors import command_spelling
from unetlab.inference.files import predict_file
from unetlab.inference.folders import predict_folder
from unetlab.models import UNet

pytestmark = pytest.mark.usefixtures("one_thread")  # conftest.py: faster on a busy machine


def _planes(n: int = 3) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 4000, (n, 24, 32), dtype=np.uint16)


def test_as_many_grey_pages_as_the_model_s_channels_are_its_channels(tmp_path, caplog):
    tifffile.imwrite(tmp_path / "c.tif", _planes(), photometric="minisblack")
    net = UNet(3, 2, depth=2, base_channels=2).eval()
    with caplog.at_level(logging.WARNING):
        (out,) = predict_file(net, tmp_path / "c.tif", tmp_path / "o")
    assert out.name == "c.png"  # one image: were 3 planes, each grey repeated 3 times
    assert "c.tif: 3 pages and no axis metadata: read as the 3 channels of one image" in caplog.text
    assert "axes='ZYX'" in caplog.text and "repeated" not in caplog.text
    assert "--axes" not in caplog.text  # a Python caller's keyword, not the flag (s55)
    (planes,) = predict_file(net, tmp_path / "c.tif", tmp_path / "z", axes="ZYX")
    assert tifffile.imread(planes).shape == (3, 24, 32)  # --axes overrides the guess


def test_other_counts_of_pages_are_planes_for_a_channels_model(tmp_path, caplog):
    tifffile.imwrite(tmp_path / "p.tif", _planes(4), photometric="minisblack")
    net = UNet(3, 2, depth=2, base_channels=2).eval()
    with caplog.at_level(logging.WARNING):
        (out,) = predict_file(net, tmp_path / "p.tif", tmp_path / "o")
    assert tifffile.imread(out).shape == (4, 24, 32)
    assert "read as 4 planes (a Z stack)" in caplog.text


def test_a_16_bit_stack_saved_without_metadata_is_planes_to_a_grey_model(tmp_path, caplog):
    """tifffile.imwrite(path, zyx, metadata=None): planar RGB of no metadata, read as one
    colour picture (its luminance predicted); 16 bits is no camera's colour picture."""
    tifffile.imwrite(tmp_path / "s.tif", _planes(), metadata=None)
    net = UNet(1, 2, depth=2, base_channels=2).eval()
    with caplog.at_level(logging.WARNING):
        (out,) = predict_file(net, tmp_path / "s.tif", tmp_path / "o")
    assert tifffile.imread(out).shape == (3, 24, 32)
    assert "read as 3 planes (a Z stack)" in caplog.text and "luminance" not in caplog.text


def test_an_8_bit_colour_picture_stored_as_planes_stays_one_picture(tmp_path):
    rgb = np.random.default_rng(1).integers(0, 255, (3, 24, 32), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "rgb.tif", rgb, metadata=None)
    (out,) = predict_file(
        UNet(1, 2, depth=2, base_channels=2).eval(), tmp_path / "rgb.tif", tmp_path / "o"
    )
    assert out.suffix == ".png"


def test_training_says_pages_without_axes_are_trained_as_planes(tmp_path, caplog):
    from unetlab.train.setup import say_bare_pages

    tifffile.imwrite(tmp_path / "s.tif", _planes(), photometric="minisblack")
    tifffile.imwrite(tmp_path / "z.tif", _planes(), imagej=True, metadata={"axes": "ZYX"})
    pairs = [
        Pair(tmp_path / f, tmp_path / f, page, 3) for f in ("s.tif", "z.tif") for page in range(3)
    ]
    with caplog.at_level(logging.WARNING):
        say_bare_pages(pairs, 1)
    assert caplog.text.count("no axis metadata") == 1
    assert (
        "s.tif: 3 pages and no axis metadata: read as 3 planes, trained plane by plane; if"
        in caplog.text
    )
    # Python's form of the fix (it was told "--axes CYX (data.axes: CYX)", s57)
    assert "if they are channels give cfg.data.axes = 'CYX' or save" in caplog.text
    assert "--axes" not in caplog.text
    caplog.clear()
    with command_spelling(), caplog.at_level(logging.WARNING):
        say_bare_pages(pairs, 1)
    assert "if they are channels give --axes CYX or save" in caplog.text  # the command line's
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        say_bare_pages(pairs, 3)
    assert (
        "predict gives the 3 pages of such a file to a 3-channel model as its channels"
        in caplog.text
    )


def test_streamed_pages_as_many_as_the_model_s_channels_are_refused_naming_axes(tmp_path):
    """Streamed (large), 3 grey pages that record no axes were 3 planes to a 3-channel
    model (each grey page repeated into its channels), where read whole they are the 3
    channels of one image: refused in one line; --axes ZYX streams them as planes."""
    from unetlab.errors import UnetlabError

    tifffile.imwrite(tmp_path / "c.tif", _planes(), photometric="minisblack")
    net = UNet(3, 2, depth=2, base_channels=2).eval()
    with pytest.raises(UnetlabError, match=r"c.tif: 3 pages and no axis metadata, as many as"):
        predict_file(net, tmp_path / "c.tif", tmp_path / "o", large_threshold=100)
    assert not (tmp_path / "o" / "c.tif").exists()
    (planes,) = predict_file(
        net, tmp_path / "c.tif", tmp_path / "z", axes="ZYX", large_threshold=100
    )
    assert tifffile.imread(planes).shape == (3, 24, 32)
    (whole,) = predict_file(net, tmp_path / "c.tif", tmp_path / "w")  # read whole: channels
    assert whole.name == "c.png"


def test_evaluate_says_pages_predict_reads_as_channels_are_scored_as_planes(tmp_path, caplog):
    """evaluate --checkpoint scored 3 such pages, each beside its mask page, as 3 planes,
    where predict reads them as one image's channels: the difference said (review s39)."""
    from unetlab.evaluate import evaluate_model

    for sub in ("images", "masks"):
        (tmp_path / sub).mkdir()
    tifffile.imwrite(tmp_path / "images" / "c.tif", _planes(), photometric="minisblack")
    masks = (_planes() > 2000).astype(np.uint8)
    tifffile.imwrite(tmp_path / "masks" / "c.tif", masks, photometric="minisblack")
    net = UNet(3, 2, depth=2, base_channels=2).eval()
    with caplog.at_level(logging.WARNING):
        report = evaluate_model(net, tmp_path)
    assert len(report.images) == 3
    assert "c.tif: 3 pages and no axis metadata, each with its mask page: scored as 3 planes" in (
        caplog.text
    )
    assert "where predict reads them as the 3 channels of one image" in caplog.text
    # it names the flag both commands have, not only saving the file again; each way works
    assert "if they are channels give axes='CYX' and one mask page" in caplog.text
    assert "if planes axes='ZYX' (here and to predict)" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert len(evaluate_model(net, tmp_path, axes="ZYX").images) == 3
    assert "no axis metadata" not in caplog.text
    tifffile.imwrite(tmp_path / "masks" / "c.tif", masks[0])
    assert [row["name"] for row in evaluate_model(net, tmp_path, axes="CYX").images] == ["c"]


def test_evaluate_says_predict_s_line_of_pages_read_as_planes(tmp_path, caplog):
    """A grey model scoring stacks that record no axes (QYX, QQYX) plane by plane said
    nothing, where predict reading them as planes warns naming --axes: the same line, once a
    file (review s45)."""
    from unetlab.evaluate import evaluate_model

    for sub in ("images", "masks"):
        (tmp_path / sub).mkdir()
    stacks = {"z": _planes(4), "q": _planes(6).reshape(2, 3, 24, 32)}
    for name, stack in stacks.items():
        tifffile.imwrite(tmp_path / "images" / f"{name}.tif", stack, photometric="minisblack")
        masks = (stack > 2000).astype(np.uint8)
        tifffile.imwrite(tmp_path / "masks" / f"{name}.tif", masks, photometric="minisblack")
    net = UNet(1, 2, depth=2, base_channels=2).eval()
    with caplog.at_level(logging.WARNING):
        assert len(evaluate_model(net, tmp_path, progress=False).images) == 10
    scored = [r.getMessage() for r in caplog.records if "no axis metadata" in r.getMessage()]
    caplog.clear()
    with caplog.at_level(logging.WARNING):  # a data folder's images/: by path, as a glob's
        predict_folder(net, str(tmp_path / "images" / "*.tif"), tmp_path / "o", progress=False)
    predicted = [r.getMessage() for r in caplog.records if "no axis metadata" in r.getMessage()]
    assert sorted(scored) == sorted(predicted) and len(scored) == 2
    assert all(line.startswith(str(tmp_path / "images")) for line in scored), scored
    assert "axes='TZYX'" in " ".join(scored)  # the 4-D one's, as predict names it


def test_evaluate_says_a_grey_image_s_channel_repeated_once_not_once_a_page(tmp_path, caplog):
    """3 grey pages with no axes scored by a 3-channel model: "its channel is repeated" was
    said once a page (3 lines); once for the image."""
    from unetlab.evaluate import evaluate_model

    for sub in ("images", "masks"):
        (tmp_path / sub).mkdir()
    tifffile.imwrite(tmp_path / "images" / "c.tif", _planes(), photometric="minisblack")
    masks = (_planes() > 2000).astype(np.uint8)
    tifffile.imwrite(tmp_path / "masks" / "c.tif", masks, photometric="minisblack")
    with caplog.at_level(logging.WARNING):
        report = evaluate_model(UNet(3, 2, depth=2, base_channels=2).eval(), tmp_path)
    assert len(report.images) == 3
    said = [r for r in caplog.records if "its channel is repeated" in r.getMessage()]
    assert len(said) == 1 and "c.tif" in said[0].getMessage()


@pytest.mark.parametrize("shape", [(5, 1), (2, 3)])
def test_the_axes_a_4d_bare_stack_s_warning_names_fit_it(tmp_path, caplog, shape):
    """A (5, 1, Y, X) or (T, Z, Y, X) array saved without axes (napari's or tifffile's plain
    save: QQYX; (2, 3, ...) 8-bit: QSYX) is read as planes, and the warning named --axes CYX
    and TYX, which it refuses ('names 3 axes, but the file's image has 4'): it names 4."""
    rng = np.random.default_rng(0)
    tifffile.imwrite(tmp_path / "s.tif", rng.integers(0, 255, (*shape, 24, 32), dtype=np.uint8))
    net = UNet(1, 2, depth=2, base_channels=2).eval()
    with caplog.at_level(logging.WARNING):
        predict_file(net, tmp_path / "s.tif", tmp_path / "o")
    said = [r.getMessage() for r in caplog.records if "no axis metadata" in r.getMessage()]
    assert len(said) == 1 and "axes='CZYX'" in said[0] and "axes='TZYX'" in said[0], said
    assert predict_file(net, tmp_path / "s.tif", tmp_path / "t", axes="TZYX")  # it fits


def test_a_streamed_4d_bare_stack_s_lines_name_axes_of_its_4(tmp_path, caplog):
    """Streamed (large), a (T, Z, Y, X) array saved without axes (QQYX) is read as planes
    with a warning that named --axes TYX and metadata={'axes': 'CYX'} (3 axes; --axes TYX
    is refused for it), where read whole it names CZYX and TZYX: both now name 4; --axes
    TZYX streams it so. As many pages as a model's channels: the refusal names 4 too."""
    from unetlab.errors import UnetlabError

    tifffile.imwrite(tmp_path / "s.tif", _planes(6).reshape(2, 3, 24, 32), photometric="minisblack")
    net = UNet(1, 2, depth=2, base_channels=2).eval()
    with caplog.at_level(logging.WARNING):
        predict_file(net, tmp_path / "s.tif", tmp_path / "o", large_threshold=100)
    said = [r.getMessage() for r in caplog.records if "no axis metadata" in r.getMessage()]
    named = re.findall(r"axes'?[ =:]+'?([TZCYX]+)", said[0])
    assert len(said) == 1 and "CZYX" in named and "TZYX" in named, said
    assert all(len(a) == 4 for a in named), said
    (given,) = predict_file(
        net, tmp_path / "s.tif", tmp_path / "t", axes="TZYX", large_threshold=100
    )
    with tifffile.TiffFile(given) as tif:
        assert tif.series[0].axes == "TZYX" and tif.series[0].shape == (2, 3, 24, 32)
    tifffile.imwrite(tmp_path / "c.tif", _planes(4).reshape(2, 2, 24, 32), photometric="minisblack")
    with pytest.raises(UnetlabError) as caught:
        predict_file(
            UNet(4, 2, depth=2, base_channels=2).eval(),
            tmp_path / "c.tif",
            tmp_path / "o",
            large_threshold=100,
        )
    named = re.findall(r"axes'?[ =:]+'?([TZCYX]+)", str(caught.value))
    assert named and all(len(a) == 4 for a in named) and "CZYX" in named, caught.value


@pytest.mark.parametrize("large", [None, 100])  # read whole, streamed
@pytest.mark.parametrize(
    ("shape", "photometric", "timed"),
    [((2, 24, 32, 3), "rgb", "TYXS"), ((2, 3, 24, 32), None, "TSYX")],
)
def test_pages_of_colour_pixels_without_axes_name_axes_that_keep_their_colour(
    tmp_path, caplog, shape, photometric, timed, large
):
    """A stack of RGB pictures saved without axes (a colour movie's frames: QYXS; planar
    8-bit (2, 3, ...): QSYX) read by a colour model as colour planes: the warning named
    --axes CYX and TYX, which such a file refuses ('names 3 axes, but the file's image has
    4'), or CZYX and TZYX (its samples as channels of 2, as grey planes): it names the
    axes that read its pages as time points, colour kept."""
    rng = np.random.default_rng(0)
    tifffile.imwrite(
        tmp_path / "s.tif", rng.integers(0, 255, shape, dtype=np.uint8), photometric=photometric
    )
    net = UNet(3, 2, depth=2, base_channels=2, padding="same").eval()
    with caplog.at_level(logging.WARNING):
        predict_file(net, tmp_path / "s.tif", tmp_path / "o", large_threshold=large)
    said = [r.getMessage() for r in caplog.records if "no axis metadata" in r.getMessage()]
    assert said == [  # a file given alone: named by its path, read whole or streamed
        f"{tmp_path / 's.tif'}: 2 pages of colour pixels and no axis metadata: read as 2 colour "
        f"planes (a Z stack); if they are time points give axes='{timed}'"
    ]
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        (out,) = predict_file(
            net, tmp_path / "s.tif", tmp_path / "t", axes=timed, large_threshold=large
        )
    assert "repeated" not in caplog.text  # its colour read, not grey planes
    with tifffile.TiffFile(out) as tif:
        assert (tif.series[0].axes, tif.series[0].shape) == ("TYX", (2, 24, 32))


def test_a_bare_5d_stack_s_channel_axes_name_time_before_depth_as_its_refusals_do(tmp_path, caplog):
    """The no-axes warning of a 5-D stack saved without axes named its channels' --axes
    CZTYX (pages.fitted: depth before time) where the lines of io.named_planes name such a
    file's pages time before depth (QQQYX: TZQYX; refuse_channelless: TZCYX): now CTZYX,
    and that reads it."""
    from unetlab.data.io import named_planes

    stack = np.random.default_rng(0).integers(0, 255, (2, 3, 4, 24, 32), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "s.tif", stack, photometric="minisblack")
    net = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    with caplog.at_level(logging.WARNING):
        assert predict_file(net, tmp_path / "s.tif", tmp_path / "o")
    assert "if they are channels give axes='CTZYX'" in caplog.text
    assert named_planes("CQQYX") == "CTZYX" and named_planes("QQQYX").startswith("TZ")
    two = UNet(2, 2, depth=2, base_channels=2, padding="same").eval()  # its C of 2
    assert predict_file(two, tmp_path / "s.tif", tmp_path / "c", axes="CTZYX")


def test_fitted_names_no_axes_that_axes_refuses_beyond_the_known_plane_letters():
    """pages.fitted at rank 6 named ZTQQYX and TZQQYX (Q twice, which --axes refuses):
    --axes has three plane letters (T, Z, Q), so planes of 6 axes, and anything of 7, have
    no name; their lines then say to save the file with its axes."""
    from unetlab.data.io import axes_problem
    from unetlab.inference.pages import axes_fixes, fitted

    assert fitted("ZYX", 6) is None and fitted("TYX", 6) is None
    assert fitted("CYX", 6) == "CTZQYX" and axes_problem("CTZQYX") is None
    assert fitted("CYX", 7) is None
    assert [fitted(a, 5) for a in ("ZYX", "TYX", "CYX")] == ["ZTQYX", None, "CTZYX"]  # no T
    assert axes_fixes([("give", None)], 7, "planes", cli=True) == (
        "if they are planes, save the file with its axes (tifffile.imwrite(..., metadata="
        "{'axes': ...})): --axes names at most 3 plane axes (T, Z, Q), and it has 7 axes"
    )
    assert "{'axes': ...})): axes= names at most 3 plane" in axes_fixes([], 7, "planes")


@pytest.mark.parametrize("large", [None, 100], ids=["whole", "streamed"])
def test_a_bare_6d_stack_s_warning_names_only_axes_that_can_be_given(tmp_path, caplog, large):
    """The no-axes warning of a 6-D stack saved without axes named its time points --axes
    TZQQYX, which --axes refuses (Q twice): now only its channels' CTZQYX, which reads it."""
    from unetlab.data.io import axes_problem

    stack = np.random.default_rng(0).integers(0, 255, (2, 2, 2, 2, 24, 32), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "s.tif", stack, photometric="minisblack")
    net = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    with caplog.at_level(logging.WARNING):
        assert predict_file(net, tmp_path / "s.tif", tmp_path / "o", large_threshold=large)
    named = re.findall(r"axes='(\w+)'", caplog.text) + re.findall(r"'axes': '(\w+)'", caplog.text)
    assert named and not [a for a in named if axes_problem(a)], caplog.text
    assert "CTZQYX" in named


def test_streamed_bare_pages_of_too_many_axes_are_told_one_fix(tmp_path):
    """Pages of a 7-axis TIFF with no axes, as many as a 3-channel model's channels,
    streamed: --axes cannot name them either way, so the line says one fix, saving the file
    with its axes (which streams: a CTZQQYX file is read), not, for channels, 'with fewer
    axes' beside 'with its axes' for planes; a 6-axis one still names its channels' axes."""
    from unetlab.errors import UnetlabError

    net = UNet(3, 2, depth=2, base_channels=2).eval()
    for rank, said in (
        (7, "if they are planes or channels, save the file with its axes"),
        (6, "if they are channels, save the file with its axes"),
    ):
        path = tmp_path / f"c{rank}.tif"
        shape = (1,) * (rank - 3) + (3, 24, 32)
        tifffile.imwrite(path, _planes().reshape(shape), photometric="minisblack")
        with pytest.raises(UnetlabError) as refused:
            predict_file(net, path, tmp_path / "o", large_threshold=100)
        line = str(refused.value)
        assert said in line and "fewer axes" not in line, line
        assert line.count("save the file with its axes") == 1 + (rank == 6), line
        # each caller its form (s55 review: Python was told --large-pixels; s56: a
        # predict_slide call takes large_threshold= but always streams)
        assert line.endswith(
            " read it whole with large_threshold=768 (predict_slide always reads "
            "window by window: call predict_file for a whole read)"
        ), line
        assert refused.value.cli.endswith(" read it whole with --large-pixels 768")
        assert refused.value.cli.count("--axes") == line.count("axes=")
