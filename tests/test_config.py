import pytest

from autocolor.config import Config


@pytest.mark.parametrize(
    "override, message",
    [
        ("train.steps=0", "train.steps must be at least 1, got 0"),
        ("train.steps=-5", "train.steps must be at least 1, got -5"),
        ("train.lr=fast", "train.lr expects a number, got 'fast'"),
        ("train.steps=2.5", "train.steps expects an integer, got 2.5"),
        ("train.flip=1", "train.flip expects true or false, got 1"),
        ("train.batch_size=0", "train.batch_size must be at least 1"),
        ("train.ema_decay=1.5", "train.ema_decay must be in [0, 1)"),
        ("train.device=3", "train.device expects a string, got 3"),
    ],
)
def test_bad_values_are_clear_errors(override, message):
    with pytest.raises(ValueError) as e:
        Config.load(None, [override])
    assert message in str(e.value)


def test_values_of_the_declared_type_are_taken():
    cfg = Config.load(None, ["train.lr=1", "train.decay_steps=10", "train.lr_d=1e-3", "train.device=cuda"])
    assert cfg.train.lr == 1.0 and isinstance(cfg.train.lr, float)
    assert cfg.train.decay_steps == 10 and cfg.train.lr_d == 1e-3 and cfg.train.device == "cuda"


def test_saved_config_round_trips_with_none_values():
    cfg = Config.load(None, ["train.steps=7"])
    assert cfg.train.decay_steps is None
    assert Config.from_dict(cfg.to_dict()) == cfg
