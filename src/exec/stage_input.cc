#include "stage_input.h"

namespace sluice::exec {

void StageInput::Push(Item item) {
  ++batches_;
  bytes_ += item.bytes;
  if (ordered_) {
    const auto key = std::make_pair(item.key.major, item.key.minor);
    held_.emplace(key, std::move(item));
  } else {
    fifo_.push_back(std::move(item));
  }
}

bool StageInput::HasReady() const {
  if (!ordered_) return !fifo_.empty();
  return !held_.empty() && held_.begin()->first == expected_;
}

const Item& StageInput::PeekReady() const { return ordered_ ? held_.begin()->second : fifo_.front(); }

Item StageInput::PopReady() {
  Item item;
  if (ordered_) {
    auto it = held_.begin();
    item = std::move(it->second);
    held_.erase(it);
    expected_ = item.key.last ? std::make_pair(item.key.major + 1, int64_t{0})
                              : std::make_pair(item.key.major, item.key.minor + 1);
  } else {
    item = std::move(fifo_.front());
    fifo_.pop_front();
  }
  --batches_;
  bytes_ -= item.bytes;
  return item;
}

void StageInput::Clear() {
  fifo_.clear();
  held_.clear();
  batches_ = 0;
  bytes_ = 0;
}

}  // namespace sluice::exec
