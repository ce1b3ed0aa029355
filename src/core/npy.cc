#include "sluice/npy.h"

#include <algorithm>
#include <cstring>

#include "sluice/random_access_file.h"

namespace sluice {
namespace {

Result<std::string> NumpyDescr(DType d) {
  switch (d) {
    case DType::kUInt8: return std::string("|u1");
    case DType::kInt32: return std::string("<i4");
    case DType::kInt64: return std::string("<i8");
    case DType::kFloat16: return std::string("<f2");
    case DType::kFloat32: return std::string("<f4");
    case DType::kFloat64: return std::string("<f8");
    case DType::kBFloat16: break;
  }
  return Status::Unimplemented("NumPy has no " + std::string(DTypeName(d)) + " dtype");
}

Result<DType> FromDescr(const std::string& d) {
  if (d == "|u1" || d == "<u1") return DType::kUInt8;
  if (d == "<i4") return DType::kInt32;
  if (d == "<i8") return DType::kInt64;
  if (d == "<f2") return DType::kFloat16;
  if (d == "<f4") return DType::kFloat32;
  if (d == "<f8") return DType::kFloat64;
  return Status::Unimplemented("NumPy dtype '" + d + "'");
}

}  // namespace

Result<Column> ReadNpy(const std::string& path) {
  ASSIGN_OR_RETURN(auto file, OpenLocalFile(path));
  ASSIGN_OR_RETURN(int64_t size, file->Size());
  if (size < 12) return Status::InvalidData("'" + path + "' is not a .npy file");
  ASSIGN_OR_RETURN(auto head, file->ReadAt(0, std::min<int64_t>(size, 12)));
  const uint8_t* h = head->data();
  if (std::memcmp(h, "\x93NUMPY", 6) != 0) return Status::InvalidData("'" + path + "' is not a .npy file (no magic)");
  const int major = h[6];
  const int64_t header_len = major == 1 ? (h[8] | (h[9] << 8)) : (h[8] | (h[9] << 8) | (h[10] << 16) | (int64_t{h[11]} << 24));
  const int64_t data_at = (major == 1 ? 10 : 12) + header_len;
  if (data_at > size) return Status::InvalidData("'" + path + "': header past the end");
  ASSIGN_OR_RETURN(auto hb, file->ReadAt(major == 1 ? 10 : 12, header_len));
  const std::string header(reinterpret_cast<const char*>(hb->data()), static_cast<size_t>(header_len));
  auto field = [&](const std::string& key) -> std::string {
    const auto k = header.find("'" + key + "'");
    if (k == std::string::npos) return {};
    auto v = header.find(':', k);
    return v == std::string::npos ? std::string() : header.substr(v + 1);
  };
  if (field("fortran_order").find("True") == 0 || field("fortran_order").find(" True") == 0) {
    return Status::Unimplemented("'" + path + "': Fortran-order arrays");
  }
  std::string descr = field("descr");
  const auto q1 = descr.find('\''), q2 = descr.find('\'', q1 + 1);
  if (q1 == std::string::npos || q2 == std::string::npos) return Status::InvalidData("'" + path + "': no dtype");
  ASSIGN_OR_RETURN(DType dtype, FromDescr(descr.substr(q1 + 1, q2 - q1 - 1)));
  const std::string shape_text = field("shape");
  const auto open = shape_text.find('('), close = shape_text.find(')');
  if (open == std::string::npos || close == std::string::npos) return Status::InvalidData("'" + path + "': no shape");
  std::vector<int64_t> shape;
  const std::string dims = shape_text.substr(open + 1, close - open - 1);
  for (size_t i = 0; i < dims.size();) {
    while (i < dims.size() && (dims[i] == ' ' || dims[i] == ',')) ++i;
    if (i >= dims.size()) break;
    size_t used = 0;
    shape.push_back(std::stoll(dims.substr(i), &used));
    i += used;
  }
  if (shape.empty()) return Status::InvalidData("'" + path + "': a 0-d array");
  const int64_t rows = shape[0];
  std::vector<int64_t> row_shape(shape.begin() + 1, shape.end());
  if (row_shape.empty()) row_shape.push_back(1);
  const DataType type = DataType::Tensor(dtype, row_shape);
  if (data_at + rows * type.fixed_row_bytes() > size) return Status::InvalidData("'" + path + "' is shorter than its shape says");
  ASSIGN_OR_RETURN(auto data, file->ReadAt(data_at, rows * type.fixed_row_bytes()));
  return Column::FromBuffers(type, rows, std::move(data));
}

Status WriteNpy(const std::string& path, DType dtype, const std::vector<int64_t>& shape, const uint8_t* data) {
  ASSIGN_OR_RETURN(std::string descr, NumpyDescr(dtype));
  std::string dims = "(";  // a Python tuple: "(1, 3, 224, 224)", "(5,)"
  int64_t count = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    dims += (i ? ", " : "") + std::to_string(shape[i]);
    count *= shape[i];
  }
  dims += shape.size() == 1 ? ",)" : ")";
  std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + dims + ", }";
  // magic (6) + version (2) + header length (2) + header, padded with spaces to a multiple of 64, ending in \n.
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  std::string prefix = "\x93NUMPY\x01";
  prefix.push_back('\0');
  prefix.push_back(static_cast<char>(header.size() & 0xff));
  prefix.push_back(static_cast<char>(header.size() >> 8));
  ASSIGN_OR_RETURN(auto w, AtomicFileWriter::Open(path));
  RETURN_IF_ERROR(w->Append(prefix.data(), static_cast<int64_t>(prefix.size())));
  RETURN_IF_ERROR(w->Append(header.data(), static_cast<int64_t>(header.size())));
  RETURN_IF_ERROR(w->Append(data, count * DTypeSize(dtype)));
  return w->Commit();
}

}  // namespace sluice
