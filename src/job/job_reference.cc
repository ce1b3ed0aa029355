// JobFileReference: the job file's keys, shown by `sluice run --help` and kept in the README.
#include "sluice/job.h"

namespace sluice {

std::string JobFileReference() {
  return R"(input:
  uri: data/*.parquet        # path, glob (* ? **) or s3:// URI; or a list of them (required)
  format: parquet            # parquet | images (a folder/prefix/glob of .jpg .jpeg .png .webp)
  id_column: id              # carried to the output as "id" (images: the file's path/URI)
  image_column: image        # encoded image bytes (binary), a uint8 HWC tensor column (Ray's layouts too)
  image_shape: []            # [H, W, 3]: read a plain list<uint8> image column as uint8 arrays of this shape
  limit: 0                   # 0 = every row; else the first N rows (in shard order)
  shard_rows: 10000          # rows per shard, the unit of exactly-once output (whole row groups)
preprocess:                  # the same keys as `sluice preprocess` flags; `preprocess: none`: see below
  preset: imagenet           # the starting point; the keys below override it
  resize: 256                # shorter side; or [height, width]; or none
  crop: 224                  # center crop; or [height, width]; or none
  interpolation: bilinear    # bilinear | bicubic | nearest
  antialias: true
  normalize: true
  mean: [0.485, 0.456, 0.406]
  std: [0.229, 0.224, 0.225]
  layout: nchw               # nchw | nhwc
  dtype: float32             # float32 | float16 | bfloat16 | uint8
  mode: exact                # exact (torchvision/PIL bit-exact) | fast
  exif_orientation: false
  max_pixels: 100000000      # larger images are bad rows
model:                       # `model: none`: no model, see below
  uri: models/resnet50.pt    # TorchScript file (local) (required)
  backend: torch
  device: auto               # auto (all GPUs, else the CPU) | cpu | cuda | cuda:0,1
  dtype: auto                # auto | float32 | float16 | bfloat16. auto: on a CPU with bfloat16
                             # instructions (AVX512-BF16, AMX), bfloat16 + channels_last when it
                             # ran >= 1.2x float32 at load and its top-1 equals float32's on all
                             # but 1 % of the first 512 rows (their float32 results are written);
                             # float32 otherwise and on GPUs. float32: exactly as before
  batch_size: 256            # rows per model call
  replicas: auto             # model copies: two per GPU (own CUDA streams: copies overlap compute), or 1 on the CPU
  threads: auto              # CPU threads per CPU replica (auto: resources.cpus)
  normalize: auto            # host | device: send uint8 crops, normalize on the model's device
                             # (4x fewer bytes to a GPU) | auto: device on GPUs, host on the CPU
output:
  uri: out/predictions/      # directory or s3:// prefix (required)
  format: parquet            # parquet | jsonl
  top_k: 5                   # top_k_ids list<int32> + top_k_scores list<float32>; 0 = raw "output"
  include: []                # input columns copied to the output besides the id
  compression: zstd          # parquet: zstd | snappy | gzip | lz4_raw | brotli | none
  tensor_layout: sluice      # parquet tensors (top_k: 0 outputs): sluice | ray (Ray Data's layout, read by Ray)
  preserve_order: false      # rows in input order: every run writes byte-identical parts (slower when batches finish out of order)
errors:
  max_bad_rows: 0.001        # < 1: a fraction of the input rows; >= 1: a count; 0: none allowed
resources:
  cpus: auto                 # threads for reading and preprocessing
  memory: 4GiB               # the executor's in-flight budget (bytes between read and write)
  stall_timeout: 300s        # fail (naming every stage's state) when no batch moves this long; 0 = off
workers:                     # several workers on one output (--worker R/N, Slurm, MPI, Kubernetes)
  heartbeat: 5s              # how often each worker rewrites _workers/worker-RRRRR.json
  stale_after: 30s           # a worker whose report has not changed this long is gone: others take its shards
  help_others: true          # after its own shards, take the others' unstarted shards from the tail
)";
}

}  // namespace sluice
