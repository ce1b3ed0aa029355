"""The Python API (python/sluice) against the engine it wraps: the same job through Python and
through `sluice run` writes the same rows in the same parts; from_job/to_job go both ways;
resume; the GIL is free while C++ works; Ctrl-C ends a run within a second with
KeyboardInterrupt and nothing half-published; bad input raises ValueError naming the key.

Run by ctest (python_api) with PYTHONPATH=<build>/python, SLUICE_BIN and SLUICE_MODELS."""

import os
import subprocess
import threading
import time

import pytest

import sluice

from conftest import BIN, TINY, cpu_flags, interrupt, pipeline, rows_by_part


def test_python_and_yaml_write_the_same_output(data, tmp_path):
    ds = pipeline(data)
    result = ds.write_parquet(str(tmp_path / "py"))
    assert result.rows_written == 60 and result.shards_written == 3 and result.bad_rows == 0
    assert "bottleneck" in result.stats() and result.to_dict()["stats"]["stages"]
    job = tmp_path / "job.yaml"
    job.write_text(ds._with("output", uri=str(tmp_path / "cli")).to_job())
    subprocess.run([BIN, "run", str(job), "--progress", "none"], check=True, capture_output=True)
    py, cli = rows_by_part(tmp_path / "py"), rows_by_part(tmp_path / "cli")
    assert list(py) == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
    assert py == cli
    for name in ("_SUCCESS", "_manifest.json", "_job.json"):
        assert (tmp_path / "py" / name).exists()


def test_from_job_and_to_job_round_trip(data, tmp_path):
    job = tmp_path / "job.yaml"
    job.write_text(f"input: {{uri: '{data}', shard_rows: 20}}\npreprocess: {{resize: 32, crop: 32}}\n"
                   f"model: {{uri: {TINY}, batch_size: 8, dtype: float32}}\noutput: {{uri: {tmp_path / 'yaml'}, top_k: 3}}\n")
    ds = sluice.Dataset.from_job(str(job))
    again = tmp_path / "again.yaml"
    again.write_text(ds.to_job())
    assert sluice.Dataset.from_job(str(again)).to_job() == ds.to_job()
    r = ds.write_parquet(str(tmp_path / "from_job"))
    assert r.rows_written == 60
    subprocess.run([BIN, "run", str(job), "--progress", "none"], check=True, capture_output=True)
    assert rows_by_part(tmp_path / "from_job") == rows_by_part(tmp_path / "yaml")


def test_report_from_python(data, tmp_path):
    html = tmp_path / "run.html"
    r = pipeline(data).write_parquet(str(tmp_path / "out"), report=str(html))
    text = html.read_text()
    assert r.rows_written == 60 and "sluice-data" in text and '"rows_written":60' in text
    with pytest.raises(ValueError, match="does not exist"):
        pipeline(data).write_parquet(str(tmp_path / "out2"), report=str(tmp_path / "missing" / "r.html"))
    assert not (tmp_path / "out2").exists()


def test_count_reads_metadata_only(data):
    assert sluice.read_parquet(data).count() == 60
    assert sluice.read_parquet(data).limit(25).count() == 25
    with pytest.raises(ValueError, match="matches no file"):
        sluice.read_parquet(data.replace("*.parquet", "nothing-*.parquet")).count()


def test_rerun_resumes_and_overwrite_starts_over(data, tmp_path):
    out = str(tmp_path / "out")
    assert pipeline(data).write_parquet(out).shards_written == 3
    again = pipeline(data).write_parquet(out)
    assert again.shards_written == 0 and again.shards_resumed == 3
    assert pipeline(data).write_parquet(out, overwrite=True).shards_written == 3


def test_the_gil_is_free_while_the_engine_works(tmp_path):
    # The sleep backend: about 2 s of model time and almost no CPU, so a Python thread that
    # needs the GIL must keep running the whole time.
    d = tmp_path / "data"
    subprocess.run([BIN, "datagen", "raw", "--out", str(d), "--images", "40", "--per-file", "20"], check=True, capture_output=True)
    model = tmp_path / "sleep.txt"
    model.write_text("per_batch=100ms classes=10\n")
    ds = sluice.read_parquet(str(d / "*.parquet")).preprocess(resize=32, crop=32).predict(str(model), backend="sleep", batch_size=2)
    ticks = []
    done = threading.Event()

    def tick():
        while not done.is_set():
            ticks.append(time.monotonic())
            time.sleep(0.01)

    t = threading.Thread(target=tick)
    t.start()
    start = time.monotonic()
    r = ds.write_parquet(str(tmp_path / "out"))
    took = time.monotonic() - start
    done.set()
    t.join()
    assert r.rows_written == 40 and took > 1.5
    during = [x for x in ticks if start <= x <= start + took]
    gaps = [b - a for a, b in zip(during, during[1:])]
    assert len(during) > 50 * took and max(gaps) < 0.5, f"{len(during)} ticks in {took:.1f} s, longest gap {max(gaps):.2f} s"


