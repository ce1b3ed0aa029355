"""Python in the engine's pipeline: map_batches stages (functions, classes per replica, numpy and
torch batches, on_error), iter_batches/take streaming, zero-copy batches, byte-identical parity
with `sluice run`, predictions equal to PyTorch's, the GIL, errors, Ctrl-C and shutdown.

Run by ctest (python_api) with PYTHONPATH=<build>/python, SLUICE_BIN and SLUICE_MODELS."""

import gc
import json
import os
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import sluice
from conftest import BIN, TINY, interrupt, pipeline, rows_by_part


def parts(out):
    return sorted(p for p in os.listdir(out) if p.startswith("part-"))


def error_rows(out):
    d = os.path.join(out, "_errors")
    rows = []
    for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
        with open(os.path.join(d, name)) as f:
            rows += [json.loads(line) for line in f]
    return rows


def run_python(script, timeout=120):
    """Runs `script` in a fresh interpreter (the test's environment); returns the process."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True, timeout=timeout, env=os.environ)


# ---- parity ------------------------------------------------------------------------------------

def test_the_same_job_through_yaml_and_python_writes_byte_identical_parts(data, tmp_path):
    ds = pipeline(data)
    r = ds.write_parquet(str(tmp_path / "py"), preserve_order=True)
    assert r.rows_written == 60
    job = tmp_path / "job.yaml"
    job.write_text(ds._with("output", uri=str(tmp_path / "cli"), preserve_order=True).to_job())
    subprocess.run([BIN, "run", str(job), "--progress", "none"], check=True, capture_output=True)
    names = parts(tmp_path / "py")
    assert names == parts(tmp_path / "cli") and len(names) == 3
    for name in names:
        assert (tmp_path / "py" / name).read_bytes() == (tmp_path / "cli" / name).read_bytes(), name


def test_predictions_equal_pytorch_on_the_same_tensors(data):
    torch = pytest.importorskip("torch")
    # The preprocessed tensors as the engine makes them (no model: the rows after preprocess).
    inputs = {}
    for b in sluice.read_parquet(data, shard_rows=20).preprocess(resize=32, crop=32).iter_batches(batch_size=None):
        assert b["input"].dtype == np.float32 and b["input"].shape[1:] == (3, 32, 32)
        inputs.update((i, x.copy()) for i, x in zip(b["id"], b["input"]))
    assert len(inputs) == 60
    model = torch.jit.load(TINY).eval()
    predicted = pipeline(data).take(60)
    assert [r["id"] for r in predicted] == sorted(inputs)  # take: input order
    with torch.no_grad():
        for row in predicted:
            probs = torch.softmax(model(torch.from_numpy(inputs[row["id"]][None])), 1)[0]
            scores, ids = probs.topk(3)
            assert row["top_k_ids"].tolist() == ids.tolist(), row["id"]
            np.testing.assert_allclose(row["top_k_scores"], scores.numpy(), rtol=1e-5, atol=1e-6)


# ---- map_batches ---------------------------------------------------------------------------------

LABELS = [f"class-{i}" for i in range(10)]


def add_label_names(batch):
    return {"id": batch["id"], "label": np.array([LABELS[i] for i in batch["top_k_ids"][:, 0]], dtype=object),
            "score": batch["top_k_scores"][:, 0].copy()}


def test_a_function_after_predict_writes_its_columns(data, tmp_path):
    r = pipeline(data).map_batches(add_label_names, batch_size=7).write_parquet(str(tmp_path / "out"))
    assert r.rows_written == 60 and r.shards_written == 3
    stages = [s["name"] for s in r.to_dict()["stats"]["stages"]]
    assert "map_batches(add_label_names)" in stages and "map_batches(add_label_names).batch" in stages
    rows = [json.loads(line) for part in rows_by_part(tmp_path / "out").values() for line in part]
    plain = {r["id"]: r for r in pipeline(data).take(60)}
    assert len(rows) == 60
    for row in rows:
        assert set(row) == {"id", "label", "score"}
        assert row["label"] == LABELS[plain[row["id"]]["top_k_ids"][0]]
        assert row["score"] == pytest.approx(float(plain[row["id"]]["top_k_scores"][0]))
    # The stage is part of the job's identity: a rerun with another stage is refused.
    with pytest.raises(ValueError, match="fingerprint|different job"):
        pipeline(data).map_batches(lambda b: b).write_parquet(str(tmp_path / "out"))


class TorchModel:
    """A Python (eager) model on the preprocessed tensors: one instance per replica."""
    made = []

    def __init__(self, path):
        import torch
        self.torch = torch
        self.model = torch.jit.load(path).eval()
        self.thread = threading.get_ident()
        TorchModel.made.append(self.thread)

    def __call__(self, batch):
        assert threading.get_ident() == self.thread  # always on its replica's thread
        x = batch["input"]
        assert isinstance(x, self.torch.Tensor)
        with self.torch.no_grad():
            probs = self.torch.softmax(self.model(x), 1)
        scores, ids = probs.topk(3)
        return {"id": batch["id"], "top_k_ids": ids.to(self.torch.int32), "top_k_scores": scores}


def test_a_class_with_concurrency_replaces_the_torchscript_model(data, tmp_path):
    pytest.importorskip("torch")
    TorchModel.made.clear()
    ds = (sluice.read_parquet(data, shard_rows=20).preprocess(resize=32, crop=32)
          .map_batches(TorchModel, concurrency=2, batch_size=8, batch_format="torch", fn_constructor_args=(TINY,)))
    r = ds.write_parquet(str(tmp_path / "py"), preserve_order=True)
    assert r.rows_written == 60
    assert len(TorchModel.made) == 2 and len(set(TorchModel.made)) == 2  # __init__ once per replica, each on its own thread
    mine = {json.loads(line)["id"]: json.loads(line) for part in rows_by_part(tmp_path / "py").values() for line in part}
    for row in pipeline(data).take(60):
        assert mine[row["id"]]["top_k_ids"] == row["top_k_ids"].tolist()
        assert mine[row["id"]]["top_k_scores"] == pytest.approx(row["top_k_scores"].tolist(), rel=1e-5)


def test_a_stage_before_preprocess_sees_the_read_columns(tmp_path):
    d = tmp_path / "data"
    subprocess.run([BIN, "datagen", "jpeg", "--out", str(d), "--images", "12", "--per-file", "6"],
                   check=True, capture_output=True)
    seen = []

    def sizes(batch):
        img = batch["image"]
        assert isinstance(img, sluice.BinaryArray)
        seen.extend(bytes(img.view(i)[:2]) for i in range(len(img)))
        return {"id": batch["id"], "jpeg_bytes": np.array([len(img.view(i)) for i in range(len(img))])}

    rows = sluice.read_parquet(str(d / "*.parquet")).map_batches(sizes).take(12)
    assert len(rows) == 12 and all(r["jpeg_bytes"] > 100 for r in rows)
    assert set(seen) == {b"\xff\xd8"}  # JPEG's start-of-image marker, read straight from the engine's buffer
    # A stage may hand binary values back without a copy (a BinaryArray) or as bytes.
    again = sluice.read_parquet(str(d / "*.parquet")).map_batches(lambda b: {"id": b["id"], "image": b["image"]}).preprocess(
        resize=32, crop=32).take(12)
    plain = sluice.read_parquet(str(d / "*.parquet")).preprocess(resize=32, crop=32).take(12)
    assert all(np.array_equal(a["input"], b["input"]) for a, b in zip(again, plain))


# ---- streaming -----------------------------------------------------------------------------------

def test_iter_batches_streams_within_the_memory_budget(tmp_path):
    d = tmp_path / "data"
    subprocess.run([BIN, "datagen", "raw", "--out", str(d), "--images", "400", "--per-file", "100"], check=True, capture_output=True)
    budget = 32 << 20
    ds = sluice.read_parquet(str(d / "*.parquet"), shard_rows=100).preprocess(preset="imagenet").with_resources(memory=budget)
    it = ds.iter_batches(batch_size=16)
    rows = 0
    for b in it:
        assert b["input"].shape[1:] == (3, 224, 224) and b["input"].dtype == np.float32
        rows += len(b["id"])
        time.sleep(0.01)  # a consumer slower than the pipeline: the pipeline must wait for it
    result = it.result()
    assert rows == 400 and result.rows_written == 400
    stats = result.to_dict()["stats"]
    tensors = 400 * 3 * 224 * 224 * 4  # 241 MB went through
    one_map_batch = 32 * 3 * 224 * 224 * 4
    assert tensors > 4 * budget and stats["peak_in_flight_bytes"] <= budget + one_map_batch, stats["peak_in_flight_bytes"]
    assert "consume" in result.stats() or "rows" in result.stats()


# ---- zero-copy ---------------------------------------------------------------------------------

def test_arrays_a_stage_returns_reach_the_loop_without_a_copy_and_stay_valid(data):
    made = {}
    lock = threading.Lock()

    def stamp(batch):
        ids = batch["id"]
        values = np.array([int(i.split("_")[1]) for i in ids], dtype=np.int64) * 10
        pixels = np.ascontiguousarray(np.broadcast_to(values[:, None, None].astype(np.float32), (len(ids), 4, 5)))
        with lock:
            made[values.ctypes.data] = values
            made[pixels.ctypes.data] = pixels
        return {"id": ids, "value": values, "pixels": pixels}

    it = sluice.read_parquet(data, shard_rows=20).map_batches(stamp).iter_batches(batch_size=None)
    kept = []
    for b in it:
        assert not b["value"].flags.writeable  # a view of the engine's buffer
        assert b["value"].ctypes.data in made and b["pixels"].ctypes.data in made  # the stage's own memory
        kept.append((b["id"], b["value"], b["pixels"]))
    del it
    made.clear()  # only the engine's buffers hold the arrays now
    gc.collect()
    assert sum(len(ids) for ids, _, _ in kept) == 60
    for ids, value, pixels in kept:  # still valid: each array holds its buffer
        expect = np.array([int(i.split("_")[1]) for i in ids]) * 10
        assert np.array_equal(value, expect) and np.array_equal(pixels[:, 3, 4], expect.astype(np.float32))


def test_torch_batches_share_memory_through_dlpack(data):
    torch = pytest.importorskip("torch")
    ptrs = set()
    lock = threading.Lock()

    def as_torch(batch):
        x = batch["input"]
        assert isinstance(x, torch.Tensor) and x.dtype == torch.float32 and tuple(x.shape[1:]) == (3, 32, 32)
        y = x * 2
        with lock:
            ptrs.add(y.data_ptr())
        return {"id": batch["id"], "input": y}

    ds = sluice.read_parquet(data, shard_rows=20).preprocess(resize=32, crop=32).map_batches(as_torch, batch_format="torch")
    n = 0
    for b in ds.iter_batches(batch_size=None, batch_format="torch"):
        assert b["input"].data_ptr() in ptrs  # the stage's tensor, through the engine and back, never copied
        n += len(b["id"])
    assert n == 60


def test_nulls_travel_as_masked_arrays(data, tmp_path):
    def with_nulls(batch):
        n = len(batch["id"])
        score = np.ma.MaskedArray(np.arange(n, dtype=np.float64), mask=np.arange(n) % 3 == 0)
        names = np.array([None if i % 2 else f"n{i}" for i in range(n)], dtype=object)
        return {"id": batch["id"], "score": score, "name": names}

    ds = sluice.read_parquet(data, shard_rows=20).map_batches(with_nulls, batch_size=6)
    for b in ds.iter_batches(batch_size=6, preserve_order=True):
        assert isinstance(b["score"], np.ma.MaskedArray)
        assert b["score"].mask.tolist() == [True, False, False, True, False, False][:len(b["id"])]
        assert b["name"].tolist() == ["n0", None, "n2", None, "n4", None][:len(b["id"])]
    ds.write_parquet(str(tmp_path / "out"))
    rows = [json.loads(line) for part in rows_by_part(tmp_path / "out").values() for line in part]
    assert len(rows) == 60 and sum(r["score"] is None for r in rows) == 20 and sum(r["name"] is None for r in rows) == 30


# ---- the GIL -----------------------------------------------------------------------------------

def test_python_stages_and_a_consumer_run_together(data):
    calls = []

    class Slow:
        def __init__(self):
            self.n = 0

        def __call__(self, batch):
            time.sleep(0.01)  # lets go of the GIL, like real work in C
            self.n += 1
            calls.append(threading.get_ident())
            return {"id": batch["id"], "v": np.full(len(batch["id"]), self.n)}

    ds = pipeline(data).map_batches(Slow, concurrency=3, batch_size=2).map_batches(lambda b: {"id": b["id"], "w": b["v"] + 1})
    total = 0
    for b in ds.iter_batches(batch_size=5):
        total += len(b["id"])
        sum(range(20000))  # the consumer holds the GIL for a while
    assert total == 60 and len(set(calls)) == 3


# ---- errors ------------------------------------------------------------------------------------

class MyError(Exception):
    pass


def fail_on_shard_1(batch):
    if any(int(i.split("_")[1]) >= 20 for i in batch["id"]):
        raise MyError("no good: " + batch["id"][0])
    return batch


def test_on_error_raise_stops_with_the_original_exception(data, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(MyError, match="no good") as info:
        pipeline(data).map_batches(fail_on_shard_1).write_parquet(str(out), preserve_order=True)
    assert any(entry.name == "fail_on_shard_1" for entry in info.traceback)  # the user's frame is in the traceback
    names = os.listdir(out)
    assert "_SUCCESS" not in names and not any(n.startswith(".") for n in names)
    assert "part-00001.parquet" not in names and "part-00002.parquet" not in names
    with pytest.raises(MyError):
        for _ in pipeline(data).map_batches(fail_on_shard_1).iter_batches(batch_size=None):
            pass


def test_on_error_record_writes_the_rows_to_errors_and_goes_on(data, tmp_path):
    out = tmp_path / "out"
    r = pipeline(data).map_batches(fail_on_shard_1, on_error="record", batch_size=4).write_parquet(str(out), max_bad_rows=40)
    assert r.rows_written + r.bad_rows == 60 and r.bad_rows >= 40 - 4 and r.shards_written == 3
    bad = error_rows(out)
    assert len(bad) == r.bad_rows
    assert all(b["stage"] == "map_batches(fail_on_shard_1)" and b["message"].startswith("MyError: no good") for b in bad)
    assert {b["shard"] for b in bad} <= {0, 1, 2} and {b["shard"] for b in bad} >= {1, 2}
    assert (out / "_SUCCESS").exists()
    with pytest.raises(ValueError, match="too many bad rows"):
        pipeline(data).map_batches(fail_on_shard_1, on_error="record").write_parquet(str(tmp_path / "strict"))


class BrokenInit:
    def __init__(self):
        raise MyError("cannot load the model")

    def __call__(self, batch):
        return batch


def test_an_exception_in_init_is_raised_before_any_output(data, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(MyError, match="cannot load the model"):
        pipeline(data).map_batches(BrokenInit, concurrency=2).write_parquet(str(out))
    assert not parts(out)


def test_wrong_rows_or_a_missing_column_name_the_stage_and_column(data, tmp_path):
    with pytest.raises(ValueError, match=r"stage 'map_batches\(<lambda>\)' returned 1 rows for a batch of"):
        pipeline(data).map_batches(lambda b: {"id": b["id"][:1]}).write_parquet(str(tmp_path / "a"))
    with pytest.raises(ValueError, match=r"stage 'map_batches\(drop_input\)' returned no column 'input', which the model stage reads"):
        def drop_input(b):
            return {"id": b["id"]}
        (sluice.read_parquet(data).preprocess(resize=32, crop=32).map_batches(drop_input).predict(TINY, batch_size=8)
         .write_parquet(str(tmp_path / "b")))
    with pytest.raises(ValueError, match=r"stage 'map_batches\(<lambda>\)' returned column 'x' with 3 rows and column 'id'"):
        pipeline(data).map_batches(lambda b: {"id": b["id"], "x": np.zeros(3)}).write_parquet(str(tmp_path / "c"))
    with pytest.raises(ValueError, match=r"returned a list; a stage returns a dict"):
        pipeline(data).map_batches(lambda b: [1]).write_parquet(str(tmp_path / "d"))
    with pytest.raises(ValueError, match=r"returned column 'x' as a 2-d array of int16"):
        pipeline(data).map_batches(lambda b: {"id": b["id"], "x": np.zeros((len(b["id"]), 2), np.int16)}).write_parquet(str(tmp_path / "e"))
    for d in "abcde":
        assert not (tmp_path / d).exists() or not parts(tmp_path / d)


# ---- stopping ----------------------------------------------------------------------------------

def test_ctrl_c_in_a_python_pipeline_raises_keyboard_interrupt_within_a_second(data, tmp_path):
    out = tmp_path / "out"
    script = f"""
        import sys, time, sluice
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        def slow(b):
            time.sleep(0.05)
            return b
        ds = sluice.read_parquet({data!r}, shard_rows=20).preprocess(resize=32, crop=32).map_batches(slow, batch_size=1)
        print('started', flush=True)
        ds.write_parquet({str(out)!r})
    """
    interrupt(textwrap.dedent(script), out, 1.5, "Python stage")


def os_threads():
    return len(os.listdir("/proc/self/task"))  # every thread of the process, the engine's included


def test_leaving_iter_batches_early_stops_the_pipeline(data):
    assert len(pipeline(data).map_batches(lambda b: b).take(60)) == 60  # thread pools that live on are made now
    time.sleep(0.2)
    before, python_before = os_threads(), threading.active_count()
    for _ in range(3):
        for b in pipeline(data).map_batches(lambda b: b).iter_batches(batch_size=4):
            break
    gc.collect()
    deadline = time.monotonic() + 5
    while os_threads() > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert os_threads() <= before and threading.active_count() == python_before  # the pipelines' threads are gone
    assert len(pipeline(data).take(60)) == 60  # the engine is fine afterwards


def test_the_interpreter_exits_cleanly_with_a_pipeline_open(data):
    p = run_python(f"""
        import sluice
        it = (sluice.read_parquet({data!r}, shard_rows=20).preprocess(resize=32, crop=32)
              .predict({TINY!r}, batch_size=8).map_batches(lambda b: b).iter_batches(batch_size=2))
        print(len(next(it)["id"]), flush=True)
    """, timeout=60)
    assert p.returncode == 0 and p.stdout.strip() == "2", p.stderr[-2000:]
