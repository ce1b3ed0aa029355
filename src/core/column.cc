#include "sluice/column.h"

#include <cstring>

namespace sluice {
namespace {

std::shared_ptr<Buffer> CopyValidity(std::span<const uint8_t> validity) {
  if (validity.empty()) return nullptr;
  std::vector<uint8_t> v(validity.begin(), validity.end());
  for (auto& b : v) b = b ? 1 : 0;
  return Buffer::FromVector(std::move(v));
}

std::string Describe(const DataType& type, int64_t length) {
  return type.ToString() + " column of " + std::to_string(length) + " rows";
}

/// Offsets of the concatenation of offset-based `parts` (binary/string/list): each part's
/// offsets rebased to where its values land. Calls on_part(part, first, count, at) for each
/// non-empty part: its values [first, first + count) go to position `at` of the result.
template <typename F>
Result<std::shared_ptr<Buffer>> ConcatOffsets(std::span<const Column> parts, int64_t rows, F&& on_part) {
  ASSIGN_OR_RETURN(auto offsets, HostAllocator()->Allocate((rows + 1) * static_cast<int64_t>(sizeof(int64_t))));
  auto* out = reinterpret_cast<int64_t*>(offsets->data());
  int64_t row = 0, pos = 0;
  out[0] = 0;
  for (const auto& p : parts) {
    if (p.length() == 0) continue;
    const int64_t first = p.ListBegin(0), count = p.ListEnd(p.length() - 1) - first;
    for (int64_t i = 1; i <= p.length(); ++i) out[row + i] = pos + (p.ListBegin(i) - first);
    on_part(p, first, count, pos);
    row += p.length();
    pos += count;
  }
  return offsets;
}

}  // namespace

Result<Column> Column::FromBuffers(DataType type, int64_t length, std::shared_ptr<Buffer> values,
                                   std::shared_ptr<Buffer> offsets, std::shared_ptr<Buffer> validity) {
  if (length < 0) return Status::InvalidArgument("negative column length");
  if (!values) return Status::InvalidArgument(Describe(type, length) + ": no values buffer");
  if (type.id() == TypeId::kTensor) {
    for (int64_t d : type.row_shape()) {
      if (d <= 0) return Status::InvalidArgument("tensor row shape " + type.ToString() + " has a dimension <= 0");
    }
    if (validity) return Status::InvalidArgument("tensor columns carry no validity (a missing row is a bad row)");
  }
  if (validity && validity->size() < length) {
    return Status::InvalidArgument(Describe(type, length) + ": validity buffer holds " +
                                   std::to_string(validity->size()) + " bytes");
  }
  if (type.is_variable_width()) {
    if (!offsets || offsets->size() < (length + 1) * static_cast<int64_t>(sizeof(int64_t))) {
      return Status::InvalidArgument(Describe(type, length) + ": offsets buffer needs " +
                                     std::to_string(length + 1) + " int64 values");
    }
    if (IsCpuAccessible(offsets->kind())) {
      const auto* o = reinterpret_cast<const int64_t*>(offsets->data());
      if (o[0] < 0) return Status::InvalidArgument(Describe(type, length) + ": first offset is negative");
      for (int64_t i = 0; i < length; ++i) {
        if (o[i + 1] < o[i]) {
          return Status::InvalidArgument(Describe(type, length) + ": offsets decrease at row " + std::to_string(i));
        }
      }
      if (o[length] > values->size()) {
        return Status::InvalidArgument(Describe(type, length) + ": offsets end at " + std::to_string(o[length]) +
                                       " past the values buffer of " + std::to_string(values->size()) + " bytes");
      }
    }
  } else if (values->size() < length * type.fixed_row_bytes()) {
    return Status::InvalidArgument(Describe(type, length) + ": values buffer holds " +
                                   std::to_string(values->size()) + " bytes, needs " +
                                   std::to_string(length * type.fixed_row_bytes()));
  }
  Column c;
  c.type_ = std::move(type);
  c.length_ = length;
  c.values_ = std::move(values);
  c.offsets_ = std::move(offsets);
  c.validity_ = std::move(validity);
  return c;
}

Result<Column> Column::MakeList(int64_t length, std::shared_ptr<Buffer> offsets, Column child,
                                std::shared_ptr<Buffer> validity) {
  const DataType type = DataType::List(child.type());
  if (length < 0) return Status::InvalidArgument("negative column length");
  if (child.type().is_list()) return Status::Unimplemented("lists of lists");
  if (!offsets || offsets->size() < (length + 1) * static_cast<int64_t>(sizeof(int64_t))) {
    return Status::InvalidArgument(Describe(type, length) + ": offsets buffer needs " + std::to_string(length + 1) +
                                   " int64 values");
  }
  if (validity && validity->size() < length) {
    return Status::InvalidArgument(Describe(type, length) + ": validity buffer holds " +
                                   std::to_string(validity->size()) + " bytes");
  }
  const auto* o = reinterpret_cast<const int64_t*>(offsets->data());
  if (o[0] < 0) return Status::InvalidArgument(Describe(type, length) + ": first offset is negative");
  for (int64_t i = 0; i < length; ++i) {
    if (o[i + 1] < o[i]) {
      return Status::InvalidArgument(Describe(type, length) + ": offsets decrease at row " + std::to_string(i));
    }
  }
  if (o[length] > child.length()) {
    return Status::InvalidArgument(Describe(type, length) + ": offsets end at " + std::to_string(o[length]) +
                                   " past the " + std::to_string(child.length()) + " child values");
  }
  Column c;
  c.type_ = type;
  c.length_ = length;
  c.offsets_ = std::move(offsets);
  c.validity_ = std::move(validity);
  c.child_ = std::make_shared<const Column>(std::move(child));
  return c;
}

template <typename T>
Column Column::FromValues(std::span<const T> values, std::span<const uint8_t> validity) {
  Column c;
  c.type_ = NumericTypeOf<T>::type();
  c.length_ = static_cast<int64_t>(values.size());
  std::vector<uint8_t> bytes(values.size() * sizeof(T));
  if constexpr (std::is_same_v<T, bool>) {
    for (size_t i = 0; i < values.size(); ++i) bytes[i] = values[i] ? 1 : 0;
  } else if (!values.empty()) {
    std::memcpy(bytes.data(), values.data(), bytes.size());
  }
  c.values_ = Buffer::FromVector(std::move(bytes));
  c.validity_ = CopyValidity(validity);
  return c;
}

template Column Column::FromValues<bool>(std::span<const bool>, std::span<const uint8_t>);
template Column Column::FromValues<int32_t>(std::span<const int32_t>, std::span<const uint8_t>);
template Column Column::FromValues<int64_t>(std::span<const int64_t>, std::span<const uint8_t>);
template Column Column::FromValues<float>(std::span<const float>, std::span<const uint8_t>);
template Column Column::FromValues<double>(std::span<const double>, std::span<const uint8_t>);
template Column Column::FromValues<int8_t>(std::span<const int8_t>, std::span<const uint8_t>);
template Column Column::FromValues<int16_t>(std::span<const int16_t>, std::span<const uint8_t>);
template Column Column::FromValues<uint8_t>(std::span<const uint8_t>, std::span<const uint8_t>);
template Column Column::FromValues<uint16_t>(std::span<const uint16_t>, std::span<const uint8_t>);
template Column Column::FromValues<uint32_t>(std::span<const uint32_t>, std::span<const uint8_t>);
template Column Column::FromValues<uint64_t>(std::span<const uint64_t>, std::span<const uint8_t>);

Column Column::FromStrings(const std::vector<std::string>& values, DataType type,
                           const std::vector<uint8_t>& validity) {
  BinaryBuilder builder(std::move(type));
  int64_t total = 0;
  for (const auto& v : values) total += static_cast<int64_t>(v.size());
  builder.Reserve(static_cast<int64_t>(values.size()), total);
  for (size_t i = 0; i < values.size(); ++i) {
    if (!validity.empty() && !validity[i]) builder.AppendNull();
    else builder.Append(values[i]);
  }
  return builder.Finish();
}

Result<Column> Column::Allocate(DataType type, int64_t length, Allocator* allocator, bool with_validity) {
  if (type.is_variable_width()) {
    return Status::InvalidArgument("Column::Allocate needs a fixed-width type, got " + type.ToString());
  }
  ASSIGN_OR_RETURN(auto values, allocator->Allocate(length * type.fixed_row_bytes()));
  std::shared_ptr<Buffer> validity;
  if (with_validity) {
    ASSIGN_OR_RETURN(validity, HostAllocator()->Allocate(length));
    std::memset(validity->data(), 1, static_cast<size_t>(length));
  }
  return FromBuffers(std::move(type), length, std::move(values), nullptr, std::move(validity));
}

MemoryKind Column::memory_kind() const {
  if (child_) return child_->memory_kind();
  return values_ ? values_->kind() : MemoryKind::kHost;
}

int64_t Column::null_count() const {
  if (!validity_) return 0;
  int64_t n = 0;
  const uint8_t* v = validity_->data() + offset_;
  for (int64_t i = 0; i < length_; ++i) n += v[i] == 0;
  return n;
}

std::string_view Column::ValueBytes(int64_t i) const {
  const int64_t* o = offsets();
  return {reinterpret_cast<const char*>(values_->data()) + o[i], static_cast<size_t>(o[i + 1] - o[i])};
}

std::vector<int64_t> Column::TensorShape() const {
  std::vector<int64_t> shape{length_};
  shape.insert(shape.end(), type_.row_shape().begin(), type_.row_shape().end());
  return shape;
}

Column Column::Slice(int64_t start, int64_t length) const {
  Column c = *this;
  c.offset_ = offset_ + start;
  c.length_ = length;
  return c;
}

int64_t Column::ByteSize() const {
  int64_t bytes = has_validity() ? length_ : 0;
  if (type_.is_list()) {
    const int64_t begin = length_ > 0 ? ListBegin(0) : 0, end = length_ > 0 ? ListEnd(length_ - 1) : 0;
    return bytes + (length_ + 1) * static_cast<int64_t>(sizeof(int64_t)) + child_->Slice(begin, end - begin).ByteSize();
  }
  if (type_.is_variable_width()) {
    if (length_ == 0) return bytes;
    const int64_t* o = offsets();
    return bytes + (o[length_] - o[0]) + (length_ + 1) * static_cast<int64_t>(sizeof(int64_t));
  }
  return bytes + length_ * row_bytes();
}

Result<Column> Column::Concat(std::span<const Column> parts, Allocator* allocator) {
  if (parts.empty()) return Status::InvalidArgument("Column::Concat of no columns");
  const DataType& type = parts[0].type();
  int64_t rows = 0;
  bool any_validity = false;
  for (const auto& p : parts) {
    if (!(p.type() == type)) {
      return Status::InvalidArgument("Column::Concat: type " + p.type().ToString() + " does not match " +
                                     type.ToString());
    }
    if (!IsCpuAccessible(p.memory_kind())) {
      return Status::Unimplemented("Column::Concat of device memory (concatenate before the copy to the device)");
    }
    rows += p.length();
    any_validity |= p.has_validity();
  }
  std::shared_ptr<Buffer> validity;
  if (any_validity) {
    ASSIGN_OR_RETURN(validity, HostAllocator()->Allocate(rows));
    int64_t at = 0;
    for (const auto& p : parts) {
      if (p.has_validity()) std::memcpy(validity->data() + at, p.validity_->data() + p.offset_, p.length());
      else std::memset(validity->data() + at, 1, static_cast<size_t>(p.length()));
      at += p.length();
    }
  }
  if (type.is_list()) {
    std::vector<Column> children;
    ASSIGN_OR_RETURN(auto offsets, ConcatOffsets(parts, rows, [&](const Column& p, int64_t first, int64_t count, int64_t) {
      children.push_back(p.child().Slice(first, count));
    }));
    Column child;
    if (children.empty()) {
      child = parts[0].child().Slice(0, 0);
    } else {
      ASSIGN_OR_RETURN(child, Concat(children, allocator));
    }
    return MakeList(rows, std::move(offsets), std::move(child), std::move(validity));
  }
  if (!type.is_variable_width()) {
    const int64_t rb = type.fixed_row_bytes();
    ASSIGN_OR_RETURN(auto values, allocator->Allocate(rows * rb));
    int64_t at = 0;
    for (const auto& p : parts) {
      if (p.length() > 0) std::memcpy(values->data() + at * rb, p.RowData(0), static_cast<size_t>(p.length() * rb));
      at += p.length();
    }
    return FromBuffers(type, rows, std::move(values), nullptr, std::move(validity));
  }
  int64_t bytes = 0;
  for (const auto& p : parts) {
    if (p.length() > 0) bytes += p.offsets()[p.length()] - p.offsets()[0];
  }
  ASSIGN_OR_RETURN(auto values, allocator->Allocate(bytes));
  ASSIGN_OR_RETURN(auto offsets, ConcatOffsets(parts, rows, [&](const Column& p, int64_t first, int64_t count, int64_t at) {
    std::memcpy(values->data() + at, p.values_->data() + first, static_cast<size_t>(count));
  }));
  return FromBuffers(type, rows, std::move(values), std::move(offsets), std::move(validity));
}

Result<Column> Column::Take(std::span<const int64_t> rows) const {
  if (!IsCpuAccessible(memory_kind())) return Status::Unimplemented("Column::Take of device memory");
  const int64_t n = static_cast<int64_t>(rows.size());
  for (int64_t r : rows) {
    if (r < 0 || r >= length_) return Status::InvalidArgument("Column::Take: row " + std::to_string(r) + " of " + std::to_string(length_));
  }
  std::shared_ptr<Buffer> validity;
  if (validity_) {
    ASSIGN_OR_RETURN(validity, HostAllocator()->Allocate(n));
    for (int64_t i = 0; i < n; ++i) validity->data()[i] = IsValid(rows[static_cast<size_t>(i)]) ? 1 : 0;
  }
  if (type_.is_list() || type_.is_variable_width()) {
    ASSIGN_OR_RETURN(auto offsets, HostAllocator()->Allocate((n + 1) * static_cast<int64_t>(sizeof(int64_t))));
    auto* o = reinterpret_cast<int64_t*>(offsets->data());
    o[0] = 0;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t r = rows[static_cast<size_t>(i)];
      o[i + 1] = o[i] + (ListEnd(r) - ListBegin(r));
    }
    if (type_.is_list()) {
      std::vector<int64_t> elements;
      elements.reserve(static_cast<size_t>(o[n]));
      for (int64_t r : rows) {
        for (int64_t e = ListBegin(r); e < ListEnd(r); ++e) elements.push_back(e);
      }
      ASSIGN_OR_RETURN(Column child, child_->Take(elements));
      return MakeList(n, std::move(offsets), std::move(child), std::move(validity));
    }
    ASSIGN_OR_RETURN(auto values, HostAllocator()->Allocate(o[n]));
    for (int64_t i = 0; i < n; ++i) {
      const auto v = ValueBytes(rows[static_cast<size_t>(i)]);
      if (!v.empty()) std::memcpy(values->data() + o[i], v.data(), v.size());
    }
    return FromBuffers(type_, n, std::move(values), std::move(offsets), std::move(validity));
  }
  const int64_t rb = row_bytes();
  ASSIGN_OR_RETURN(auto values, HostAllocator()->Allocate(n * rb));
  for (int64_t i = 0; i < n; ++i) std::memcpy(values->data() + i * rb, RowData(rows[static_cast<size_t>(i)]), static_cast<size_t>(rb));
  return FromBuffers(type_, n, std::move(values), nullptr, std::move(validity));
}

