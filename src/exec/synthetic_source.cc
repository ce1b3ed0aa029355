#include "sluice/synthetic_source.h"

#include <algorithm>
#include <cstring>

namespace sluice {

class SyntheticSource::Task : public ReadTask {
 public:
  Task(SyntheticSource* source, int64_t index) : s_(source), index_(index) {
    const auto& empty = s_->o_.empty_tasks;
    batches_ = std::find(empty.begin(), empty.end(), index) != empty.end() ? 0 : s_->o_.batches_per_task;
  }

  Result<std::optional<Batch>> Next(TaskContext&) override {
    const auto& o = s_->o_;
    if (batch_ >= batches_) return std::optional<Batch>();
    if (o.before_batch) RETURN_IF_ERROR(o.before_batch(index_, batch_));
    const int64_t first = (index_ * o.batches_per_task + batch_) * o.rows;
    ASSIGN_OR_RETURN(auto ids, Column::Allocate(DataType::Int64(), o.rows));
    for (int64_t r = 0; r < o.rows; ++r) ids.mutable_data<int64_t>()[r] = first + r;
    std::vector<std::string> names{"id"};
    std::vector<Column> columns{std::move(ids)};
    if (!o.payload_shape.empty()) {
      ASSIGN_OR_RETURN(auto payload, Column::Allocate(DataType::Tensor(DType::kUInt8, o.payload_shape), o.rows));
      const int64_t row_bytes = payload.type().fixed_row_bytes();
      for (int64_t r = 0; r < o.rows; ++r) {
        uint8_t* p = payload.MutableRowData(r);
        if (!o.pattern) {
          std::memset(p, 0, static_cast<size_t>(row_bytes));
          continue;
        }
        uint32_t x = static_cast<uint32_t>(first + r) * 2654435761u + 1;
        for (int64_t i = 0; i < row_bytes; ++i) {
          x ^= x << 13, x ^= x >> 17, x ^= x << 5;  // xorshift: cheap, deterministic
          p[i] = static_cast<uint8_t>(x);
        }
      }
      names.emplace_back("payload");
      columns.push_back(std::move(payload));
    }
    ++batch_;
    s_->produced_.fetch_add(1);
    ASSIGN_OR_RETURN(Batch b, Batch::Make(std::move(names), std::move(columns)));
    return std::optional<Batch>(std::move(b));
  }

  std::string Describe() const override { return "synthetic task " + std::to_string(index_); }

 private:
  SyntheticSource* s_;
  int64_t index_;
  int64_t batches_ = 0;
  int64_t batch_ = 0;
};

SyntheticSource::SyntheticSource(SyntheticSourceOptions options) : o_(std::move(options)) {}

Result<std::unique_ptr<ReadTask>> SyntheticSource::NextTask() {
  if (next_ >= o_.tasks) return std::unique_ptr<ReadTask>();
  return std::unique_ptr<ReadTask>(std::make_unique<Task>(this, next_++));
}

std::optional<int64_t> SyntheticSource::EstimatedRows() const {
  int64_t empty = 0;
  for (int64_t t : o_.empty_tasks) empty += t >= 0 && t < o_.tasks;
  return (o_.tasks - empty) * o_.batches_per_task * o_.rows;
}

}  // namespace sluice
