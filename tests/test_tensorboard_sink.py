import io

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402

from autocolor.tensorboard_sink import TensorBoardSink, tensorboard_sink  # noqa: E402


def read_events(log_dir) -> EventAccumulator:
    acc = EventAccumulator(str(log_dir), size_guidance={"scalars": 0, "images": 0})
    acc.Reload()
    return acc


def test_sink_writes_scalars_and_images_tensorboard_reads_back(tmp_path):
    sink = tensorboard_sink(tmp_path / "run")
    assert isinstance(sink, TensorBoardSink)
    sink.log({"step": 5, "kind": "train", "loss_rec": 0.25, "lr": 2e-4, "note": "text is skipped"})
    sink.log({"step": 10, "kind": "train", "loss_rec": 0.125, "lr": 1e-4})
    sink.log({"step": 10, "kind": "val", "psnr": 21.5, "colorfulness": 30.0})
    grid = np.zeros((8, 12, 3), np.uint8)
    grid[:, :6, 0] = 255
    sink.image("val/samples", grid, 10)
    sink.close()
    acc = read_events(tmp_path / "run" / "tensorboard")
    assert set(acc.Tags()["scalars"]) == {"train/loss_rec", "train/lr", "val/psnr", "val/colorfulness"}
    assert [(e.step, e.value) for e in acc.Scalars("train/loss_rec")] == [(5, 0.25), (10, 0.125)]
    assert acc.Scalars("val/psnr")[0].value == 21.5
    (img,) = acc.Images("val/samples")
    assert (img.step, img.width, img.height) == (10, 12, 8)
    decoded = np.asarray(Image.open(io.BytesIO(img.encoded_image_string)))
    assert (decoded[..., :3] == grid).all()
