#!/usr/bin/python3
"""Peer for the end-to-end benchmark of `sluice run`: the batch-inference pipeline an ML engineer
writes in PyTorch today, on the same Parquet files and TorchScript model.

  a torch.utils.data.IterableDataset over (file, row group) units, split across DataLoader
  workers by get_worker_info(); each worker reads its own row groups, then per row
    --kind jpeg: PIL Image.open + convert('RGB'), Resize(256) (bilinear, antialias),
                 CenterCrop(224), ToTensor, Normalize(ImageNet mean / std)
    --kind raw:  a 256x256x3 uint8 HWC tensor: center crop 224, to float in [0, 1], Normalize
  DataLoader(num_workers, pin_memory=True, batch_size) -> torch.jit.load'ed model, eval,
  torch.inference_mode, softmax + top-5 per row.

Timing: the model is warmed up on one dummy batch first (not timed); the clock then runs from
the first batch request (which starts the workers) to the last top-5 result, so worker start-up
and the pipeline's fill time are included. --warmup N instead starts the clock when the N-th
real batch has been scored and leaves those N batches out of the count. Writing --output (JSON
Lines) happens after the clock stops. One JSON line is printed at the end.

Parquet without pyarrow: Debian 12 packages no Python Parquet reader (no pyarrow, fastparquet,
duckdb or polars; pandas.read_parquet needs one of the first two; GDAL is built without Arrow).
So this file carries a small reader: the Thrift compact protocol for the footer and page
headers, PLAIN / dictionary values, RLE definition levels, pages v1 and v2, decompression by
Debian's python3-zstandard (ZSTD, sluice's default), zlib (GZIP) and, when installed,
python3-snappy, python3-lz4, python3-brotli. Flat (non-nested) columns only. Its per-row cost is
a slice of the decompressed page; decompression runs in C, as it would under pyarrow.

  pytorch_pipeline.py --data 'DIR/*.parquet' --model M.pt [--batch-size 256] [--workers N]
      [--threads N] [--kind auto|jpeg|raw] [--image-column image] [--id-column id]
      [--limit N] [--warmup 0] [--optimize 1] [--device auto|cpu|cuda] [--output preds.jsonl]
"""
import argparse
import glob
import io
import json
import os
import struct
import sys
import time
import zlib

import numpy as np
import torch
import torchvision.transforms as T
from PIL import Image

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]

# ---------------------------------------------------------------------------------------------
# Minimal Parquet reader (see the module docstring for why it exists).

_CODECS = {0: "UNCOMPRESSED", 1: "SNAPPY", 2: "GZIP", 3: "LZO", 4: "BROTLI", 5: "LZ4", 6: "ZSTD", 7: "LZ4_RAW"}
_BOOLEAN, _INT32, _INT64, _INT96, _FLOAT, _DOUBLE, _BYTE_ARRAY, _FLBA = range(8)


class _Compact:
    """Thrift compact-protocol decoder, schema-free: a struct becomes {field id: value}."""

    def __init__(self, buf, pos=0):
        self.b, self.p = buf, pos

    def varint(self):
        r = s = 0
        while True:
            c = self.b[self.p]
            self.p += 1
            r |= (c & 0x7F) << s
            if c < 0x80:
                return r
            s += 7

    def zigzag(self):
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    def value(self, t):
        if t == 1 or t == 2:  # bool held in the field header
            return t == 1
        if t == 3:
            v = self.b[self.p]
            self.p += 1
            return v - 256 if v > 127 else v
        if t in (4, 5, 6):
            return self.zigzag()
        if t == 7:
            v = struct.unpack_from("<d", self.b, self.p)[0]
            self.p += 8
            return v
        if t == 8:
            n = self.varint()
            v = bytes(self.b[self.p:self.p + n])
            self.p += n
            return v
        if t in (9, 10):  # list, set
            h = self.b[self.p]
            self.p += 1
            n, et = h >> 4, h & 15
            if n == 15:
                n = self.varint()
            return [self.element(et) for _ in range(n)]
        if t == 11:  # map
            n = self.varint()
            if n == 0:
                return {}
            kv = self.b[self.p]
            self.p += 1
            out = {}
            for _ in range(n):
                k = self.element(kv >> 4)
                out[k] = self.element(kv & 15)
            return out
        if t == 12:
            return self.struct()
        raise ValueError(f"thrift compact: unknown type {t} at byte {self.p}")

    def element(self, t):
        if t == 1 or t == 2:  # bool inside a collection: one byte
            v = self.b[self.p]
            self.p += 1
            return v == 1
        return self.value(t)

    def struct(self):
        out, last = {}, 0
        while True:
            h = self.b[self.p]
            self.p += 1
            if h == 0:
                return out
            delta = h >> 4
            fid = last + delta if delta else self.zigzag()
            out[fid] = self.value(h & 15)
            last = fid


