"""Image quality metrics on uint8 RGB arrays (H, W, 3): PSNR, SSIM and CIEDE2000 from scikit-image,
colourfulness (Hasler and Susstrunk 2003) and the ab-error AuC of Zhang et al. (2016)."""

from __future__ import annotations

import numpy as np


def psnr(pred: np.ndarray, truth: np.ndarray) -> float:
    """PSNR in dB on 0-255 RGB; identical images give +inf."""
    from skimage.metrics import peak_signal_noise_ratio

    if np.array_equal(pred, truth):
        return float("inf")
    return float(peak_signal_noise_ratio(truth, pred, data_range=255))


def colorfulness(rgb: np.ndarray) -> float:
    """Hasler and Susstrunk's colourfulness M = sigma_rgyb + 0.3 mu_rgyb on 0-255 RGB (gray = 0)."""
    r, g, b = (rgb[..., i].astype(np.float64) for i in range(3))
    rg, yb = r - g, 0.5 * (r + g) - b
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))
