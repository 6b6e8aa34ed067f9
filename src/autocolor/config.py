"""Model and training configuration: dataclasses; TOML in, JSON/TOML out; `--set key=value` overrides.

Precedence: dataclass defaults < TOML file < `--set section.key=value`. The resolved config is written into
the run directory, and the generator's own config is saved beside its weights (config.json).
"""

from __future__ import annotations

import dataclasses
import json
import math
import sys
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


# the network's long side, everywhere it can be set: at 1024 it needs ~0.6 GB; 2048, 2.3 GB
RENDER_SIZES = (16, 1024)


def check_render_size(size: object) -> int:
    """`size` if it is a whole number in RENDER_SIZES' range, else a ValueError saying so."""
    low, high = RENDER_SIZES
    if isinstance(size, bool) or not hasattr(size, "__index__") or not low <= size <= high:
        raise ValueError(f"render size must be a whole number from {low} to {high}, got {size!r}")
    return int(size)


VIVIDNESS_RANGE = (0.0, 1.0)
# vividness 0 -> temperature 5 (past the mean: muted), 1 -> 0.5. Below about 0.5 the bundled model's colour
# stops getting stronger (its class distributions are already peaked there; measured on examples/ and val).
VIVIDNESS_T0 = 5.0


def vividness_to_temperature(vividness: float) -> float:
    """The user's colour strength -> the annealed-mean temperature of a colour-class model,
    T = 5 x 10^-vividness: 0 is muted (T = 5), 1 is bold (T = 0.5, close to the likeliest colour)."""
    lo, hi = VIVIDNESS_RANGE
    if not lo <= vividness <= hi:  # also refuses NaN
        raise ValueError(f"vividness must be between {lo:g} and {hi:g}, got {vividness!r}")
    return float(VIVIDNESS_T0 * 10.0 ** -float(vividness))


def temperature_to_vividness(temperature: float) -> float:
    return float(math.log10(VIVIDNESS_T0 / temperature))


@dataclass
class GeneratorConfig:
    """U-Net generator. Defaults are pix2pix's 256 px generator (8 downsamplings, 54.4M parameters).

    encoder = "efficientnet-lite0": the U-Net on an ImageNet-pretrained encoder (models/colornet.py; needs
    num_downs = 5, ngf is the decoder's narrowest width), with `classes` > 0 a colour-class head read out by
    the annealed mean at `temperature` (color_classes.py)."""

    encoder: str = "unet"  # unet (pix2pix's own, from scratch) | efficientnet-lite0
    classes: int = 0  # ab bins of a colour-class head (0: regress ab)
    temperature: float = 0.38  # annealed-mean temperature of a class head: lower is more vivid
    ngf: int = 64
    num_downs: int = 8
    norm: str = "batch"  # batch | instance | group | none
    dropout: float = 0.5  # on the three innermost decoder layers, as in the paper
    upsample: str = "transpose"  # transpose (paper) | resize (nearest x2 + 3x3 conv: no checkerboard)
    in_channels: int = 1  # L
    out_channels: int = 2  # ab
    hints: bool = False  # 3 more input channels: hint ab (2) + hint mask (1), see autocolor.hints
    # colorizing defaults saved with the weights
    render_size: int = 256
    chroma_gain: float = 1.0  # multiplies predicted ab at inference (1 = as trained)
    # guided upsampling of ab by the full-res lightness (0 = bilinear), chosen on a train split with
    # scripts/tune_guide.py: window radius in render pixels; regularisation in ((L + 16) / 116)^2 units
    guide_radius: int = 12
    guide_eps: float = 0.01
    # colour hints spread along the lightness after the network (propagate.py; any model): spatial sigma in
    # render pixels (0 = off), range sigma in Lab L units, and how far a lone hint's correction holds
    hint_sigma_s: float = 0.0
    hint_sigma_r: float = 10.0
    hint_reach: float = 0.25


