// Python stages as engine actors (py_stage.h).
#include "py_stage.h"

#include "numpy_batch.h"

namespace py = pybind11;

namespace sluice::python {
namespace {

/// The Python objects of a stage, dropped with the GIL from whichever thread lets go last.
struct Held {
  PyStageOptions options;
  py::object batch_in, batch_out;  // the package's sluice._batch_in / _batch_out, looked up once
  ~Held() {
    py::gil_scoped_acquire gil;
    options.fn = py::object();
    options.fn_args = py::tuple();
    options.ctor_args = py::tuple();
    options.fn_kwargs = py::dict();
    options.ctor_kwargs = py::dict();
    batch_in = py::object();
    batch_out = py::object();
  }
};

/// "ValueError: bad value" (the traceback's last line).
std::string LastLine(const py::error_already_set& e) {
  std::string text = e.what();
  const auto end = text.find('\n');
  return end == std::string::npos ? text : text.substr(0, end);
}

/// The batch's row ids as text (the id column, else row numbers).
std::vector<std::string> RowIds(const Batch& batch) {
  std::vector<std::string> ids;
  const int at = batch.FindColumn("id");
  for (int64_t r = 0; r < batch.num_rows(); ++r) {
    if (at >= 0 && batch.column(at).type().id() == TypeId::kString) {
      ids.emplace_back(batch.column(at).ValueBytes(r));
    } else {
      ids.push_back("row " + std::to_string(r));
    }
  }
  return ids;
}

class PythonStageActor final : public Actor {
 public:
  PythonStageActor(std::shared_ptr<const Held> held, py::object callable, std::shared_ptr<PythonErrors> errors)
      : held_(std::move(held)), callable_(std::move(callable)), errors_(std::move(errors)) {}
  ~PythonStageActor() override {
    py::gil_scoped_acquire gil;
    callable_ = py::object();
  }

  Result<Batch> Process(Batch batch, TaskContext& ctx) override {
    const PyStageOptions& o = held_->options;
    std::string failure;
    {
      py::gil_scoped_acquire gil;
      try {
        py::dict in = BatchToPython(batch, o.torch_format);
        py::object out = callable_(held_->batch_in(in, o.torch_format), *o.fn_args, **o.fn_kwargs);
        out = held_->batch_out(out);
        return PythonToBatch(out, o.name);
      } catch (py::error_already_set& e) {
        if (!o.record_errors) {
          errors_->Keep(e);
          return Status::InvalidArgument("stage '" + o.name + "' raised " + LastLine(e));
        }
        failure = LastLine(e);
      } catch (const std::exception& e) {  // pybind11's own errors (a type numpy cannot show)
        return Status::InvalidArgument("stage '" + o.name + "': " + e.what());
      }
    }
    for (const std::string& id : RowIds(batch)) RETURN_IF_ERROR(ctx.ReportBadRow(id, failure));
    return batch.Slice(0, 0);
  }

 private:
  std::shared_ptr<const Held> held_;
  py::object callable_;
  std::shared_ptr<PythonErrors> errors_;
};

}  // namespace

void PythonErrors::Keep(const py::error_already_set& e) {
  std::lock_guard lock(mu_);
  if (value_) return;
  value_ = e.value().ptr();
  Py_XINCREF(value_);
  // pybind11 holds the traceback beside the value: put it on the exception, where raising it
  // again finds it.
  if (value_ && e.trace()) PyException_SetTraceback(value_, e.trace().ptr());
}

bool PythonErrors::has() const {
  std::lock_guard lock(mu_);
  return value_ != nullptr;
}

bool PythonErrors::Restore() {
  std::lock_guard lock(mu_);
  if (!value_) return false;
  // Type, value and the traceback the exception carries (the user's frames), each a new
  // reference for PyErr_Restore to own.
  PyObject* type = reinterpret_cast<PyObject*>(Py_TYPE(value_));
  Py_INCREF(type);
  Py_INCREF(value_);
  PyErr_Restore(type, value_, PyException_GetTraceback(value_));
  return true;
}

PythonErrors::~PythonErrors() {
  if (!value_) return;
  py::gil_scoped_acquire gil;
  Py_DECREF(value_);
}

UserStage MakePythonStage(PyStageOptions options, std::shared_ptr<PythonErrors> errors) {
  UserStage u;
  u.name = options.name;
  u.place = options.place;
  u.replicas = std::max(1, options.concurrency);
  u.batch_rows = options.batch_size;
  py::module_ package = py::module_::import("sluice");  // the GIL is held (py_stage.h)
  auto held = std::make_shared<const Held>(Held{std::move(options), package.attr("_batch_in"), package.attr("_batch_out")});
  u.actor = [held, errors](int replica) -> Result<std::unique_ptr<Actor>> {
    py::gil_scoped_acquire gil;
    const PyStageOptions& o = held->options;
    py::object callable = o.fn;
    if (o.is_class) {
      try {
        callable = o.fn(*o.ctor_args, **o.ctor_kwargs);
      } catch (py::error_already_set& e) {
        errors->Keep(e);
        return Status::InvalidArgument("stage '" + o.name + "': " + std::string(py::str(o.fn.attr("__name__"))) + "() (replica " +
                                       std::to_string(replica) + ") raised " + LastLine(e));
      }
    }
    return std::unique_ptr<Actor>(new PythonStageActor(held, std::move(callable), errors));
  };
  return u;
}

}  // namespace sluice::python
