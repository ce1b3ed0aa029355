#pragma once
/// Python stages (map_batches) as engine actors.
///
/// A stage is a function (called on each batch) or a class (one instance per replica, made
/// on the replica's own thread: __init__ once per replica). Each replica holds the GIL only
/// while converting a batch and inside the user's call. On an exception:
///   on_error "raise": the stage fails with the exception's text; the exception itself is kept
///     (PythonErrors) so the pipeline re-raises it with its type and traceback;
///   on_error "record": every row of the batch is a bad row whose reason is the traceback's
///     last line (the job's errors.max_bad_rows decides whether it goes on).
/// An exception in __init__ always fails the stage (before it has taken any batch).
///
/// Threading: the factory and actors run on replica threads and take the GIL themselves; the
/// Python objects are released with the GIL held.

#include <pybind11/pybind11.h>

#include <memory>
#include <mutex>
#include <string>

#include "sluice/job.h"

namespace sluice::python {

/// The first Python exception a pipeline's stages raised (others are dropped).
class PythonErrors {
 public:
  void Keep(const pybind11::error_already_set& e);
  bool has() const;
  /// Sets the kept exception as Python's current error (GIL held); false when none.
  bool Restore();
  ~PythonErrors();

 private:
  mutable std::mutex mu_;
  PyObject* value_ = nullptr;  // a strong reference
};

struct PyStageOptions {
  std::string name;
  UserStage::Place place = UserStage::Place::kAfterModel;
  pybind11::object fn;        // a callable, or a class when is_class
  bool is_class = false;
  pybind11::tuple fn_args, ctor_args;
  pybind11::dict fn_kwargs, ctor_kwargs;
  bool torch_format = false;  // batch_format "torch" (else "numpy")
  bool record_errors = false; // on_error "record"
  int concurrency = 1;
  int64_t batch_size = 0;
};

/// The UserStage that runs `options` (GIL held when called).
UserStage MakePythonStage(PyStageOptions options, std::shared_ptr<PythonErrors> errors);

}  // namespace sluice::python
