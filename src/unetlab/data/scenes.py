"""Synthetic street scenes of many classes of very different frequency: one generator, two
class sets, VOC layout or train/val/test folders.

A scene (RGB photo, class-index mask) is drawn for a :class:`SceneKind`:

- ``street`` (:data:`STREET`, :data:`SCENE_CLASSES`, 7 classes): sky above a horizon, road
  below it, buildings on the horizon, vegetation blobs, and the rare classes: thin poles
  (2-3 px), small signs on some poles and small people on the road (about 0.5-2 % of the
  pixels each). The tests' scenes and ``bench/bench_classes.py``'s.
- ``road`` (:data:`ROAD`, :data:`ROAD_CLASSES`, 11 classes as a street-segmentation user
  brings them): road, sidewalk, building, wall, vegetation, sky, car, pole, sign, person,
  terrain; pole, sign and person cover 0.1-0.6 % of the pixels at 256 x 512
  (``bench/road_scenes.py``).

Every class has its own look, jittered per image, with texture and noise. Void (255, no class)
is either ``"outlines"`` (1-px rings around the small objects, as VOC draws them) or
``"border"`` (the frame and the ego car's hood, as Cityscapes'), or none.

:func:`write_voc_scenes` writes PASCAL VOC: ``JPEGImages/NAME.jpg``, palette PNGs in
``SegmentationClass/`` (VOC colours), ``ImageSets/Segmentation/{train,val}.txt`` and
``class_names.txt``. :func:`write_scene_folders` writes ``train/``, ``val/`` and ``test/``
folders of ``images/`` + ``masks/``: grey class-value masks with ``class_names.txt``, or RGB
colour masks (:data:`LABEL_COLOURS`) with a ``class_colors.txt`` table.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

from unetlab.atomic import atomic_path
from unetlab.data.classes import NAMES_FILE, VOC_VOID, voc_colormap
from unetlab.data.colour_table import COLOURS_FILE
from unetlab.data.io import write_png
from unetlab.errors import OutputError, UnetlabError

SCENE_CLASSES = ("sky", "road", "building", "vegetation", "pole", "sign", "person")
ROAD_CLASSES = (
    *("road", "sidewalk", "building", "wall", "vegetation", "sky"),
    *("car", "pole", "sign", "person", "terrain"),
)
#: the colour of each class in a colour mask (Cityscapes'); void is black
LABEL_COLOURS = {
    "road": (128, 64, 128),
    "sidewalk": (244, 35, 232),
    "building": (70, 70, 70),
    "wall": (102, 102, 156),
    "vegetation": (107, 142, 35),
    "sky": (70, 130, 180),
    "car": (0, 0, 142),
    "pole": (153, 153, 153),
    "sign": (220, 220, 0),
    "person": (220, 20, 60),
    "terrain": (152, 251, 152),
}
#: the ways void is drawn: rings around the small objects, or the frame and the hood
VOIDS = ("outlines", "border")


def street_mask(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """A ``street`` mask (class indices of :data:`SCENE_CLASSES`)."""
    mask = np.zeros((h, w), np.uint8)  # sky
    horizon = int(h * rng.uniform(0.35, 0.5))
    mask[horizon:] = 1  # road
    x = 0
    while x < w:  # buildings standing on the horizon
        bw, bh = int(rng.uniform(0.1, 0.25) * w), int(rng.uniform(0.1, 0.3) * h)
        if rng.random() < 0.8:
            mask[max(0, horizon - bh) : horizon + 2, x : x + bw] = 2
        x += bw + int(rng.uniform(0.0, 0.05) * w)
    yy, xx = np.mgrid[:h, :w]
    for _ in range(rng.integers(1, 4)):  # vegetation blobs
        cy, cx = horizon + rng.uniform(-0.05, 0.1) * h, rng.uniform(0, w)
        r = rng.uniform(0.04, 0.09) * min(h, w)
        mask[(yy - cy) ** 2 + ((xx - cx) / 1.5) ** 2 < r * r] = 3
    for _ in range(rng.integers(1, max(2, w // 48))):  # poles, some with a sign
        px, pw = int(rng.uniform(0, w - 3)), int(rng.integers(2, 4))
        top = int(horizon - rng.uniform(0.1, 0.3) * h)
        bottom = int(horizon + rng.uniform(0.05, 0.2) * h)
        mask[max(top, 0) : bottom, px : px + pw] = 4
        if rng.random() < 0.6:
            s = int(rng.integers(5, 10))
            mask[max(top - s, 0) : max(top, 1), max(px - s // 2, 0) : px + pw + s // 2] = 5
    for _ in range(rng.integers(1, max(2, w // 48))):  # people on the road
        cy, cx = rng.uniform(horizon + 0.1 * h, h - 4), rng.uniform(4, w - 4)
        mask[((yy - cy) / 8) ** 2 + ((xx - cx) / 4) ** 2 < 1] = 6
    return mask


def road_mask(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """A ``road`` mask (class indices of :data:`ROAD_CLASSES`): sky, buildings and walls on
    a horizon, road, sidewalks, terrain, trees, cars, then the rare poles, signs, people."""
    m = np.full((h, w), 5, np.uint8)  # sky
    hz = int(h * rng.uniform(0.38, 0.48))
    x = 0
    while x < w:
        bw, bh = int(rng.uniform(0.08, 0.2) * w), int(rng.uniform(0.15, 0.35) * h)
        m[max(0, hz - bh) : hz, x : x + bw] = 2 if rng.random() < 0.85 else 3
        x += bw
    m[hz:] = 0  # road
    yy, xx = np.mgrid[:h, :w]
    centre = w / 2 + rng.uniform(-0.1, 0.1) * w
    spread = (yy - hz) * rng.uniform(0.9, 1.3) + 0.05 * w
    m[(yy >= hz) & (np.abs(xx - centre) > spread)] = 1  # sidewalks at both sides
    m[(yy >= hz) & (np.abs(xx - centre) > spread + 0.12 * w)] = 10  # terrain beyond
    for _ in range(rng.integers(1, 4)):  # trees over buildings
        cy, cx, r = hz - rng.uniform(0.05, 0.2) * h, rng.uniform(0, w), rng.uniform(15, 35)
        m[(yy - cy) ** 2 + ((xx - cx) / 1.4) ** 2 < r * r] = 4
    for _ in range(rng.integers(1, 4)):  # cars on the road
        cy = int(hz + rng.uniform(0.1, 0.35) * h)
        cw = int(20 + (cy - hz) * 0.8)
        cx = int(centre + rng.uniform(-0.5, 0.5) * spread[cy, 0])
        m[cy - cw // 2 : cy, max(cx - cw // 2, 0) : cx + cw // 2] = 6
    for _ in range(rng.integers(2, 5)):  # poles on the sidewalk, some with a sign
        px = int(rng.choice([rng.uniform(0.02, 0.2), rng.uniform(0.8, 0.97)]) * w)
        top, bottom = int(hz - rng.uniform(0.1, 0.3) * h), int(hz + rng.uniform(0.1, 0.3) * h)
        m[top:bottom, px : px + int(rng.integers(2, 4))] = 7
        if rng.random() < 0.6:
            s = int(rng.integers(6, 12))
            m[top : top + s, px - s // 2 : px + s // 2 + 2] = 8
    for _ in range(rng.integers(0, 3)):  # people
        cy, cx = rng.uniform(hz + 0.1 * h, h - 12), rng.uniform(8, w - 8)
        m[((yy - cy) / 10) ** 2 + ((xx - cx) / 3.5) ** 2 < 1] = 9
    return m


@dataclass(frozen=True)
class SceneKind:
    """A set of scene classes: their names, how a mask is drawn and how the photo looks."""

    name: str
    classes: tuple[str, ...]
    draw: Callable[[int, int, np.random.Generator], np.ndarray]
    #: mean RGB of each class in the photo (jittered per image by ``jitter``)
    looks: tuple[tuple[int, int, int], ...]
    #: the small objects' classes, ringed by ``"outlines"`` void
    small: tuple[int, ...]
    jitter: float
    #: (sigma, amplitude) of the smooth texture; sd of the pixel noise; sigma of the blur
    texture: tuple[float, float]
    noise: float
    blur: float

    def label_colours(self) -> np.ndarray:
        """(K, 3) uint8: each class's colour in a colour mask (:data:`LABEL_COLOURS`)."""
        return np.array([LABEL_COLOURS[c] for c in self.classes], np.uint8)


