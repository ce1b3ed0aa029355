#include "plan_run.h"

#include <algorithm>

#include "sluice/s3.h"

namespace sluice::exec {

PlanRun::PlanRun(const Plan& plan, const ExecutorOptions& options)
    : plan_(plan), options_(options), ordered_(options.preserve_order) {
  budget_ = options_.memory_budget > 0 ? options_.memory_budget : PhysicalMemoryBytes() / 4;
  allocator_ = options_.allocator ? options_.allocator : HostAllocator();
  if (options_.pool) {
    pool_ = options_.pool;
  } else {
    own_pool_ = std::make_unique<ThreadPool>(options_.cpu_threads);
    pool_ = own_pool_.get();
  }
  bad_row_handler_ = [this](BadRow row) { return HandleBadRow(std::move(row)); };
  const auto& specs = plan_.stages();
  bad_rows_by_stage_.assign(specs.size(), 0);
  for (size_t i = 0; i < specs.size(); ++i) {
    auto st = std::make_unique<StageRun>(specs[i], static_cast<int>(i), ordered_);
    const StageSpec& spec = specs[i];
    st->min_concurrency = spec.concurrency.min;
    st->max_concurrency = spec.concurrency.max > 0 ? spec.concurrency.max : std::max(pool_->size(), spec.concurrency.min);
    st->concurrency = st->min_concurrency;
    st->max_bytes = spec.input_limits.max_bytes;
    if (spec.kind == StageKind::kRebatch) st->rebatcher = std::make_unique<Rebatcher>(spec.rebatch_rows);
    st->stats.name = spec.name;
    st->stats.kind = std::string(StageKindName(spec.kind));
    st->stats.min_concurrency = st->stats.max_concurrency = st->concurrency;
    stages_.push_back(std::move(st));
  }
  // Default queue bound: enough for the consumer to keep every worker busy twice over, plus a
  // slot for each batch its producer may have running (running work reserves its output slot).
  for (size_t i = 0; i < stages_.size(); ++i) {
    StageRun& st = *stages_[i];
    const int64_t producer = i > 0 ? stages_[i - 1]->max_concurrency : 0;
    st.max_batches = st.spec.input_limits.max_batches > 0
                         ? st.spec.input_limits.max_batches
                         : std::max<int64_t>(4, 2 * st.max_concurrency) + producer;
    st.stats.queue_capacity = st.max_batches;
  }
}

PlanRun::~PlanRun() = default;

bool PlanRun::IsPoolStage(const StageRun& st) const {
  return st.spec.kind == StageKind::kMap || st.spec.kind == StageKind::kRebatch;
}

bool PlanRun::HasOutputRoom(const StageRun& st, int64_t slots) const {
  if (slots == 0 || st.index + 1 == static_cast<int>(stages_.size())) return true;
  const StageRun& next = *stages_[static_cast<size_t>(st.index + 1)];
  const int64_t used = next.input.batches() + st.reserved_out;
  // A batch that needs more slots than the queue has (a rebatch splitting a huge input) may
  // still go when the queue is empty, or the plan could never move.
  if (used + slots > next.max_batches && used > 0) return false;
  return next.max_bytes == 0 || next.input.bytes() < next.max_bytes;
}

bool PlanRun::DownstreamIdle(int s) const {
  for (size_t t = static_cast<size_t>(s) + 1; t < stages_.size(); ++t) {
    if (!stages_[t]->input.empty() || stages_[t]->running > 0) return false;
  }
  return true;
}

bool PlanRun::BudgetAllows(const StageRun& st) const {
  if (st.growth_estimate <= 0) return true;  // stages that do not grow data always help drain
  // Tasks already running will grow too: their expected growth is held against the budget.
  return in_flight_ + growth_reserved_ + ReadAheadBytesInFlight() + st.growth_estimate <= budget_ ||
         DownstreamIdle(st.index);
}

int64_t PlanRun::SlotsFor(const StageRun& st, const Item& item) const {
  switch (st.spec.kind) {
    case StageKind::kSink: return 0;
    case StageKind::kRebatch: return st.rebatcher->OutputsFor(item.batch.num_rows());
    default: return 1;
  }
}

bool PlanRun::CanStart(const StageRun& st) const {
  if (cancelled_ || st.running >= st.concurrency || !st.input.HasReady()) return false;
  const Item& head = st.input.PeekReady();
  if (head.marker) return false;  // ForwardMarkers moves these on
  return HasOutputRoom(st, SlotsFor(st, head)) && BudgetAllows(st);
}

bool PlanRun::CanFlush(const StageRun& st) const {
  return !cancelled_ && st.spec.kind == StageKind::kRebatch && st.upstream_done && st.input.empty() &&
         st.running == 0 && st.rebatcher->pending_rows() > 0 && HasOutputRoom(st, 1);
}

bool PlanRun::SourceMayRead(const StageRun& st, int64_t task_index, int64_t task_buffered) const {
  if (cancelled_) return true;  // wake up to leave
  if (ordered_ && stages_.size() > 1 && !st.active_tasks.empty() && task_index == *st.active_tasks.begin()) {
    // The oldest task's rows are what the held-back items downstream wait for: let it through.
    const StageInput& next = stages_[1]->input;
    if (!next.empty() && !next.HasReady()) return true;
  }
  if (!HasOutputRoom(st, 1)) return false;
  // Progress guarantee: when nothing else can move (no read running, every later stage empty
  // and idle), one read runs whatever the budget says (a row group larger than the budget, the
  // rows a partial batch waiting in a rebatch needs), a task that holds rows before a new one.
  if (st.reading == 0 && (in_flight_ == 0 || DownstreamIdle(0)) && (task_buffered > 0 || st.holding == 0)) return true;
  // Otherwise every read is within the budget, also one from a task holding rows: streaming
  // readers decode more pages to hand out the next slice.
  // Storage read-ahead (S3 prefetch windows) holds memory too.
  return in_flight_ + growth_reserved_ + ReadAheadBytesInFlight() + (st.reading + 1) * st.max_batch_bytes <= budget_;
}

Item PlanRun::TakeForStart(StageRun& st, int64_t* slots) {
  *slots = SlotsFor(st, st.input.PeekReady());
  Item item = st.input.PopReady();
  ++st.running;
  st.reserved_out += *slots;
  item.growth_reserved = std::max<int64_t>(st.growth_estimate, 0);
  growth_reserved_ += item.growth_reserved;
  return item;
}

void PlanRun::AddInFlight(int64_t delta) {
  in_flight_ += delta;
  peak_in_flight_ = std::max(peak_in_flight_, in_flight_);
}

void PlanRun::Emit(StageRun& from, Item item) {
  StageRun& next = *stages_[static_cast<size_t>(from.index + 1)];
  if (!item.marker) {
    ++from.stats.batches_out;
    from.stats.rows_out += item.batch.num_rows();
    from.stats.bytes_out += item.bytes;
  }
  next.input.Push(std::move(item));
  ++pushes_;
  next.stats.max_queue_batches = std::max(next.stats.max_queue_batches, next.input.batches());
}

void PlanRun::Complete(StageRun& st, const Item& item, int64_t slots, Result<std::vector<Batch>> out,
                       Clock::duration busy) {
  --st.running;
  st.reserved_out -= slots;
  growth_reserved_ -= item.growth_reserved;
  st.stats.busy_s += std::chrono::duration<double>(busy).count();
  ++completions_;
  if (!item.marker) {
    ++st.stats.batches_in;
    st.stats.rows_in += item.batch.num_rows();
    st.stats.bytes_in += item.bytes;
  }
  if (!out.ok()) {
    AddInFlight(-item.bytes);
    Fail(out.status().WithContext(st.label));
    return;
  }
  std::vector<Batch>& batches = *out;
  const bool last_stage = st.index + 1 == static_cast<int>(stages_.size());
  int64_t out_bytes = 0;
  for (const Batch& b : batches) out_bytes += b.ByteSize();
  int64_t delta = out_bytes - item.bytes;
  if (st.rebatcher) {
    delta += st.rebatcher->pending_bytes() - st.pending_bytes_counted;
    st.pending_bytes_counted = st.rebatcher->pending_bytes();
  } else if (!last_stage) {
    st.growth_estimate = std::max(st.growth_estimate, out_bytes - item.bytes);
  }
  AddInFlight(delta);
  if (last_stage) return;
  for (Batch& b : batches) {
    Item next_item;
    next_item.bytes = b.ByteSize();
    next_item.key = st.rebatcher ? OrderKey{0, st.next_out_minor++, false} : item.key;
    next_item.batch = std::move(b);
    if (next_item.batch.num_rows() == 0 && !st.rebatcher) {
      if (!ordered_) continue;  // nothing to pass on
      next_item.marker = true;  // keep the ordering slot moving
    }
    if (cancelled_) {
      AddInFlight(-next_item.bytes);
      continue;
    }
    Emit(st, std::move(next_item));
  }
}

void PlanRun::ForwardMarkers() {
  for (size_t s = 1; s < stages_.size(); ++s) {
    StageRun& st = *stages_[s];
    while (st.input.HasReady() && st.input.PeekReady().marker) {
      Item marker = st.input.PopReady();
      // Maps and actors pass markers on; a rebatch renumbers its output and a sink ends the
      // chain, so markers stop there.
      const bool forward = st.spec.kind == StageKind::kMap || st.spec.kind == StageKind::kActor;
      if (forward) stages_[s + 1]->input.Push(std::move(marker));
    }
  }
}

bool PlanRun::ShouldWake(const StageRun& st, bool tick) const {
  return tick || !coalesce_ || st.input.batches() * 2 >= st.max_batches || st.upstream_done;
}

bool PlanRun::PickPoolWork(bool eager, int* s, Item* item, int64_t* slots, bool* flush) {
  for (int t = static_cast<int>(stages_.size()) - 1; t >= 0; --t) {
    StageRun& st = *stages_[static_cast<size_t>(t)];
    if (!IsPoolStage(st)) continue;
    if (CanStart(st) && (eager || ShouldWake(st, false))) {
      *s = t;
      *item = TakeForStart(st, slots);
      *flush = false;
      return true;
    }
    if (CanFlush(st)) {
      *s = t;
      *item = Item{};
      item->marker = true;  // a flush consumes no input
      *slots = 1;
      *flush = true;
      ++st.running;
      st.reserved_out += 1;
      return true;
    }
  }
  return false;
}

void PlanRun::Pump(bool tick) {
  ForwardMarkers();
  int s;
  Item item;
  int64_t slots;
  bool flush;
  while (PickPoolWork(tick, &s, &item, &slots, &flush)) {
    ++pool_busy_;
    pool_->Submit([this, s, item = std::move(item), slots, flush]() mutable {
      PoolWorker(s, std::move(item), slots, flush);
    });
  }
  UpdateDrained();
  for (auto& stp : stages_) {
    StageRun& st = *stp;
    if (st.waiting == 0 || IsPoolStage(st)) continue;
    if (st.spec.kind == StageKind::kSource) {
      // Workers check their own admission; wake them at once when the first stage has nothing
      // it can take (empty, or only items held back for order that the oldest task must free).
      if (tick || !coalesce_ || stages_.size() < 2 || !stages_[1]->input.HasReady()) st.cv.notify_all();
    } else if (CanStart(st)) {
      if (ShouldWake(st, tick)) st.cv.notify_one();
    } else if (st.upstream_done && st.input.empty()) {
      st.cv.notify_all();
    }
  }
}

void PlanRun::UpdateDrained() {
  for (size_t s = 0; s < stages_.size(); ++s) {
    StageRun& st = *stages_[s];
    if (st.drained) continue;
    bool drained;
    if (st.spec.kind == StageKind::kSource) {
      drained = st.workers_alive == 0;
    } else {
      drained = st.upstream_done && st.input.empty() && st.running == 0 &&
                (!st.rebatcher || st.rebatcher->pending_rows() == 0);
    }
    if (!drained) return;  // later stages cannot be drained before this one
    st.drained = true;
    st.stats.done = true;
    if (s + 1 < stages_.size()) {
      stages_[s + 1]->upstream_done = true;
      stages_[s + 1]->cv.notify_all();
    } else {
      done_cv_.notify_all();
    }
  }
}

void PlanRun::Fail(Status status) {
  if (status_.ok()) status_ = std::move(status);
  if (cancelled_) return;
  cancelled_ = true;
  stop_source_.request_stop();
  for (auto& st : stages_) st->cv.notify_all();
  done_cv_.notify_all();
  monitor_cv_.notify_all();
}

Status PlanRun::HandleBadRow(BadRow row) {
  std::lock_guard lock(bad_mu_);
  ++bad_row_count_;
  for (size_t i = 0; i < stages_.size(); ++i) {
    if (stages_[i]->spec.name == row.stage) ++bad_rows_by_stage_[i];
  }
  if (options_.on_bad_row) return options_.on_bad_row(row);
  if (kept_bad_rows_.size() < PlanStats::kMaxKeptBadRows) kept_bad_rows_.push_back(std::move(row));
  return Status::OK();
}

Status PlanRun::Run(PlanStats* stats) {
  std::optional<std::stop_callback<std::function<void()>>> external_stop;
  {
    std::unique_lock lock(mu_);
    start_ = Clock::now();
    rss_at_start_ = peak_rss_ = CurrentRssBytes();
    if (options_.sample_gpus) gpus_ = GpuMonitor::Open();
    last_progress_ = start_;
    progress_seen_ = 0;
    for (size_t s = 0; s < stages_.size(); ++s) {
      StageRun& st = *stages_[s];
      if (st.spec.kind == StageKind::kSource) {
        st.workers_alive = st.concurrency;
        for (int w = 0; w < st.concurrency; ++w) {
          ++live_threads_;
          threads_.emplace_back([this, w] { SourceWorker(w); });
        }
      } else if (!IsPoolStage(st)) {
        for (int r = 0; r < st.concurrency; ++r) {
          ++live_threads_;
          threads_.emplace_back([this, s, r] { ReplicaThread(static_cast<int>(s), r); });
        }
      }
    }
    monitor_ = std::jthread([this] { MonitorLoop(); });
  }
  if (options_.stop.stop_possible()) {
    external_stop.emplace(options_.stop, std::function<void()>([this] {
      std::lock_guard lock(mu_);
      Fail(Status::Cancelled("the plan was cancelled by its caller"));
    }));
  }
  {
    std::unique_lock lock(mu_);
    auto all_left = [this] { return live_threads_ == 0 && pool_busy_ == 0; };
    done_cv_.wait(lock, [&] { return all_left() || stall_tripped_; });
    // After a watchdog trip a thread may be stuck in user code (a model that never returns):
    // report the stall rather than hang with it. Its state stays allocated (Execute leaks this
    // PlanRun) and the thread is detached below.
    abandoned_ = !all_left() && !done_cv_.wait_for(lock, kStallGrace, all_left);
    if (!abandoned_ && status_.ok() && !stages_.back()->drained) {
      status_ = Status::Internal("the plan stopped with work left (scheduler bug)");
    }
    finished_ = true;
    monitor_cv_.notify_all();
  }
  external_stop.reset();
  monitor_.join();
  for (auto& t : threads_) abandoned_ ? t.detach() : t.join();
  threads_.clear();
  std::unique_lock lock(mu_);
  for (auto& st : stages_) st->input.Clear();
  if (stats) {
    *stats = Snapshot();
    stats->status = status_.ok() ? "OK" : status_.ToString();
    lock.unlock();
    FillTotalRows(*stats);
  }
  return status_;
}

}  // namespace sluice::exec
