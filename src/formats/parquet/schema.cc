#include "schema.h"

namespace sluice::parquet {
namespace {

struct Node {
  const SchemaElement* e = nullptr;
  std::vector<int> children;
};

bool IsList(const SchemaElement& e) {
  return e.converted_type == ConvertedType::kList || e.logical_type.kind == LogicalType::Kind::kList;
}

bool IsRepeated(const SchemaElement& e) { return e.repetition == Repetition::kRepeated; }
bool IsOptional(const SchemaElement& e) { return e.repetition == Repetition::kOptional; }

/// Value type and conversion of a primitive element.
Result<std::pair<DataType, ValueConversion>> ValueTypeOf(const SchemaElement& e) {
  using LK = LogicalType::Kind;
  switch (*e.type) {
    case PhysicalType::kBoolean: return std::make_pair(DataType::Bool(), ValueConversion::kAsIs);
    case PhysicalType::kInt32: {
      // INTEGER(bits, signed) or the legacy INT_8 .. UINT_32 annotations; plain INT32 is int32.
      int bits = 32;
      bool is_signed = true;
      if (e.logical_type.kind == LK::kInteger) {
        bits = e.logical_type.bit_width;
        is_signed = e.logical_type.is_signed;
      } else if (e.converted_type) {
        switch (*e.converted_type) {
          case ConvertedType::kInt8: bits = 8; break;
          case ConvertedType::kInt16: bits = 16; break;
          case ConvertedType::kUint8: bits = 8, is_signed = false; break;
          case ConvertedType::kUint16: bits = 16, is_signed = false; break;
          case ConvertedType::kUint32: is_signed = false; break;
          default: break;
        }
      }
      if (bits == 8) return std::make_pair(is_signed ? DataType::Int8() : DataType::UInt8(), ValueConversion::kNarrow);
      if (bits == 16) return std::make_pair(is_signed ? DataType::Int16() : DataType::UInt16(), ValueConversion::kNarrow);
      return std::make_pair(is_signed ? DataType::Int32() : DataType::UInt32(), ValueConversion::kAsIs);
    }
    case PhysicalType::kInt64: {
      const bool unsigned64 = e.converted_type == ConvertedType::kUint64 ||
                              (e.logical_type.kind == LK::kInteger && !e.logical_type.is_signed);
      return std::make_pair(unsigned64 ? DataType::UInt64() : DataType::Int64(), ValueConversion::kAsIs);
    }
    case PhysicalType::kInt96: return std::make_pair(DataType::Int64(), ValueConversion::kInt96ToNanos);
    case PhysicalType::kFloat: return std::make_pair(DataType::Float32(), ValueConversion::kAsIs);
    case PhysicalType::kDouble: return std::make_pair(DataType::Float64(), ValueConversion::kAsIs);
    case PhysicalType::kByteArray: {
      const bool text = e.converted_type == ConvertedType::kUtf8 || e.converted_type == ConvertedType::kEnum ||
                        e.converted_type == ConvertedType::kJson || e.logical_type.kind == LK::kString ||
                        e.logical_type.kind == LK::kEnum || e.logical_type.kind == LK::kJson;
      return std::make_pair(text ? DataType::String() : DataType::Binary(), ValueConversion::kAsIs);
    }
    case PhysicalType::kFixedLenByteArray:
      if (e.type_length <= 0) return Status::InvalidData("FIXED_LEN_BYTE_ARRAY column '" + e.name + "' has length " + std::to_string(e.type_length));
      return std::make_pair(DataType::Binary(), ValueConversion::kAsIs);
  }
  return Status::InvalidData("column '" + e.name + "' has unknown physical type " + std::to_string(static_cast<int>(*e.type)));
}

class Builder {
 public:
  Builder(const FileMetaData& meta, const std::string& file) : meta_(meta), file_(file) {}

  Result<Schema> Build() {
    const auto& s = meta_.schema;
    if (s.empty()) return Error("the schema is empty");
    nodes_.resize(s.size());
    size_t next = 0;
    RETURN_IF_ERROR(Parse(next, 0));
    if (next != s.size()) return Error("the schema has " + std::to_string(s.size() - next) + " elements outside the root");
    Schema out;
    for (int child : nodes_[0].children) {
      const std::string& name = nodes_[static_cast<size_t>(child)].e->name;
      if (name.empty()) return Error("a top-level column has no name");
      for (const Field& f : out.fields) {
        if (f.name == name) return Error("two top-level columns are named '" + name + "'");
      }
      RETURN_IF_ERROR(AddField(child, out));
    }
    return out;
  }

