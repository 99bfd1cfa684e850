"""A module imported at its first use, not at its importer's: ``ndimage =
deferred("scipy.ndimage")`` then ``ndimage.label(...)``. scipy's ``ndimage``, ``sparse`` and
``csgraph`` (and scikit-image's parts that import them) take 0.3 s of a command's start, after
torch's 1.1 s, and a semantic ``unetlab predict`` calls none of them: the modules on its path
(objects, outlines, fingerprint, rescale, ...) name them this way, so that they load only
where a function of theirs runs."""

from __future__ import annotations

import importlib
import threading

#: one first import at a time: two threads' first uses of two stand-ins imported scipy's
#: parts at once and met its partly initialised modules (ImportError, KeyError 'scipy': s59
#: review G); re-entrant, as an import may read another stand-in
_IMPORTING = threading.RLock()


class _Deferred:
    """Stands for the module ``_name``: a class attribute (see :func:`deferred`), read from
    the class, as the instance's dict becomes the module's (which may hold a ``_name``)."""

    _name: str

    def __getattr__(self, attribute: str):
        if attribute.startswith("__"):  # copy, pickle and doctest probe these: not the module's
            raise AttributeError(attribute)
        with _IMPORTING:
            module = importlib.import_module(type(self)._name)
        # later reads find the module's own attributes in its own dict, as fast as a module's
        # and as they are then (a test's monkeypatch.setattr(ndimage, ...) is seen)
        self.__dict__ = module.__dict__
        return getattr(module, attribute)  # also a name the module's own __getattr__ gives

    def __repr__(self) -> str:
        return f"<module {type(self)._name!r}, imported at its first use>"


def deferred(name: str) -> _Deferred:
    """The module ``name`` (dotted, as for ``import``), imported when an attribute of it is
    first read."""
    return type("_Deferred", (_Deferred,), {"_name": name})()
