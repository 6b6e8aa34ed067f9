"""Training speed: autocolor's training step against a textbook eager fp32 pix2pix step, in the same run.

The reference is the loop of the reference pix2pix repository written plainly: NCHW fp32, D called separately
on real and fake pairs, D's weight gradients computed (and thrown away) during G's update. Both use the same
networks, sizes and batch. Each configuration alternates reference and autocolor rounds; medians are printed.

    .venv/bin/python bench/train_speed.py [--rounds 3] [--steps 4]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time

import torch
import torch.nn.functional as F

from autocolor.bench import bench_train
from autocolor.config import GeneratorConfig
from autocolor.models import PatchGAN, UNet


def reference_images_per_s(size: int, batch: int, ngf: int, steps: int, warmup: int = 2) -> float:
    torch.manual_seed(0)
    G = UNet(GeneratorConfig(ngf=ngf, num_downs=int(math.log2(size))))
    D = PatchGAN()
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    L, ab = torch.rand(batch, 1, size, size) * 2 - 1, torch.rand(batch, 2, size, size) * 2 - 1
    bce = F.binary_cross_entropy_with_logits

    def step():
        fake = G(L)
        opt_d.zero_grad()
        pred_fake, pred_real = D(L, fake.detach()), D(L, ab)
        loss_d = 0.5 * (
            bce(pred_fake, torch.zeros_like(pred_fake)) + bce(pred_real, torch.ones_like(pred_real))
        )
        loss_d.backward()
        opt_d.step()
        opt_g.zero_grad()
        pred = D(L, fake)
        loss_g = bce(pred, torch.ones_like(pred)) + 100 * F.l1_loss(fake, ab)
        loss_g.backward()
        opt_g.step()

    for _ in range(warmup):
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return steps * batch / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument(
        "--configs",
        default="128:16:32,256:1:64,128:16:64,256:1:32",
        help="size:batch:ngf,... (default: the four the training issue asks for)",
    )
    args = ap.parse_args()
    for spec in args.configs.split(","):
        size, batch, ngf = map(int, spec.split(":"))
        runs: dict[str, list[float]] = {"reference_fp32": [], "autocolor_fp32": [], "autocolor_bf16": []}
        for _ in range(args.rounds):
            runs["reference_fp32"].append(reference_images_per_s(size, batch, ngf, args.steps))
            for precision in ("fp32", "bf16"):
                r = bench_train(
                    size=size, batch_size=batch, ngf=ngf, precision=precision, steps=args.steps, warmup=2
                )
                runs[f"autocolor_{precision}"].append(r["images_per_s"])
        med = {k: statistics.median(v) for k, v in runs.items()}
        print(
            json.dumps(
                {
                    "size": size,
                    "batch_size": batch,
                    "ngf": ngf,
                    "rounds": args.rounds,
                    **{f"{k}_images_per_s": round(v, 2) for k, v in med.items()},
                    "speedup_fp32": round(med["autocolor_fp32"] / med["reference_fp32"], 2),
                    "speedup_bf16": round(med["autocolor_bf16"] / med["reference_fp32"], 2),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
