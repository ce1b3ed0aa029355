#include "arrow_schema.h"

#include <cstring>

namespace sluice::parquet {
namespace {

Status Bad(const std::string& what) { return Status::InvalidData("ARROW:schema metadata is malformed: " + what); }

Status Base64Decode(const std::string& in, std::string* decoded) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string& out = *decoded;
  out.clear();
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=' || c == '\n' || c == '\r') continue;
    const int v = value(c);
    if (v < 0) return Bad("not base64");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return Status::OK();
}

/// A bounds-checked view of a flatbuffer.
class Flat {
 public:
  explicit Flat(const std::string& b) : b_(b) {}

  Result<uint32_t> U32(size_t at) const {
    if (at + 4 > b_.size()) return Bad("offset past the end");
    uint32_t v;
    std::memcpy(&v, b_.data() + at, 4);
    return v;
  }
  /// Position of field `index` of the table at `table`, or 0 when absent.
  Result<size_t> Field(size_t table, int index) const {
    ASSIGN_OR_RETURN(uint32_t soff, U32(table));
    const int64_t vtable = static_cast<int64_t>(table) - static_cast<int32_t>(soff);
    if (vtable < 0 || static_cast<size_t>(vtable) + 4 > b_.size()) return Bad("vtable out of range");
    uint16_t vsize;
    std::memcpy(&vsize, b_.data() + vtable, 2);
    const size_t slot = 4 + 2 * static_cast<size_t>(index);
    if (slot + 2 > vsize || static_cast<size_t>(vtable) + slot + 2 > b_.size()) return size_t{0};
    uint16_t off;
    std::memcpy(&off, b_.data() + vtable + slot, 2);
    if (off == 0) return size_t{0};
    if (table + off >= b_.size()) return Bad("field out of range");
    return table + off;
  }
  /// Follows the uoffset stored at `at`.
  Result<size_t> Deref(size_t at) const {
    ASSIGN_OR_RETURN(uint32_t off, U32(at));
    if (at + off >= b_.size()) return Bad("reference out of range");
    return at + off;
  }
  Result<std::string> String(size_t table, int index) const {
    ASSIGN_OR_RETURN(size_t f, Field(table, index));
    if (f == 0) return std::string();
    ASSIGN_OR_RETURN(size_t s, Deref(f));
    ASSIGN_OR_RETURN(uint32_t n, U32(s));
    if (s + 4 + n > b_.size()) return Bad("string out of range");
    return b_.substr(s + 4, n);
  }
  /// Tables of a vector-of-tables field.
  Result<std::vector<size_t>> Tables(size_t table, int index) const {
    std::vector<size_t> out;
    ASSIGN_OR_RETURN(size_t f, Field(table, index));
    if (f == 0) return out;
    ASSIGN_OR_RETURN(size_t v, Deref(f));
    ASSIGN_OR_RETURN(uint32_t n, U32(v));
    if (n > (b_.size() - v) / 4) return Bad("vector out of range");
    for (uint32_t i = 0; i < n; ++i) {
      ASSIGN_OR_RETURN(size_t t, Deref(v + 4 + 4 * i));
      out.push_back(t);
    }
    return out;
  }
  Result<uint8_t> U8(size_t table, int index, uint8_t fallback) const {
    ASSIGN_OR_RETURN(size_t f, Field(table, index));
    if (f == 0) return fallback;
    return static_cast<uint8_t>(b_[f]);
  }
  Result<int32_t> I32(size_t table, int index, int32_t fallback) const {
    ASSIGN_OR_RETURN(size_t f, Field(table, index));
    if (f == 0) return fallback;
    ASSIGN_OR_RETURN(uint32_t v, U32(f));
    return static_cast<int32_t>(v);
  }
  Result<int16_t> I16(size_t table, int index, int16_t fallback) const {
    ASSIGN_OR_RETURN(size_t f, Field(table, index));
    if (f == 0) return fallback;
    if (f + 2 > b_.size()) return Bad("short out of range");
    int16_t v;
    std::memcpy(&v, b_.data() + f, 2);
    return v;
  }

 private:
  const std::string& b_;
};

// Arrow's Type union tags and FloatingPoint precisions.
constexpr uint8_t kTypeInt = 2, kTypeFloatingPoint = 3, kTypeList = 12, kTypeStruct = 13, kTypeFixedSizeList = 16,
                  kTypeLargeList = 21;

bool IsList(uint8_t tag) { return tag == kTypeList || tag == kTypeLargeList || tag == kTypeFixedSizeList; }

std::string TypeText(uint8_t tag, const std::optional<DType>& element) {
  const std::string e = element ? std::string(DTypeName(*element)) : "?";
  switch (tag) {
    case kTypeList: return "list<" + e + ">";
    case kTypeLargeList: return "large_list<" + e + ">";
    case kTypeFixedSizeList: return "fixed_size_list<" + e + ">";
    case kTypeStruct: return "struct";
    default: return "type " + std::to_string(tag);
  }
}

/// The numeric DType of a field's type, if it is one sluice has.
Result<std::optional<DType>> NumericType(const Flat& f, size_t field) {
  ASSIGN_OR_RETURN(uint8_t tag, f.U8(field, 2, 0));
  ASSIGN_OR_RETURN(size_t type_ref, f.Field(field, 3));
  if (type_ref == 0) return std::optional<DType>();
  ASSIGN_OR_RETURN(size_t type, f.Deref(type_ref));
  if (tag == kTypeInt) {
    ASSIGN_OR_RETURN(int32_t bits, f.I32(type, 0, 0));
    ASSIGN_OR_RETURN(uint8_t is_signed, f.U8(type, 1, 0));
    if (bits == 8 && !is_signed) return std::optional<DType>(DType::kUInt8);
    if (bits == 32 && is_signed) return std::optional<DType>(DType::kInt32);
    if (bits == 64 && is_signed) return std::optional<DType>(DType::kInt64);
  } else if (tag == kTypeFloatingPoint) {
    ASSIGN_OR_RETURN(int16_t precision, f.I16(type, 0, 0));
    if (precision == 0) return std::optional<DType>(DType::kFloat16);
    if (precision == 1) return std::optional<DType>(DType::kFloat32);
    if (precision == 2) return std::optional<DType>(DType::kFloat64);
  }
  return std::optional<DType>();
}

}  // namespace

