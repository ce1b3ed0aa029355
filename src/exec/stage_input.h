#pragma once
/// The queue in front of a stage. Unordered: FIFO. Ordered (preserve_order): items may arrive in
/// any order but are released strictly by OrderKey: (task, batch-in-task), where the item that
/// carries `last` moves the expected key on to the next task.
///
/// Threading: none of its own; the executor guards it with the plan lock.

#include <cstdint>
#include <deque>
#include <map>
#include <utility>

#include "sluice/batch.h"

namespace sluice::exec {

struct OrderKey {
  int64_t major = 0;  // read task index (or 0 after a rebatch)
  int64_t minor = 0;  // batch index within the task
  bool last = false;  // the task's final item
};

/// A batch travelling between stages. A marker carries no batch: it only moves ordering on
/// (a read task that produced no rows, a map that produced an empty batch).
struct Item {
  Batch batch;
  OrderKey key;
  int64_t bytes = 0;
  bool marker = false;
  int64_t growth_reserved = 0;  // budget a running task holds for the bytes its output will add
};

class StageInput {
 public:
  explicit StageInput(bool ordered) : ordered_(ordered) {}

  void Push(Item item);
  bool HasReady() const;
  /// The item Pop would return; HasReady() must be true.
  const Item& PeekReady() const;
  Item PopReady();

  bool empty() const { return batches_ == 0; }
  int64_t batches() const { return batches_; }
  int64_t bytes() const { return bytes_; }
  void Clear();

 private:
  bool ordered_;
  std::deque<Item> fifo_;
  std::map<std::pair<int64_t, int64_t>, Item> held_;
  std::pair<int64_t, int64_t> expected_{0, 0};
  int64_t batches_ = 0;
  int64_t bytes_ = 0;
};

}  // namespace sluice::exec
