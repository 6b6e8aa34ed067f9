import numpy as np
import pytest
import torch

from autocolor.hint_sim import hint_rng, sample_patches, simulate_hints


def test_hint_count_is_geometric_with_p_one_eighth():
    counts = np.array([len(sample_patches(hint_rng(seed), 64, 64)) for seed in range(4000)])
    assert abs(counts.mean() - 7.0) < 0.5  # (1 - p) / p
    assert abs((counts == 0).mean() - 1 / 8) < 0.02


def test_patches_are_squares_of_1_to_9_px_around_the_centre_inside_the_image():
    patches = [p for seed in range(300) for p in sample_patches(hint_rng(seed), 40, 100)]
    sides = {side for _, _, side in patches}
    assert sides == set(range(1, 10))
    assert all(0 <= t <= 40 - s and 0 <= left <= 100 - s for t, left, s in patches)
    tops = np.array([t + s / 2 for t, _, s in patches])
    assert abs(np.median(tops) - 20) < 2 and np.std(tops) < 40 / 3  # Gaussian around the centre, clipped


def test_hint_values_are_the_patch_mean_and_the_mask_marks_them():
    torch.manual_seed(0)
    ab = torch.rand(2, 2, 32, 48) * 2 - 1
    hints = simulate_hints(ab, [5, 6], count=3)
    for i, seed in enumerate([5, 6]):
        mask = torch.zeros(32, 48)
        expect = torch.zeros(2, 32, 48)
        for top, left, side in sample_patches(hint_rng(seed), 32, 48, count=3):
            window = (slice(top, top + side), slice(left, left + side))
            expect[:, window[0], window[1]] = ab[i, :, window[0], window[1]].mean(dim=(1, 2), keepdim=True)
            mask[window] = 1
        torch.testing.assert_close(hints[i, :2], expect)
        assert torch.equal(hints[i, 2], mask) and 1 <= mask.sum() <= 3 * 81


def test_same_seed_same_hints_other_seed_other_hints():
    ab = torch.rand(1, 2, 32, 32)
    assert torch.equal(simulate_hints(ab, [3]), simulate_hints(ab, [3]))
    assert not torch.equal(simulate_hints(ab, [3], count=5), simulate_hints(ab, [4], count=5))
    assert simulate_hints(ab, [3], count=0).abs().sum() == 0


def test_one_seed_per_sample():
    with pytest.raises(ValueError, match="seeds"):
        simulate_hints(torch.zeros(2, 2, 8, 8), [1])
