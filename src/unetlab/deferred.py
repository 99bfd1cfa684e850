"""A module imported at its first use, not at its importer's: ``ndimage =
deferred("scipy.ndimage")`` then ``ndimage.label(...)``. scipy's ``ndimage``, ``sparse`` and
``csgraph`` (and scikit-image's parts that import them) take 0.3 s of a command's start, after
torch's 1.1 s, and a semantic ``unetlab predict`` calls none of them: the modules on its path
(objects, outlines, fingerprint, rescale, ...) name them this way, so that they load only
where a function of theirs runs."""

from __future__ import annotations

import importlib
import threading
import types

#: one first import at a time: two threads' first uses of two stand-ins imported scipy's
#: parts at once and met its partly initialised modules (ImportError, KeyError 'scipy': s59
#: review G); re-entrant, as an import may read another stand-in
_IMPORTING = threading.RLock()

#: a module's own dunders that a stand-in answers as the module does, importing it (the rest
#: raise AttributeError unimported); ``__doc__`` is the stand-in's own until the first use
_MODULE_DUNDERS = frozenset(
    ("__version__", "__all__", "__file__", "__path__", "__spec__", "__name__", "__package__")
)


class _Deferred:
    """Stands for the module ``_name``: a class attribute (see :func:`deferred`), read from
    the class, as the instance's dict becomes the module's (which may hold a ``_name``)."""

    _name: str

    def __getattr__(self, attribute: str):
        # copy, pickle and doctest probe other dunders (__deepcopy__, __wrapped__): not the
        # module's, and not worth its import
        if attribute.startswith("__") and attribute not in _MODULE_DUNDERS:
            raise AttributeError(attribute)
        return getattr(_imported(self), attribute)  # also a name the module's __getattr__ gives

    def __dir__(self) -> list[str]:
        return dir(_imported(self))

    def __repr__(self) -> str:
        return f"<module {type(self)._name!r}, imported at its first use>"


def _imported(stand_in: _Deferred) -> types.ModuleType:
    """The module ``stand_in`` stands for, imported now where it was not; later reads find
    its own attributes in the stand-in's dict, as fast as a module's and as they are then (a
    test's ``monkeypatch.setattr(ndimage, ...)`` is seen). A function, not a method: the
    stand-in's dict, the module's, may hold any name."""
    with _IMPORTING:
        module = importlib.import_module(type(stand_in)._name)
    stand_in.__dict__ = module.__dict__
    return module


def deferred(name: str) -> _Deferred:
    """The module ``name`` (dotted, as for ``import``), imported when an attribute of it is
    first read."""
    return type("_Deferred", (_Deferred,), {"_name": name})()
