"""sluice from Python: batch inference pipelines on sluice's C++ engine.

A pipeline is built the way a Ray Data user builds one and runs exactly what ``sluice run``
runs for the same job file: the same exactly-once parts, resume, ``_errors/``, manifest and
summary. The work happens in C++ with the GIL released; Ctrl-C stops a run within a second
with KeyboardInterrupt and nothing half-written is published.

    import sluice
    ds = sluice.read_parquet("data/*.parquet", columns=["id", "image", "label"])
    ds = ds.preprocess(preset="imagenet")
    ds = ds.predict("models/resnet50.pt", batch_size=256, device="auto", top_k=5)
    result = ds.write_parquet("out/predictions/")
    print(result.stats())

Python code joins the pipeline where it is needed, on the engine's threads:

    ds = ds.map_batches(add_label_names)                       # a function on numpy batches
    ds = ds.map_batches(MyModel, concurrency=2, batch_format="torch")   # a class: one per replica
    for batch in ds.iter_batches(batch_size=512): ...          # streaming, bounded memory

A stage sees the batch as a dict of column name to array (numpy arrays viewing the engine's
buffers, torch tensors through DLPack, ``BinaryArray`` for encoded bytes) and returns a dict
with one row per row it got. ``Dataset.from_job("job.yaml")`` and ``ds.to_job()`` convert both
ways; ``count()`` reads only metadata.
"""

from __future__ import annotations

import atexit
import copy
import inspect
import json
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import _sluice

__all__ = ["Dataset", "JobResult", "BinaryArray", "BatchIterator", "read_parquet", "read_images", "job_reference"]

Uris = Union[str, Sequence[str]]


def job_reference() -> str:
    """Every job file key with its default and meaning (as ``sluice run --help`` prints)."""
    return _sluice.job_reference()


class JobResult:
    """What a run did: rows and shards written and resumed, wall time, the bottleneck and why,
    and the full statistics (``to_dict()``); ``stats()`` is the summary ``sluice run`` prints."""

    def __init__(self, result_json: str, summary: str) -> None:
        self._data: Dict[str, Any] = json.loads(result_json)
        self._summary = summary

    def stats(self) -> str:
        """The stage table, the bottleneck and rows/s, as ``sluice run`` prints them."""
        return self._summary

    def to_dict(self) -> Dict[str, Any]:
        """Everything ``sluice run --summary-json`` writes."""
        return copy.deepcopy(self._data)

    @property
    def rows_written(self) -> int:
        return int(self._data["rows_written"])

    @property
    def bad_rows(self) -> int:
        return int(self._data["bad_rows"])

    @property
    def shards_written(self) -> int:
        return int(self._data["shards_written"])

    @property
    def shards_resumed(self) -> int:
        return int(self._data["shards_resumed"])

    @property
    def rows_per_s(self) -> float:
        return float(self._data["rows_per_s"])

    @property
    def bottleneck(self) -> str:
        return str(self._data["bottleneck"])

    @property
    def model_dtype(self) -> str:
        """The model's compute dtype as it ran: with ``dtype="auto"`` (the default) what the
        load-time calibration and the first rows' trial chose; ``to_dict()["model_dtype_why"]``
        says why. Empty without a model."""
        return str(self._data.get("model_dtype", ""))

    def __repr__(self) -> str:
        return (f"JobResult(rows_written={self.rows_written}, bad_rows={self.bad_rows}, shards_written={self.shards_written}, "
                f"shards_resumed={self.shards_resumed}, rows_per_s={self.rows_per_s:.1f}, bottleneck={self.bottleneck!r})")


