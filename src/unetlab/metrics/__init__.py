"""Measures of a segmentation against its truth, one module per family.

- :mod:`unetlab.metrics.confusion`: pixel measures from one streaming confusion matrix
  (accuracy, per-class IoU, Dice, precision, recall).
- :mod:`unetlab.metrics.isbi`: the ISBI 2012 challenge's pixel error, Rand and information
  scores.
- :mod:`unetlab.metrics.objects`: instances, the cell-tracking challenge's SEG, object F1.
"""

from unetlab.metrics.confusion import *  # noqa: F403 (its __all__, the package's API)
from unetlab.metrics.confusion import __all__ as __all__
