#include "job/feeder_inbox.h"

#include <charconv>

namespace sluice::job {

class FeederInbox::Task final : public ReadTask {
 public:
  explicit Task(FeederInbox* inbox) : inbox_(inbox) {}

  Result<std::optional<Batch>> Next(TaskContext& ctx) override {
    FeederInbox& in = *inbox_;
    std::unique_lock lock(in.mu_);
    while (true) {
      RETURN_IF_ERROR(in.failure_);
      if (ctx.stop_requested()) return Status::Cancelled("stopped while waiting for the feeders' batches");
      if (!in.items_.empty()) {
        Item item = std::move(in.items_.front());
        in.items_.pop_front();
        const int64_t rows = item.batch ? item.batch->num_rows() : static_cast<int64_t>(item.bad.size());
        in.rows_outstanding_ -= rows;
        if (item.batch) {
          in.bytes_held_ -= item.batch->ByteSize();
          lock.unlock();
          in.port_->Grant(item.feeder, 1);
          return std::optional<Batch>(std::move(*item.batch));
        }
        lock.unlock();
        for (BadRow& row : item.bad) {
          in.ledger_->AddBad(item.shard, row);
          RETURN_IF_ERROR(ctx.ReportBadRow(std::move(row)));
        }
        lock.lock();
        continue;
      }
      if (in.no_more_shards_ && in.rows_outstanding_ <= 0) return std::optional<Batch>();
      in.cv_.wait_for(lock, std::chrono::milliseconds(50));
    }
  }
  std::string Describe() const override { return "the feeders' batches"; }

 private:
  FeederInbox* inbox_;
};

FeederInbox::FeederInbox(FeederPort* port, ShardFeed take_shard, std::shared_ptr<ShardLedger> ledger, int credits_per_feeder,
                         std::chrono::steady_clock::time_point since)
    : port_(port), take_shard_(std::move(take_shard)), ledger_(std::move(ledger)), credits_per_feeder_(credits_per_feeder), start_(since) {
  for (int f = 0; f < port_->feeders(); ++f) figures_.push_back(FeederFigures{port_->Describe(f)});
}

FeederInbox::~FeederInbox() { Stop(); }

void FeederInbox::Start() {
  FeederPort::Handlers h;
  h.assign = [this](int feeder) { return Assign(feeder); };
  h.batch = [this](int feeder, Batch batch, std::string meta) {
    Item item;
    item.feeder = feeder;
    auto shard = BatchShard(batch);
    if (!shard.ok()) {
      std::lock_guard lock(mu_);
      if (failure_.ok()) failure_ = shard.status().WithContext("a batch from " + port_->Describe(feeder));
      cv_.notify_all();
      return;
    }
    item.shard = *shard;
    item.batch = std::move(batch);
    Deliver(feeder, std::move(item), meta);
  };
  h.bad_rows = [this](int feeder, int shard, std::vector<BadRow> rows) {
    Item item;
    item.feeder = feeder;
    item.shard = shard;
    item.bad = std::move(rows);
    Deliver(feeder, std::move(item), "");
  };
  h.failed = [this](int, Status error) {
    std::lock_guard lock(mu_);
    if (failure_.ok()) failure_ = std::move(error);
    cv_.notify_all();
  };
  port_->Attach(std::move(h));
  attached_ = true;
  for (int f = 0; f < port_->feeders(); ++f) port_->Grant(f, credits_per_feeder_);
}

void FeederInbox::Stop() {
  if (!attached_) return;
  port_->Detach();
  attached_ = false;
}

void FeederInbox::NoMoreShards() {
  std::lock_guard lock(mu_);
  no_more_shards_ = true;
  cv_.notify_all();
}

std::unique_ptr<ReadTask> FeederInbox::MakeTask() { return std::make_unique<Task>(this); }

std::optional<int> FeederInbox::Assign(int feeder) {
  {
    std::lock_guard lock(mu_);
    if (no_more_shards_ || !failure_.ok()) return std::nullopt;
  }
  auto shard = take_shard_();  // outside mu_: the feed takes its own lock and may touch storage
  std::lock_guard lock(mu_);
  if (!shard.ok()) {
    if (failure_.ok()) failure_ = shard.status();
    cv_.notify_all();
    return std::nullopt;
  }
  if (!*shard) {
    no_more_shards_ = true;
    cv_.notify_all();
    return std::nullopt;
  }
  rows_outstanding_ += (*shard)->rows;
  ++figures_[static_cast<size_t>(feeder)].shards;
  return (*shard)->index;
}

void FeederInbox::Deliver(int feeder, Item item, const std::string& meta) {
  std::lock_guard lock(mu_);
  FeederFigures& f = figures_[static_cast<size_t>(feeder)];
  if (item.batch) {
    f.rows += item.batch->num_rows();
    f.bytes += item.batch->ByteSize();
    ++f.batches;
    bytes_held_ += item.batch->ByteSize();
    peak_bytes_ = std::max(peak_bytes_, bytes_held_);
  } else {
    f.bad_rows += static_cast<int64_t>(item.bad.size());
  }
  f.active_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  // meta: "credit_wait_s=<seconds>"
  if (const auto eq = meta.find('='); eq != std::string::npos) {
    double v = 0;
    if (std::from_chars(meta.data() + eq + 1, meta.data() + meta.size(), v).ec == std::errc()) f.credit_wait_s = v;
  }
  items_.push_back(std::move(item));
  cv_.notify_all();
}

std::vector<FeederFigures> FeederInbox::figures() const {
  std::lock_guard lock(mu_);
  return figures_;
}

int64_t FeederInbox::peak_bytes() const {
  std::lock_guard lock(mu_);
  return peak_bytes_;
}


std::vector<FeederFigures> CombineFeeders(const std::vector<FeederFigures>& earlier, const std::vector<FeederFigures>& now) {
  if (earlier.empty()) return now;
  std::vector<FeederFigures> out = earlier;
  for (size_t i = 0; i < now.size() && i < out.size(); ++i) {
    FeederFigures& f = out[i];
    const FeederFigures& n = now[i];
    f.shards += n.shards;
    f.rows += n.rows;
    f.bad_rows += n.bad_rows;
    f.batches += n.batches;
    f.bytes += n.bytes;
    if (n.batches + n.bad_rows > 0) f.active_s = n.active_s;  // both count from the worker's start
    f.credit_wait_s = std::max(f.credit_wait_s, n.credit_wait_s);
  }
  return out;
}

std::shared_ptr<Source> WithFeederTask(std::shared_ptr<Source> local, std::shared_ptr<FeederInbox> inbox) {
  class Both final : public Source {
   public:
    Both(std::shared_ptr<Source> local, std::shared_ptr<FeederInbox> inbox) : local_(std::move(local)), inbox_(std::move(inbox)) {}
    Result<std::unique_ptr<ReadTask>> NextTask() override {
      if (!inbox_handed_) {
        inbox_handed_ = true;
        return inbox_->MakeTask();
      }
      return local_->NextTask();
    }
    std::optional<int64_t> EstimatedRows() const override { return local_->EstimatedRows(); }

   private:
    std::shared_ptr<Source> local_;
    std::shared_ptr<FeederInbox> inbox_;
    bool inbox_handed_ = false;  // NextTask is called by one read worker at a time
  };
  return std::make_shared<Both>(std::move(local), std::move(inbox));
}

}  // namespace sluice::job