STREET = SceneKind(
    "street",
    SCENE_CLASSES,
    street_mask,
    looks=(
        *((150, 180, 215), (95, 95, 100), (150, 120, 100), (60, 120, 50)),
        *((200, 200, 60), (210, 50, 50), (230, 130, 200)),
    ),
    small=(4, 5, 6),
    jitter=12,
    texture=(2.0, 25),
    noise=10,
    blur=0.7,
)
ROAD = SceneKind(
    "road",
    ROAD_CLASSES,
    road_mask,
    looks=(
        *((90, 90, 95), (150, 140, 135), (140, 110, 95), (170, 165, 150), (55, 110, 45)),
        *((150, 185, 220), (40, 60, 140), (120, 120, 120), (230, 200, 40), (200, 80, 110)),
        (120, 150, 70),
    ),
    small=(7, 8, 9),
    jitter=10,
    texture=(1.5, 30),
    noise=8,
    blur=0.8,
)
SCENE_KINDS = {kind.name: kind for kind in (STREET, ROAD)}


def scene_kind(kind: str | SceneKind) -> SceneKind:
    """``kind`` itself, or the kind of that name (``street`` or ``road``)."""
    if isinstance(kind, SceneKind):
        return kind
    if kind not in SCENE_KINDS:
        raise UnetlabError(f"no scene kind {kind!r}: give one of {', '.join(SCENE_KINDS)}")
    return SCENE_KINDS[kind]


