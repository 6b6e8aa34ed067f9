import json
import shutil

import pytest
import torch
from safetensors.torch import load_file

import autocolor.checkpoint as ckpt
from autocolor.checkpoint import checkpoint_state, latest_checkpoint, save_checkpoint


def _net(value: float) -> torch.nn.Module:
    net = torch.nn.Linear(2, 2)
    torch.nn.init.constant_(net.weight, value)
    return net


def _saved_weight(folder) -> float:
    return load_file(str(folder / "generator.safetensors"))["weight"][0, 0].item()


def test_pruning_goes_by_step_number_not_name(tmp_path):
    root = tmp_path / "checkpoints"
    save_checkpoint(root, 99_999_999, {"generator": _net(1)}, {"step": 99_999_999}, keep=1)
    save_checkpoint(root, 100_000_000, {"generator": _net(2)}, {"step": 100_000_000}, keep=1)
    assert [p.name for p in root.glob("step_*")] == ["step_100000000"]
    assert latest_checkpoint(root).name == "step_100000000"


def test_resaving_a_step_keeps_the_old_one_until_the_new_one_is_in_place(tmp_path, monkeypatch):
    root = tmp_path / "checkpoints"
    first = save_checkpoint(root, 5, {"generator": _net(1)}, {"step": 5})

    def fail(*args, **kwargs):
        raise OSError("disk gone")

    monkeypatch.setattr(ckpt, "publish", fail)
    with pytest.raises(OSError, match="disk gone"):
        save_checkpoint(root, 5, {"generator": _net(2)}, {"step": 5})
    assert _saved_weight(first) == 1.0 and latest_checkpoint(root) == first
    monkeypatch.undo()
    assert _saved_weight(save_checkpoint(root, 5, {"generator": _net(3)}, {"step": 5})) == 3.0
    assert sorted(p.name for p in root.iterdir()) == ["latest", "step_00000005"]  # nothing left behind


def test_latest_falls_back_to_the_highest_complete_step(tmp_path):
    root = tmp_path / "checkpoints"
    for step in (2, 4):
        save_checkpoint(root, step, {"generator": _net(step)}, {"step": step}, keep=5)
    shutil.rmtree(root / "step_00000004")  # as if killed while swapping it in
    assert latest_checkpoint(root).name == "step_00000002"


def test_state_is_tensors_and_plain_values(tmp_path):
    state = {"step": 3, "rng": ckpt.capture_rng(), "config": {"train": {"lr": 1e-4}}}
    path = save_checkpoint(tmp_path, 3, {"generator": _net(1)}, state)
    plain = torch.load(path / "state.pt", weights_only=True)  # no allow-list needed
    assert plain["step"] == 3 and plain["config"] == {"train": {"lr": 1e-4}}


def test_rng_capture_restore_continues_every_generator(tmp_path):
    import random

    import numpy as np

    path = save_checkpoint(tmp_path, 1, {}, {"rng": ckpt.capture_rng()})
    expected = (random.random(), np.random.rand(), torch.rand(1).item())
    ckpt.restore_rng(checkpoint_state(path)["rng"])
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == expected


def test_state_of_version_0_1_0_with_a_numpy_rng_array_still_resumes(tmp_path):
    import numpy as np

    np.random.seed(3)
    legacy = {
        "torch": torch.get_rng_state(),
        "numpy": np.random.get_state(),
        "python": (3, tuple(range(625)), None),
        "cuda": None,
    }
    expected = np.random.rand()
    path = save_checkpoint(tmp_path, 1, {}, {"rng": legacy})
    np.random.seed(0)
    allowed = torch.serialization.get_safe_globals()
    try:
        state = checkpoint_state(path)
    finally:  # the allow-list is process-wide: leave it as it was for the other tests
        torch.serialization.clear_safe_globals()
        torch.serialization.add_safe_globals(allowed)
    ckpt.restore_rng({**state["rng"], "python": ckpt.capture_rng()["python"]})
    assert np.random.rand() == expected


def _generator_folder(tmp_path, tiny_weights, extra: dict):
    folder = tmp_path / "g"
    shutil.copytree(tiny_weights, folder)
    cfg = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**cfg, **extra}))
    return folder


@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_a_setting_from_a_newer_version_is_one_clear_error(tmp_path, tiny_weights, backend):
    """One policy for settings this version does not know, whichever way the folder is read: an error naming
    them, the version that wrote them and the fix."""
    from autocolor.pipeline import Colorizer

    folder = _generator_folder(tmp_path, tiny_weights, {"tile_overlap": 16, "autocolor_version": "9.0"})
    if backend == "onnx":
        pytest.importorskip("onnx")
        from autocolor.onnx_export import export_onnx

        export_onnx(tiny_weights, tmp_path / "onnx")
        (tmp_path / "onnx" / "config.json").write_text((folder / "config.json").read_text())
        folder = tmp_path / "onnx"
    with pytest.raises(ValueError, match=r"tile_overlap were written by autocolor 9\.0 .* upgrade autocolor"):
        Colorizer.from_pretrained(folder, backend=backend)
