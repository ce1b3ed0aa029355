#include "arrow_schema_writer.h"

#include <algorithm>
#include <cstring>
#include <memory>

#include "sluice/json_lines.h"

namespace sluice::parquet {
namespace {

// A flatbuffer object tree, serialized parent first so every uoffset points forward.
struct Obj;
using Ref = std::shared_ptr<Obj>;
struct Slot {
  int id = 0;
  int size = 0;  // 1, 2 or 4 for scalars; 0 for a reference (a 4-byte uoffset)
  uint32_t scalar = 0;
  Ref ref;
};
struct Obj {
  enum class Kind { kTable, kString, kVector } kind = Kind::kTable;
  std::vector<Slot> slots;  // tables
  std::string text;         // strings
  std::vector<Ref> items;   // vectors of tables or strings
};

Ref Table(std::vector<Slot> slots) {
  auto o = std::make_shared<Obj>();
  o->slots = std::move(slots);
  return o;
}
Ref Str(std::string s) {
  auto o = std::make_shared<Obj>();
  o->kind = Obj::Kind::kString;
  o->text = std::move(s);
  return o;
}
Ref Vec(std::vector<Ref> items) {
  auto o = std::make_shared<Obj>();
  o->kind = Obj::Kind::kVector;
  o->items = std::move(items);
  return o;
}
Slot Scalar(int id, int size, uint32_t v) { return Slot{id, size, v, nullptr}; }
Slot Child(int id, Ref r) { return Slot{id, 0, 0, std::move(r)}; }

class Writer {
 public:
  std::string Finish(const Ref& root) {
    Put32(0);
    const size_t pos = Write(*root);
    Patch32(0, static_cast<uint32_t>(pos));
    Align(8);
    return buf_;
  }

 private:
  void Align(size_t n) {
    while (buf_.size() % n) buf_.push_back('\0');
  }
  void Put(const void* p, size_t n) { buf_.append(static_cast<const char*>(p), n); }
  void Put32(uint32_t v) { Put(&v, 4); }
  void Patch32(size_t at, uint32_t v) { std::memcpy(&buf_[at], &v, 4); }
  /// A uoffset at `slot` to the object written now (after it).
  void Link(size_t slot, const Obj& o) {
    const size_t target = Write(o);
    Patch32(slot, static_cast<uint32_t>(target - slot));
  }

  size_t Write(const Obj& o) {
    switch (o.kind) {
      case Obj::Kind::kString: {
        Align(4);
        const size_t pos = buf_.size();
        Put32(static_cast<uint32_t>(o.text.size()));
        buf_ += o.text;
        buf_.push_back('\0');
        return pos;
      }
      case Obj::Kind::kVector: {
        Align(4);
        const size_t pos = buf_.size();
        Put32(static_cast<uint32_t>(o.items.size()));
        const size_t first = buf_.size();
        for (size_t i = 0; i < o.items.size(); ++i) Put32(0);
        for (size_t i = 0; i < o.items.size(); ++i) Link(first + 4 * i, *o.items[i]);
        return pos;
      }
      case Obj::Kind::kTable: break;
    }
    // Inline layout: the soffset, then 4-, 2-, 1-byte fields (each naturally aligned).
    std::vector<const Slot*> order;
    for (const Slot& s : o.slots) order.push_back(&s);
    auto width = [](const Slot* s) { return s->size == 0 ? 4 : s->size; };
    std::stable_sort(order.begin(), order.end(), [&](const Slot* a, const Slot* b) { return width(a) > width(b); });
    int max_id = -1;
    for (const Slot& s : o.slots) max_id = std::max(max_id, s.id);
    std::vector<uint16_t> vtable(static_cast<size_t>(2 + max_id + 1), 0);
    uint16_t off = 4;
    std::vector<std::pair<const Slot*, uint16_t>> placed;
    for (const Slot* s : order) {
      const int w = width(s);
      off = static_cast<uint16_t>((off + w - 1) / w * w);
      vtable[static_cast<size_t>(2 + s->id)] = off;
      placed.push_back({s, off});
      off = static_cast<uint16_t>(off + w);
    }
    const uint16_t table_size = static_cast<uint16_t>((off + 3) / 4 * 4);
    vtable[0] = static_cast<uint16_t>(vtable.size() * 2);
    vtable[1] = table_size;
    Align(2);
    const size_t vt = buf_.size();
    Put(vtable.data(), vtable.size() * 2);
    Align(4);
    const size_t table = buf_.size();
    buf_.resize(table + table_size, '\0');
    const int32_t soffset = static_cast<int32_t>(table - vt);
    std::memcpy(&buf_[table], &soffset, 4);
    for (const auto& [s, at] : placed) {
      if (s->size) std::memcpy(&buf_[table + at], &s->scalar, static_cast<size_t>(s->size));
    }
    for (const auto& [s, at] : placed) {
      if (!s->size) Link(table + at, *s->ref);
    }
    return table;
  }

