// The threads of a PlanRun: source workers, actor/sink replicas and pool tasks.
#include <exception>

#include "plan_run.h"

namespace sluice::exec {
namespace {

template <typename F>
auto CatchExceptions(const std::string& what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::exception& e) {
    return Status::Internal(what + " threw an exception: " + e.what());
  } catch (...) {
    return Status::Internal(what + " threw an unknown exception");
  }
}

}  // namespace

void PlanRun::SourceWorker(int worker) {
  StageRun& st = *stages_[0];
  TaskContext ctx(st.spec.name, worker, stop_source_.get_token(), &bad_row_handler_, allocator_);
  std::unique_ptr<ReadTask> task;
  int64_t task_index = -1;
  int64_t minor = 0;
  int64_t task_buffered = 0;  // the current task's buffered_bytes(), counted in flight
  std::optional<Item> held;  // preserve_order: the task's newest batch, sent once the next is known
  std::unique_lock lock(mu_);
  while (!cancelled_) {
    if (!task) {
      if (st.exhausted) break;
      lock.unlock();
      Result<std::unique_ptr<ReadTask>> next = nullptr;
      int64_t index = -1;
      {
        std::lock_guard source_lock(source_mu_);
        next = CatchExceptions("Source::NextTask", [&] { return st.spec.source->NextTask(); });
        if (next.ok() && *next) index = st.next_task++;
      }
      lock.lock();
      if (!next.ok()) {
        Fail(next.status().WithContext(st.label + " listing read tasks"));
        break;
      }
      if (!*next) {
        st.exhausted = true;
        break;
      }
      task = std::move(*next);
      task_index = index;
      minor = 0;
      st.active_tasks.insert(task_index);
    }
    ++st.waiting;
    st.cv.wait(lock, [&] { return SourceMayRead(st, task_index, task_buffered); });
    --st.waiting;
    if (cancelled_) break;
    ++st.reserved_out;  // room for the batch about to be read
    ++st.reading;
    lock.unlock();
    const auto t0 = Clock::now();
    auto read = CatchExceptions("ReadTask::Next", [&] { return task->Next(ctx); });
    const auto busy = Clock::now() - t0;
    const int64_t buffered = read.ok() ? task->buffered_bytes() : 0;
    lock.lock();
    --st.reading;
    // What the task holds beyond the batches it returned counts as in flight; one read may
    // grow memory by the batch plus that buffer (the next read is admitted by this size).
    const int64_t buffer_growth = buffered - task_buffered;
    AddInFlight(buffer_growth);
    st.holding += (buffered > 0 ? 1 : 0) - (task_buffered > 0 ? 1 : 0);
    task_buffered = buffered;
    st.stats.busy_s += std::chrono::duration<double>(busy).count();
    if (!read.ok()) {
      --st.reserved_out;
      Fail(read.status().WithContext(st.label + " reading " + task->Describe()));
      break;
    }
    if (read->has_value()) {
      Item item;
      item.bytes = (**read).ByteSize();
      item.batch = std::move(**read);
      item.key = OrderKey{task_index, minor++, false};
      AddInFlight(item.bytes);
      st.max_batch_bytes = std::max(st.max_batch_bytes, item.bytes + std::max<int64_t>(buffer_growth, 0));
      if (ordered_) {
        if (held) {
          --st.reserved_out;
          Emit(st, std::move(*held));
        }
        held = std::move(item);  // keeps the slot reserved for it
      } else {
        --st.reserved_out;
        Emit(st, std::move(item));
      }
    } else {
      --st.reserved_out;  // nothing was read into this slot
      if (ordered_) {
        Item last = held ? std::move(*held) : Item{Batch(), OrderKey{task_index, minor, true}, 0, true};
        if (held) --st.reserved_out;
        last.key.last = true;
        held.reset();
        Emit(st, std::move(last));
      }
      st.active_tasks.erase(task_index);
      AddInFlight(-task_buffered);
      if (task_buffered > 0) --st.holding;
      task_buffered = 0;
      lock.unlock();
      task.reset();  // a task may release files or connections: do it outside the lock
      lock.lock();
    }
    Pump();
  }
  AddInFlight(-task_buffered);  // a task dropped by cancellation
  if (task_buffered > 0) --st.holding;
  if (held) {
    AddInFlight(-held->bytes);
    --st.reserved_out;
    held.reset();
  }
  if (task) st.active_tasks.erase(task_index);
  --st.workers_alive;
  --live_threads_;
  Pump();
  done_cv_.notify_all();
  lock.unlock();
  task.reset();
}

