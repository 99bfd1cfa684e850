"""Write a synthetic road-scene data set as a user of street segmentation would bring it.

Eleven classes of very unequal frequency (road, sidewalk, building, wall, vegetation, sky,
car, pole, sign, person, terrain) on RGB images of 256x512, with grey PNG masks of class
values 0..10 and 255 (void) at the image borders, in train/, val/ and test/ folders of
images/ + masks/, and ``class_names.txt``. With ``--color`` the masks are RGB colours and a
``class_colors.txt`` table (``R G B name``) is written instead of the names. Both train as
they are (``unetlab train --data ROOT``: the plan reads the grey masks' 255 as void beside
the 11 names, the table's black is named void). A command over
``unetlab.data.scenes.write_scene_folders`` (kind ``road``, void ``border``).

    python3 bench/road_scenes.py /tmp/audit/roads [--color] [--n 24] [--size 256 512]
"""

from __future__ import annotations

from pathlib import Path

from unetlab.cli.parser import Parser
from unetlab.data.scenes import ROAD, write_scene_folders
from unetlab.errors import UnetlabError


def main(argv: list[str] | None = None) -> None:
    """Command line: write the set, then print each class's share of the pixels."""
    p = Parser(description=__doc__.splitlines()[0])
    p.add_argument("root", type=Path)
    p.add_argument("--n", type=int, default=24)
    p.add_argument("--size", type=int, nargs=2, default=(256, 512))
    p.add_argument("--color", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    try:
        counts = write_scene_folders(
            a.root, n=a.n, size=tuple(a.size), seed=a.seed, kind=ROAD, colour=a.color
        )
    except UnetlabError as e:
        raise SystemExit(f"road_scenes.py: {e}") from None
    share = counts / counts.sum()
    print(" ".join(f"{c}={s:.2%}" for c, s in zip(ROAD.classes, share, strict=False)))
    print(f"void={share[255]:.2%}")


if __name__ == "__main__":
    main()
