import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from autocolor.checkpoint import latest_checkpoint, load_pretrained
from autocolor.cli import main
from autocolor.config import Config
from autocolor.pix2pix import Pix2PixStep
from autocolor.runtime import seed_everything
from autocolor.train import Trainer

ROOT = Path(__file__).resolve().parents[1]
TINY = str(ROOT / "configs" / "tiny.toml")


def tiny(**overrides) -> Config:
    return Config.load(TINY, [f"{k}={v}" for k, v in overrides.items()])


def test_cli_train_writes_a_complete_run(photo_dir, tmp_path, capsys):
    out = tmp_path / "run"
    rc = main(
        [
            "train",
            "--data",
            str(photo_dir),
            "--val",
            str(photo_dir),
            "--config",
            TINY,
            "--out",
            str(out),
            "--steps",
            "6",
            "--set",
            "train.val_every=3",
            "--set",
            "train.checkpoint_every=3",
            "--batch-size",
            "2",
        ]
    )
    assert rc == 0
    assert "broken.jpg" in capsys.readouterr().err
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["train"]["steps"] == 6 and cfg["train"]["batch_size"] == 2
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    vals = [r for r in records if r["kind"] == "val"]
    assert [r["step"] for r in vals] == [3, 6] and all(r["psnr"] > 5 for r in vals)
    assert sorted(p.name for p in (out / "samples").glob("*.png")) == [
        "step_00000003.png",
        "step_00000006.png",
    ]
    assert latest_checkpoint(out / "checkpoints").name == "step_00000006"
    g = load_pretrained(out / "generator")
    assert g(torch.zeros(1, 1, 64, 64)).shape == (1, 2, 64, 64)
    assert load_pretrained(out / "best").config == g.config


def test_unknown_config_key_is_a_clear_error(photo_dir, tmp_path, capsys):
    rc = main(
        [
            "train",
            "--data",
            str(photo_dir),
            "--config",
            TINY,
            "--out",
            str(tmp_path / "r"),
            "--set",
            "train.lrr=1",
        ]
    )
    assert rc == 2 and "train.lr" in capsys.readouterr().err


def _weights(trainer: Trainer) -> dict[str, torch.Tensor]:
    p = trainer.pix2pix
    out = {f"G.{k}": v.clone() for k, v in p.G.state_dict().items()}
    out.update({f"D.{k}": v.clone() for k, v in p.D.state_dict().items()})
    out.update({f"E.{k}": v.clone() for k, v in p.ema.module.state_dict().items()})
    for i, group in enumerate(p.opt_g.state.values()):
        out[f"adam.{i}"] = group["exp_avg_sq"].clone()
    return out


def test_resume_continues_exactly(photo_dir, tmp_path):
    """A run stopped by SIGTERM at step 5 and resumed ends with the same weights as one that never stopped.
    Dropout draws from torch's global generator, so its saved state must be restored; two data workers."""
    cfg = {
        "train.steps": 10,
        "train.pretrain_steps": 3,
        "train.ema_decay": 0.9,
        "train.batch_size": 2,
        "train.checkpoint_every": 100,
        "train.val_every": 0,
        "train.num_workers": 2,
        "generator.dropout": 0.5,
        "generator.num_downs": 5,  # dropout sits on the 512-wide levels, the fifth and deeper
    }
    straight = Trainer(tiny(**cfg), photo_dir, tmp_path / "a", progress=False)
    assert straight.fit() == "done"

    stopped = Trainer(tiny(**cfg), photo_dir, tmp_path / "b", progress=False)
    step = stopped.pix2pix.train_step

    def step_then_sigterm(batch):
        logs = step(batch)
        if stopped.step == 5:
            os.kill(os.getpid(), signal.SIGTERM)
        return logs

    stopped.pix2pix.train_step = step_then_sigterm
    assert stopped.fit() == "interrupted" and stopped.step == 5
    assert latest_checkpoint(tmp_path / "b" / "checkpoints").name == "step_00000005"

    resumed = Trainer(tiny(**cfg), photo_dir, tmp_path / "b", resume=True, progress=False)
    assert resumed.step == 5
    assert resumed.fit() == "done"
    a, b = _weights(straight), _weights(resumed)
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    assert resumed.pix2pix.sched_g.get_last_lr() == straight.pix2pix.sched_g.get_last_lr()


def _endless_run(data: Path, out: Path, *extra: str, **popen) -> subprocess.Popen:
    """A real `autocolor train` process that runs until it is stopped."""
    cmd = [sys.executable, "-m", "autocolor", "train", "--data", str(data), "--config", TINY, "--out", str(out),
           "--steps", "100000", "--batch-size", "2", "--set", "train.val_every=0", *extra]  # fmt: skip
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, **popen)