class BinaryArray:
    """A binary column (encoded images, bytes) without a copy of its values: ``values`` is a
    uint8 array over the engine's buffer and row i is ``values[offsets[i]:offsets[i + 1]]``.
    ``a[i]`` gives the bytes of row i (None if null), ``a.view(i)`` a memoryview (no copy),
    ``a[i:j]`` a BinaryArray over the same buffers. A stage may return one as a column."""

    _sluice_binary = True

    def __init__(self, values: np.ndarray, offsets: np.ndarray, valid: Optional[np.ndarray] = None) -> None:
        self.values = values
        self.offsets = offsets
        self.valid = valid

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def view(self, i: int) -> Optional[memoryview]:
        """Row i as a memoryview of the engine's buffer (None if null)."""
        if i < 0:
            i += len(self)
        if self.valid is not None and not self.valid[i]:
            return None
        return memoryview(self.values[self.offsets[i]:self.offsets[i + 1]])

    def __getitem__(self, i: Union[int, slice]) -> Any:
        if isinstance(i, slice):
            start, stop, step = i.indices(len(self))
            if step != 1:
                raise ValueError("BinaryArray slices take every row (step 1)")
            return BinaryArray(self.values, self.offsets[start:stop + 1], None if self.valid is None else self.valid[start:stop])
        v = self.view(int(i))
        return None if v is None else v.tobytes()

    def __iter__(self) -> Iterator[Optional[bytes]]:
        return (self[i] for i in range(len(self)))

    def to_pylist(self) -> List[Optional[bytes]]:
        """Every row as bytes (copies)."""
        return list(self)

    def __repr__(self) -> str:
        return f"BinaryArray({len(self)} rows, {int(self.offsets[-1] - self.offsets[0]) if len(self) else 0} bytes)"


def _batch_in(batch: Dict[str, Any], torch_format: bool) -> Dict[str, Any]:
    """The engine's batch (numpy_batch.h) as a stage or a loop sees it."""
    out: Dict[str, Any] = {}
    from_dlpack = None
    for name, v in batch.items():
        if isinstance(v, tuple):
            if v[0] == "binary":
                v = BinaryArray(v[1], v[2], v[3])
            else:  # ("masked", values, valid)
                v = np.ma.MaskedArray(v[1], mask=~v[2])
        elif isinstance(v, list):
            arr = np.empty(len(v), dtype=object)
            arr[:] = v
            v = arr
        elif torch_format and not isinstance(v, np.ndarray):  # a DLPack capsule
            if from_dlpack is None:
                from torch.utils.dlpack import from_dlpack
            v = from_dlpack(v)
        out[name] = v
    return out


def _batch_out(batch: Any) -> Any:
    """A stage's result for the engine: torch tensors as numpy arrays over the same memory."""
    if not isinstance(batch, dict):
        return batch
    out = {}
    for name, v in batch.items():
        if type(v).__module__ == "torch" and hasattr(v, "detach"):
            v = v.detach()
            if v.device.type != "cpu":
                v = v.cpu()
            v = v.contiguous().numpy()
        out[name] = v
    return out


_open_streams: set = set()


class BatchIterator:
    """The batches of a running pipeline (``Dataset.iter_batches``). Iterating pulls batches;
    ``close()`` (also when a for loop is left early, the iterator is dropped, or at exit) stops
    the pipeline; ``result()`` is the JobResult once every batch has been taken."""

    def __init__(self, stream: Any, torch_format: bool) -> None:
        self._stream = stream
        self._torch = torch_format
        self._result: Optional[JobResult] = None
        _open_streams.add(stream)

    def __iter__(self) -> "BatchIterator":
        return self

    def __next__(self) -> Dict[str, Any]:
        if self._stream is None:
            raise StopIteration
        try:
            batch = self._stream.next()
        except BaseException:
            self.close()
            raise
        if batch is None:
            done = self._stream.result()
            self._result = JobResult(*done) if done is not None else None
            self.close()
            raise StopIteration
        return _batch_in(batch, self._torch)

    def close(self) -> None:
        """Stops the pipeline (if still running) and waits for its threads."""
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.close()
            _open_streams.discard(stream)

    def result(self) -> Optional["JobResult"]:
        """What the run did (rows, the stage table, peak memory), after the last batch; None
        before, or when the loop stopped early."""
        return self._result

    def __enter__(self) -> "BatchIterator":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: the atexit hook has closed it
            pass


@atexit.register
def _close_open_streams() -> None:
    """Pipelines still streaming when the interpreter exits stop before Python goes away."""
    for stream in list(_open_streams):
        stream.close()
    _open_streams.clear()


def _rows_of(batch: Dict[str, Any]) -> List[Dict[str, Any]]:
    names = list(batch)
    n = len(batch[names[0]]) if names else 0
    return [{k: batch[k][i] for k in names} for i in range(n)]