# GeneratorConfig's colorizing defaults: how a trained network is used (they may differ between a model's
# copies, be overridden on export, change when a run resumes); every other field is its architecture
COLORIZING_DEFAULTS = ("render_size", "chroma_gain", "temperature", "guide_radius", "guide_eps", "hint_sigma_s",
                       "hint_sigma_r", "hint_reach")  # fmt: skip


def architecture(config: GeneratorConfig) -> dict[str, Any]:
    """The generator's architecture: every setting but the colorizing defaults (what its weights depend on)."""
    return {k: v for k, v in dataclasses.asdict(config).items() if k not in COLORIZING_DEFAULTS}


@dataclass
class DiscriminatorConfig:
    """PatchGAN conditioned on L. Defaults are the 70x70 PatchGAN (C64-C128-C256-C512)."""

    ndf: int = 64
    n_layers: int = 3
    norm: str = "batch"  # batch | instance | group | none
    spectral_norm: bool = False


@dataclass
class TrainConfig:
    size: int = 256  # training crop side
    batch_size: int = 1
    steps: int = 10_000
    decay_steps: int | None = None  # linear decay to 0 over the last decay_steps (default: half of steps)
    lr: float = 2e-4
    lr_d: float | None = None  # discriminator learning rate (default: lr)
    lr_hint_scale: float = 1.0  # learning rate of the generator's hint input convolution, as a multiple of lr
    beta1: float = 0.5
    beta2: float = 0.999
    gan_mode: str = "vanilla"  # vanilla | lsgan | hinge
    gan_weight: float = 1.0  # weight of the generator's adversarial loss
    lambda_l1: float = 100.0
    recon_loss: str = "l1"  # l1 | smooth_l1
    pretrain_steps: int = 0  # steps of regression loss alone before the adversary joins ("NoGAN")
    init_generator: str = ""  # start G from this generator folder (fine-tuning), e.g. a previous run's best/
    ema_decay: float = 0.0  # 0 = off; exported generator uses the EMA weights when on
    precision: str = "fp32"  # fp32 | bf16
    channels_last: bool = True
    scale_min: float = 1.0  # random rescale: short side = size * U(scale_min, scale_max)
    scale_max: float = 1.25
    flip: bool = True
    data_format: str = "auto"  # auto | photos | pairs
    cache_images: bool = False  # decode every photo once into memory (small data sets)
    num_workers: int = 2
    seed: int = 0
    checkpoint_every: int = 500
    keep_checkpoints: int = 2
    val_every: int = 500
    val_limit: int = 64
    log_every: int = 10
    device: str = "cpu"


