import numpy as np
import torch

from autocolor.checkpoint import load_pretrained
from autocolor.io import load_image
from autocolor.metrics import colorfulness, psnr, score
from autocolor.pipeline import Colorizer
from autocolor.validation import validate, validation_photos


def test_validation_scores_what_the_colorizer_gives_users(photo_dir, tiny_weights):
    """Whole photos through Colorizer.colorize (its render size, chroma gain and colour path), not crops."""
    model = load_pretrained(tiny_weights).train()
    model.config.chroma_gain = 1.7  # a colorizing default users get, so validation must apply it too
    photos = validation_photos(photo_dir, limit=2)
    result, grid = validate(model, photos, torch.device("cpu"))
    assert model.training  # left as it was

    colorizer = Colorizer.from_model(model)
    truths = [load_image(p.path).rgb for p in photos]
    outs = [np.asarray(colorizer.colorize(p.path)) for p in photos]
    assert all(o.shape == t.shape for o, t in zip(outs, truths, strict=True))  # full size, not crops
    assert result["psnr"] == np.mean([psnr(o, t) for o, t in zip(outs, truths, strict=True)])
    assert result["colorfulness"] == np.mean([colorfulness(o) for o in outs])
    assert result["score"] == score(result)
    side = model.config.render_size
    assert grid.shape == (2 * side, 3 * side, 3) and grid.dtype == np.uint8
