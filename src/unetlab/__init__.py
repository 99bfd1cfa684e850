"""unetlab: U-Net semantic segmentation, as the paper built it, as easy as a demo.

The public API, for notebooks and scripts::

    from unetlab import UNet, load_model, save_model, summarize
    model = UNet.from_preset("paper")          # 31,030,658 parameters, 572 -> 388
    model.output_size(572), model.border, model.receptive_field   # 388, 92, 185
"""

__version__ = "0.1.0"

from unetlab.checkpoint import load_checkpoint, load_model, save_model  # noqa: E402
from unetlab.errors import CheckpointError, DatasetError, ImageReadError, UnetlabError  # noqa: E402
from unetlab.models import PRESETS, UNet, UNetConfig  # noqa: E402
from unetlab.summary import summarize  # noqa: E402

__all__ = [
    "PRESETS",
    "CheckpointError",
    "DatasetError",
    "ImageReadError",
    "UNet",
    "UNetConfig",
    "UnetlabError",
    "__version__",
    "load_checkpoint",
    "load_model",
    "save_model",
    "summarize",
]