def paint(mask: np.ndarray, rng: np.random.Generator, kind: SceneKind = STREET) -> np.ndarray:
    """The photo of ``mask``: each class's look (jittered), texture, noise and a little blur;
    void pixels dark (the hood)."""
    looks = np.array(kind.looks, np.float32)
    looks = looks + rng.normal(0, kind.jitter, looks.shape)
    image = looks[np.where(mask == VOC_VOID, 0, mask)]
    sigma, amplitude = kind.texture
    texture = ndimage.gaussian_filter(rng.normal(0, 1, mask.shape), sigma)
    image += texture[..., None] * amplitude
    image += rng.normal(0, kind.noise, image.shape)
    image = ndimage.gaussian_filter(image, (kind.blur, kind.blur, 0))
    image[mask == VOC_VOID] *= 0.3
    return np.clip(image, 0, 255).astype(np.uint8)


def void_outlines(mask: np.ndarray, classes: tuple[int, ...]) -> np.ndarray:
    """``mask`` with a 1-px ``VOC_VOID`` outline around the pixels of ``classes`` (as VOC
    marks object borders); a new uint8 array."""
    objects = np.isin(mask, classes)
    ring = ndimage.binary_dilation(objects) & ~objects
    return np.where(ring, VOC_VOID, mask).astype(np.uint8)


