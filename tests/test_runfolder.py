"""Run folders as users meet them through `autocolor train`: new runs, --overwrite, --resume."""

import json
import shutil
import sys
from pathlib import Path

import pytest
import torch
from conftest import as_nobody

from autocolor.checkpoint import latest_checkpoint
from autocolor.cli import main

TINY = str(Path(__file__).resolve().parents[1] / "configs" / "tiny.toml")


def train_args(data, out, *extra) -> list[str]:
    """`autocolor train` on the tiny config, two steps, without validation."""
    return ["train", "--data", str(data), "--config", TINY, "--out", str(out), "--batch-size", "2",
            "--steps", "2", "--set", "train.val_every=0", "--set", "train.log_every=1", *extra]  # fmt: skip


def train(data, out, *extra) -> int:
    return main(train_args(data, out, *extra))


def records(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("steps", ["0", "-5"])
def test_steps_below_one_is_an_error_not_an_untrained_model(photo_dir, tmp_path, capsys, steps):
    assert train(photo_dir, tmp_path / "r", "--steps", steps) == 2
    assert f"train.steps must be at least 1, got {steps}" in capsys.readouterr().err
    assert not (tmp_path / "r" / "generator").exists()


def test_a_value_of_the_wrong_type_is_one_clear_line(photo_dir, tmp_path, capsys):
    assert train(photo_dir, tmp_path / "r", "--set", "train.lr=fast") == 2
    err = capsys.readouterr().err
    assert "train.lr expects a number, got 'fast'" in err and "Traceback" not in err


def test_an_out_that_cannot_be_written_is_one_clear_line(photo_dir, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the run folder's parent should be")
    assert train(photo_dir, blocker / "run") == 2
    assert f"{blocker / 'run'}: cannot write the run folder" in capsys.readouterr().err


def test_a_read_only_out_is_one_clear_line(photo_dir, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:  # as a user without privileges (root writes anywhere), the way a person meets it
        cmd = train_args(photo_dir, locked / "run")
        r = as_nobody([sys.executable, "-m", "autocolor", *cmd], tmp_path)
        assert r.returncode == 2, r.stderr
        assert "cannot write the run folder (Permission denied)" in r.stderr
    finally:
        locked.chmod(0o755)


def test_a_new_run_refuses_a_used_folder_and_overwrite_moves_it_aside(photo_dir, tmp_path, capsys):
    out = tmp_path / "run"
    assert train(photo_dir, out, "--steps", "4", "--checkpoint-every", "2") == 0
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    assert train(photo_dir, out) == 2
    err = capsys.readouterr().err
    assert "not empty" in err and "--resume" in err and "--overwrite" in err
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before  # untouched

    assert train(photo_dir, out, "--overwrite") == 0
    (aside,) = tmp_path.glob("run.old-*")
    assert sorted(p.relative_to(aside) for p in aside.rglob("*")) == before
    assert latest_checkpoint(aside / "checkpoints").name == "step_00000004"
    assert latest_checkpoint(out / "checkpoints").name == "step_00000002"
    assert [r["step"] for r in records(out) if r["kind"] == "train"] == [1, 2]


def test_resume_with_nothing_to_resume_is_an_error(photo_dir, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    for out in (tmp_path / "empty", tmp_path / "absent"):
        assert train(photo_dir, out, "--resume") == 2
        assert "no checkpoint to resume from" in capsys.readouterr().err
    assert not (tmp_path / "empty" / "generator").exists() and not (tmp_path / "absent").exists()


def test_resume_refuses_changes_that_break_it_naming_each(photo_dir, tmp_path, capsys):
    out = tmp_path / "run"
    assert train(photo_dir, out) == 0
    saved = (out / "config.json").read_text()
    assert (
        train(photo_dir, out, "--resume", "--steps", "4", "--set", "train.lr=0.1", "--batch-size", "3") == 2
    )
    err = capsys.readouterr().err
    assert "train.lr: 0.0002 in the checkpoint, 0.1 now" in err
    assert "train.batch_size: 2 in the checkpoint, 3 now" in err
    assert (out / "config.json").read_text() == saved  # what is recorded is what runs


def test_resume_allows_and_records_more_steps(photo_dir, tmp_path):
    out = tmp_path / "run"
    assert train(photo_dir, out) == 0
    assert train(photo_dir, out, "--resume", "--steps", "3") == 0
    assert json.loads((out / "config.json").read_text())["train"]["steps"] == 3
    resume = [r for r in records(out) if r["kind"] == "resume"]
    assert resume == [{"step": 2, "kind": "resume", "changed": {"train.steps": [2, 3]}}]
    state = torch.load(latest_checkpoint(out / "checkpoints") / "state.pt", weights_only=True)
    assert state["step"] == 3 and state["config"]["train"]["steps"] == 3  # tensors and plain values only


def test_resume_after_a_kill_between_checkpoints_leaves_no_duplicate_rows(photo_dir, tmp_path):
    out = tmp_path / "run"
    assert (
        train(photo_dir, out, "--steps", "3", "--checkpoint-every", "2", "--set", "train.keep_checkpoints=5")
        == 0
    )
    # as if killed after step 3 was logged but before its checkpoint was written
    shutil.rmtree(out / "checkpoints" / "step_00000003")
    (out / "checkpoints" / "latest").write_text("step_00000002")
    assert train(photo_dir, out, "--resume", "--steps", "4", "--checkpoint-every", "2") == 0
    steps = [r["step"] for r in records(out) if r["kind"] == "train"]
    assert steps == [1, 2, 3, 4]
