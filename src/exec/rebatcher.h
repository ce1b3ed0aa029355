#pragma once
/// Cuts a stream of batches of any sizes into batches of exactly `rows` rows (the last may be
/// shorter). A piece that fits inside one input batch is a zero-copy slice; a batch that spans
/// several inputs is concatenated once.
///
/// Threading: one thread at a time (the executor runs a rebatch stage with concurrency 1).

#include <cstdint>
#include <deque>
#include <vector>

#include "sluice/batch.h"
#include "sluice/status.h"

namespace sluice::exec {

class Rebatcher {
 public:
  explicit Rebatcher(int64_t rows) : rows_(rows) {}

  /// How many full batches Add(batch of `incoming_rows`) would emit.
  int64_t OutputsFor(int64_t incoming_rows) const { return (pending_rows_ + incoming_rows) / rows_; }
  /// Adds a batch; returns the full batches it completes.
  Result<std::vector<Batch>> Add(Batch batch);
  /// The remaining rows as one short batch (empty vector if none).
  Result<std::vector<Batch>> Flush();

  int64_t pending_rows() const { return pending_rows_; }
  int64_t pending_bytes() const { return pending_bytes_; }

 private:
  Result<Batch> Take(int64_t rows);

  int64_t rows_;
  std::deque<Batch> pending_;
  int64_t pending_rows_ = 0;
  int64_t pending_bytes_ = 0;
};

}  // namespace sluice::exec
