"""Run under torchrun by test_train.py: trains a tiny config with DDP, then every rank saves its weights."""

import os
import sys

from safetensors.torch import save_file

from autocolor.config import Config
from autocolor.train import Trainer

data, out, config = sys.argv[1:4]
cfg = Config.load(config, sys.argv[4:])
trainer = Trainer(cfg, data, out, progress=False)
status = trainer.fit()
# parameters (BatchNorm running statistics are per rank between DDP's buffer broadcasts)
state = {k: v.detach().contiguous() for k, v in trainer.pix2pix.G.named_parameters()}
save_file(state, os.path.join(out, f"rank{trainer.dist.rank}.safetensors"))
print(f"rank {trainer.dist.rank} {status} step {trainer.step}")
trainer.close()