def test_ctrl_c_stops_within_a_second(tmp_path):
    d = tmp_path / "data"
    subprocess.run([BIN, "datagen", "raw", "--out", str(d), "--images", "200", "--per-file", "20"], check=True, capture_output=True)
    model = tmp_path / "sleep.txt"
    model.write_text("per_batch=200ms classes=10\n")
    out = tmp_path / "out"
    script = (f"import sluice\n"
              f"ds = sluice.read_parquet({str(d / '*.parquet')!r}, shard_rows=20).preprocess(resize=32, crop=32)"
              f".predict({str(model)!r}, backend='sleep', batch_size=2)\n"
              f"print('started', flush=True)\n"
              f"ds.write_parquet({str(out)!r})\n")
    names = interrupt(script, out, 2.0, "built-in path")
    # What was published is complete: a rerun finishes the job from there.
    published = [n for n in names if n.startswith("part-")]
    assert len(published) < 10
    ds = sluice.read_parquet(str(d / "*.parquet"), shard_rows=20).preprocess(resize=32, crop=32).predict(str(model), backend="sleep",
                                                                                                          batch_size=2)
    os.environ["SLUICE_SLEEP_SCALE"] = "0"
    try:
        r = ds.write_parquet(str(out))
    finally:
        del os.environ["SLUICE_SLEEP_SCALE"]
    assert r.shards_resumed == len(published) and r.shards_written == 10 - len(published)


def test_bad_input_raises_value_error_naming_it(data, tmp_path):
    with pytest.raises(ValueError, match="unknown key 'model.bogus'"):
        sluice.read_parquet(data).predict(TINY)._with("model", bogus=1).write_parquet(str(tmp_path / "a"))
    with pytest.raises(ValueError, match="no-such-model.pt"):
        sluice.read_parquet(data).preprocess(resize=32, crop=32).predict(str(tmp_path / "no-such-model.pt")).write_parquet(
            str(tmp_path / "b"))
    bad = tmp_path / "bad.yaml"
    bad.write_text("input: {uri: x}\nmodel: {uri: m.pt}\noutput: {uri: o, top_k: many}\n")
    with pytest.raises(ValueError, match="output.top_k"):
        sluice.Dataset.from_job(str(bad))


def test_default_dtype_is_auto_and_says_what_it_chose(data, tmp_path):
    r = pipeline(data, dtype=None).write_parquet(str(tmp_path / "out"))
    why = r.to_dict()["model_dtype_why"]
    print(f"auto here: {r.model_dtype} ({why})")  # in the log: whether bfloat16 was timed and tried
    assert r.rows_written == 60 and r.model_dtype in ("float32", "bfloat16") and why.startswith("auto: "), (r.model_dtype, why)
    assert f"model dtype: {r.model_dtype} (auto: " in r.stats()
    assert pipeline(data).write_parquet(str(tmp_path / "f32")).model_dtype == "float32"


@pytest.mark.skipif("avx512f" not in cpu_flags(), reason="oneDNN runs bfloat16 on AVX-512 CPUs only")
def test_bfloat16_on_the_cpu_runs_channels_last_and_mostly_agrees(data):
    # model.dtype bfloat16 on a CPU turns channels_last on (oneDNN's bfloat16 convolutions need
    # it); the predictions change only within bfloat16's precision.
    f32 = {r["id"]: r["top_k_ids"][0] for r in pipeline(data).take(60)}
    bf16 = {r["id"]: r["top_k_ids"][0] for r in pipeline(data, dtype="bfloat16").take(60)}
    assert f32.keys() == bf16.keys()
    agree = sum(f32[i] == bf16[i] for i in f32) / len(f32)
    assert agree >= 0.8, agree