  std::string buf_;
};

// Arrow's Type union tags (Schema.fbs).
constexpr uint32_t kInt = 2, kFloatingPoint = 3, kBinary = 4, kUtf8 = 5, kBool = 6, kList = 12, kLargeList = 21;

Ref KeyValue(std::string k, std::string v) { return Table({Child(0, Str(std::move(k))), Child(1, Str(std::move(v)))}); }

Result<Ref> FieldFor(const std::string& name, const DataType& type, std::vector<Ref> metadata, bool large_list) {
  uint32_t tag = 0;
  Ref type_table;
  std::vector<Ref> children;
  auto int_type = [](int bits, bool is_signed) { return Table({Scalar(0, 4, static_cast<uint32_t>(bits)), Scalar(1, 1, is_signed)}); };
  switch (type.id()) {
    case TypeId::kBool: tag = kBool, type_table = Table({}); break;
    case TypeId::kInt8: tag = kInt, type_table = int_type(8, true); break;
    case TypeId::kInt16: tag = kInt, type_table = int_type(16, true); break;
    case TypeId::kInt32: tag = kInt, type_table = int_type(32, true); break;
    case TypeId::kInt64: tag = kInt, type_table = int_type(64, true); break;
    case TypeId::kUInt8: tag = kInt, type_table = int_type(8, false); break;
    case TypeId::kUInt16: tag = kInt, type_table = int_type(16, false); break;
    case TypeId::kUInt32: tag = kInt, type_table = int_type(32, false); break;
    case TypeId::kUInt64: tag = kInt, type_table = int_type(64, false); break;
    case TypeId::kFloat32: tag = kFloatingPoint, type_table = Table({Scalar(0, 2, 1)}); break;
    case TypeId::kFloat64: tag = kFloatingPoint, type_table = Table({Scalar(0, 2, 2)}); break;
    case TypeId::kString: tag = kUtf8, type_table = Table({}); break;
    case TypeId::kBinary: tag = kBinary, type_table = Table({}); break;
    case TypeId::kList: {
      tag = large_list ? kLargeList : kList;
      type_table = Table({});
      ASSIGN_OR_RETURN(Ref item, FieldFor("item", type.element(), {}, false));
      children.push_back(item);
      break;
    }
    case TypeId::kTensor: return Status::InvalidArgument("column '" + name + "': a tensor needs Ray's layout in ARROW:schema");
  }
  std::vector<Slot> slots{Child(0, Str(name)), Scalar(1, 1, 1), Scalar(2, 1, tag), Child(3, type_table), Child(5, Vec(children))};
  if (!metadata.empty()) slots.push_back(Child(6, Vec(std::move(metadata))));
  return Table(std::move(slots));
}

}  // namespace

Result<DataType> RayElementType(DType dtype) {
  switch (dtype) {
    case DType::kUInt8: return DataType::UInt8();
    case DType::kInt32: return DataType::Int32();
    case DType::kInt64: return DataType::Int64();
    case DType::kFloat32: return DataType::Float32();
    case DType::kFloat64: return DataType::Float64();
    default: return Status::Unimplemented(std::string(DTypeName(dtype)) + " tensors in Ray's layout");
  }
}

Result<std::string> ArrowSchemaValue(const std::vector<ArrowFieldSpec>& fields) {
  std::vector<Ref> out;
  for (const ArrowFieldSpec& f : fields) {
    if (!f.ray_tensor) {
      ASSIGN_OR_RETURN(Ref field, FieldFor(f.name, f.type, {}, false));
      out.push_back(field);
      continue;
    }
    ASSIGN_OR_RETURN(DataType element, RayElementType(f.type.dtype()));
    // json.dumps(shape) as Ray writes it: "[256, 256, 3]". Readers of every Ray version since
    // 2.9 accept JSON (newer ones try a pickle first and fall back to it).
    std::string shape = "[";
    for (size_t i = 0; i < f.type.row_shape().size(); ++i) shape += (i ? ", " : "") + std::to_string(f.type.row_shape()[i]);
    shape += "]";
    ASSIGN_OR_RETURN(Ref field, FieldFor(f.name, DataType::List(element),
                                         {KeyValue("ARROW:extension:name", "ray.data.arrow_tensor_v2"),
                                          KeyValue("ARROW:extension:metadata", shape)},
                                         true));
    out.push_back(field);
  }
  Ref schema = Table({Child(1, Vec(std::move(out)))});
  // Message: version V5 (4), header type Schema (1), the schema.
  Ref message = Table({Scalar(0, 2, 4), Scalar(1, 1, 1), Child(2, schema)});
  const std::string flat = Writer().Finish(message);
  std::string ipc(8, '\0');
  const uint32_t continuation = 0xffffffffu, length = static_cast<uint32_t>(flat.size());
  std::memcpy(&ipc[0], &continuation, 4);
  std::memcpy(&ipc[4], &length, 4);
  return Base64Encode(ipc + flat);
}

}  // namespace sluice::parquet
