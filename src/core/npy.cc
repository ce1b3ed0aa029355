#include "sluice/npy.h"

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

}  // namespace

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
