import re
from pathlib import Path

import torch

from autocolor.config import Config, tomllib
from autocolor.pix2pix import Pix2PixStep
from autocolor.runtime import seed_everything

ROOT = Path(__file__).resolve().parents[1]
CPU = torch.device("cpu")


def _tiny() -> Config:
    return Config.load(ROOT / "configs" / "tiny.toml", ["train.pretrain_steps=1", "train.ema_decay=0.5"])


def _batch(seed: int) -> torch.Tensor:
    return torch.randint(
        0, 256, (2, 64, 64, 3), dtype=torch.uint8, generator=torch.Generator().manual_seed(seed)
    )


def test_declared_torch_floor_runs_fused_adam_on_cpu():
    """The step builds fused Adam, which PyTorch runs on CPU from 2.4 on: pyproject's training extra must not
    promise less."""
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["train"]
    (torch_req,) = [d for d in deps if re.match(r"torch\b", d)]
    floor = tuple(int(x) for x in re.search(r">=\s*([\d.]+)", torch_req).group(1).split(".")[:2])
    assert floor >= (2, 4)
    assert Pix2PixStep(_tiny(), CPU).opt_g.defaults["fused"]


def test_state_dict_carries_the_step_over():
    """Two steps straight == one step, then a fresh object loaded with weights and state_dict, then one more."""
    seed_everything(0)
    straight = Pix2PixStep(_tiny(), CPU)
    seed_everything(0)
    first = Pix2PixStep(_tiny(), CPU)
    for step in (straight, first):
        step.train_step(_batch(1))
    second = Pix2PixStep(_tiny(), CPU)
    for name, model in second.models().items():
        model.load_state_dict(first.models()[name].state_dict())
    second.load_state_dict(first.state_dict())
    logs = [s.train_step(_batch(2)) for s in (straight, second)]
    assert "loss_d" in logs[0] and logs[0] == logs[1] and second.step == 2
    for k, v in straight.exported().state_dict().items():
        assert torch.equal(v, second.exported().state_dict()[k]), k


def test_generator_input_is_what_the_generator_sees():
    step = Pix2PixStep(_tiny(), CPU)
    L, ab = step.prepare_batch(_batch(3))
    x = step.generator_input(L, ab, [0, 1])
    assert x.shape[1] == step.G.input_channels and L.min() >= -1 and L.max() <= 1
