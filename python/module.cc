// sluice._sluice: the C++ side of the Python module (python/sluice/__init__.py is the API).
// Jobs run with the GIL released; the calling thread wakes every 100 ms to let Python see
// signals, so Ctrl-C stops a run within a second with KeyboardInterrupt. Python stages
// (py_stage.h) run on the plan's replica threads and take the GIL for their calls only.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <future>
#include <stop_token>
#include <thread>

#include "batch_stream.h"
#include "job/job_input.h"
#include "numpy_batch.h"
#include "py_stage.h"
#include "sluice/job.h"
#include "sluice/report.h"

namespace py = pybind11;

namespace sluice::python {
namespace {

[[noreturn]] void Raise(const Status& st) {
  if (st.IsUserError()) throw py::value_error(st.ToString());
  throw std::runtime_error(st.ToString());
}

/// A YAML document as Python values (mappings, sequences, scalars as str): the job file as
/// data for Dataset.from_job.
py::object ToPython(const YAML::Node& n) {
  if (n.IsMap()) {
    py::dict d;
    for (const auto& kv : n) d[py::str(kv.first.as<std::string>())] = ToPython(kv.second);
    return d;
  }
  if (n.IsSequence()) {
    py::list l;
    for (const auto& v : n) l.append(ToPython(v));
    return l;
  }
  if (n.IsScalar()) return py::str(n.Scalar());
  return py::none();
}

py::object ReadYaml(const std::string& text) {
  try {
    return ToPython(YAML::Load(text));
  } catch (const YAML::Exception& e) {
    throw py::value_error(std::string("not YAML: ") + e.what());
  }
}

/// The Python stages the package describes (dicts, see sluice/__init__.py's _stage_args).
std::vector<UserStage> StagesOf(const py::list& stages, const std::shared_ptr<PythonErrors>& errors) {
  std::vector<UserStage> out;
  for (const auto& item : stages) {
    py::dict d = py::reinterpret_borrow<py::dict>(item);
    PyStageOptions o;
    o.name = d["name"].cast<std::string>();
    const auto place = d["place"].cast<std::string>();
    o.place = place == "read" ? UserStage::Place::kAfterRead : place == "preprocess" ? UserStage::Place::kAfterPreprocess : UserStage::Place::kAfterModel;
    o.fn = d["fn"];
    o.is_class = d["is_class"].cast<bool>();
    o.fn_args = d["fn_args"];
    o.fn_kwargs = d["fn_kwargs"];
    o.ctor_args = d["ctor_args"];
    o.ctor_kwargs = d["ctor_kwargs"];
    o.torch_format = d["batch_format"].cast<std::string>() == "torch";
    o.record_errors = d["on_error"].cast<std::string>() == "record";
    o.concurrency = d["concurrency"].cast<int>();
    o.batch_size = d["batch_size"].cast<int64_t>();
    out.push_back(MakePythonStage(std::move(o), errors));
  }
  return out;
}

/// Parses the job and adds the Python stages (and what describes them to the fingerprint).
JobSpec PipelineSpec(const std::string& yaml, const std::string& source_name, const std::string& stages_fingerprint) {
  auto spec = ParseJob(yaml, {}, source_name);
  if (!spec.ok()) Raise(spec.status());
  spec->stages_fingerprint = stages_fingerprint;
  return std::move(*spec);
}

void CheckJob(const std::string& yaml, const std::string& source_name) {
  auto spec = ParseJob(yaml, {}, source_name);
  if (!spec.ok()) Raise(spec.status());
}

/// Runs the job; returns (the result's JSON, the summary for people). `report`: also write the
/// HTML run report there (report.h), also when the run fails.
py::tuple RunJobText(const std::string& yaml, const std::string& source_name, bool overwrite, const std::string& report, const py::list& stages,
                     const std::string& stages_fingerprint) {
  auto spec = std::optional<JobSpec>(PipelineSpec(yaml, source_name, stages_fingerprint));
  auto errors = std::make_shared<PythonErrors>();
  if (!report.empty()) {
    if (Status st = CheckReportPath(report); !st.ok()) Raise(st);
  }
  std::stop_source stop;
  RunOptions ro;
  ro.overwrite = overwrite;
  ro.stop = stop.get_token();
  ro.stages = StagesOf(stages, errors);
  RunReportRecorder recorder;
  if (!report.empty()) recorder.Attach(&ro);
  auto job = std::async(std::launch::async, [&] { return RunJob(*spec, ro); });
  bool interrupted = false;
  auto result = [&] {
    py::gil_scoped_release release;
    while (job.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready) {
      py::gil_scoped_acquire acquire;
      if (PyErr_CheckSignals() != 0) {  // Ctrl-C (or another signal handler raising)
        interrupted = true;
        stop.request_stop();
        py::gil_scoped_release again;
        job.wait();  // the plan drains what it can; nothing half-written is published
      }
    }
    // get() joins the job's thread: without the GIL, which whatever ends with that thread may need.
    return job.get();
  }();
  if (!report.empty()) {
    RunReportInput in;
    in.title = source_name;
    in.job_file_text = yaml;
    in.command = "python: sluice pipeline";
    if (interrupted) in.status = Status::Cancelled("interrupted (KeyboardInterrupt)");
    if (Status st = recorder.Write(report, std::move(in), result); !st.ok() && !interrupted && result.ok()) Raise(st);
  }
  ro.stages.clear();  // the Python objects go with the GIL held
  if (interrupted) throw py::error_already_set();
  if (!result.ok() && errors->Restore()) throw py::error_already_set();  // the stage's own exception
  if (!result.ok()) Raise(result.status());
  return py::make_tuple(result->ToJson(), result->Summary());
}

/// Rows and shards of the job's input, from the Parquet footers (or the file listing) alone.
py::tuple CountInput(const std::string& yaml, const std::string& source_name) {
  auto spec = ParseJob(yaml, {}, source_name);
  if (!spec.ok()) Raise(spec.status());
  auto input = [&] {
    py::gil_scoped_release release;
    return job::PlanInput(*spec);
  }();
  if (!input.ok()) Raise(input.status());
  return py::make_tuple(input->total_rows, input->shards.size());
}

std::unique_ptr<BatchStream> StreamJobText(const std::string& yaml, const std::string& source_name, const py::list& stages,
                                           const std::string& stages_fingerprint, int64_t batch_size, const std::string& batch_format) {
  JobSpec spec = PipelineSpec(yaml, source_name, stages_fingerprint);
  auto errors = std::make_shared<PythonErrors>();
  RunOptions ro;
  ro.stages = StagesOf(stages, errors);
  return std::make_unique<BatchStream>(std::move(spec), std::move(ro), batch_size, batch_format == "torch", errors);
}

}  // namespace
}  // namespace sluice::python