def _rle_hybrid(buf, pos, end, bit_width, count):
    """Parquet's RLE / bit-packed hybrid (definition levels, dictionary indices) -> int32[count]."""
    out = np.empty(count, np.int32)
    k, vb = 0, (bit_width + 7) // 8
    weights = (1 << np.arange(bit_width)).astype(np.int64)
    r = _Compact(buf, pos)
    while k < count and r.p < end:
        h = r.varint()
        if h & 1:  # bit-packed: (h >> 1) groups of 8 values
            groups = h >> 1
            nbytes = min(groups * bit_width, end - r.p)
            if bit_width:
                bits = np.unpackbits(np.frombuffer(buf, np.uint8, nbytes, r.p), bitorder="little")
                vals = bits[:len(bits) // bit_width * bit_width].reshape(-1, bit_width) @ weights
            else:
                vals = np.zeros(groups * 8, np.int64)
            r.p += nbytes
            take = min(len(vals), count - k)
            out[k:k + take] = vals[:take]
        else:  # run of one repeated value
            take = min(h >> 1, count - k)
            out[k:k + take] = int.from_bytes(bytes(buf[r.p:r.p + vb]), "little")
            r.p += vb
        k += take
    if k < count:
        raise ValueError(f"RLE data ends after {k} of {count} values")
    return out


class _Decompressor:
    """Page decompression by codec; the modules load lazily (in each worker)."""

    def __init__(self):
        self.zstd = None

    def __call__(self, codec, data, size):
        if codec == 0:
            return data
        try:
            if codec == 6:
                if self.zstd is None:
                    import zstandard  # Debian: python3-zstandard
                    self.zstd = zstandard.ZstdDecompressor()
                return self.zstd.decompress(data, max_output_size=size)
            if codec == 1:
                import snappy  # Debian: python3-snappy
                return snappy.uncompress(bytes(data))
            if codec == 2:
                return zlib.decompressobj(wbits=47).decompress(data)
            if codec == 7:
                import lz4.block  # Debian: python3-lz4
                return lz4.block.decompress(data, uncompressed_size=size)
            if codec == 4:
                import brotli  # Debian: python3-brotli
                return brotli.decompress(bytes(data))
        except ImportError as e:
            raise RuntimeError(f"Parquet codec {_CODECS[codec]} needs a Python module that is not installed ({e}); "
                               "rewrite the files with `sluice parquet copy IN OUT --compression zstd`") from e
        raise RuntimeError(f"Parquet codec {_CODECS.get(codec, codec)} is not supported by this reader")


class _Leaf:
    def __init__(self, el, path, max_def, max_rep, index):
        self.name = ".".join(path)
        self.type = el.get(1)
        self.type_length = el.get(2, 0)
        self.max_def, self.max_rep, self.index = max_def, max_rep, index


class ParquetFile:
    """Footer on open; read_column(row_group, name) -> list with one value per row (None = null):
    memoryview for BYTE_ARRAY, a uint8 numpy row for FIXED_LEN_BYTE_ARRAY, Python numbers else."""

    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            if size < 12:
                raise ValueError(f"{path}: {size} bytes is too small for a Parquet file")
            f.seek(size - 8)
            tail = f.read(8)
            if tail[4:] != b"PAR1":
                raise ValueError(f"{path}: no PAR1 magic at the end (encrypted or not Parquet)")
            (n,) = struct.unpack("<I", tail[:4])
            f.seek(size - 8 - n)
            self.meta = _Compact(f.read(n)).struct()
        self.row_groups = self.meta.get(4, [])
        self.kv = {kv[1].decode(): kv.get(2, b"").decode() for kv in self.meta.get(5, [])}
        self.leaves = {}
        schema = self.meta[2]

        def walk(i, path, d, r):
            el = schema[i]
            if i:
                rep = el.get(3, 0)
                d, r = d + (rep != 0), r + (rep == 2)
                path = path + [el[4].decode()]
            children = el.get(5, 0)
            if i and not children:
                self.leaves[".".join(path)] = _Leaf(el, path, d, r, len(self.leaves))
                return i + 1
            j = i + 1
            for _ in range(children):
                j = walk(j, path, d, r)
            return j

        walk(0, [], 0, 0)
        self._decompress = _Decompressor()
        self._file = None

    def num_rows(self, rg):
        return self.row_groups[rg][3]

    def _plain(self, data, pos, n, leaf):
        t = leaf.type
        if t == _BYTE_ARRAY:
            out, unpack = [], struct.unpack_from
            for _ in range(n):
                (length,) = unpack("<I", data, pos)
                pos += 4
                out.append(data[pos:pos + length])
                pos += length
            return out
        if t == _FLBA:
            w = leaf.type_length
            return list(np.frombuffer(data, np.uint8, n * w, pos).reshape(n, w))
        if t in (_INT32, _INT64, _FLOAT, _DOUBLE):
            dt = {_INT32: "<i4", _INT64: "<i8", _FLOAT: "<f4", _DOUBLE: "<f8"}[t]
            return np.frombuffer(data, dt, n, pos).tolist()
        if t == _BOOLEAN:
            bits = np.unpackbits(np.frombuffer(data, np.uint8, (n + 7) // 8, pos), bitorder="little")
            return bits[:n].astype(bool).tolist()
        raise RuntimeError(f"{self.path}: column {leaf.name}: physical type {t} is not supported")

    def read_column(self, rg, name):
        leaf = self.leaves.get(name)
        if leaf is None:
            raise KeyError(f"{self.path}: no column '{name}' (columns: {', '.join(self.leaves)})")
        if leaf.max_rep:
            raise RuntimeError(f"{self.path}: column {name} is repeated (nested); not supported")
        chunk = self.row_groups[rg][1][leaf.index]
        if chunk.get(1):
            raise RuntimeError(f"{self.path}: column {name} lives in another file ({chunk[1].decode()})")
        meta = chunk[3]
        codec, total_values, start, size = meta[4], meta[5], meta[9], meta[7]
        dict_offset = meta.get(11)
        if dict_offset is not None and 0 < dict_offset < start:
            start = dict_offset
        if self._file is None:
            self._file = open(self.path, "rb")
        self._file.seek(start)
        buf = memoryview(self._file.read(size))
        bw = leaf.max_def.bit_length()
        values, dictionary, pos, seen = [], None, 0, 0
        where = f"{self.path}: row group {rg}, column {name}"
        while pos < len(buf) and seen < total_values:
            hr = _Compact(buf, pos)
            h = hr.struct()
            pos = hr.p
            ptype, usize, csize = h[1], h[2], h[3]
            body = buf[pos:pos + csize]
            pos += csize
            if ptype == 2:  # dictionary page
                data = memoryview(self._decompress(codec, body, usize))
                dictionary = self._plain(data, 0, h[7][1], leaf)
                continue
            if ptype == 0:  # data page v1: [rep levels][def levels] values, all compressed
                n, enc = h[5][1], h[5][2]
                data = memoryview(self._decompress(codec, body, usize))
                p, defs = 0, None
                if leaf.max_def:
                    (length,) = struct.unpack_from("<I", data, 0)
                    defs = _rle_hybrid(data, 4, 4 + length, bw, n)
                    p = 4 + length
            elif ptype == 3:  # data page v2: levels uncompressed, then values (maybe compressed)
                dh = h[8]
                n, enc, dl, rl = dh[1], dh[4], dh[5], dh[6]
                defs = _rle_hybrid(body, rl, rl + dl, bw, n) if leaf.max_def else None
                vals = body[rl + dl:]
                data = memoryview(self._decompress(codec, vals, usize - rl - dl) if dh.get(7, True) else vals)
                p = 0
            else:
                continue  # index pages
            present = n if defs is None else int(np.count_nonzero(defs == leaf.max_def))
            if enc == 0:
                vals = self._plain(data, p, present, leaf)
            elif enc in (2, 8):
                if dictionary is None:
                    raise RuntimeError(f"{where}: dictionary-encoded page without a dictionary page")
                idx = _rle_hybrid(data, p + 1, len(data), data[p], present)
                vals = [dictionary[i] for i in idx]
            else:
                raise RuntimeError(f"{where}: encoding {enc} is not supported by this reader")
            if present == n:
                values.extend(vals)
            else:
                it = iter(vals)
                values.extend(next(it) if d == leaf.max_def else None for d in defs)
            seen += n
        if len(values) != total_values:
            raise RuntimeError(f"{where}: read {len(values)} values, the footer says {total_values}")
        return values


# ---------------------------------------------------------------------------------------------
# The pipeline.

class ParquetImages(torch.utils.data.IterableDataset):
    """Rows of (preprocessed image, id). The parent reads only footers, to list (file, row group)
    units; DataLoader worker w of n reads units w, w + n, ... itself."""

    def __init__(self, files, column, id_column, kind, limit, raw_shape):
        self.column, self.id_column = column, id_column
        self.units, total = [], 0
        kinds = set()
        for path in files:
            pf = ParquetFile(path)
            leaf = pf.leaves.get(column)
            if leaf is None:
                raise SystemExit(f"{path}: no column '{column}' (columns: {', '.join(pf.leaves)})")
            kinds.add("raw" if leaf.type == _FLBA else "jpeg")
            if id_column and id_column not in pf.leaves:
                raise SystemExit(f"{path}: no id column '{id_column}' (pass --id-column '' to number rows)")
            shape = pf.kv.get(f"sluice.tensor.{column}")
            if shape and not raw_shape:  # sluice writes "uint8:256,256,3"
                raw_shape = tuple(int(x) for x in shape.split(":")[1].split(","))
            for rg in range(len(pf.row_groups)):
                rows = pf.num_rows(rg)
                if limit:
                    rows = min(rows, limit - total)
                if rows <= 0:
                    break
                self.units.append((path, rg, rows, total))
                total += rows
        self.num_rows = total
        if kind == "auto":
            if len(kinds) != 1:
                raise SystemExit(f"column '{column}' is BYTE_ARRAY in some files and FIXED_LEN in others")
            kind = kinds.pop()
        self.kind = kind
        self.raw_shape = tuple(raw_shape or (256, 256, 3))
        self.jpeg_transform = T.Compose([
            T.Resize(256, interpolation=T.InterpolationMode.BILINEAR, antialias=True),
            T.CenterCrop(224), T.ToTensor(), T.Normalize(MEAN, STD)])
        self.mean = torch.tensor(MEAN).view(3, 1, 1)
        self.std = torch.tensor(STD).view(3, 1, 1)

    def preprocess(self, value):
        if self.kind == "jpeg":
            return self.jpeg_transform(Image.open(io.BytesIO(value)).convert("RGB"))
        h, w, _ = self.raw_shape
        top, left = int(round((h - 224) / 2.0)), int(round((w - 224) / 2.0))  # CenterCrop's offsets
        img = np.asarray(value).reshape(self.raw_shape)
        crop = torch.from_numpy(np.ascontiguousarray(img[top:top + 224, left:left + 224]))
        return crop.permute(2, 0, 1).float().div_(255).sub_(self.mean).div_(self.std)

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        wid, nw = (info.id, info.num_workers) if info else (0, 1)
        files = {}
        for path, rg, rows, first in self.units[wid::nw]:
            pf = files.get(path) or files.setdefault(path, ParquetFile(path))
            images = pf.read_column(rg, self.column)[:rows]
            if self.id_column:
                ids = [str(bytes(v), "utf-8") if isinstance(v, memoryview) else str(v)
                       for v in pf.read_column(rg, self.id_column)[:rows]]
            else:
                ids = [str(first + i) for i in range(rows)]
            for i, (value, row_id) in enumerate(zip(images, ids)):
                if value is None:
                    raise RuntimeError(f"{path}: row group {rg}, row {i} (id {row_id}): image is null")
                yield self.preprocess(value), row_id


def expand(patterns):
    files = []
    for p in patterns:
        if os.path.isdir(p):
            p = os.path.join(p, "*.parquet")
        found = sorted(glob.glob(p))
        if not found:
            raise SystemExit(f"--data {p}: no files match")
        files += found
    return files


def main():
    cores = len(os.sched_getaffinity(0))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", nargs="+", required=True, help="Parquet files, globs or directories")
    ap.add_argument("--model", required=True, help="TorchScript file")
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--workers", type=int, default=cores, help=f"DataLoader workers (default: cores = {cores})")
    ap.add_argument("--threads", type=int, default=cores, help="torch.set_num_threads in the main process")
    ap.add_argument("--kind", choices=["auto", "jpeg", "raw"], default="auto",
                    help="auto: raw when the column is FIXED_LEN_BYTE_ARRAY")
    ap.add_argument("--image-column", default="image")
    ap.add_argument("--id-column", default="id", help="'' numbers the rows instead")
    ap.add_argument("--raw-shape", default="", help="H,W,C of raw rows (default: the file's sluice.tensor "
                    "metadata, else 256,256,3)")
    ap.add_argument("--limit", type=int, default=0, help="at most N rows (0: all)")
    ap.add_argument("--warmup", type=int, default=0,
                    help="real batches excluded from count and time (default 0: the clock starts at the "
                         "first batch request; the model is always warmed up on one dummy batch first)")
    ap.add_argument("--optimize", type=int, default=1,
                    help="1: torch.jit.freeze + optimize_for_inference, as sluice's torch backend does")
    ap.add_argument("--device", default="auto", help="auto (cuda when available), cpu, cuda, cuda:N")
    ap.add_argument("--prefetch-factor", type=int, default=2)
    ap.add_argument("--dtype", choices=["float32", "float16", "bfloat16"], default="float32",
                    help="model and input dtype (half precision the way users write it: model.half())")
    ap.add_argument("--channels-last", type=int, default=-1, help="1: channels_last inputs and weights (-1: on CUDA)")
    ap.add_argument("--output", default="", help="JSON Lines of id + top-5 ids and scores, written untimed")
    a = ap.parse_args()

    device = torch.device(a.device if a.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu"))
    torch.set_num_threads(a.threads)
    raw_shape = tuple(int(x) for x in a.raw_shape.split(",")) if a.raw_shape else None
    files = expand(a.data)
    ds = ParquetImages(files, a.image_column, a.id_column, a.kind, a.limit, raw_shape)

    dtype = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}[a.dtype]
    channels_last = a.channels_last == 1 or (a.channels_last == -1 and device.type == "cuda")
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    model = torch.jit.load(a.model, map_location=device).eval().to(dtype)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    if a.optimize:
        model = torch.jit.optimize_for_inference(torch.jit.freeze(model))
    loader = torch.utils.data.DataLoader(
        ds, batch_size=a.batch_size, num_workers=a.workers, pin_memory=True,
        prefetch_factor=a.prefetch_factor if a.workers else 2)

    ids, top_ids, top_scores = [], [], []
    images = batches = 0
    wait_s = model_s = 0.0
    first_batch_s = None
    with torch.inference_mode():
        dummy = torch.zeros(a.batch_size, 3, 224, 224, device=device, dtype=dtype).contiguous(memory_format=fmt)
        torch.softmax(model(dummy), 1).topk(5, 1)[0].cpu()  # model warm-up, untimed
        del dummy
        t0 = time.perf_counter()
        it = iter(loader)  # starts the workers
        while True:
            tw = time.perf_counter()
            try:
                x, batch_ids = next(it)
            except StopIteration:
                break
            tm = time.perf_counter()
            if first_batch_s is None:
                first_batch_s = tm - t0
            x = x.to(device, non_blocking=True).to(dtype).contiguous(memory_format=fmt)
            scores, idx = torch.softmax(model(x).float(), 1).topk(5, 1)
            scores, idx = scores.cpu(), idx.cpu()  # waits for the device
            done = time.perf_counter()
            batches += 1
            if batches <= a.warmup:
                if batches == a.warmup:
                    t0 = done
                continue
            wait_s += tm - tw
            model_s += done - tm
            images += len(batch_ids)
            ids += batch_ids
            top_ids.append(idx)
            top_scores.append(scores)
        seconds = time.perf_counter() - t0

    if a.output:
        ti = torch.cat(top_ids).tolist() if top_ids else []
        ts = torch.cat(top_scores).tolist() if top_scores else []
        with open(a.output, "w") as f:
            for row_id, i5, s5 in zip(ids, ti, ts):
                f.write(json.dumps({"id": row_id, "top5_ids": i5, "top5_scores": s5}) + "\n")
    if images == 0:
        print(f"no images after {a.warmup} warm-up batches ({batches} batches in all)", file=sys.stderr)
    print(json.dumps({
        "runner": "pytorch", "kind": ds.kind, "model": os.path.basename(a.model), "images": images,
        "seconds": round(seconds, 4), "images_per_s": round(images / seconds, 2) if seconds and images else 0.0,
        "batch_size": a.batch_size, "workers": a.workers, "threads": a.threads, "optimize": a.optimize,
        "dtype": a.dtype, "channels_last": channels_last,
        "device": str(device), "pin_memory": loader.pin_memory and device.type == "cuda",
        "warmup_batches": a.warmup, "batches": batches - min(batches, a.warmup),
        "first_batch_s": round(first_batch_s, 4) if first_batch_s is not None else None,
        "wait_s": round(wait_s, 4), "model_s": round(model_s, 4),
        "files": len(files), "row_groups": len(ds.units)}))


if __name__ == "__main__":
    main()
