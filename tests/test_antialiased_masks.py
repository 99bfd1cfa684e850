"""Binary masks with anti-aliased edges (drawn with a soft brush, or resized): nuclei of
0/255 whose rims hold values between, 6% of the pixels. They were read as object ids and
trained as instances (audit s41 audittrain: "median area 5 px"); they are refused, naming
the fix, before anything is written."""

import numpy as np
from skimage.transform import resize

from unetlab.cli import main
from unetlab.data.io import write_png


def _soft_nuclei(root, n=6):
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:192, :192]
    for i in range(n):
        big = np.zeros((192, 192))
        for _ in range(12):
            y, x, r = rng.integers(20, 172), rng.integers(20, 172), rng.integers(8, 16)
            big[(yy - y) ** 2 + (xx - x) ** 2 < r * r] = 255
        mask = np.round(resize(big, (96, 96), order=1, anti_aliasing=True, preserve_range=True))
        image = (mask * 0.6 + rng.normal(40, 10, mask.shape)).clip(0, 255).astype(np.uint8)
        write_png(root / "images" / f"{i:02d}.png", image)
        write_png(root / "masks" / f"{i:02d}.png", mask.astype(np.uint8))
    return root


def test_antialiased_binary_masks_are_refused_not_trained_as_object_ids(tmp_path, capsys):
    data = _soft_nuclei(tmp_path / "data")
    assert main(["train", "--data", str(data), "--check", "--run-dir", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "look like blur, resizing or JPEG compression" in err[0]
    assert "threshold the masks" in err[0] and not (tmp_path / "r").exists()


def test_object_ids_whose_largest_object_has_the_last_id_are_not_refused_as_blur(tmp_path):
    # 16-bit masks of ids 1..20, the largest object the last: 92% of the pixels at 0 or 20,
    # the ids between: refused as 'blur, resizing or JPEG' after 85% (main: instances)
    import tifffile

    yy, xx = np.mgrid[:128, :128]
    ids = np.zeros((128, 128), np.uint16)
    for k in range(1, 21):
        y, x, r = 16 + 30 * ((k - 1) // 5), 13 + 25 * ((k - 1) % 5), 9 if k == 20 else 5
        ids[(yy - y) ** 2 + (xx - x) ** 2 < r * r] = k
    image = np.where(ids > 0, 180, 40).astype(np.uint8)
    for i in range(2):
        (tmp_path / "data" / "images").mkdir(parents=True, exist_ok=True)
        (tmp_path / "data" / "masks").mkdir(exist_ok=True)
        tifffile.imwrite(tmp_path / "data" / "images" / f"{i}.tif", image)
        tifffile.imwrite(tmp_path / "data" / "masks" / f"{i}.tif", ids)
    run = ["train", "--data", str(tmp_path / "data"), "--check", "--run-dir", str(tmp_path / "r")]
    assert main(run) == 0
