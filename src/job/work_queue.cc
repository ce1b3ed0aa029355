#include "job/work_queue.h"

#include <algorithm>
#include <condition_variable>
#include <map>

namespace sluice::job {

WorkQueue::WorkQueue(std::vector<Shard> shards, const std::set<int>& published, OutputBoard* board, Options options)
    : board_(board), options_(options), published_(published) {
  for (auto& s : shards) {
    const int index = s.index;
    if (Owns(index)) {
      ++own_total_;
      if (published.count(index)) {
        ++own_resumed_;
      } else {
        own_.push_back(index);
      }
    }
    by_index_.emplace(index, std::move(s));
  }
}

Result<std::optional<Shard>> WorkQueue::Next() {
  std::lock_guard lock(mu_);
  while (own_next_ < own_.size()) {
    const int s = own_[own_next_++];
    if (board_) {
      ASSIGN_OR_RETURN(bool published, board_->IsPublished(s));
      if (published) {  // a helper published it
        published_.insert(s);
        continue;
      }
      ASSIGN_OR_RETURN(OutputBoard::View view, board_->Read(false));
      if (view.live_claims.count(s)) continue;  // a helper computes it; if it goes silent we take it back later
      RETURN_IF_ERROR(board_->Claim(s, options_.rank));
    }
    started_.insert(s);
    return std::optional<Shard>(by_index_.at(s));
  }
  if (!board_ || !options_.help_others) return std::optional<Shard>();
  // Help only when idle: while any shard of ours is in flight (the read stage asks ahead), a
  // shard taken now could well have been its owner's next one. The round then ends, and the
  // next round takes one when this worker has nothing left.
  for (int s : started_) {
    if (!done_.count(s)) return std::optional<Shard>();
  }
  ASSIGN_OR_RETURN(std::optional<int> s, NextOthers());
  if (!s) return std::optional<Shard>();
  started_.insert(*s);
  if (!Owns(*s)) taken_.push_back(*s);
  return std::optional<Shard>(by_index_.at(*s));
}

std::vector<int> WorkQueue::Candidates(const OutputBoard::View& view) const {
  // Per owner, its shards nobody computes now; the owner with the most left first (ties:
  // the next ranks after ours), and within one owner's list a position from the tail that
  // depends on our rank, so helpers finishing together spread out.
  std::map<int, std::vector<int>> left;
  for (const auto& [index, shard] : by_index_) {
    if (published_.count(index) || view.published.count(index) || started_.count(index) || contended_.count(index) ||
        view.live_claims.count(index)) {
      continue;
    }
    left[index % options_.count].push_back(index);
  }
  std::vector<std::pair<int, int>> owners;  // (owner, ordering key)
  for (const auto& [owner, list] : left) owners.emplace_back(owner, (owner - options_.rank + options_.count) % options_.count);
  std::sort(owners.begin(), owners.end(), [&](const auto& a, const auto& b) {
    const size_t na = left[a.first].size(), nb = left[b.first].size();
    return na != nb ? na > nb : a.second < b.second;
  });
  std::vector<int> out;
  for (const auto& [owner, key] : owners) {
    const auto& list = left[owner];
    const size_t n = list.size();
    // Stay in the back half: the front is what the owner starts next.
    const size_t first = n - 1 - static_cast<size_t>(options_.rank) % std::max<size_t>(1, n / 2);
    for (size_t k = 0; k < n; ++k) out.push_back(list[(first + n - k) % n]);  // from there towards the front, wrapping
  }
  return out;
}

Result<std::optional<int>> WorkQueue::NextOthers() {
  ASSIGN_OR_RETURN(OutputBoard::View view, board_->Read(true));
  published_.insert(view.published.begin(), view.published.end());
  const std::vector<int> candidates = Candidates(view);
  for (size_t i = 0; i < candidates.size() && i < 8; ++i) {
    const int s = candidates[i];
    RETURN_IF_ERROR(board_->Claim(s, options_.rank));
    // Someone may have claimed it at the same moment: the owner keeps it, else the lower rank.
    ASSIGN_OR_RETURN(OutputBoard::View again, board_->Read(false));
    bool yield = false;
    for (int other : again.live_claims[s]) {
      if (other == options_.rank) continue;
      const bool other_owns = s % options_.count == other;
      if (other_owns || other < options_.rank) yield = true;
    }
    if (!yield) return std::optional<int>(s);
    RETURN_IF_ERROR(board_->Release(s, options_.rank));
    contended_.insert(s);
  }
  return std::optional<int>();
}

void WorkQueue::Published(int shard) {
  {
    std::lock_guard lock(mu_);
    done_.insert(shard);
    published_.insert(shard);
  }
  // A claim left behind is harmless (a published part wins over any claim): ignore failures.
  if (board_) (void)board_->Release(shard, options_.rank);
}

void WorkQueue::ReleaseUnfinished() {
  if (!board_) return;
  for (int s : in_progress()) (void)board_->Release(s, options_.rank);
}

Result<bool> WorkQueue::AwaitWork(std::chrono::milliseconds poll, std::stop_token stop) {
  if (!board_ || !options_.help_others) return false;  // its own shards were all it would do
  std::mutex wait_mu;
  std::condition_variable_any wake;
  while (!stop.stop_requested()) {
    {
      std::lock_guard lock(mu_);
      contended_.clear();
      ASSIGN_OR_RETURN(OutputBoard::View view, board_->Read(true));
      published_.insert(view.published.begin(), view.published.end());
      if (std::all_of(by_index_.begin(), by_index_.end(), [&](const auto& e) { return published_.count(e.first) > 0; })) {
        return false;
      }
      started_.clear();  // what we started is published or was given up: look at it afresh
      if (!Candidates(view).empty()) return true;
    }
    std::unique_lock lock(wait_mu);
    wake.wait_for(lock, stop, poll, [] { return false; });
  }
  return false;
}

std::vector<int> WorkQueue::taken() const {
  std::lock_guard lock(mu_);
  return taken_;
}

std::vector<int> WorkQueue::in_progress() const {
  std::lock_guard lock(mu_);
  std::vector<int> out;
  for (int s : started_) {
    if (!done_.count(s)) out.push_back(s);
  }
  return out;
}

}  // namespace sluice::job
