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


def ssim(pred: np.ndarray, truth: np.ndarray) -> float:
    """Mean SSIM over the RGB channels (scikit-image, data range 255)."""
    from skimage.metrics import structural_similarity

    win = min(7, *truth.shape[:2])
    win -= 1 - win % 2  # odd
    return float(structural_similarity(truth, pred, channel_axis=2, data_range=255, win_size=max(win, 1)))


def _lab(rgb: np.ndarray) -> np.ndarray:
    from skimage.color import rgb2lab

    return rgb2lab(rgb)


def ciede2000(pred: np.ndarray, truth: np.ndarray) -> float:
    """Mean CIEDE2000 colour difference (scikit-image)."""
    return _ciede2000_lab(_lab(pred), _lab(truth))


def _ciede2000_lab(pred_lab: np.ndarray, truth_lab: np.ndarray) -> float:
    from skimage.color import deltaE_ciede2000

    return float(deltaE_ciede2000(truth_lab, pred_lab).mean())


AUC_THRESHOLDS = np.arange(0, 151)


def ab_auc(pred: np.ndarray, truth: np.ndarray) -> float:
    """Area under the curve of 'fraction of pixels whose ab error (L2 in ab) is within t', t = 0..150,
    normalised to [0, 1] (Zhang et al. 2016). A perfect prediction scores 1."""
    return _ab_auc_lab(_lab(pred), _lab(truth))


def _ab_auc_lab(pred_lab: np.ndarray, truth_lab: np.ndarray) -> float:
    err = np.hypot(*(pred_lab[..., 1:] - truth_lab[..., 1:]).transpose(2, 0, 1)).ravel()
    err.sort()
    within = np.searchsorted(err, AUC_THRESHOLDS, side="right") / err.size
    return float(within.mean())


def all_metrics(pred: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Every metric of one prediction against its truth (both (H, W, 3) uint8); Lab is computed once."""
    pred_lab, truth_lab = _lab(pred), _lab(truth)
    return {
        "psnr": psnr(pred, truth),
        "ssim": ssim(pred, truth),
        "ciede2000": _ciede2000_lab(pred_lab, truth_lab),
        "colorfulness": colorfulness(pred),
        "colorfulness_truth": colorfulness(truth),
        "auc": _ab_auc_lab(pred_lab, truth_lab),
    }


def score(val: dict[str, float]) -> float:
    """How training picks `best/` (and scripts/calibrate_chroma.py its gain): PSNR plus a reward for
    colourfulness up to that of the real photos, so a dull model cannot win on PSNR alone and an
    over-saturated one gains nothing past the truth. `val` needs "psnr" and "colorfulness_ratio"."""
    return val["psnr"] + 5.0 * min(val["colorfulness_ratio"], 1.0)