@dataclass
class Config:
    generator: GeneratorConfig = field(default_factory=GeneratorConfig)
    discriminator: DiscriminatorConfig = field(default_factory=DiscriminatorConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Config:
        cfg = cls()
        for section, values in d.items():
            for key, value in values.items():
                cfg.set(f"{section}.{key}", value)
        return cfg

    @classmethod
    def load(cls, path: str | Path | None = None, overrides: list[str] | None = None) -> Config:
        """Defaults < TOML file at `path` < overrides ("section.key=value", value in TOML syntax or bare)."""
        cfg = cls() if path is None else cls.from_dict(tomllib.loads(Path(path).read_text()))
        for item in overrides or []:
            key, sep, raw = item.partition("=")
            if not sep:
                raise ValueError(f"--set expects key=value, got '{item}'")
            cfg.set(key.strip(), parse_value(raw.strip()))
        cfg.check()
        return cfg

    def check(self) -> None:
        """Raise ValueError naming the first setting outside its range (e.g. train.steps = 0) or choice."""
        for dotted, names in CHOICES.items():
            section, key = dotted.split(".")
            value = getattr(getattr(self, section), key)
            if value not in names:
                raise ValueError(f"{dotted} must be one of {', '.join(names)}, got {value!r}")
        for keys, ok, wanted in _RANGES:
            for dotted in keys.split():
                section, key = dotted.split(".")
                value = getattr(getattr(self, section), key)
                if value is not None and not ok(value):
                    raise ValueError(f"{dotted} must be {wanted}, got {value!r}")

    def set(self, dotted: str, value: Any) -> None:
        section, _, key = dotted.partition(".")
        if section not in _SECTIONS or not key:
            raise ValueError(f"unknown config key '{dotted}'; sections are {', '.join(_SECTIONS)}")
        obj = getattr(self, section)
        names = {f.name: f for f in fields(obj)}
        if key not in names:
            raise ValueError(
                f"unknown config key '{dotted}'; valid keys: {', '.join(f'{section}.{n}' for n in names)}"
            )
        setattr(obj, key, _coerce(names[key].type, value, dotted))

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n")


_SECTIONS = ("generator", "discriminator", "train")

# The names of every string choice, torch-free, so Config.check, the CLI and the modules that map them to code
# (models/__init__.build_generator, models/norm.NORMS, losses.GAN_MODES and RECON_LOSSES, precision.PRECISIONS,
# backends.load_backend) read the same lists; tests/test_config.py checks that the registries agree.
ENCODERS = ("unet", "efficientnet-lite0")
NORMS = ("batch", "instance", "group", "none")
UPSAMPLES = ("transpose", "resize")
GAN_MODES = ("vanilla", "lsgan", "hinge")
RECON_LOSSES = ("l1", "smooth_l1")
PRECISIONS = ("fp32", "bf16")
DEVICES = ("cpu", "cuda")
BACKENDS = ("auto", "onnx", "torch")
CHOICES = {
    "generator.encoder": ENCODERS,
    "generator.norm": NORMS,
    "generator.upsample": UPSAMPLES,
    "discriminator.norm": NORMS,
    "train.gan_mode": GAN_MODES,
    "train.recon_loss": RECON_LOSSES,
    "train.precision": PRECISIONS,
    "train.device": DEVICES,
}


def parse_value(raw: str) -> Any:
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


_RANGES = [  # (keys, test, what the keys must be); None passes where a key may be None
    (
        "generator.ngf generator.num_downs generator.render_size discriminator.ndf discriminator.n_layers "
        "train.size train.batch_size train.steps train.checkpoint_every train.keep_checkpoints "
        "train.val_limit train.log_every",
        lambda v: v >= 1,
        "at least 1",
    ),
    (
        "train.decay_steps train.pretrain_steps train.num_workers train.val_every",
        lambda v: v >= 0,
        "0 or more",
    ),
    ("train.lr train.lr_d train.scale_min generator.temperature", lambda v: v > 0, "above 0"),
    ("generator.classes", lambda v: v >= 0, "0 or more"),
    ("generator.dropout train.beta1 train.beta2 train.ema_decay", lambda v: 0 <= v < 1, "in [0, 1)"),
]


_TYPE_NAMES = {"bool": "true or false", "int": "an integer", "float": "a number", "str": "a string"}


def _coerce(annotation: Any, value: Any, name: str) -> Any:
    """`value` as the type the field is declared with (e.g. "float", "int | None"), or a clear error."""
    types = [t.strip() for t in str(annotation).split("|")]
    if value is None and "None" in types:
        return None
    types = [t for t in types if t != "None"]
    kind = types[0] if len(types) == 1 and types[0] in _TYPE_NAMES else None
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if kind == "float" and (is_int or isinstance(value, float)):
        return float(value)
    if kind is None or (kind == "int" and is_int) or (kind != "int" and type(value).__name__ == kind):
        return value
    raise ValueError(f"{name} expects {_TYPE_NAMES[kind]}, got {value!r}")


def generator_config_from_dict(d: dict[str, Any]) -> GeneratorConfig:
    known = {f.name for f in dataclasses.fields(GeneratorConfig)}
    unknown = set(d) - known
    if unknown:
        raise ValueError(f"unknown generator config keys: {', '.join(sorted(unknown))}")
    return GeneratorConfig(**d)