class Dataset:
    """A lazy pipeline: each method returns a new Dataset; nothing runs until ``write_parquet``,
    ``write_json``, ``iter_batches`` or ``take``. The pipeline is a job (``to_job()`` shows it as
    a job file) plus the Python stages ``map_batches`` added."""

    def __init__(self, job: Dict[str, Any], stages: Optional[List[Dict[str, Any]]] = None) -> None:
        self._job = job
        self._stages: List[Dict[str, Any]] = list(stages or [])

    # ---- building ----------------------------------------------------------------------------
    def _with(self, section: str, _replace: bool = False, **keys: Any) -> "Dataset":
        """A copy with `keys` (those not None) set in `section`; `_replace` drops its old keys."""
        job = copy.deepcopy(self._job)
        if _replace:
            job[section] = {}
        target = job.setdefault(section, {})
        if not isinstance(target, dict):
            target = job[section] = {}
        for k, v in keys.items():
            if v is not None:
                target[k] = v
        return Dataset(job, self._stages)

    def preprocess(self, preset: Optional[str] = None, **options: Any) -> "Dataset":
        """Decode, resize, crop and normalize in sluice's C++ pool (torchvision-exact by default).
        Keys as in the job file's ``preprocess`` section: resize, crop, interpolation, antialias,
        normalize, mean, std, layout, dtype, mode ("exact" | "fast"), exif_orientation,
        max_pixels. ``preprocess(None)`` with no options keeps the defaults (imagenet)."""
        if preset == "none" and not options:  # the image column already is the model's input tensor
            job = copy.deepcopy(self._job)
            job["preprocess"] = "none"
            return Dataset(job, self._stages)
        return self._with("preprocess", _replace=True, preset=preset, **options)

    def predict(self, model: str, *, batch_size: Optional[int] = None, device: Optional[str] = None, top_k: Optional[int] = None,
                dtype: Optional[str] = None, replicas: Optional[int] = None, backend: Optional[str] = None,
                threads: Optional[int] = None) -> "Dataset":
        """Run a model in C++ replicas: a TorchScript file (``backend="torch"``), ``device`` auto |
        cpu | cuda | cuda:0,1; ``top_k`` predictions per row (0 = the raw model output);
        ``dtype`` auto (default: bfloat16 on a CPU with bfloat16 instructions where it measures
        faster and its top-1 equals float32's on the first rows, else float32) | float32 |
        float16 | bfloat16 (the README's job file reference has the details)."""
        ds = self._with("model", uri=model, batch_size=batch_size, device=device, dtype=dtype, replicas=replicas,
                        backend=backend, threads=threads)
        return ds._with("output", top_k=top_k) if top_k is not None else ds

    def map_batches(self, fn: Union[Callable[..., Any], type], *, batch_size: Optional[int] = None, batch_format: str = "numpy",
                    concurrency: Optional[Union[int, Tuple[int, int]]] = None, on_error: str = "raise",
                    fn_args: Optional[Sequence[Any]] = None, fn_kwargs: Optional[Dict[str, Any]] = None,
                    fn_constructor_args: Optional[Sequence[Any]] = None, fn_constructor_kwargs: Optional[Dict[str, Any]] = None) -> "Dataset":
        """Run Python on each batch, at this point of the pipeline: before ``preprocess`` it sees
        the read columns (the image as a ``BinaryArray`` of encoded bytes), after it the model's
        input tensor ``input`` (and must return it when ``predict`` follows), after ``predict``
        the predictions.

        ``fn``: a function ``batch -> batch`` or a class whose instances are called that way
        (``__init__`` runs once per replica, on the replica's thread: load a model there).
        A batch is a dict of column name to numpy arrays (``batch_format="numpy"``) or torch
        tensors (``"torch"``, through DLPack: no copy); the result is a dict with one row per
        row of the batch (columns left out are dropped; the id comes back if it is left out).
        ``batch_size``: rows per call (the last batch may be shorter; default: as they come).
        ``concurrency``: replicas, each on its own thread (a (min, max) pair takes max).
        ``on_error``: ``"raise"`` stops the pipeline with the exception (nothing more is
        published); ``"record"`` writes the batch's rows to ``_errors/`` with the exception's
        last line and goes on while ``errors.max_bad_rows`` allows."""
        if batch_format == "default":
            batch_format = "numpy"
        if batch_format not in ("numpy", "torch"):
            raise ValueError(f"map_batches: batch_format is {batch_format!r}; expected 'numpy' or 'torch'")
        if on_error not in ("raise", "record"):
            raise ValueError(f"map_batches: on_error is {on_error!r}; expected 'raise' or 'record'")
        if not callable(fn):
            raise TypeError(f"map_batches: fn must be a function or a class, not {type(fn).__name__}")
        if isinstance(concurrency, tuple):
            concurrency = concurrency[1]
        if concurrency is not None and int(concurrency) < 1:
            raise ValueError("map_batches: concurrency must be >= 1")
        if batch_size is not None and int(batch_size) < 1:
            raise ValueError("map_batches: batch_size must be >= 1")
        place = "model" if "model" in self._job else "preprocess" if "preprocess" in self._job else "read"
        base = f"map_batches({getattr(fn, '__name__', type(fn).__name__)})"
        names = {s["name"] for s in self._stages}
        name, k = base, 2
        while name in names:
            name, k = f"{base} #{k}", k + 1
        stage = {
            "name": name, "place": place, "fn": fn, "is_class": inspect.isclass(fn),
            "fn_args": tuple(fn_args or ()), "fn_kwargs": dict(fn_kwargs or {}),
            "ctor_args": tuple(fn_constructor_args or ()), "ctor_kwargs": dict(fn_constructor_kwargs or {}),
            "batch_format": batch_format, "on_error": on_error, "concurrency": int(concurrency or 1),
            "batch_size": int(batch_size or 0),
            "describe": f"{name} after {place}: {getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', name)}",
        }
        return Dataset(copy.deepcopy(self._job), self._stages + [stage])

    def limit(self, rows: int) -> "Dataset":
        """The first ``rows`` rows (in shard order)."""
        return self._with("input", limit=int(rows))

    def select_columns(self, columns: Iterable[str]) -> "Dataset":
        """Input columns to carry to the output beside the predictions (the id always is)."""
        return self._with("output", include=[c for c in columns if c != self._job.get("input", {}).get("id_column", "id")])

    def with_resources(self, *, cpus: Optional[int] = None, memory: Optional[Union[int, str]] = None) -> "Dataset":
        """CPU threads and the in-flight memory budget (``"4GiB"`` or bytes)."""
        return self._with("resources", cpus=cpus, memory=memory)

    def count(self) -> int:
        """The rows the pipeline reads (after ``limit``), from the Parquet footers or the file
        listing alone: nothing is decoded. Rows that turn out bad are still counted."""
        job = copy.deepcopy(self._job)
        job.setdefault("model", {}).setdefault("uri", "<not needed to count>")
        job.setdefault("output", {}).setdefault("uri", "<not needed to count>")
        rows, _shards = _sluice.count_input(Dataset(job).to_job(), "<python pipeline>")
        return int(rows)

    def iter_batches(self, *, batch_size: Optional[int] = 256, batch_format: str = "numpy",
                     preserve_order: bool = False) -> "BatchIterator":
        """Stream the pipeline's batches (what ``write_parquet`` would write) into this loop:
        dicts of column name to numpy arrays viewing the engine's buffers (``"torch"``: torch
        tensors through DLPack), ``batch_size`` rows each (None: as they come), shards in input
        order. The pipeline runs ahead by two batches plus its memory budget and waits for the
        loop; leaving the loop (break, an exception, the iterator dropped) stops it. Arrays stay
        valid after the loop. ``preserve_order``: rows in input order. The iterator's
        ``result()`` gives the run's JobResult (stage table, peak memory) once it is exhausted."""
        if batch_format == "default":
            batch_format = "numpy"
        if batch_format not in ("numpy", "torch"):
            raise ValueError(f"iter_batches: batch_format is {batch_format!r}; expected 'numpy' or 'torch'")
        ds = self._with("output", uri="<not written: iter_batches>", preserve_order=preserve_order or None)
        stream = _sluice.stream_job(ds.to_job(), "<python pipeline>", self._stages, self._stages_fingerprint(), int(batch_size or 0), batch_format)
        return BatchIterator(stream, batch_format == "torch")

    def take_batch(self, batch_size: int = 20, *, batch_format: str = "numpy") -> Dict[str, Any]:
        """The first ``batch_size`` rows (in input order) as one batch."""
        for batch in self.limit(batch_size).iter_batches(batch_size=batch_size, batch_format=batch_format, preserve_order=True):
            return batch
        return {}

    def take(self, limit: int = 20) -> List[Dict[str, Any]]:
        """The first ``limit`` rows (in input order) as dicts of column name to value."""
        return _rows_of(self.take_batch(limit))[:limit]

    # ---- running -----------------------------------------------------------------------------
    def write_parquet(self, path: str, *, overwrite: bool = False, compression: Optional[str] = None,
                      max_bad_rows: Optional[float] = None, report: Optional[str] = None, preserve_order: Optional[bool] = None) -> JobResult:
        """Runs the pipeline, writing one Parquet part per input shard, each published atomically
        (a rerun resumes from the published parts; ``overwrite`` starts over). ``report``: also
        write the HTML run report to this file (as ``sluice run --report``), also on failure.
        ``preserve_order``: rows in input order, so every run writes byte-identical parts."""
        return self._write(path, "parquet", overwrite, compression, max_bad_rows, report, preserve_order)

    def write_json(self, path: str, *, overwrite: bool = False, max_bad_rows: Optional[float] = None,
                   report: Optional[str] = None, preserve_order: Optional[bool] = None) -> JobResult:
        """As write_parquet, as JSON lines."""
        return self._write(path, "jsonl", overwrite, None, max_bad_rows, report, preserve_order)

    def _write(self, path: str, fmt: str, overwrite: bool, compression: Optional[str], max_bad_rows: Optional[float],
               report: Optional[str], preserve_order: Optional[bool]) -> JobResult:
        ds = self._with("output", uri=path, format=fmt, compression=compression, preserve_order=preserve_order)
        if max_bad_rows is not None:
            ds = ds._with("errors", max_bad_rows=max_bad_rows)
        result_json, summary = _sluice.run_job(ds.to_job(), "<python pipeline>", overwrite, report or "", self._stages,
                                               self._stages_fingerprint())
        return JobResult(result_json, summary)

    def _stages_fingerprint(self) -> str:
        return ";".join(s["describe"] for s in self._stages)

    # ---- the job file, both ways ---------------------------------------------------------------
    def to_job(self) -> str:
        """The job file this pipeline runs (YAML); ``sluice run`` on it writes the same output."""
        lines = []
        for section in ("input", "preprocess", "model", "output", "errors", "resources", "workers"):
            if section == "preprocess" and section not in self._job and "model" not in self._job:
                lines.append("preprocess: none")  # nothing asked for preprocessing or a model: the rows as read
            elif section in self._job:
                lines.append(f"{section}: {_yaml_value(self._job[section])}")
            elif section == "model":
                lines.append("model: none")  # no TorchScript model: the preprocessed tensors (or the Python stages' output)
        for s in self._stages:
            lines.append(f"# Python stage (runs only from Python): {s['describe']}")
        return "\n".join(lines) + "\n"

    @staticmethod
    def from_job(path: str) -> "Dataset":
        """The pipeline of a job file (``output`` included: ``write_parquet`` may name another)."""
        with open(path, encoding="utf-8") as f:
            text = f.read()
        _sluice.check_job(text, path)
        job = _sluice.read_yaml(text)
        if not isinstance(job, dict):
            raise ValueError(f"{path}: a job file is a mapping of sections")
        return Dataset(job)

    def __repr__(self) -> str:
        return "Dataset(\n  " + self.to_job().strip().replace("\n", "\n  ") + "\n)"


