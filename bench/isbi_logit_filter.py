"""Can a learned correction of the net's output do more than the label offset's move?

On a finished ISBI run's own validation slices (the split recomputed from its ``config.yaml``;
no other slices are read): the membrane logit of the TTA probabilities (8 dihedral
transforms, the checkpoint's label offset set aside), then a logistic regression on its
K x K neighbourhood (and, with ``--image``, the normalised image's), fitted leave one slice
out on the others. Prints the pooled membrane IoU of the argmax, of the fitted filter, and of
the predictions moved by ``--offset`` (the run's label offset, for comparison).

    python bench/isbi_logit_filter.py --run RUN [--size 5] [--image] [--offset -0.5 -0.25]
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage

from unetlab.checkpoint import load_checkpoint, model_from_checkpoint
from unetlab.cli.parser import Parser
from unetlab.config import load_config
from unetlab.inference.predict import predict_image
from unetlab.inference.tiling import TTA_TRANSFORMS
from unetlab.train import prepare_data


def membrane_logits(run: str) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """(logits, truths, images) of the run's validation slices; membrane = class 0."""
    data = prepare_data(load_config(f"{run}/config.yaml"))
    model = model_from_checkpoint(load_checkpoint(f"{run}/checkpoints/best.pt")).eval()
    model.label_offset = (0.0, 0.0)
    logits, truths, images = [], [], []
    for sample in data.val:
        image = sample.image[0]  # (H, W): ISBI is grey
        p = predict_image(model, image, tta=list(TTA_TRANSFORMS), precision="bf16")
        membrane = np.clip(p[0], 1e-4, 1 - 1e-4)
        logits.append(np.log(membrane / (1 - membrane)))
        truths.append(sample.mask == 0)
        images.append(image)
    return logits, truths, images


def neighbourhoods(logit: np.ndarray, image: np.ndarray | None, size: int) -> torch.Tensor:
    """(H*W, C*size*size) features: each pixel's size x size neighbourhood (edges repeated)."""
    planes = [logit] if image is None else [logit, image]
    x = torch.from_numpy(np.stack(planes)).float()[None]
    x = F.pad(x, (size // 2,) * 4, mode="replicate")
    return F.unfold(x, size)[0].T


def fit_filter(features: torch.Tensor, truth: torch.Tensor, size: int) -> torch.nn.Linear:
    """Logistic regression, started at the identity (the centre logit, weight 1)."""
    linear = torch.nn.Linear(features.shape[1], 1)
    with torch.no_grad():
        linear.weight.zero_()
        linear.weight[0, size * size // 2] = 1.0
        linear.bias.zero_()
    optimiser = torch.optim.LBFGS(linear.parameters(), max_iter=200, line_search_fn="strong_wolfe")

    def closure():
        optimiser.zero_grad()
        loss = F.binary_cross_entropy_with_logits(linear(features)[:, 0], truth)
        loss.backward()
        return loss

    optimiser.step(closure)
    return linear


def pooled_iou(predictions, truths) -> float:
    inter = sum(int((p & t).sum()) for p, t in zip(predictions, truths))
    union = sum(int((p | t).sum()) for p, t in zip(predictions, truths))
    return inter / union


def main() -> None:
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True)
    parser.add_argument("--size", type=int, default=5)
    parser.add_argument("--image", action="store_true", help="the image's neighbourhood too")
    parser.add_argument("--offset", type=float, nargs=2, default=(-0.5, -0.25))
    args = parser.parse_args()
    torch.set_num_threads(1)
    logits, truths, images = membrane_logits(args.run)
    feats = [
        neighbourhoods(lg, im if args.image else None, args.size) for lg, im in zip(logits, images)
    ]
    fitted = []
    for k in range(len(logits)):
        rest = [i for i in range(len(logits)) if i != k]
        truth = torch.cat([torch.from_numpy(truths[i].ravel()).float() for i in rest])
        linear = fit_filter(torch.cat([feats[i] for i in rest]), truth, args.size)
        with torch.no_grad():
            fitted.append(linear(feats[k])[:, 0].reshape(logits[k].shape).numpy() > 0)
    moved = [ndimage.shift(lg, args.offset, order=1, mode="nearest") > 0 for lg in logits]
    print(f"validation slices: {len(logits)}")
    print(f"argmax, unmoved:           {pooled_iou([lg > 0 for lg in logits], truths):.4f}")
    print(f"{args.size}x{args.size} filter, leave one out: {pooled_iou(fitted, truths):.4f}")
    print(f"moved {tuple(args.offset)}:     {pooled_iou(moved, truths):.4f}")


if __name__ == "__main__":
    main()