PYBIND11_MODULE(_sluice, m) {
  m.doc() = "sluice's engine (use the `sluice` package, not this module)";
  m.def("read_yaml", &sluice::python::ReadYaml, py::arg("text"), "A YAML document as dicts, lists and strings.");
  m.def("check_job", &sluice::python::CheckJob, py::arg("yaml"), py::arg("source_name"),
        "Raises ValueError naming the key when the job text is not a valid job.");
  m.def("run_job", &sluice::python::RunJobText, py::arg("yaml"), py::arg("source_name"), py::arg("overwrite") = false,
        py::arg("report") = "", py::arg("stages") = py::list(), py::arg("stages_fingerprint") = "",
        "Runs a job (the GIL released) with Python stages; returns (result JSON, summary text); `report`: an HTML run report.");
  py::class_<sluice::python::BatchStream>(m, "BatchStream", "A running pipeline whose batches come to Python.")
      .def("next", &sluice::python::BatchStream::Next, "The next batch (a dict), or None at the end.")
      .def("close", &sluice::python::BatchStream::Close, "Stops the pipeline and waits for it.")
      .def("result", &sluice::python::BatchStream::Outcome, "The finished run's (result JSON, summary), or None.");
  m.def("stream_job", &sluice::python::StreamJobText, py::arg("yaml"), py::arg("source_name"), py::arg("stages"), py::arg("stages_fingerprint"),
        py::arg("batch_size"), py::arg("batch_format"), "Starts a pipeline whose batches come to Python (BatchStream).");
  m.def("job_reference", &sluice::JobFileReference, "Every job key with its default and meaning.");
  m.def("count_input", &sluice::python::CountInput, py::arg("yaml"), py::arg("source_name"),
        "(rows, shards) of the job's input, from the files' metadata.");
}
