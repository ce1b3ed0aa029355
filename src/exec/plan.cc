#include "sluice/plan.h"

#include <unordered_set>

namespace sluice {

std::string_view StageKindName(StageKind kind) {
  switch (kind) {
    case StageKind::kSource: return "source";
    case StageKind::kMap: return "map";
    case StageKind::kActor: return "actor";
    case StageKind::kRebatch: return "rebatch";
    case StageKind::kSink: return "sink";
  }
  return "unknown";
}

Status TaskContext::ReportBadRow(std::string row_id, std::string reason) const {
  return ReportBadRow(BadRow{stage_, std::move(row_id), std::move(reason)});
}

Status TaskContext::ReportBadRow(BadRow row) const {
  if (on_bad_row_ == nullptr || !*on_bad_row_) return Status::OK();
  return (*on_bad_row_)(std::move(row));
}

Plan& Plan::Add(StageSpec spec) {
  if (!stages_.empty()) spec.upstream = {static_cast<int>(stages_.size()) - 1};
  stages_.push_back(std::move(spec));
  return *this;
}

namespace {

StageSpec BaseSpec(std::string name, StageKind kind, Concurrency concurrency) {
  StageSpec s;
  s.name = std::move(name);
  s.kind = kind;
  s.concurrency = concurrency;
  return s;
}

}  // namespace

Plan& Plan::AddSource(std::string name, std::shared_ptr<Source> source, int workers) {
  StageSpec s = BaseSpec(std::move(name), StageKind::kSource, Concurrency::Fixed(workers));
  s.source = std::move(source);
  return Add(std::move(s));
}

Plan& Plan::AddMap(std::string name, MapFn fn, Concurrency concurrency) {
  StageSpec s = BaseSpec(std::move(name), StageKind::kMap, concurrency);
  s.map = std::move(fn);
  return Add(std::move(s));
}

Plan& Plan::AddActor(std::string name, ActorFactory factory, int replicas) {
  StageSpec s = BaseSpec(std::move(name), StageKind::kActor, Concurrency::Fixed(replicas));
  s.actor = std::move(factory);
  return Add(std::move(s));
}

Plan& Plan::AddRebatch(std::string name, int64_t rows) {
  StageSpec s = BaseSpec(std::move(name), StageKind::kRebatch, Concurrency::Fixed(1));
  s.rebatch_rows = rows;
  return Add(std::move(s));
}

Plan& Plan::AddSink(std::string name, SinkFactory factory, int replicas) {
  StageSpec s = BaseSpec(std::move(name), StageKind::kSink, Concurrency::Fixed(replicas));
  s.sink = std::move(factory);
  return Add(std::move(s));
}

Plan& Plan::WithInputLimits(QueueLimits limits) {
  if (!stages_.empty()) stages_.back().input_limits = limits;
  return *this;
}

Status Plan::Validate() const {
  if (stages_.size() < 2) return Status::InvalidArgument("a plan needs at least a source and a sink");
  std::unordered_set<std::string> names;
  for (size_t i = 0; i < stages_.size(); ++i) {
    const StageSpec& s = stages_[i];
    const std::string where = "stage " + std::to_string(i) + " '" + s.name + "' (" +
                              std::string(StageKindName(s.kind)) + ")";
    if (s.name.empty()) return Status::InvalidArgument("stage " + std::to_string(i) + " has no name");
    if (!names.insert(s.name).second) return Status::InvalidArgument("two stages are named '" + s.name + "'");
    const bool first = i == 0, last = i + 1 == stages_.size();
    if (first != (s.kind == StageKind::kSource)) {
      return Status::InvalidArgument(where + ": a plan starts with exactly one source");
    }
    if (last != (s.kind == StageKind::kSink)) {
      return Status::InvalidArgument(where + ": a plan ends with exactly one sink");
    }
    if (!first && (s.upstream.size() != 1 || s.upstream[0] != static_cast<int>(i) - 1)) {
      return Status::Unimplemented(where + ": only chains are supported so far");
    }
    if (s.concurrency.min < 1 || (s.concurrency.max != 0 && s.concurrency.max < s.concurrency.min)) {
      return Status::InvalidArgument(where + ": concurrency must satisfy 1 <= min <= max (got " +
                                     std::to_string(s.concurrency.min) + ".." + std::to_string(s.concurrency.max) + ")");
    }
    if (s.input_limits.max_batches < 0 || s.input_limits.max_bytes < 0) {
      return Status::InvalidArgument(where + ": queue limits must not be negative");
    }
    switch (s.kind) {
      case StageKind::kSource:
        if (!s.source) return Status::InvalidArgument(where + ": no source object");
        break;
      case StageKind::kMap:
        if (!s.map) return Status::InvalidArgument(where + ": no map function");
        break;
      case StageKind::kActor:
        if (!s.actor) return Status::InvalidArgument(where + ": no actor factory");
        break;
      case StageKind::kSink:
        if (!s.sink) return Status::InvalidArgument(where + ": no sink factory");
        break;
      case StageKind::kRebatch:
        if (s.rebatch_rows < 1) return Status::InvalidArgument(where + ": batch size must be >= 1");
        break;
    }
  }
  return Status::OK();
}

}  // namespace sluice