def _yaml_value(v: Any) -> str:
    """JSON is YAML: flow style, strings quoted, so the job parser sees exactly these values."""
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))}: {_yaml_value(x)}" for k, x in v.items()) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_yaml_value(x) for x in v) + "]"
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, (int, float)):
        return json.dumps(v)
    return json.dumps(str(v))


def _uri_list(uris: Uris) -> Union[str, List[str]]:
    return uris if isinstance(uris, str) else [str(u) for u in uris]


def read_parquet(uris: Uris, *, columns: Optional[Sequence[str]] = None, id_column: Optional[str] = None,
                 image_column: Optional[str] = None, shard_rows: Optional[int] = None) -> Dataset:
    """Parquet files (paths, globs or s3:// URIs) with an image column (encoded bytes or uint8
    tensors). ``columns``: besides the id and image, which input columns reach the output."""
    ds = Dataset({"input": {"uri": _uri_list(uris), "format": "parquet"}})
    ds = ds._with("input", id_column=id_column, image_column=image_column, shard_rows=shard_rows)
    if columns is not None:
        skip = {id_column or "id", image_column or "image"}
        ds = ds._with("output", include=[c for c in columns if c not in skip])
    return ds


def read_images(uris: Uris, *, shard_rows: Optional[int] = None) -> Dataset:
    """Image files (.jpg .jpeg .png .webp) in folders, globs or s3:// prefixes; the id is the path."""
    return Dataset({"input": {"uri": _uri_list(uris), "format": "images"}})._with("input", shard_rows=shard_rows)
