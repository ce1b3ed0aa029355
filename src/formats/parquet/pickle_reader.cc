#include "pickle_reader.h"

#include <cstring>
#include <map>

namespace sluice::parquet {
namespace {

using Value = std::shared_ptr<PickleValue>;

constexpr size_t kMaxStack = 4096;
constexpr size_t kMaxString = 1 << 20;

Value Make(PickleValue::Kind kind) {
  auto v = std::make_shared<PickleValue>();
  v->kind = kind;
  return v;
}

Status Bad(const std::string& why) { return Status::InvalidData("pickle: " + why); }

class Machine {
 public:
  explicit Machine(const std::string& b) : b_(b) {}

  Result<Value> Run() {
    while (pos_ < b_.size()) {
      const uint8_t op = static_cast<uint8_t>(b_[pos_++]);
      switch (op) {
        case 0x80: RETURN_IF_ERROR(Skip(1)); break;  // PROTO
        case 0x95: RETURN_IF_ERROR(Skip(8)); break;  // FRAME
        case 0x2e: {                                  // STOP
          if (stack_.size() != 1 || marks_.size() != 0) return Bad("STOP with " + std::to_string(stack_.size()) + " values on the stack");
          return stack_.back();
        }
        case 0x4b: { ASSIGN_OR_RETURN(uint64_t v, Uint(1)); RETURN_IF_ERROR(PushInt(static_cast<int64_t>(v))); break; }  // BININT1
        case 0x4d: { ASSIGN_OR_RETURN(uint64_t v, Uint(2)); RETURN_IF_ERROR(PushInt(static_cast<int64_t>(v))); break; }  // BININT2
        case 0x4a: { ASSIGN_OR_RETURN(uint64_t v, Uint(4)); RETURN_IF_ERROR(PushInt(static_cast<int32_t>(v))); break; }  // BININT
        case 0x8a: {  // LONG1: n bytes, little-endian two's complement
          ASSIGN_OR_RETURN(uint64_t n, Uint(1));
          if (n > 8) return Bad("integer of " + std::to_string(n) + " bytes");
          ASSIGN_OR_RETURN(uint64_t v, Uint(static_cast<size_t>(n)));
          if (n > 0 && n < 8 && (v >> (8 * n - 1)) & 1) v |= ~uint64_t{0} << (8 * n);  // sign-extend
          RETURN_IF_ERROR(PushInt(static_cast<int64_t>(v)));
          break;
        }
        case 0x88: case 0x89: {  // NEWTRUE, NEWFALSE
          auto v = Make(PickleValue::Kind::kBool);
          v->integer = op == 0x88;
          RETURN_IF_ERROR(Push(v));
          break;
        }
        case 0x4e: RETURN_IF_ERROR(Push(Make(PickleValue::Kind::kNone))); break;  // NONE
        case 0x8c: { ASSIGN_OR_RETURN(uint64_t n, Uint(1)); RETURN_IF_ERROR(PushString(n)); break; }  // SHORT_BINUNICODE
        case 0x58: { ASSIGN_OR_RETURN(uint64_t n, Uint(4)); RETURN_IF_ERROR(PushString(n)); break; }  // BINUNICODE
        case 0x8d: { ASSIGN_OR_RETURN(uint64_t n, Uint(8)); RETURN_IF_ERROR(PushString(n)); break; }  // BINUNICODE8
        case 0x43: { ASSIGN_OR_RETURN(uint64_t n, Uint(1)); RETURN_IF_ERROR(PushString(n)); break; }  // SHORT_BINBYTES
        case 0x42: { ASSIGN_OR_RETURN(uint64_t n, Uint(4)); RETURN_IF_ERROR(PushString(n)); break; }  // BINBYTES
        case 0x29: RETURN_IF_ERROR(Push(Make(PickleValue::Kind::kTuple))); break;  // EMPTY_TUPLE
        case 0x85: case 0x86: case 0x87: RETURN_IF_ERROR(TupleOf(op - 0x84)); break;  // TUPLE1..3
        case 0x28: marks_.push_back(stack_.size()); break;  // MARK
        case 0x74: {  // TUPLE (from the mark)
          ASSIGN_OR_RETURN(size_t mark, PopMark());
          RETURN_IF_ERROR(TupleOf(stack_.size() - mark));
          break;
        }
        case 0x5d: RETURN_IF_ERROR(Push(Make(PickleValue::Kind::kList))); break;  // EMPTY_LIST
        case 0x7d: RETURN_IF_ERROR(Push(Make(PickleValue::Kind::kDict))); break;  // EMPTY_DICT
        case 0x61: case 0x73: {  // APPEND, SETITEM: one item (or key, value) into the container below
          const size_t n = op == 0x61 ? 1 : 2;
          if (stack_.size() < n + 1) return Bad("APPEND/SETITEM on a short stack");
          Value& target = stack_[stack_.size() - n - 1];
          for (size_t i = stack_.size() - n; i < stack_.size(); ++i) target->items.push_back(stack_[i]);
          stack_.resize(stack_.size() - n);
          break;
        }
        case 0x65: case 0x75: {  // APPENDS, SETITEMS: everything since the mark
          ASSIGN_OR_RETURN(size_t mark, PopMark());
          if (mark == 0) return Bad("APPENDS/SETITEMS without a container");
          Value& target = stack_[mark - 1];
          for (size_t i = mark; i < stack_.size(); ++i) target->items.push_back(stack_[i]);
          stack_.resize(mark);
          break;
        }
        case 0x94: {  // MEMOIZE
          if (stack_.empty()) return Bad("MEMOIZE on an empty stack");
          memo_[memo_.size()] = stack_.back();
          break;
        }
        case 0x71: case 0x72: {  // BINPUT, LONG_BINPUT
          ASSIGN_OR_RETURN(uint64_t k, Uint(op == 0x71 ? 1 : 4));
          if (stack_.empty()) return Bad("PUT on an empty stack");
          memo_[k] = stack_.back();
          break;
        }
        case 0x68: case 0x6a: {  // BINGET, LONG_BINGET
          ASSIGN_OR_RETURN(uint64_t k, Uint(op == 0x68 ? 1 : 4));
          auto it = memo_.find(k);
          if (it == memo_.end()) return Bad("GET of an unknown memo entry " + std::to_string(k));
          RETURN_IF_ERROR(Push(it->second));
          break;
        }
        case 0x93: {  // STACK_GLOBAL: module and name from the stack, recorded, never imported
          if (stack_.size() < 2) return Bad("STACK_GLOBAL on a short stack");
          auto g = Make(PickleValue::Kind::kGlobal);
          g->text = stack_[stack_.size() - 2]->text + "." + stack_.back()->text;
          stack_.resize(stack_.size() - 2);
          RETURN_IF_ERROR(Push(g));
          break;
        }
        case 0x63: {  // GLOBAL "module\nname\n"
          auto g = Make(PickleValue::Kind::kGlobal);
          ASSIGN_OR_RETURN(std::string module, Line());
          ASSIGN_OR_RETURN(std::string name, Line());
          g->text = module + "." + name;
          RETURN_IF_ERROR(Push(g));
          break;
        }
        case 0x52: case 0x81: {  // REDUCE, NEWOBJ: callable(args), recorded as data
          if (stack_.size() < 2) return Bad("REDUCE on a short stack");
          auto r = Make(PickleValue::Kind::kReduce);
          r->items = {stack_[stack_.size() - 2], stack_.back()};
          stack_.resize(stack_.size() - 2);
          RETURN_IF_ERROR(Push(r));
          break;
        }
        case 0x62: {  // BUILD: state applied to the object below; kept out of the way
          if (stack_.size() < 2) return Bad("BUILD on a short stack");
          stack_.pop_back();
          break;
        }
        default: {
          char hex[8];
          std::snprintf(hex, sizeof(hex), "0x%02x", op);
          return Bad(std::string("unsupported opcode ") + hex + " at byte " + std::to_string(pos_ - 1));
        }
      }
    }
    return Bad("no STOP before the end");
  }

