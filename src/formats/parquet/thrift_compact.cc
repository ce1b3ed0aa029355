#include "thrift_compact.h"

#include <cstring>

namespace sluice::parquet {
namespace {

int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

}  // namespace

Status CompactReader::Error(const std::string& message) const {
  return Status::InvalidData(what_ + ": corrupt Thrift metadata at byte " + std::to_string(position()) + ": " + message);
}

Result<uint64_t> CompactReader::ReadVarint() {
  uint64_t v = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (p_ >= end_) return Error("truncated varint");
    const uint8_t b = *p_++;
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return v;
  }
  return Error("varint longer than 10 bytes");
}

Status CompactReader::BeginStruct() {
  if (last_field_.size() >= kMaxDepth) return Error("structs nested deeper than " + std::to_string(kMaxDepth));
  last_field_.push_back(0);
  return Status::OK();
}

Status CompactReader::EndStruct() {
  if (last_field_.empty()) return Error("struct end without a struct");
  last_field_.pop_back();
  return Status::OK();
}

Result<bool> CompactReader::NextField(int16_t* id, ThriftType* type) {
  if (p_ >= end_) return Error("truncated struct (no STOP)");
  const uint8_t b = *p_++;
  if (b == 0) return false;
  const uint8_t t = b & 0x0f;
  if (t > static_cast<uint8_t>(ThriftType::kStruct)) return Error("unknown field type " + std::to_string(t));
  *type = static_cast<ThriftType>(t);
  const int delta = b >> 4;
  if (delta != 0) {
    *id = static_cast<int16_t>(last_field_.back() + delta);
  } else {
    ASSIGN_OR_RETURN(int16_t explicit_id, ReadI16());
    *id = explicit_id;
  }
  last_field_.back() = *id;
  return true;
}

Result<int8_t> CompactReader::ReadByte() {
  if (p_ >= end_) return Error("truncated byte");
  return static_cast<int8_t>(*p_++);
}

Result<int16_t> CompactReader::ReadI16() {
  ASSIGN_OR_RETURN(uint64_t v, ReadVarint());
  const int64_t x = UnZigZag(v);
  if (x < INT16_MIN || x > INT16_MAX) return Error("i16 out of range");
  return static_cast<int16_t>(x);
}

Result<int32_t> CompactReader::ReadI32() {
  ASSIGN_OR_RETURN(uint64_t v, ReadVarint());
  const int64_t x = UnZigZag(v);
  if (x < INT32_MIN || x > INT32_MAX) return Error("i32 out of range");
  return static_cast<int32_t>(x);
}

Result<int64_t> CompactReader::ReadI64() {
  ASSIGN_OR_RETURN(uint64_t v, ReadVarint());
  return UnZigZag(v);
}

Result<double> CompactReader::ReadDouble() {
  if (end_ - p_ < 8) return Error("truncated double");
  double d;
  std::memcpy(&d, p_, 8);
  p_ += 8;
  return d;
}

Result<std::string> CompactReader::ReadString() {
  ASSIGN_OR_RETURN(uint64_t n, ReadVarint());
  if (n > static_cast<uint64_t>(end_ - p_)) {
    return Error("string of " + std::to_string(n) + " bytes with only " + std::to_string(end_ - p_) + " left");
  }
  std::string s(reinterpret_cast<const char*>(p_), static_cast<size_t>(n));
  p_ += n;
  return s;
}

Status CompactReader::ReadListHeader(ThriftType* element, int32_t* size) {
  if (p_ >= end_) return Error("truncated list header");
  const uint8_t b = *p_++;
  const uint8_t t = b & 0x0f;
  if (t > static_cast<uint8_t>(ThriftType::kStruct)) return Error("unknown list element type " + std::to_string(t));
  *element = static_cast<ThriftType>(t);
  uint64_t n = b >> 4;
  if (n == 15) {
    ASSIGN_OR_RETURN(n, ReadVarint());
  }
  // Every element takes at least one byte (booleans in lists are one byte each).
  if (n > static_cast<uint64_t>(end_ - p_)) {
    return Error("list of " + std::to_string(n) + " elements with only " + std::to_string(end_ - p_) + " bytes left");
  }
  *size = static_cast<int32_t>(n);
  return Status::OK();
}

