#pragma once
/// BatchStream: a pipeline whose batches come to a Python loop (Dataset.iter_batches).
///
/// The job runs on a thread of its own (StreamJob); its last stage hands batches to a queue of
/// `capacity` batches and waits while the queue is full, so the pipeline runs ahead of the
/// consumer by at most that much (plus its memory budget). Next() waits with the GIL released,
/// waking every 100 ms for signals (Ctrl-C stops the pipeline and raises KeyboardInterrupt).
/// Close() (also from the destructor, and at interpreter exit through the package's atexit
/// hook) stops the pipeline and joins its thread.
///
/// Threading: Next/Close/result from Python (GIL held on entry); the job thread only touches
/// the queue under its mutex.

#include <pybind11/pybind11.h>

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <thread>

#include "py_stage.h"
#include "sluice/job.h"

namespace sluice::python {

class BatchStream {
 public:
  BatchStream(JobSpec spec, RunOptions options, int64_t batch_rows, bool torch_format, std::shared_ptr<PythonErrors> errors, int capacity = 2);
  ~BatchStream();
  BatchStream(const BatchStream&) = delete;
  BatchStream& operator=(const BatchStream&) = delete;

  /// The next batch as BatchToPython gives it, or None at the end; raises the pipeline's error.
  pybind11::object Next();
  /// Stops the pipeline (if running) and waits for its thread; idempotent.
  void Close();
  /// The finished run's JobResult as JSON and as the summary for people (after Next returned
  /// None), or None.
  pybind11::object Outcome() const;

 private:
  Status Push(Batch batch);

  bool torch_format_;
  std::shared_ptr<PythonErrors> errors_;
  const size_t capacity_;
  std::stop_source stop_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Batch> queue_;
  bool done_ = false;
  bool closed_ = false;
  std::optional<Result<JobResult>> result_;
  std::thread thread_;
};

}  // namespace sluice::python
