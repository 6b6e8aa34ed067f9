"""Colour from a reference photo: match the gray photo to a colour photo the user chose, and turn the confident
matches into dense colour hints (numpy only; after He et al. 2018, "Deep Exemplar-based Colorization").

    reference photo -> its own gray (the network's input) -> encoder features at stride 8 (ColorNet.match_features)
    gray photo      -> the same features, from the same forward pass that predicts its colour
    each target cell (8 x 8 render pixels) -> the reference cell most like it (cosine similarity) and how sure:
        cell weight = clip((similarity - LOW) / (HIGH - LOW), 0, 1)
    each target pixel -> the pixel at the same place in its matched cell, and its colour (ab), weighted by the
        cell's weight and by how well the lightness agrees (a match of sky to a bright wall is dropped)
    -> a hint raster (ab, weight) at render size, spread over the photo along its lightness like the user's
       hints (propagate.py), so colour stays inside the regions that matched

`Match.confidence` is the share of the photo that found a match. Below MIN_CONFIDENCE the reference is not
used and the photo keeps its automatic colour: a beach does not paint a forest sand-coloured.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .propagate import propagate_hints

GRID = 8  # render pixels per feature cell (ColorNet.MATCH_STRIDE)
LOW, HIGH = 0.55, 0.8  # similarity at which a cell's weight starts to grow, and where it is full
LIGHTNESS_SIGMA = 10.0  # Lab L units: a pixel whose lightness differs from its match's by this keeps 61%
MIN_CONFIDENCE = 0.25  # share of the photo that must match for the reference to be used
SIGMA_S, SIGMA_R, REACH = 30.0, 10.0, 0.5  # how matched colour spreads (see propagate.propagate_hints)
# LOW, HIGH, MIN_CONFIDENCE and the spread were chosen on the selection split of the training photos
# (scripts/tune_reference.py): crop pairs gained most while no random pair passed MIN_CONFIDENCE


@dataclass
class Reference:
    """A reference photo ready for matching, at render size (hr, wr): features (C, gh, gw) from the network's
    encoder, lightness L (hr, wr) in Lab units and colour ab (2, hr, wr) in the network's scale (Lab ab / 110)."""

    features: np.ndarray
    L: np.ndarray
    ab: np.ndarray
    path: str | None = None


@dataclass
class Match:
    """What a photo took from a reference: a hint raster (3, h, w) (ab in the network's scale, weight in
    [0, 1]) at the photo's render size, the share of the photo matched (`confidence`), and whether it is used."""

    raster: np.ndarray
    confidence: float
    used: bool

    @property
    def weight(self) -> np.ndarray:
        """(h, w) float32 in [0, 1]: how much each pixel took its colour from the reference (for an overlay)."""
        return self.raster[2] if self.used else np.zeros_like(self.raster[2])


def cells(shape: tuple[int, int]) -> tuple[int, int]:
    """Feature cells covering an (h, w) render (the network's padding adds cells past the photo: not used)."""
    return -(-shape[0] // GRID), -(-shape[1] // GRID)


def match(reference: Reference, features: np.ndarray, L: np.ndarray) -> Match:
    """The photo's features (C, >= gh, >= gw) and lightness L (h, w) in Lab units -> its Match with `reference`."""
    h, w = L.shape
    gh, gw = cells((h, w))
    target = features[:, :gh, :gw].reshape(features.shape[0], -1).T  # (N, C)
    ref = reference.features.reshape(reference.features.shape[0], -1)  # (C, M)
    similarity = target @ ref
    best = similarity.argmax(axis=1)
    cell_weight = np.clip((similarity[np.arange(len(best)), best] - LOW) / (HIGH - LOW), 0.0, 1.0)

    # each pixel reads the pixel at the same offset inside its matched reference cell
    rgw = reference.features.shape[2]
    ys, xs = np.arange(h), np.arange(w)
    cell = (ys[:, None] // GRID) * gw + xs[None, :] // GRID  # (h, w) target cell index
    src = best[cell]
    hr, wr = reference.L.shape
    ry = np.minimum((src // rgw) * GRID + ys[:, None] % GRID, hr - 1)
    rx = np.minimum((src % rgw) * GRID + xs[None, :] % GRID, wr - 1)
    agree = np.exp(-0.5 * ((L - reference.L[ry, rx]) / LIGHTNESS_SIGMA) ** 2)
    weight = (cell_weight[cell] * agree).astype(np.float32)
    raster = np.concatenate([reference.ab[:, ry, rx], weight[None]]).astype(np.float32)
    confidence = float(weight.mean())
    return Match(raster, confidence, enough(confidence))


def enough(confidence: float) -> bool:
    """Whether a photo that matched `confidence` of itself takes the reference's colours (MIN_CONFIDENCE)."""
    return confidence >= MIN_CONFIDENCE


def take_colours(ab: np.ndarray, L: np.ndarray, found: Match) -> np.ndarray:
    """The network's ab (2, h, w) with the colours of a used Match spread along the lightness L (h, w)."""
    if not found.used:
        return ab
    return propagate_hints(ab, L, found.raster, SIGMA_S, SIGMA_R, REACH)
