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

``Dataset.from_job("job.yaml")`` and ``ds.to_job()`` convert both ways; ``count()`` reads only
metadata. Not yet here (they need Python stages inside the engine): ``map_batches``,
``iter_batches``, ``take``.
"""

from __future__ import annotations

import copy
import json
from typing import Any, Dict, Iterable, List, Optional, Sequence, Union

from . import _sluice

__all__ = ["Dataset", "JobResult", "read_parquet", "read_images", "job_reference"]

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

    def __repr__(self) -> str:
        return (f"JobResult(rows_written={self.rows_written}, bad_rows={self.bad_rows}, shards_written={self.shards_written}, "
                f"shards_resumed={self.shards_resumed}, rows_per_s={self.rows_per_s:.1f}, bottleneck={self.bottleneck!r})")


class Dataset:
    """A lazy pipeline: each method returns a new Dataset; nothing runs until ``write_parquet``
    or ``write_json``. The pipeline is a job (``to_job()`` shows it as a job file)."""

    def __init__(self, job: Dict[str, Any]) -> None:
        self._job = job

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
        return Dataset(job)

    def preprocess(self, preset: Optional[str] = None, **options: Any) -> "Dataset":
        """Decode, resize, crop and normalize in sluice's C++ pool (torchvision-exact by default).
        Keys as in the job file's ``preprocess`` section: resize, crop, interpolation, antialias,
        normalize, mean, std, layout, dtype, mode ("exact" | "fast"), exif_orientation,
        max_pixels. ``preprocess(None)`` with no options keeps the defaults (imagenet)."""
        if preset == "none" and not options:  # the image column already is the model's input tensor
            job = copy.deepcopy(self._job)
            job["preprocess"] = "none"
            return Dataset(job)
        return self._with("preprocess", _replace=True, preset=preset, **options)

    def predict(self, model: str, *, batch_size: Optional[int] = None, device: Optional[str] = None, top_k: Optional[int] = None,
                dtype: Optional[str] = None, replicas: Optional[int] = None, backend: Optional[str] = None,
                threads: Optional[int] = None) -> "Dataset":
        """Run a model in C++ replicas: a TorchScript file (``backend="torch"``), ``device`` auto |
        cpu | cuda | cuda:0,1; ``top_k`` predictions per row (0 = the raw model output)."""
        ds = self._with("model", uri=model, batch_size=batch_size, device=device, dtype=dtype, replicas=replicas,
                        backend=backend, threads=threads)
        return ds._with("output", top_k=top_k) if top_k is not None else ds

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

    # ---- running -----------------------------------------------------------------------------
    def write_parquet(self, path: str, *, overwrite: bool = False, compression: Optional[str] = None,
                      max_bad_rows: Optional[float] = None, report: Optional[str] = None) -> JobResult:
        """Runs the pipeline, writing one Parquet part per input shard, each published atomically
        (a rerun resumes from the published parts; ``overwrite`` starts over). ``report``: also
        write the HTML run report to this file (as ``sluice run --report``), also on failure."""
        return self._write(path, "parquet", overwrite, compression, max_bad_rows, report)

    def write_json(self, path: str, *, overwrite: bool = False, max_bad_rows: Optional[float] = None,
                   report: Optional[str] = None) -> JobResult:
        """As write_parquet, as JSON lines."""
        return self._write(path, "jsonl", overwrite, None, max_bad_rows, report)

    def _write(self, path: str, fmt: str, overwrite: bool, compression: Optional[str], max_bad_rows: Optional[float],
               report: Optional[str]) -> JobResult:
        ds = self._with("output", uri=path, format=fmt, compression=compression)
        if max_bad_rows is not None:
            ds = ds._with("errors", max_bad_rows=max_bad_rows)
        result_json, summary = _sluice.run_job(ds.to_job(), "<python pipeline>", overwrite, report or "")
        return JobResult(result_json, summary)

    # ---- the job file, both ways ---------------------------------------------------------------
    def to_job(self) -> str:
        """The job file this pipeline runs (YAML); ``sluice run`` on it writes the same output."""
        lines = []
        for section in ("input", "preprocess", "model", "output", "errors", "resources", "workers"):
            if section in self._job:
                lines.append(f"{section}: {_yaml_value(self._job[section])}")
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
