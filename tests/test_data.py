import numpy as np
import pytest
import torch
from conftest import colourful
from PIL import Image
from torch.utils.data import DataLoader

from autocolor.color import gray_uint8
from autocolor.data import EpochSampler, PhotoDataset, find_photos
from autocolor.prepare import combine


def test_scan_skips_gray_and_broken(photo_dir):
    Image.fromarray(gray_uint8(colourful(40, 40, 9))).save(photo_dir / "gray.jpg", quality=95)
    found = find_photos(photo_dir)
    assert sorted(p.name for p in found.photos) == ["a.jpg", "b.png", "c.jpg"]
    assert [p.name for p in found.gray] == ["gray.jpg"]
    assert [p.name for p, _ in found.bad] == ["broken.jpg"]


def test_random_crops_are_deterministic_per_seed(photo_dir, capsys):
    ds = PhotoDataset(photo_dir, 32, scale_min=1.0, scale_max=1.5)
    assert "broken.jpg" in capsys.readouterr().err
    assert len(ds) == 3 and ds.skipped_bad == 1
    a, b, c = ds[(0, 1)], ds[(0, 1)], ds[(0, 2)]
    assert a["rgb"].shape == (32, 32, 3) and a["rgb"].dtype == torch.uint8
    assert torch.equal(a["rgb"], b["rgb"]) and not torch.equal(a["rgb"], c["rgb"])


def test_validation_crop_is_centred_and_fixed(tmp_path):
    """A 32x64 photo, red | green | blue | yellow in quarters: the centre 32x32 crop is green | blue, and the
    seed that moves training crops changes nothing."""
    quarters = [(220, 30, 30), (30, 200, 30), (30, 30, 220), (230, 220, 30)]
    photo = np.concatenate([np.full((32, 16, 3), c, np.uint8) for c in quarters], axis=1)
    Image.fromarray(photo).save(tmp_path / "q.png")
    ds = PhotoDataset(tmp_path, 32, train=False, verbose=False)
    crop = ds[0]["rgb"].numpy()
    assert np.array_equal(crop, photo[:, 16:48])
    assert torch.equal(ds[(0, 1)]["rgb"], ds[(0, 2)]["rgb"])


def test_cache_gives_the_same_samples(photo_dir):
    plain = PhotoDataset(photo_dir, 32, verbose=False)
    cached = PhotoDataset(photo_dir, 32, cache=True, verbose=False)
    assert torch.equal(plain[(1, 5)]["rgb"], cached[(1, 5)]["rgb"])


def test_file_broken_after_scan_is_replaced_not_fatal(photo_dir, capsys):
    ds = PhotoDataset(photo_dir, 32, verbose=False)
    ds.paths[0].write_bytes(b"gone bad")
    item = ds[(0, 3)]
    assert item["index"] == 1 and "a.jpg" in capsys.readouterr().err


def test_pairs_are_detected_and_give_their_colour_half(photo_dir, tmp_path):
    pairs = tmp_path / "pairs"
    combine(photo_dir, pairs, size=32, fmt="png", workers=1)
    ds = PhotoDataset(pairs, 32, train=False, verbose=False)
    assert all(ds.pairs) and len(ds) == 3
    pair = np.asarray(Image.open(ds.paths[0]))
    assert np.abs(ds[0]["rgb"].numpy().astype(int) - pair[:, 32:]).mean() < 1


def test_only_gray_photos_is_a_clear_error(tmp_path):
    Image.fromarray(np.full((40, 40, 3), 90, np.uint8)).save(tmp_path / "g.png")
    with pytest.raises(ValueError, match="no usable colour photos"):
        PhotoDataset(tmp_path, 32)


def test_sampler_epochs_resume_and_shard():
    s = EpochSampler(10, seed=3)
    full = list(s)
    assert sorted(i for i, _ in full) == list(range(10))
    s.start = 4
    assert list(s) == full[4:]
    s.epoch, s.start = 1, 0
    assert [i for i, _ in s] != [i for i, _ in full]
    shards = [list(EpochSampler(10, seed=3, rank=r, world_size=3)) for r in range(3)]
    assert all(len(x) == 4 for x in shards)
    assert set(i for sh in shards for i, _ in sh) == set(range(10))


def test_loader_batches_identical_with_and_without_workers(photo_dir):
    ds = PhotoDataset(photo_dir, 32, verbose=False)

    def batches(workers):
        loader = DataLoader(ds, batch_size=2, sampler=EpochSampler(len(ds), seed=1), num_workers=workers)
        return [b["rgb"] for b in loader]

    for x, y in zip(batches(0), batches(2), strict=True):
        assert torch.equal(x, y)
