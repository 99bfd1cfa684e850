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
    # the command line's form (it was told the bare keys data.label_values, data.target, s57)
    assert "or --set 'data.label_values=[...]' if the values are real classes (--set " in err[0]
    assert "(--set data.target=instances if each value is one object)" in err[0]


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


def _write(root, masks, images=None):
    import tifffile

    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "masks").mkdir(exist_ok=True)
    for i, mask in enumerate(masks):
        image = np.where(mask > 0, 180, 40).astype(np.uint8) if images is None else images[i]
        tifffile.imwrite(root / "images" / f"{i}.tif", image)
        tifffile.imwrite(root / "masks" / f"{i}.tif", mask)
    return root


def _check(tmp_path, capsys):
    run = ["train", "--data", str(tmp_path / "data"), "--check", "--run-dir", str(tmp_path / "r")]
    return main(run), capsys.readouterr().err


def test_object_ids_with_gaps_whose_largest_object_has_the_last_id_are_not_refused(
    tmp_path, capsys
):
    # ids 3, 6, ..., 60 (labels filtered: gaps), the largest object the last: 92% of the
    # pixels at 0 or 60; refused as 'blur, resizing or JPEG' by pixel shares (main)
    yy, xx = np.mgrid[:128, :128]
    ids = np.zeros((128, 128), np.uint16)
    for k in range(1, 21):
        y, x, r = 16 + 30 * ((k - 1) // 5), 13 + 25 * ((k - 1) % 5), 9 if k == 20 else 5
        ids[(yy - y) ** 2 + (xx - x) ** 2 < r * r] = 3 * k
    _write(tmp_path / "data", [ids, ids])
    code, err = _check(tmp_path, capsys)
    assert code == 0 and "blur" not in err


def test_thin_membranes_blurred_are_refused_though_half_their_pixels_are_between(tmp_path, capsys):
    # EM membranes (0) between cells (255) blurred with sigma 0.7: 70% of the pixels at 0
    # or 255, the rest on ramps across the membranes; main planned them as object ids
    from scipy import ndimage

    from unetlab.data.synthetic import synthetic_em

    rng = np.random.default_rng(0)
    pairs = [synthetic_em(128, rng)[:2] for _ in range(2)]
    blurred = [ndimage.gaussian_filter(lab.astype(float), 0.7) for _, lab in pairs]
    masks = [np.clip(np.round(b), 0, 255).astype(np.uint8) for b in blurred]
    _write(tmp_path / "data", masks, [image for image, _ in pairs])
    code, err = _check(tmp_path, capsys)
    assert code == 2 and "look like blur, resizing or JPEG compression" in err


def test_binary_masks_resized_2x_are_refused_though_they_hold_12_values(tmp_path, capsys):
    # 0/255 discs upsampled 2x (bilinear): values 0, 64, 128, 191, 255 and a few more on the
    # rims, under the 16 values that pixel shares need (main: read as classes or ids)
    yy, xx = np.mgrid[:96, :96]
    rng = np.random.default_rng(1)
    masks = []
    for _ in range(2):
        small = np.zeros((96, 96))
        for _ in range(10):
            y, x, r = rng.integers(12, 84), rng.integers(12, 84), rng.integers(5, 11)
            small[(yy - y) ** 2 + (xx - x) ** 2 < r * r] = 255
        big = resize(small, (192, 192), order=1, preserve_range=True)
        masks.append(np.clip(np.round(big), 0, 255).astype(np.uint8))
    assert all(8 <= len(np.unique(m)) < 16 for m in masks)
    _write(tmp_path / "data", masks)
    code, err = _check(tmp_path, capsys)
    assert code == 2 and "look like blur, resizing or JPEG compression" in err
