// A pipeline feeding a Python loop (batch_stream.h).
#include "batch_stream.h"

#include <chrono>

#include "numpy_batch.h"

namespace py = pybind11;

namespace sluice::python {

BatchStream::BatchStream(JobSpec spec, RunOptions options, int64_t batch_rows, bool torch_format, std::shared_ptr<PythonErrors> errors,
                         int capacity)
    : torch_format_(torch_format), errors_(std::move(errors)), capacity_(static_cast<size_t>(std::max(1, capacity))) {
  options.stop = stop_.get_token();
  thread_ = std::thread([this, spec = std::move(spec), options = std::move(options), batch_rows]() mutable {
    auto r = StreamJob(spec, options, batch_rows, [this](Batch b) { return Push(std::move(b)); });
    {
      py::gil_scoped_acquire gil;  // the options hold Python stages: drop them with the GIL
      options.stages.clear();
    }
    std::lock_guard lock(mu_);
    result_ = std::move(r);
    done_ = true;
    cv_.notify_all();
  });
}

BatchStream::~BatchStream() { Close(); }

Status BatchStream::Push(Batch batch) {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return queue_.size() < capacity_ || closed_; });
  if (closed_) return Status::Cancelled("the consumer stopped reading");
  queue_.push_back(std::move(batch));
  cv_.notify_all();
  return Status::OK();
}

py::object BatchStream::Next() {
  std::optional<Batch> batch;
  while (true) {
    {
      py::gil_scoped_release release;
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(100), [&] { return !queue_.empty() || done_ || closed_; });
      if (!queue_.empty()) {
        batch = std::move(queue_.front());
        queue_.pop_front();
        cv_.notify_all();
      }
    }
    if (batch) return BatchToPython(*batch, torch_format_);
    if (PyErr_CheckSignals() != 0) {  // Ctrl-C: stop the pipeline, then let the exception go
      py::error_already_set interrupted;
      Close();
      throw interrupted;
    }
    std::lock_guard lock(mu_);
    if (closed_ && !done_) return py::none();
    if (!done_) continue;
    if (result_->ok()) return py::none();
    if (errors_->Restore()) throw py::error_already_set();
    const Status& st = result_->status();
    if (st.IsUserError()) throw py::value_error(st.ToString());
    throw std::runtime_error(st.ToString());
  }
}

void BatchStream::Close() {
  {
    std::lock_guard lock(mu_);
    if (closed_ && !thread_.joinable()) return;
    closed_ = true;
    cv_.notify_all();
  }
  stop_.request_stop();
  std::deque<Batch> dropped;
  {
    py::gil_scoped_release release;  // the job thread may need the GIL to finish
    if (thread_.joinable()) thread_.join();
    std::lock_guard lock(mu_);
    dropped.swap(queue_);
  }
}

py::object BatchStream::Outcome() const {
  std::lock_guard lock(mu_);
  if (!result_ || !result_->ok()) return py::none();
  return py::make_tuple((*result_)->ToJson(), (*result_)->Summary());
}

}  // namespace sluice::python
