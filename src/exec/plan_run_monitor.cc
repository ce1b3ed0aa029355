// The monitor thread of a PlanRun: samples queues and concurrency, autoscales map stages,
// publishes progress snapshots.
#include <algorithm>

#include "plan_run.h"
#include "sluice/byte_units.h"
#include "sluice/s3.h"

namespace sluice::exec {

void PlanRun::MonitorLoop() {
  std::unique_lock lock(mu_);
  auto last_sample = Clock::now();
  auto next_progress = last_sample + options_.progress_interval;
  while (!finished_) {
    // While coalescing, tick often enough that deferred wake-ups stay short.
    const auto wait = coalesce_ ? std::chrono::duration_cast<Clock::duration>(kDispatchTick)
                                : std::chrono::duration_cast<Clock::duration>(options_.sample_interval);
    monitor_cv_.wait_for(lock, wait, [this] { return finished_; });
    if (finished_) break;
    const auto now = Clock::now();
    if (coalesce_ && !cancelled_) Pump(/*tick=*/true);
    if (now - last_sample < options_.sample_interval) continue;
    const double dt = std::chrono::duration<double>(now - last_sample).count();
    last_sample = now;
    Sample(dt);
    UpdateCoalescing(dt);
    if (!cancelled_) {
      for (auto& st : stages_) Autoscale(*st);
      Pump(/*tick=*/true);
      CheckProgress(now);
    }
    if (options_.on_progress && now >= next_progress) {
      next_progress = now + options_.progress_interval;
      PlanStats snapshot = Snapshot();
      lock.unlock();
      FillTotalRows(snapshot);
      options_.on_progress(snapshot);
      lock.lock();
    }
  }
}

void PlanRun::CheckProgress(Clock::time_point now) {
  // Batches moving between stages or finishing one count as progress; the monitor notes when
  // the count last changed (no clock reads on the batches' path).
  if (pushes_ + completions_ != progress_seen_) {
    progress_seen_ = pushes_ + completions_;
    last_progress_ = now;
  }
  if (options_.stall_timeout.count() <= 0 || stall_tripped_ || now - last_progress_ < options_.stall_timeout) return;
  stall_tripped_ = true;
  const double idle_s = std::chrono::duration<double>(now - last_progress_).count();
  char head[160];
  std::snprintf(head, sizeof(head), "no stage moved a batch for %.0f s (the no-progress watchdog allows %.0f s); ", idle_s,
                std::chrono::duration<double>(options_.stall_timeout).count());
  Fail(Status::Stalled(head + DescribeState()));
}

std::string PlanRun::DescribeState() const {
  std::string s = "plan state: " + FormatBytes(in_flight_) + " in flight of a " + FormatBytes(budget_) + " budget";
  if (const int64_t ahead = ReadAheadBytesInFlight(); ahead > 0) s += " (+" + FormatBytes(ahead) + " storage read-ahead)";
  for (const auto& stp : stages_) {
    const StageRun& st = *stp;
    s += "; " + st.label + ": ";
    if (st.spec.kind == StageKind::kSource) {
      s += std::to_string(st.workers_alive) + " workers alive, " + std::to_string(st.reading) + " reading, " +
           std::to_string(st.waiting) + " waiting for admission, " + std::to_string(st.active_tasks.size()) + " tasks open (" +
           std::to_string(st.holding) + " holding rows), " + (st.exhausted ? "all tasks handed out" : "more tasks to come");
    } else {
      s += "queue " + std::to_string(st.input.batches()) + "/" + std::to_string(st.max_batches) + " batches (" +
           FormatBytes(st.input.bytes()) + "), " + std::to_string(st.running) + " of " + std::to_string(st.concurrency) + " running";
      if (!IsPoolStage(st)) s += ", " + std::to_string(st.waiting) + " idle";
      if (st.rebatcher) s += ", " + std::to_string(st.rebatcher->pending_rows()) + " rows pending";
      if (st.drained) s += ", done";
    }
  }
  return s;
}

void PlanRun::UpdateCoalescing(double dt) {
  const double rate = static_cast<double>(pushes_ - pushes_at_sample_) / dt;
  pushes_at_sample_ = pushes_;
  if (!coalesce_ && rate > kCoalesceAboveRate) coalesce_ = true;
  if (coalesce_ && rate < kCoalesceAboveRate / 3) coalesce_ = false;
}

void PlanRun::Sample(double dt) {
  const int64_t rss = CurrentRssBytes();
  peak_rss_ = std::max(peak_rss_, rss);
  const double t = std::chrono::duration<double>(Clock::now() - start_).count();
  const bool record = t >= next_timeline_s_;
  for (auto& stp : stages_) {
    StageRun& st = *stp;
    StageStats& ss = st.stats;
    st.sampled_time += dt;
    st.concurrency_time += st.concurrency * dt;
    st.queue_time += static_cast<double>(st.input.batches()) * dt;
    const int free_slots = std::max(0, st.concurrency - st.running);
    if (st.spec.kind == StageKind::kSource) {
      ss.backpressured = st.waiting > 0 && !st.exhausted;
      if (ss.backpressured) ss.blocked_s += dt;
    } else if (!st.drained) {
      const bool ready = st.input.HasReady() && !st.input.PeekReady().marker;
      ss.backpressured = ready && free_slots > 0 && !CanStart(st);
      if (ss.backpressured) ss.blocked_s += dt;
      if (!ready) ss.idle_s += free_slots * dt;
    } else {
      ss.backpressured = false;
    }
    if (record) {
      ss.timeline.push_back({t, st.concurrency, st.running, st.input.batches(), st.input.bytes(),
                             st.spec.kind == StageKind::kSink ? ss.rows_in : ss.rows_out, ss.busy_s,
                             ss.idle_s, ss.blocked_s});
    }
  }
  if (record) {
    timeline_.push_back({t, in_flight_, rss});
    if (gpus_) gpus_->Sample(t);
    next_timeline_s_ = t + timeline_interval_s_;
    if (timeline_.size() >= 3600) {  // long run: halve the resolution
      const auto halve = [](auto& tl) {
        size_t kept = 0;
        for (size_t i = 0; i < tl.size(); i += 2) tl[kept++] = tl[i];
        tl.resize(kept);
      };
      for (auto& st : stages_) halve(st->stats.timeline);
      halve(timeline_);
      timeline_interval_s_ *= 2;
    }
  }
}

void PlanRun::Autoscale(StageRun& st) {
  if (st.spec.kind != StageKind::kMap || st.min_concurrency == st.max_concurrency) return;
  const bool ready = st.input.HasReady() && !st.input.PeekReady().marker;
  // More workers help only if work is waiting, every slot is busy, its output has room, and the
  // pool has an idle thread to give.
  const bool short_of_workers = ready && st.running >= st.concurrency && HasOutputRoom(st, 1) &&
                                BudgetAllows(st) && pool_busy_ < pool_->size();
  st.pressure_ticks = short_of_workers ? st.pressure_ticks + 1 : 0;
  if (st.pressure_ticks >= 2 && st.concurrency < st.max_concurrency) {
    st.concurrency = std::min(st.max_concurrency, st.concurrency + std::max(1, st.concurrency / 2));
    st.pressure_ticks = 0;
  }
  // Give slots back after about a second of two or more of them standing idle.
  const bool over_provisioned = !ready && st.running + 1 < st.concurrency;
  st.idle_ticks = over_provisioned ? st.idle_ticks + 1 : 0;
  const auto one_second = std::max<int64_t>(1, 1000 / std::max<int64_t>(1, options_.sample_interval.count()));
  if (st.idle_ticks >= one_second && st.concurrency > st.min_concurrency) {
    --st.concurrency;
    st.idle_ticks = 0;
  }
  st.stats.min_concurrency = std::min(st.stats.min_concurrency, st.concurrency);
  st.stats.max_concurrency = std::max(st.stats.max_concurrency, st.concurrency);
}

void PlanRun::FillTotalRows(PlanStats& stats) const {
  if (const auto total = stages_.front()->spec.source->EstimatedRows()) {
    for (auto& s : stats.stages) s.total_rows = total;
  }
}

PlanStats PlanRun::Snapshot() const {
  PlanStats ps;
  ps.wall_s = std::chrono::duration<double>(Clock::now() - start_).count();
  ps.cpu_threads = pool_->size();
  ps.memory_budget = budget_;
  ps.in_flight_bytes = in_flight_;
  ps.peak_in_flight_bytes = peak_in_flight_;
  ps.rss_at_start_bytes = rss_at_start_;
  ps.peak_rss_bytes = peak_rss_;
  ps.timeline = timeline_;
  if (gpus_) ps.gpus = gpus_->stats();
  std::vector<int64_t> bad_by_stage;
  {
    std::lock_guard lock(bad_mu_);
    ps.bad_row_count = bad_row_count_;
    ps.bad_rows = kept_bad_rows_;
    bad_by_stage = bad_rows_by_stage_;
  }
  for (size_t i = 0; i < stages_.size(); ++i) {
    const StageRun& st = *stages_[i];
    StageStats ss = st.stats;
    ss.bad_rows = bad_by_stage[i];
    ss.concurrency = st.concurrency;
    ss.running = st.running;
    ss.queue_batches = st.input.batches();
    ss.queue_bytes = st.input.bytes();
    ss.avg_concurrency = st.sampled_time > 0 ? st.concurrency_time / st.sampled_time : st.concurrency;
    ss.avg_queue_batches = st.sampled_time > 0 ? st.queue_time / st.sampled_time : 0;
    ps.stages.push_back(std::move(ss));
  }
  return ps;
}

}  // namespace sluice::exec