 private:
  Status Error(const std::string& m) const { return Status::InvalidData("'" + file_ + "': invalid schema: " + m); }

  /// Parses element `next` and its subtree (depth-first order), advancing `next`.
  Status Parse(size_t& next, int depth) {
    if (depth > 64) return Error("nested deeper than 64 levels");
    if (next >= meta_.schema.size()) return Error("the schema ends inside a group (children are missing)");
    const size_t index = next++;
    const SchemaElement& e = meta_.schema[index];
    nodes_[index].e = &e;
    if (e.type && (static_cast<int32_t>(*e.type) < 0 || static_cast<int32_t>(*e.type) > 7)) {
      return Error("column '" + e.name + "' has unknown physical type " + std::to_string(static_cast<int32_t>(*e.type)));
    }
    if (e.repetition && (static_cast<int32_t>(*e.repetition) < 0 || static_cast<int32_t>(*e.repetition) > 2)) {
      return Error("column '" + e.name + "' has unknown repetition " + std::to_string(static_cast<int32_t>(*e.repetition)));
    }
    if (e.type && *e.type == PhysicalType::kFixedLenByteArray && e.type_length <= 0) {
      return Error("FIXED_LEN_BYTE_ARRAY column '" + e.name + "' has length " + std::to_string(e.type_length));
    }
    if (e.type) return Status::OK();
    if (e.num_children < 0 || static_cast<size_t>(e.num_children) > meta_.schema.size() - next) {
      return Error("group '" + e.name + "' claims " + std::to_string(e.num_children) + " children");
    }
    for (int32_t c = 0; c < e.num_children; ++c) {
      nodes_[index].children.push_back(static_cast<int>(next));
      RETURN_IF_ERROR(Parse(next, depth + 1));
    }
    return Status::OK();
  }

  /// Adds the leaves under `node` (path so far in `path`, levels so far) to `out`.
  void CollectLeaves(int node, std::vector<std::string> path, int16_t def, int16_t rep, Schema& out, int* first_leaf) {
    const SchemaElement& e = *nodes_[static_cast<size_t>(node)].e;
    path.push_back(e.name);
    if (IsOptional(e) || IsRepeated(e)) ++def;
    if (IsRepeated(e)) ++rep;
    if (!e.type) {
      for (int c : nodes_[static_cast<size_t>(node)].children) CollectLeaves(c, path, def, rep, out, first_leaf);
      return;
    }
    LeafColumn leaf;
    leaf.path = std::move(path);
    leaf.physical = *e.type;
    leaf.type_length = e.type_length;
    leaf.max_def = def;
    leaf.max_rep = rep;
    if (auto vt = ValueTypeOf(e); vt.ok()) {
      leaf.value_type = vt->first;
      leaf.conversion = vt->second;
    }
    if (*first_leaf < 0) *first_leaf = static_cast<int>(out.leaves.size());
    out.leaves.push_back(std::move(leaf));
  }