 private:
  Status Skip(size_t n) {
    if (b_.size() - pos_ < n) return Bad("truncated");
    pos_ += n;
    return Status::OK();
  }
  Result<uint64_t> Uint(size_t n) {
    if (b_.size() - pos_ < n) return Bad("truncated");
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(b_[pos_ + i])) << (8 * i);
    pos_ += n;
    return v;
  }
  Result<std::string> Line() {
    const size_t nl = b_.find('\n', pos_);
    if (nl == std::string::npos || nl - pos_ > 1024) return Bad("GLOBAL without a line end");
    std::string s = b_.substr(pos_, nl - pos_);
    pos_ = nl + 1;
    return s;
  }
  Status Push(Value v) {
    if (stack_.size() >= kMaxStack) return Bad("stack deeper than " + std::to_string(kMaxStack));
    stack_.push_back(std::move(v));
    return Status::OK();
  }
  Status PushInt(int64_t x) {
    auto v = Make(PickleValue::Kind::kInt);
    v->integer = x;
    return Push(v);
  }
  Status PushString(uint64_t n) {
    if (n > kMaxString || b_.size() - pos_ < n) return Bad("string of " + std::to_string(n) + " bytes past the end");
    auto v = Make(PickleValue::Kind::kString);
    v->text = b_.substr(pos_, static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return Push(v);
  }
  Status TupleOf(size_t n) {
    if (stack_.size() < n) return Bad("TUPLE on a short stack");
    auto t = Make(PickleValue::Kind::kTuple);
    t->items.assign(stack_.end() - static_cast<ptrdiff_t>(n), stack_.end());
    stack_.resize(stack_.size() - n);
    return Push(t);
  }
  Result<size_t> PopMark() {
    if (marks_.empty()) return Bad("no MARK");
    const size_t m = marks_.back();
    marks_.pop_back();
    if (m > stack_.size()) return Bad("MARK above the stack");
    return m;
  }

  const std::string& b_;
  size_t pos_ = 0;
  std::vector<Value> stack_;
  std::vector<size_t> marks_;
  std::map<uint64_t, Value> memo_;
};

}  // namespace

Result<std::shared_ptr<PickleValue>> ReadPickle(const std::string& bytes) {
  if (bytes.size() < 2 || static_cast<uint8_t>(bytes[0]) != 0x80) return Bad("not a pickle (protocol 2 or later)");
  return Machine(bytes).Run();
}

Result<std::vector<int64_t>> PickleInts(const PickleValue& value) {
  if (value.kind != PickleValue::Kind::kTuple && value.kind != PickleValue::Kind::kList) return Bad("expected a tuple of ints");
  std::vector<int64_t> out;
  for (const auto& item : value.items) {
    if (item->kind != PickleValue::Kind::kInt) return Bad("expected a tuple of ints");
    out.push_back(item->integer);
  }
  return out;
}

}  // namespace sluice::parquet
