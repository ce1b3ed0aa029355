#include "sluice/json_lines.h"

#include <charconv>
#include <cmath>
#include <cstring>

namespace sluice {
namespace {

void AppendDouble(double v, std::string* out) {
  if (std::isnan(v)) {
    *out += "\"NaN\"";
  } else if (std::isinf(v)) {
    *out += v > 0 ? "\"Infinity\"" : "\"-Infinity\"";
  } else {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out->append(buf, r.ptr);
  }
}

template <typename T>
T Load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

/// Element `i` of a tensor row laid out as `dims[d...]` from `p`.
void AppendTensor(const uint8_t* p, DType dtype, const std::vector<int64_t>& shape, size_t d, std::string* out) {
  int64_t inner = DTypeSize(dtype);
  for (size_t k = d + 1; k < shape.size(); ++k) inner *= shape[k];
  out->push_back('[');
  for (int64_t i = 0; i < shape[d]; ++i) {
    if (i) out->push_back(',');
    const uint8_t* q = p + i * inner;
    if (d + 1 < shape.size()) {
      AppendTensor(q, dtype, shape, d + 1, out);
      continue;
    }
    switch (dtype) {
      case DType::kUInt8: *out += std::to_string(*q); break;
      case DType::kInt32: *out += std::to_string(Load<int32_t>(q)); break;
      case DType::kInt64: *out += std::to_string(Load<int64_t>(q)); break;
      case DType::kFloat32: AppendDouble(Load<float>(q), out); break;
      case DType::kFloat64: AppendDouble(Load<double>(q), out); break;
      case DType::kFloat16:
      case DType::kBFloat16: *out += "null"; break;  // no half-precision text form yet
    }
  }
  out->push_back(']');
}

void AppendValue(const Column& c, int64_t i, std::string* out) {
  if (!c.IsValid(i)) {
    *out += "null";
    return;
  }
  switch (c.type().id()) {
    case TypeId::kBool: *out += c.Value<bool>(i) ? "true" : "false"; break;
    case TypeId::kInt32: *out += std::to_string(c.Value<int32_t>(i)); break;
    case TypeId::kInt64: *out += std::to_string(c.Value<int64_t>(i)); break;
    case TypeId::kInt8: *out += std::to_string(c.Value<int8_t>(i)); break;
    case TypeId::kInt16: *out += std::to_string(c.Value<int16_t>(i)); break;
    case TypeId::kUInt8: *out += std::to_string(c.Value<uint8_t>(i)); break;
    case TypeId::kUInt16: *out += std::to_string(c.Value<uint16_t>(i)); break;
    case TypeId::kUInt32: *out += std::to_string(c.Value<uint32_t>(i)); break;
    case TypeId::kUInt64: *out += std::to_string(c.Value<uint64_t>(i)); break;
    case TypeId::kFloat32: AppendDouble(c.Value<float>(i), out); break;
    case TypeId::kFloat64: AppendDouble(c.Value<double>(i), out); break;
    case TypeId::kString: AppendJsonString(c.ValueBytes(i), out); break;
    case TypeId::kBinary: out->push_back('"'), *out += Base64Encode(c.ValueBytes(i)), out->push_back('"'); break;
    case TypeId::kTensor: AppendTensor(c.RowData(i), c.type().dtype(), c.type().row_shape(), 0, out); break;
    case TypeId::kList: {
      out->push_back('[');
      for (int64_t e = c.ListBegin(i); e < c.ListEnd(i); ++e) {
        if (e > c.ListBegin(i)) out->push_back(',');
        AppendValue(c.child(), e, out);
      }
      out->push_back(']');
      break;
    }
  }
}

}  // namespace

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (char c : s) {
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\n': *out += "\\n"; break;
      case '\r': *out += "\\r"; break;
      case '\t': *out += "\\t"; break;
      case '\b': *out += "\\b"; break;
      case '\f': *out += "\\f"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          *out += buf;
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

std::string Base64Encode(std::string_view in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v = (uint32_t{static_cast<uint8_t>(in[i])} << 16) | (uint32_t{static_cast<uint8_t>(in[i + 1])} << 8) |
                       static_cast<uint8_t>(in[i + 2]);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i < in.size()) {
    uint32_t v = uint32_t{static_cast<uint8_t>(in[i])} << 16;
    if (i + 1 < in.size()) v |= uint32_t{static_cast<uint8_t>(in[i + 1])} << 8;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

void AppendJsonRow(const Batch& batch, int64_t row, std::string* out) {
  out->push_back('{');
  for (int c = 0; c < batch.num_columns(); ++c) {
    if (c) out->push_back(',');
    AppendJsonString(batch.name(c), out);
    out->push_back(':');
    AppendValue(batch.column(c), row, out);
  }
  *out += "}\n";
}

}  // namespace sluice
