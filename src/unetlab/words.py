"""How messages word counts and numbers: one helper for every module (it imports nothing of
ours)."""


def numbered(count: int, noun: str, nouns: str | None = None) -> str:
    """``count`` and ``noun``, plural (``nouns``, default ``noun`` + "s") but for one:
    "1 step", "2 steps", "0 files", "3 classes"."""
    return f"{count} {worded(count, noun, nouns)}"


def worded(count: int, noun: str, nouns: str | None = None) -> str:
    """``noun`` for one of it, else ``nouns`` (default ``noun`` + "s"), without the count:
    for lines that list the things instead ("mask value 7 is", "mask values 7 9 are")."""
    return noun if count == 1 else nouns or noun + "s"


def first_listed(values, most: int = 6) -> str:
    """The first ``most`` of ``values``, then how many more: "1, 2, 3 and 4 more"."""
    shown = ", ".join(str(v) for v in values[:most])
    return shown + (f" and {len(values) - most} more" if len(values) > most else "")


def spaced(values, most: int | None = None) -> str:
    """``values`` as the command line types them: "0 255"; beyond the first ``most``, " ..."."""
    values = list(values)
    shown = values if most is None else values[:most]
    return " ".join(map(str, shown)) + " ..." * (len(shown) < len(values))


def twelve_digits(value: float) -> float:
    """``value`` to 12 significant digits, a unit conversion's float noise dropped (a pixel
    size of 0.1 * 3 um is 0.3, not 0.30000000000000004), as tables and records show it."""
    return float(f"{value:.12g}")
