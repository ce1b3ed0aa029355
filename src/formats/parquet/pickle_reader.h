#pragma once
/// Reads the few Python pickles that tensor extension types store in Arrow schema metadata
/// (Ray Data >= 2.49 pickles a tensor's shape tuple or a variable-shaped tensor's ndim; Ray
/// before 2.9 stored the whole extension type object through pyarrow's PyExtensionType), and
/// nothing else. It interprets the pickle opcodes on a value stack without importing or
/// calling anything: a global is a name, a REDUCE is a record of "callable applied to args".
/// Unknown opcodes, truncation and absurd sizes are errors.
///
/// Threading: pure functions.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sluice/status.h"

namespace sluice::parquet {

struct PickleValue {
  enum class Kind { kNone, kBool, kInt, kString, kTuple, kList, kDict, kGlobal, kReduce };
  Kind kind = Kind::kNone;
  int64_t integer = 0;                          // kInt, kBool
  std::string text;                             // kString; kGlobal: "module.name"
  std::vector<std::shared_ptr<PickleValue>> items;  // kTuple, kList, kDict (key, value, ...); kReduce: {callable, args}
};

/// The value a pickle (protocols 2-5) builds, as data.
Result<std::shared_ptr<PickleValue>> ReadPickle(const std::string& bytes);

/// The integers of a tuple or list of ints ((4, 5, 3) -> {4, 5, 3}); an error otherwise.
Result<std::vector<int64_t>> PickleInts(const PickleValue& value);

}  // namespace sluice::parquet
