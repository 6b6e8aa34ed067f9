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


def test_every_string_choice_has_one_list_that_the_code_and_the_cli_share():
    from autocolor import config, losses, precision
    from autocolor.cli import build_parser
    from autocolor.models.norm import NORMS

    assert set(NORMS) == set(config.NORMS) and tuple(losses.GAN_MODES) == config.GAN_MODES
    assert set(losses.RECON_LOSSES) == set(config.RECON_LOSSES) and set(precision.PRECISIONS) == set(
        config.PRECISIONS
    )
    actions = {a.dest: a for a in build_parser()._subparsers._group_actions[0].choices["colorize"]._actions}
    assert actions["device"].choices == config.DEVICES and actions["precision"].choices == config.PRECISIONS
    assert actions["backend"].choices == config.BACKENDS


@pytest.mark.parametrize(
    "key, value",
    [("train.gan_mode", "wgan"), ("generator.upsample", "pixelshuffle"), ("train.device", "tpu")],
)
def test_a_typo_in_a_choice_fails_when_the_config_is_read(key, value):
    with pytest.raises(ValueError, match=f"{key} must be one of .*, got '{value}'"):
        Config.load(None, [f"{key}={value}"])