void PlanRun::ReplicaThread(int s, int replica) {
  StageRun& st = *stages_[static_cast<size_t>(s)];
  TaskContext ctx(st.spec.name, replica, stop_source_.get_token(), &bad_row_handler_, allocator_);
  const std::string label = st.label + " replica " + std::to_string(replica);
  std::unique_ptr<Actor> actor;
  std::unique_ptr<Sink> sink;
  Status made = CatchExceptions(label + " factory", [&]() -> Status {
    if (st.spec.kind == StageKind::kActor) {
      ASSIGN_OR_RETURN(actor, st.spec.actor(replica));
    } else {
      ASSIGN_OR_RETURN(sink, st.spec.sink(replica));
    }
    return Status::OK();
  });
  std::unique_lock lock(mu_);
  if (!made.ok()) Fail(made.WithContext(label + " could not start"));
  while (!cancelled_) {
    ++st.waiting;
    st.cv.wait(lock, [&] { return cancelled_ || CanStart(st) || (st.upstream_done && st.input.empty()); });
    --st.waiting;
    if (cancelled_ || !CanStart(st)) break;
    int64_t slots;
    Item item = TakeForStart(st, &slots);
    lock.unlock();
    const auto t0 = Clock::now();
    auto out = CatchExceptions(label, [&]() -> Result<std::vector<Batch>> {
      if (actor) {
        ASSIGN_OR_RETURN(Batch b, actor->Process(item.batch, ctx));
        return std::vector<Batch>{std::move(b)};
      }
      RETURN_IF_ERROR(sink->Write(item.batch, ctx));
      return std::vector<Batch>{};
    });
    const auto busy = Clock::now() - t0;
    lock.lock();
    Complete(st, item, slots, std::move(out), busy);
    Pump();
  }
  const bool succeeded = !cancelled_ && made.ok();
  lock.unlock();
  if (succeeded) {
    Status finished = CatchExceptions(label + " Finish", [&] { return actor ? actor->Finish(ctx) : sink->Finish(ctx); });
    if (!finished.ok()) {
      std::lock_guard relock(mu_);
      Fail(finished.WithContext(label + " finishing"));
    }
  } else if (sink) {
    sink->Abort();
  }
  actor.reset();
  sink.reset();
  lock.lock();
  --live_threads_;
  done_cv_.notify_all();
}

Result<std::vector<Batch>> PlanRun::RunPoolStage(StageRun& st, Item& item, bool flush) {
  if (st.rebatcher) return flush ? st.rebatcher->Flush() : st.rebatcher->Add(std::move(item.batch));
  TaskContext ctx(st.spec.name, -1, stop_source_.get_token(), &bad_row_handler_, allocator_);
  return CatchExceptions(st.label, [&]() -> Result<std::vector<Batch>> {
    ASSIGN_OR_RETURN(Batch b, st.spec.map(std::move(item.batch), ctx));
    return std::vector<Batch>{std::move(b)};
  });
}

void PlanRun::PoolWorker(int s, Item item, int64_t slots, bool flush) {
  for (;;) {
    StageRun& st = *stages_[static_cast<size_t>(s)];
    const int64_t rows = item.batch.num_rows();
    const auto t0 = Clock::now();
    auto out = RunPoolStage(st, item, flush);
    const auto busy = Clock::now() - t0;
    std::unique_lock lock(mu_);
    item.batch = Batch::Empty(rows);  // the input moved into the stage; keep its row count for stats
    Complete(st, item, slots, std::move(out), busy);
    const bool more = PickPoolWork(/*eager=*/true, &s, &item, &slots, &flush);  // no wake-up needed
    Pump();
    if (!more) {
      if (--pool_busy_ == 0) done_cv_.notify_all();
      return;
    }
  }
}

}  // namespace sluice::exec