def _wait_for(condition, timeout: float = 120) -> None:
    """Poll `condition` until it holds; fail the test if it never does."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout} s"
        time.sleep(0.05)


def _checkpoint_step(out: Path) -> int:
    ckpt = latest_checkpoint(out / "checkpoints")
    return -1 if ckpt is None else int(ckpt.name.split("_")[1])


def test_sigkill_loses_at_most_the_steps_since_the_last_checkpoint(photo_dir, tmp_path):
    out = tmp_path / "run"
    proc = _endless_run(photo_dir, out, "--checkpoint-every", "2")
    try:
        _wait_for(lambda: _checkpoint_step(out) >= 6)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.communicate()
    step = _checkpoint_step(out)
    assert step >= 6
    it = Trainer(
        tiny(**{"train.batch_size": 2, "train.steps": 100000}), photo_dir, out, resume=True, progress=False
    )
    assert it.step == step
    rc = main(["train", "--data", str(photo_dir), "--config", TINY, "--out", str(out), "--resume",
               "--steps", str(step + 2), "--checkpoint-every", "2", "--batch-size", "2", "--set", "train.val_every=0"])  # fmt: skip
    assert rc == 0
    assert _checkpoint_step(out) == step + 2


@pytest.mark.slow
def test_ddp_two_cpu_processes_stay_in_sync(photo_dir, tmp_path):
    out = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        str(ROOT / "tests" / "ddp_worker.py"),
        str(photo_dir),
        str(out),
        TINY,
        "train.steps=4",
        "train.pretrain_steps=1",
        "train.batch_size=1",
        "train.val_every=0",
        "train.checkpoint_every=2",
    ]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    r0, r1 = load_file(str(out / "rank0.safetensors")), load_file(str(out / "rank1.safetensors"))
    assert r0.keys() == r1.keys()
    for k in r0:
        assert torch.equal(r0[k], r1[k]), k
    assert latest_checkpoint(out / "checkpoints").name == "step_00000004"
    seed_everything(0)  # as the Trainer does before building the networks: the weights both ranks began from
    start = dict(Pix2PixStep(Config.load(TINY), torch.device("cpu")).G.named_parameters())
    assert start.keys() == r0.keys()
    assert not all(torch.equal(start[k], r0[k]) for k in r0)  # they trained, in step


def test_sigterm_to_the_process_group_with_data_workers_checkpoints(photo_dir, tmp_path):
    """As a scheduler stops a job: SIGTERM to every process, data workers included."""
    out = tmp_path / "run"
    proc = _endless_run(photo_dir, out, "--checkpoint-every", "1000", "--set", "train.num_workers=1",
                        start_new_session=True)  # fmt: skip
    try:
        _wait_for(lambda: (out / "metrics.jsonl").is_file())  # step 5 logged: the data workers are running
        os.killpg(proc.pid, signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err[-2000:]
    assert "checkpoint saved" in err
    assert _checkpoint_step(out) >= 5


def test_fine_tuning_starts_from_a_trained_generator(photo_dir, tmp_path, tiny_weights):
    cfg = tiny(**{"train.init_generator": str(tiny_weights), "train.batch_size": 2})
    trainer = Trainer(cfg, photo_dir, tmp_path / "ft", progress=False)
    start = load_pretrained(tiny_weights).state_dict()
    assert all(torch.equal(v, start[k]) for k, v in trainer.pix2pix.G.state_dict().items())
    other = tiny(**{"train.init_generator": str(tiny_weights), "generator.ngf": 4, "train.batch_size": 2})
    with pytest.raises(ValueError, match="differs"):
        Trainer(other, photo_dir, tmp_path / "bad", progress=False)


def test_bench_train_prints_speed_and_memory(capsys):
    assert main(["bench", "train", "--config", TINY, "--size", "64", "--batch-size", "2", "--ngf", "8",
                 "--steps", "2", "--warmup", "1", "--precision", "bf16"]) == 0  # fmt: skip
    result = json.loads(capsys.readouterr().out)
    assert result["images_per_s"] > 0 and result["peak_rss_mb"] > 0 and result["size"] == 64


class _ListSink:
    def __init__(self):
        self.records, self.closed = [], False

    def write(self, record):
        self.records.append(record)

    def close(self):
        self.closed = True


def test_sinks_receive_every_record_and_the_bar_shows_progress(photo_dir, tmp_path, capsys):
    sink = _ListSink()
    cfg = tiny(**{"train.steps": 2, "train.batch_size": 2, "train.val_every": 2, "train.log_every": 1})
    trainer = Trainer(cfg, photo_dir, tmp_path / "run", val=photo_dir, sinks=[sink])
    assert trainer.fit() == "done"
    trainer.close()
    kinds = [(r["kind"], r["step"]) for r in sink.records]
    assert kinds == [("train", 1), ("train", 2), ("val", 2), ("sample", 2)] and sink.closed
    sample = sink.records[-1]
    assert sample["image"].dtype == "uint8" and (tmp_path / "run" / sample["path"]).is_file()
    written = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert written == [{k: v for k, v in r.items() if k != "image"} for r in sink.records]
    bar = capsys.readouterr().err.split("\r")[-1]
    assert re.search(r"2/2 .*step.*img_s=[\d.]+.*g=[\d.]+.*l1=[\d.]+.*d=[\d.]+", bar), bar
