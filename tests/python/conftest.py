"""What the Python API tests share: the sluice binary, the tiny TorchScript model, 60 raw-pixel
images in 3 Parquet files and the pipeline over them."""

import faulthandler
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import sluice

BIN = os.environ["SLUICE_BIN"]
TINY = str(Path(os.environ["SLUICE_MODELS"]) / "tiny.pt")

# tests/python/run_pytest.sh sends SIGUSR1 to a run that hangs: every Python thread's stack.
faulthandler.register(signal.SIGUSR1, all_threads=True)


@pytest.fixture(scope="session")
def data(tmp_path_factory):
    """60 raw-pixel images in 3 Parquet files of 20 (no photos needed)."""
    d = tmp_path_factory.mktemp("data")
    subprocess.run([BIN, "datagen", "raw", "--out", str(d), "--images", "60", "--per-file", "20", "--seed", "3"], check=True,
                   capture_output=True)
    return str(d / "*.parquet")


def cpu_flags():
    with open("/proc/cpuinfo") as f:
        return next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])


def pipeline(data, **predict):
    predict.setdefault("dtype", "float32")  # compared across runs and with PyTorch; auto has its own test
    return (sluice.read_parquet(data, shard_rows=20)
            .preprocess(resize=32, crop=32)
            .predict(TINY, batch_size=8, top_k=3, **predict))


def rows_by_part(out):
    """{part name: sorted JSON lines} via `sluice parquet cat` (row order inside a part follows
    batch arrival; the rows and their values are what must match)."""
    parts = sorted(p for p in os.listdir(out) if p.startswith("part-"))
    return {p: sorted(subprocess.run([BIN, "parquet", "cat", os.path.join(out, p)], check=True, capture_output=True,
                                     text=True).stdout.splitlines()) for p in parts}


def interrupt(script, out, after_s, label):
    """Runs `script` in a fresh interpreter (it prints 'started' once its pipeline is built),
    sends SIGINT `after_s` later and checks that it ends with KeyboardInterrupt within 3 s (a
    second, signals being looked at every 100 ms, plus room for the interpreter's exit on a
    loaded machine), leaving no temporary file and no _SUCCESS in `out`. Returns the names there."""
    p = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ)
    if not select.select([p.stdout], [], [], 120)[0]:
        p.kill()
        pytest.fail(f"the script printed nothing in 120 s: {p.communicate()[1][-2000:]}")
    assert p.stdout.readline().strip() == "started"
    time.sleep(after_s)
    sent = time.monotonic()
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=30)
    took = time.monotonic() - sent
    assert p.returncode != 0 and "KeyboardInterrupt" in err, err[-2000:]
    assert took < 3.0, f"stopped {took:.2f} s after SIGINT"
    print(f"SIGINT to exit ({label}): {took:.2f} s")
    names = os.listdir(out)
    assert not any(n.startswith(".") for n in names), names  # no temporary files left
    assert "_SUCCESS" not in names
    return names