def void_border(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``mask`` with ``VOC_VOID`` at its left, right and bottom 2-5 px (the frame and the ego
    car's hood, as Cityscapes marks them), in place."""
    border = int(rng.integers(2, 6))
    mask[-border:], mask[:, :border], mask[:, -border:] = VOC_VOID, VOC_VOID, VOC_VOID
    return mask


def synthetic_scene(
    size: int | tuple[int, int],
    rng: np.random.Generator,
    kind: str | SceneKind = STREET,
    void: str | None = None,
):
    """One scene: (image (H, W, 3) uint8, mask (H, W) uint8 class indices of ``kind``'s
    classes, with ``void`` (one of :data:`VOIDS`, or None) drawn as 255)."""
    kind = scene_kind(kind)
    h, w = (size, size) if isinstance(size, int) else size
    if h < 32 or w < 32:
        raise UnetlabError(f"scenes need at least 32x32 px, not {h}x{w}")
    if void is not None and void not in VOIDS:
        raise UnetlabError(f"no void {void!r} in scenes: give one of {', '.join(VOIDS)}")
    mask = kind.draw(h, w, rng)
    if void == "border":
        mask = void_border(mask, rng)
    image = paint(mask, rng, kind)
    if void == "outlines":
        mask = void_outlines(mask, kind.small)
    return image, mask


def write_voc_scenes(
    root: str | os.PathLike,
    *,
    n_train: int = 24,
    n_val: int = 6,
    size: int | tuple[int, int] = 256,
    seed: int = 0,
    void: bool | str | None = True,
    kind: str | SceneKind = STREET,
) -> Path:
    """Write a VOC-layout data set of :func:`synthetic_scene` images under ``root``.

    Names ``scene_NNN``; masks are palette PNGs with the VOC colour map (class index =
    palette index); ``void`` True draws 255 outlines around the small objects (poles, signs
    and people), as does ``"outlines"``; ``"border"`` the frame instead. A ``root`` that
    holds anything is refused (its files are not ours).
    """
    root, kind = Path(root), scene_kind(kind)
    refuse_held(root)
    void = {True: "outlines", False: None}.get(void, void)
    rng = np.random.default_rng(seed)
    colours = voc_colormap(256)
    names = [f"scene_{i:03d}" for i in range(n_train + n_val)]
    for name in names:
        image, mask = synthetic_scene(size, rng, kind, void)
        with atomic_path(root / "JPEGImages" / f"{name}.jpg") as tmp:
            Image.fromarray(image).save(tmp, format="JPEG", quality=95)
        write_png(root / "SegmentationClass" / f"{name}.png", mask, palette=colours)
    split = root / "ImageSets" / "Segmentation"
    for file, part in (("train.txt", names[:n_train]), ("val.txt", names[n_train:])):
        write_lines(split / file, part)
    write_lines(root / NAMES_FILE, kind.classes)
    return root


def refuse_held(root: Path) -> None:
    """One line refusing a ``root`` that holds anything or is a file: its files are not
    ours to replace."""
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        held = "holds files already" if root.is_dir() else "is a file"
        raise OutputError(f"{root} {held}: give a new or empty folder")


def write_lines(path: Path, lines) -> None:
    """Each of ``lines`` and a newline, written atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text("".join(f"{line}\n" for line in lines))


def colour_mask(mask: np.ndarray, kind: SceneKind) -> np.ndarray:
    """(H, W, 3) uint8: ``mask``'s classes in :data:`LABEL_COLOURS`, void black."""
    rgb = np.zeros((*mask.shape, 3), np.uint8)
    keep = mask != VOC_VOID
    rgb[keep] = kind.label_colours()[mask[keep]]
    return rgb


def colour_lines(kind: SceneKind) -> list[str]:
    """``class_colors.txt``'s lines: ``R G B name`` of each class, then black void."""
    rows = zip(kind.label_colours().tolist(), kind.classes, strict=True)
    return [*(f"{r} {g} {b} {name}" for (r, g, b), name in rows), "0 0 0 void"]


def split_parts(n: int) -> list[str]:
    """The folder of each of ``n`` scenes: 1/6 val (at least 1), as many test, the rest train."""
    n_val = max(1, n // 6)
    return ["val"] * n_val + ["test"] * n_val + ["train"] * (n - 2 * n_val)


def write_scene_folders(
    root: str | os.PathLike,
    *,
    n: int = 24,
    size: int | tuple[int, int] = (256, 512),
    seed: int = 0,
    kind: str | SceneKind = ROAD,
    void: str | None = "border",
    colour: bool = False,
) -> np.ndarray:
    """Write ``n`` scenes into ``root``'s ``train/``, ``val/``, ``test/`` (:func:`split_parts`)
    as ``images/NAME_NNN.png`` + ``masks/NAME_NNN.png`` (NAME: the kind's), each file atomically.

    Masks are grey class values with ``class_names.txt``, or with ``colour`` RGB colours with
    ``class_colors.txt``. A ``root`` that holds anything is refused (its files are not ours).
    Returns the pixel count of each mask value (256).
    """
    root, kind = Path(root), scene_kind(kind)
    refuse_held(root)
    rng = np.random.default_rng(seed)
    counts = np.zeros(256, np.int64)
    for i, part in enumerate(split_parts(n)):
        image, mask = synthetic_scene(size, rng, kind, void)
        counts += np.bincount(mask.ravel(), minlength=256)
        name = f"{kind.name}_{i:03d}.png"
        write_png(root / part / "images" / name, image)
        write_png(root / part / "masks" / name, colour_mask(mask, kind) if colour else mask)
    if colour:
        write_lines(root / COLOURS_FILE, colour_lines(kind))
    else:
        write_lines(root / NAMES_FILE, kind.classes)
    return counts