bool Column::Equals(const Column& other) const {
  if (!(type_ == other.type_) || length_ != other.length_) return false;
  for (int64_t i = 0; i < length_; ++i) {
    if (IsValid(i) != other.IsValid(i)) return false;
    if (!IsValid(i)) continue;
    if (type_.is_list()) {
      const int64_t n = ListEnd(i) - ListBegin(i);
      if (n != other.ListEnd(i) - other.ListBegin(i)) return false;
      if (!child_->Slice(ListBegin(i), n).Equals(other.child_->Slice(other.ListBegin(i), n))) return false;
    } else if (type_.is_variable_width()) {
      if (ValueBytes(i) != other.ValueBytes(i)) return false;
    } else if (std::memcmp(RowData(i), other.RowData(i), static_cast<size_t>(row_bytes())) != 0) {
      return false;
    }
  }
  return true;
}

BinaryBuilder::BinaryBuilder(DataType type) : type_(std::move(type)) {}

void BinaryBuilder::Reserve(int64_t rows, int64_t bytes) {
  offsets_.reserve(static_cast<size_t>(rows + 1));
  validity_.reserve(static_cast<size_t>(rows));
  bytes_.reserve(static_cast<size_t>(bytes));
}

void BinaryBuilder::Append(std::string_view value) {
  bytes_.insert(bytes_.end(), value.begin(), value.end());
  offsets_.push_back(static_cast<int64_t>(bytes_.size()));
  validity_.push_back(1);
}

void BinaryBuilder::AppendNull() {
  offsets_.push_back(static_cast<int64_t>(bytes_.size()));
  validity_.push_back(0);
  has_null_ = true;
}

Column BinaryBuilder::Finish() {
  const int64_t rows = length();
  auto column = Column::FromBuffers(type_, rows, Buffer::FromVector(std::move(bytes_)), Buffer::FromVector(std::move(offsets_)),
                                    has_null_ ? Buffer::FromVector(std::move(validity_)) : nullptr);
  bytes_.clear();
  offsets_.assign(1, 0);
  validity_.clear();
  has_null_ = false;
  return std::move(column).value();  // the builder's buffers are consistent by construction
}

}  // namespace sluice
