#include "rebatcher.h"

namespace sluice::exec {

Result<std::vector<Batch>> Rebatcher::Add(Batch batch) {
  if (batch.num_rows() > 0) {
    pending_rows_ += batch.num_rows();
    pending_bytes_ += batch.ByteSize();
    pending_.push_back(std::move(batch));
  }
  std::vector<Batch> out;
  while (pending_rows_ >= rows_) {
    ASSIGN_OR_RETURN(Batch b, Take(rows_));
    out.push_back(std::move(b));
  }
  return out;
}

Result<std::vector<Batch>> Rebatcher::Flush() {
  std::vector<Batch> out;
  if (pending_rows_ > 0) {
    ASSIGN_OR_RETURN(Batch b, Take(pending_rows_));
    out.push_back(std::move(b));
  }
  return out;
}

Result<Batch> Rebatcher::Take(int64_t rows) {
  std::vector<Batch> pieces;
  int64_t need = rows;
  while (need > 0) {
    Batch& front = pending_.front();
    if (front.num_rows() <= need) {
      need -= front.num_rows();
      pending_bytes_ -= front.ByteSize();
      pieces.push_back(std::move(front));
      pending_.pop_front();
    } else {
      pieces.push_back(front.Slice(0, need));
      Batch rest = front.Slice(need, front.num_rows() - need);
      pending_bytes_ += rest.ByteSize() - front.ByteSize();
      front = std::move(rest);
      need = 0;
    }
  }
  pending_rows_ -= rows;
  return Batch::Concat(pieces);
}

}  // namespace sluice::exec