Status CompactReader::Skip(ThriftType type) { return SkipDepth(type, 0); }

Status CompactReader::SkipDepth(ThriftType type, int depth) {
  if (depth > kMaxDepth) return Error("values nested deeper than " + std::to_string(kMaxDepth));
  switch (type) {
    case ThriftType::kTrue:
    case ThriftType::kFalse:
      return Status::OK();  // the value is in the field header
    case ThriftType::kByte:
      return ReadByte().status();
    case ThriftType::kI16:
    case ThriftType::kI32:
    case ThriftType::kI64:
      return ReadVarint().status();
    case ThriftType::kDouble:
      return ReadDouble().status();
    case ThriftType::kBinary:
      return ReadString().status();
    case ThriftType::kList:
    case ThriftType::kSet: {
      ThriftType element;
      int32_t n;
      RETURN_IF_ERROR(ReadListHeader(&element, &n));
      for (int32_t i = 0; i < n; ++i) {
        if (element == ThriftType::kTrue || element == ThriftType::kFalse) {
          RETURN_IF_ERROR(ReadByte().status());  // booleans in containers are one byte
        } else {
          RETURN_IF_ERROR(SkipDepth(element, depth + 1));
        }
      }
      return Status::OK();
    }
    case ThriftType::kMap: {
      ASSIGN_OR_RETURN(uint64_t n, ReadVarint());
      if (n == 0) return Status::OK();
      if (n > static_cast<uint64_t>(end_ - p_)) return Error("map larger than the bytes left");
      ASSIGN_OR_RETURN(int8_t kv, ReadByte());
      const auto key = static_cast<ThriftType>((static_cast<uint8_t>(kv) >> 4) & 0x0f);
      const auto value = static_cast<ThriftType>(static_cast<uint8_t>(kv) & 0x0f);
      for (uint64_t i = 0; i < n; ++i) {
        RETURN_IF_ERROR(SkipDepth(key, depth + 1));
        RETURN_IF_ERROR(SkipDepth(value, depth + 1));
      }
      return Status::OK();
    }
    case ThriftType::kStruct: {
      RETURN_IF_ERROR(BeginStruct());
      for (;;) {
        int16_t id;
        ThriftType t;
        ASSIGN_OR_RETURN(bool more, NextField(&id, &t));
        if (!more) break;
        RETURN_IF_ERROR(SkipDepth(t, depth + 1));
      }
      return EndStruct();
    }
    case ThriftType::kStop:
      break;
  }
  return Error("cannot skip a value of type " + std::to_string(static_cast<int>(type)));
}

void CompactWriter::FieldHeader(int16_t id, ThriftType type) {
  const int delta = id - last_field_.back();
  if (delta > 0 && delta <= 15) {
    out_.push_back(static_cast<uint8_t>((delta << 4) | static_cast<uint8_t>(type)));
  } else {
    out_.push_back(static_cast<uint8_t>(type));
    Varint(ZigZag(id));
  }
  last_field_.back() = id;
}

void CompactWriter::ListHeader(ThriftType element, int32_t size) {
  if (size < 15) {
    out_.push_back(static_cast<uint8_t>((size << 4) | static_cast<uint8_t>(element)));
  } else {
    out_.push_back(static_cast<uint8_t>(0xf0 | static_cast<uint8_t>(element)));
    Varint(static_cast<uint64_t>(size));
  }
}

void CompactWriter::String(std::string_view value) {
  Varint(value.size());
  out_.insert(out_.end(), value.begin(), value.end());
}

void CompactWriter::Varint(uint64_t v) {
  while (v >= 0x80) {
    out_.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  out_.push_back(static_cast<uint8_t>(v));
}

}  // namespace sluice::parquet
