#pragma once
/// The Thrift compact protocol, as Parquet uses it for file metadata and page headers.
///
/// CompactReader decodes from a bounded byte range and refuses hostile input: a varint longer
/// than 10 bytes, a length or list size larger than the bytes left, nesting deeper than
/// kMaxDepth. Every error names `what` (e.g. "footer of 'a.parquet'") and the byte offset.
/// CompactWriter appends to a byte vector.
///
/// Threading: one thread per instance.

#include <cstdint>
#include <string>
#include <vector>

#include "sluice/status.h"

namespace sluice::parquet {

enum class ThriftType : uint8_t {
  kStop = 0,
  kTrue = 1,
  kFalse = 2,
  kByte = 3,
  kI16 = 4,
  kI32 = 5,
  kI64 = 6,
  kDouble = 7,
  kBinary = 8,
  kList = 9,
  kSet = 10,
  kMap = 11,
  kStruct = 12,
};

class CompactReader {
 public:
  static constexpr int kMaxDepth = 64;

  CompactReader(const uint8_t* data, size_t size, std::string what) : p_(data), begin_(data), end_(data + size), what_(std::move(what)) {}

  Status BeginStruct();
  Status EndStruct();
  /// Reads the next field header; false at the struct's STOP.
  Result<bool> NextField(int16_t* id, ThriftType* type);
  /// The value of a boolean field (carried by its header's type).
  static bool FieldBool(ThriftType type) { return type == ThriftType::kTrue; }

  Result<int8_t> ReadByte();
  Result<int16_t> ReadI16();
  Result<int32_t> ReadI32();
  Result<int64_t> ReadI64();
  Result<double> ReadDouble();
  Result<std::string> ReadString();
  /// Element type and count of a list or set.
  Status ReadListHeader(ThriftType* element, int32_t* size);
  /// Skips a value of `type` (any depth up to kMaxDepth).
  Status Skip(ThriftType type);

  size_t position() const { return static_cast<size_t>(p_ - begin_); }

 private:
  Result<uint64_t> ReadVarint();
  Status Error(const std::string& message) const;
  Status SkipDepth(ThriftType type, int depth);

  const uint8_t* p_;
  const uint8_t* begin_;
  const uint8_t* end_;
  std::string what_;
  std::vector<int16_t> last_field_;
};

class CompactWriter {
 public:
  void BeginStruct() { last_field_.push_back(0); }
  void EndStruct() {
    out_.push_back(0);  // STOP
    last_field_.pop_back();
  }
  void FieldBool(int16_t id, bool value) { FieldHeader(id, value ? ThriftType::kTrue : ThriftType::kFalse); }
  void FieldByte(int16_t id, int8_t value) {
    FieldHeader(id, ThriftType::kByte);
    out_.push_back(static_cast<uint8_t>(value));
  }
  void FieldI32(int16_t id, int32_t value) {
    FieldHeader(id, ThriftType::kI32);
    Varint(ZigZag(value));
  }
  void FieldI64(int16_t id, int64_t value) {
    FieldHeader(id, ThriftType::kI64);
    Varint(ZigZag(value));
  }
  void FieldString(int16_t id, std::string_view value) {
    FieldHeader(id, ThriftType::kBinary);
    String(value);
  }
  /// Starts a struct-valued field; call BeginStruct/EndStruct for its body.
  void FieldStruct(int16_t id) { FieldHeader(id, ThriftType::kStruct); }
  void FieldList(int16_t id, ThriftType element, int32_t size) {
    FieldHeader(id, ThriftType::kList);
    ListHeader(element, size);
  }
  void ListHeader(ThriftType element, int32_t size);
  void I32(int32_t value) { Varint(ZigZag(value)); }
  void String(std::string_view value);

  std::vector<uint8_t>& bytes() { return out_; }

 private:
  void FieldHeader(int16_t id, ThriftType type);
  void Varint(uint64_t v);
  static uint64_t ZigZag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }

  std::vector<uint8_t> out_;
  std::vector<int16_t> last_field_;
};

}  // namespace sluice::parquet
