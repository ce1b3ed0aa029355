#include "sluice/batch.h"

#include <unordered_set>

namespace sluice {

Result<Batch> Batch::Make(std::vector<std::string> names, std::vector<Column> columns) {
  if (names.size() != columns.size()) {
    return Status::InvalidArgument("Batch::Make: " + std::to_string(names.size()) + " names for " +
                                   std::to_string(columns.size()) + " columns");
  }
  std::unordered_set<std::string> seen;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty()) return Status::InvalidArgument("Batch::Make: column " + std::to_string(i) + " has no name");
    if (!seen.insert(names[i]).second) return Status::InvalidArgument("Batch::Make: duplicate column '" + names[i] + "'");
    if (columns[i].length() != columns[0].length()) {
      return Status::InvalidArgument("Batch::Make: column '" + names[i] + "' has " +
                                     std::to_string(columns[i].length()) + " rows, column '" + names[0] + "' has " +
                                     std::to_string(columns[0].length()));
    }
  }
  Batch b;
  b.num_rows_ = columns.empty() ? 0 : columns[0].length();
  b.names_ = std::move(names);
  b.columns_ = std::move(columns);
  return b;
}

Batch Batch::Empty(int64_t num_rows) {
  Batch b;
  b.num_rows_ = num_rows;
  return b;
}

int Batch::FindColumn(std::string_view name) const {
  for (size_t i = 0; i < names_.size(); ++i) {
    if (names_[i] == name) return static_cast<int>(i);
  }
  return -1;
}

Result<Column> Batch::GetColumn(std::string_view name) const {
  const int i = FindColumn(name);
  if (i < 0) return Status::NotFound("no column '" + std::string(name) + "' in batch of " + Describe());
  return columns_[static_cast<size_t>(i)];
}

Result<Batch> Batch::WithColumn(std::string name, Column column) const {
  if (num_columns() > 0 && column.length() != num_rows_) {
    return Status::InvalidArgument("column '" + name + "' has " + std::to_string(column.length()) +
                                   " rows, the batch has " + std::to_string(num_rows_));
  }
  Batch b = *this;
  b.num_rows_ = column.length();
  const int i = FindColumn(name);
  if (i >= 0) {
    b.columns_[static_cast<size_t>(i)] = std::move(column);
  } else {
    b.names_.push_back(std::move(name));
    b.columns_.push_back(std::move(column));
  }
  return b;
}

Result<Batch> Batch::Select(const std::vector<std::string>& names) const {
  std::vector<Column> cols;
  for (const auto& n : names) {
    ASSIGN_OR_RETURN(auto c, GetColumn(n));
    cols.push_back(std::move(c));
  }
  ASSIGN_OR_RETURN(Batch b, Make(names, std::move(cols)));
  b.num_rows_ = num_rows_;
  return b;
}

Batch Batch::Slice(int64_t start, int64_t length) const {
  Batch b;
  b.num_rows_ = length;
  b.names_ = names_;
  b.columns_.reserve(columns_.size());
  for (const auto& c : columns_) b.columns_.push_back(c.Slice(start, length));
  return b;
}

Result<Batch> Batch::Take(std::span<const int64_t> rows) const {
  Batch b;
  b.num_rows_ = static_cast<int64_t>(rows.size());
  b.names_ = names_;
  for (size_t i = 0; i < columns_.size(); ++i) {
    auto c = columns_[i].Take(rows);
    if (!c.ok()) return c.status().WithContext("column '" + names_[i] + "'");
    b.columns_.push_back(std::move(c).value());
  }
  return b;
}

int64_t Batch::ByteSize() const {
  int64_t n = 0;
  for (const auto& c : columns_) n += c.ByteSize();
  return n;
}

Result<Batch> Batch::Concat(std::span<const Batch> parts, Allocator* allocator) {
  if (parts.empty()) return Status::InvalidArgument("Batch::Concat of no batches");
  if (parts.size() == 1) return parts[0];
  const Batch& first = parts[0];
  int64_t rows = 0;
  for (const auto& p : parts) {
    if (p.names_ != first.names_) {
      return Status::InvalidArgument("Batch::Concat: columns (" + p.Describe() + ") do not match (" +
                                     first.Describe() + ")");
    }
    rows += p.num_rows_;
  }
  Batch out;
  out.num_rows_ = rows;
  out.names_ = first.names_;
  std::vector<Column> pieces(parts.size());
  for (int c = 0; c < first.num_columns(); ++c) {
    for (size_t i = 0; i < parts.size(); ++i) pieces[i] = parts[i].column(c);
    auto joined = Column::Concat(pieces, allocator);
    if (!joined.ok()) return joined.status().WithContext("column '" + first.name(c) + "'");
    out.columns_.push_back(std::move(joined).value());
  }
  return out;
}

bool Batch::Equals(const Batch& other) const {
  if (num_rows_ != other.num_rows_ || names_ != other.names_) return false;
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (!columns_[i].Equals(other.columns_[i])) return false;
  }
  return true;
}

std::string Batch::Describe() const {
  std::string out = std::to_string(num_rows_) + " rows";
  for (size_t i = 0; i < names_.size(); ++i) {
    out += i == 0 ? ": " : ", ";
    out += names_[i] + " " + columns_[i].type().ToString();
  }
  return out;
}

}  // namespace sluice
