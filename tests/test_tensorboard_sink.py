import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402

from autocolor.cli import main  # noqa: E402
from autocolor.tensorboard_sink import TensorBoardSink, tensorboard_sink  # noqa: E402

TINY = str(Path(__file__).resolve().parents[1] / "configs" / "tiny.toml")


def read_events(log_dir) -> EventAccumulator:
    acc = EventAccumulator(str(log_dir), size_guidance={"scalars": 0, "images": 0})
    acc.Reload()
    return acc


def test_sink_writes_scalars_and_images_tensorboard_reads_back(tmp_path):
    sink = tensorboard_sink(tmp_path / "run")
    assert isinstance(sink, TensorBoardSink)
    sink.write({"step": 5, "kind": "train", "loss_rec": 0.25, "lr": 2e-4, "note": "text is skipped"})
    sink.write({"step": 10, "kind": "train", "loss_rec": 0.125, "lr": 1e-4})
    sink.write({"step": 10, "kind": "val", "psnr": 21.5, "colorfulness": 30.0})
    grid = np.zeros((8, 12, 3), np.uint8)
    grid[:, :6, 0] = 255
    sink.write({"step": 10, "kind": "sample", "path": "samples/step_00000010.png", "image": grid})
    sink.write({"step": 10, "kind": "resume", "changed": {"train.steps": [10, 20]}})
    sink.close()
    acc = read_events(tmp_path / "run" / "tensorboard")
    assert set(acc.Tags()["scalars"]) == {"train/loss_rec", "train/lr", "val/psnr", "val/colorfulness"}
    assert [(e.step, e.value) for e in acc.Scalars("train/loss_rec")] == [(5, 0.25), (10, 0.125)]
    assert acc.Scalars("val/psnr")[0].value == 21.5
    (img,) = acc.Images("val/samples")
    assert (img.step, img.width, img.height) == (10, 12, 8)
    decoded = np.asarray(Image.open(io.BytesIO(img.encoded_image_string)))
    assert (decoded[..., :3] == grid).all()


def test_autocolor_train_writes_tensorboard_events(photo_dir, tmp_path):
    out = tmp_path / "run"
    args = ["train", "--data", str(photo_dir), "--val", str(photo_dir), "--config", TINY, "--out", str(out)]
    assert (
        main(
            [
                *args,
                "--steps",
                "4",
                "--batch-size",
                "2",
                "--set",
                "train.val_every=2",
                "--set",
                "train.log_every=2",
            ]
        )
        == 0
    )
    acc = read_events(out / "tensorboard")
    scalars = set(acc.Tags()["scalars"])
    assert {"train/loss_g", "train/loss_rec", "train/loss_d", "train/lr", "train/images_per_s"} <= scalars
    assert {"val/psnr", "val/colorfulness", "val/l1", "val/score"} <= scalars
    assert [e.step for e in acc.Scalars("train/loss_rec")] == [2, 4]
    jsonl = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    val4 = next(r for r in jsonl if r["kind"] == "val" and r["step"] == 4)
    assert acc.Scalars("val/psnr")[-1].value == pytest.approx(val4["psnr"], rel=1e-6)
    images = acc.Images("val/samples")
    assert [i.step for i in images] == [2, 4]
    saved = np.asarray(Image.open(out / "samples" / "step_00000004.png").convert("RGB"))
    assert (images[-1].height, images[-1].width) == saved.shape[:2]


def test_a_resumed_run_hides_the_interrupted_runs_events_past_the_checkpoint(tmp_path):
    first = tensorboard_sink(tmp_path)
    for step in range(1, 7):  # the interrupted run logged up to step 6; its checkpoint is at step 3
        first.write({"step": step, "kind": "train", "loss_g": 10.0 + step})
    first.close()
    resumed = tensorboard_sink(tmp_path, purge_step=4)  # what default_sinks(out, step=3) asks for
    for step in range(4, 8):
        resumed.write({"step": step, "kind": "train", "loss_g": 20.0 + step})
    resumed.close()
    events = read_events(tmp_path / "tensorboard").Scalars("train/loss_g")
    assert [(e.step, e.value) for e in events] == [
        (1, 11),
        (2, 12),
        (3, 13),
        (4, 24),
        (5, 25),
        (6, 26),
        (7, 27),
    ]


def test_default_sinks_purge_past_the_resume_step(tmp_path):
    from autocolor.sinks import default_sinks

    new, resumed = default_sinks(tmp_path / "a"), default_sinks(tmp_path / "b", step=3)
    assert isinstance(new[-1], TensorBoardSink) and new[-1].purge_step is None
    assert isinstance(resumed[-1], TensorBoardSink) and resumed[-1].purge_step == 4
    for sink in new + resumed:
        sink.close()