  Status AddField(int node, Schema& out) {
    const SchemaElement& e = *nodes_[static_cast<size_t>(node)].e;
    Field f;
    f.name = e.name;
    const size_t leaves_before = out.leaves.size();
    CollectLeaves(node, {}, 0, 0, out, &f.leaf);
    const size_t leaf_count = out.leaves.size() - leaves_before;
    if (leaf_count == 0) {
      f.unsupported = "a group with no columns";
      out.fields.push_back(std::move(f));
      return Status::OK();
    }
    const LeafColumn& leaf = out.leaves[static_cast<size_t>(f.leaf)];
    const SchemaElement* element = nullptr;  // the primitive holding the values
    if (e.type) {
      element = &e;
      f.is_list = IsRepeated(e);
      f.nullable = IsOptional(e);
    } else if (IsList(e) && nodes_[static_cast<size_t>(node)].children.size() == 1) {
      const int r = nodes_[static_cast<size_t>(node)].children[0];
      const SchemaElement& rep = *nodes_[static_cast<size_t>(r)].e;
      const auto& rep_children = nodes_[static_cast<size_t>(r)].children;
      f.is_list = true;
      f.nullable = IsOptional(e);
      f.list_present_def = IsOptional(e) ? 1 : 0;
      if (!IsRepeated(rep)) {
        f.unsupported = "LIST group whose child is not repeated";
      } else if (rep.type) {
        element = &rep;  // legacy 2-level: repeated primitive
      } else if (rep_children.size() == 1 && rep.name != "array" && rep.name != e.name + "_tuple" &&
                 nodes_[static_cast<size_t>(rep_children[0])].e->type) {
        element = nodes_[static_cast<size_t>(rep_children[0])].e;  // standard 3-level
      } else {
        f.unsupported = "a list of structs or of lists";
      }
    } else {
      f.unsupported = IsList(e) ? "a malformed LIST group" : "a struct or map";
      if (!IsList(e)) f.parts = DataShapeParts(node, f.leaf, out);
    }
    if (f.unsupported.empty() && leaf_count != 1) f.unsupported = "a group of several columns";
    if (f.unsupported.empty() && leaf.max_rep > (f.is_list ? 1 : 0)) f.unsupported = "nested repetition";
    if (f.unsupported.empty()) {
      auto vt_or = ValueTypeOf(*element);
      if (!vt_or.ok()) return Error(vt_or.status().message());
      auto vt = *vt_or;
      f.element_nullable = f.is_list && IsOptional(*element);
      f.type = f.is_list ? DataType::List(vt.first) : vt.first;
      if (e.type && f.is_list) f.list_present_def = 0;
    }
    out.fields.push_back(std::move(f));
    return Status::OK();
  }

  /// A struct of exactly two standard 3-level LIST children named "data" and "shape": their
  /// fields, with the struct's level counted in (empty if the struct is anything else).
  std::vector<Field> DataShapeParts(int node, int first_leaf, const Schema& out) const {
    const SchemaElement& e = *nodes_[static_cast<size_t>(node)].e;
    const auto& kids = nodes_[static_cast<size_t>(node)].children;
    if (kids.size() != 2) return {};
    std::vector<Field> parts;
    int leaf = first_leaf;
    for (int k : kids) {
      const SchemaElement& list = *nodes_[static_cast<size_t>(k)].e;
      const auto& lk = nodes_[static_cast<size_t>(k)].children;
      if (list.type || !IsList(list) || lk.size() != 1) return {};
      const SchemaElement& rep = *nodes_[static_cast<size_t>(lk[0])].e;
      const auto& rk = nodes_[static_cast<size_t>(lk[0])].children;
      if (!IsRepeated(rep) || rep.type || rk.size() != 1 || !nodes_[static_cast<size_t>(rk[0])].e->type) return {};
      const SchemaElement& element = *nodes_[static_cast<size_t>(rk[0])].e;
      auto vt = ValueTypeOf(element);
      if (!vt.ok() || leaf < 0 || static_cast<size_t>(leaf) >= out.leaves.size() || out.leaves[static_cast<size_t>(leaf)].max_rep != 1) return {};
      Field f;
      f.name = list.name;
      f.leaf = leaf++;
      f.is_list = true;
      f.nullable = true;
      f.list_present_def = static_cast<int16_t>((IsOptional(e) ? 1 : 0) + (IsOptional(list) ? 1 : 0));
      f.element_nullable = IsOptional(element);
      f.type = DataType::List(vt->first);
      parts.push_back(std::move(f));
    }
    if (parts[0].name != "data" || parts[1].name != "shape") return {};
    return parts;
  }

  const FileMetaData& meta_;
  const std::string& file_;
  std::vector<Node> nodes_;
};

}  // namespace

std::string LeafColumn::dotted() const {
  std::string s;
  for (size_t i = 0; i < path.size(); ++i) s += (i ? "." : "") + path[i];
  return s;
}

int Schema::FindField(const std::string& name) const {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

Result<Schema> BuildSchema(const FileMetaData& meta, const std::string& file) { return Builder(meta, file).Build(); }

int PhysicalWidth(PhysicalType type, int32_t type_length) {
  switch (type) {
    case PhysicalType::kBoolean: return 1;
    case PhysicalType::kInt32:
    case PhysicalType::kFloat: return 4;
    case PhysicalType::kInt64:
    case PhysicalType::kDouble: return 8;
    case PhysicalType::kInt96: return 12;
    case PhysicalType::kFixedLenByteArray: return type_length;
    case PhysicalType::kByteArray: return 0;
  }
  return 0;
}

}  // namespace sluice::parquet