Result<std::vector<ArrowFieldInfo>> ParseArrowSchema(const std::string& base64) {
  std::string bytes;
  RETURN_IF_ERROR(Base64Decode(base64, &bytes));
  // IPC framing: [0xFFFFFFFF continuation] int32 length, then the Message flatbuffer.
  size_t start = 0;
  if (bytes.size() >= 4 && static_cast<uint8_t>(bytes[0]) == 0xff && static_cast<uint8_t>(bytes[1]) == 0xff &&
      static_cast<uint8_t>(bytes[2]) == 0xff && static_cast<uint8_t>(bytes[3]) == 0xff) {
    start = 4;  // continuation marker
  }
  if (bytes.size() < start + 8) return Bad("too short");
  const std::string message = bytes.substr(start + 4);
  Flat f(message);
  ASSIGN_OR_RETURN(size_t root, f.Deref(0));
  ASSIGN_OR_RETURN(uint8_t header_type, f.U8(root, 1, 0));
  if (header_type != 1) return Bad("the message is not a Schema");
  ASSIGN_OR_RETURN(size_t header_ref, f.Field(root, 2));
  if (header_ref == 0) return Bad("no schema");
  ASSIGN_OR_RETURN(size_t schema, f.Deref(header_ref));
  ASSIGN_OR_RETURN(auto fields, f.Tables(schema, 1));
  std::vector<ArrowFieldInfo> out;
  for (size_t field : fields) {
    ArrowFieldInfo info;
    ASSIGN_OR_RETURN(info.name, f.String(field, 0));
    ASSIGN_OR_RETURN(auto metadata, f.Tables(field, 6));
    for (size_t kv : metadata) {
      ASSIGN_OR_RETURN(std::string key, f.String(kv, 0));
      ASSIGN_OR_RETURN(std::string value, f.String(kv, 1));
      if (key == "ARROW:extension:name") info.extension_name = value;
      if (key == "ARROW:extension:metadata") info.extension_metadata = value;
    }
    ASSIGN_OR_RETURN(uint8_t tag, f.U8(field, 2, 0));
    ASSIGN_OR_RETURN(auto children, f.Tables(field, 5));
    if (IsList(tag) && children.size() == 1) {
      ASSIGN_OR_RETURN(info.list_element, NumericType(f, children[0]));
      info.storage = TypeText(tag, info.list_element);
    } else if (tag == kTypeStruct) {
      info.storage = "struct<";
      for (size_t c = 0; c < children.size(); ++c) {
        ASSIGN_OR_RETURN(std::string child_name, f.String(children[c], 0));
        ASSIGN_OR_RETURN(uint8_t child_tag, f.U8(children[c], 2, 0));
        ASSIGN_OR_RETURN(auto grandchildren, f.Tables(children[c], 5));
        std::optional<DType> element;
        if (IsList(child_tag) && grandchildren.size() == 1) {
          ASSIGN_OR_RETURN(element, NumericType(f, grandchildren[0]));
        }
        if (child_name == "data" && IsList(child_tag)) info.struct_data_element = element;
        info.storage += (c ? ", " : "") + child_name + ": " + TypeText(child_tag, element);
      }
      info.storage += ">";
    } else {
      info.storage = TypeText(tag, std::nullopt);
    }
    out.push_back(std::move(info));
  }
  return out;
}

Result<std::vector<int64_t>> ParseJsonIntList(const std::string& text, size_t from) {
  const auto open = text.find('[', from), close = text.find(']', from);
  if (open == std::string::npos || close == std::string::npos || close < open) {
    return Status::InvalidData("'" + text + "' holds no list of dimensions");
  }
  std::vector<int64_t> out;
  const char* p = text.c_str() + open + 1;
  const char* end = text.c_str() + close;
  while (p < end) {
    while (p < end && (*p == ' ' || *p == ',')) ++p;
    if (p >= end) break;
    char* next = nullptr;
    const long long v = std::strtoll(p, &next, 10);
    if (next == p || v <= 0) return Status::InvalidData("'" + text + "' has a bad dimension");
    out.push_back(v);
    p = next;
  }
  if (out.empty()) return Status::InvalidData("'" + text + "' has no dimensions");
  return out;
}

Result<std::vector<int64_t>> ParseFixedShapeTensorShape(const std::string& json) {
  if (json.find("\"permutation\"") != std::string::npos) {
    return Status::Unimplemented("fixed_shape_tensor with a permutation (a non-row-major layout): " + json);
  }
  const auto key = json.find("\"shape\"");
  if (key == std::string::npos) return Status::InvalidData("fixed_shape_tensor metadata has no shape: " + json);
  auto shape = ParseJsonIntList(json, key);
  if (!shape.ok()) return shape.status().WithContext("fixed_shape_tensor shape");
  return shape;
}

}  // namespace sluice::parquet
