#include "job/output_board.h"

#include <cstdio>

#include "job/output_dir.h"
#include "job/shard_output.h"

namespace sluice::job {
namespace {

/// The digits after `prefix` at `from` in `name` ("part-00042.w00003": 42, then 3), or -1.
int NumberAfter(const std::string& name, const std::string& prefix, size_t from = 0) {
  if (name.compare(from, prefix.size(), prefix) != 0) return -1;
  size_t i = from + prefix.size();
  int n = 0;
  const size_t start = i;
  for (; i < name.size() && name[i] >= '0' && name[i] <= '9' && n < 100000000; ++i) n = n * 10 + (name[i] - '0');
  return i == start ? -1 : n;
}

}  // namespace

std::optional<std::pair<int, int>> ParseClaimName(const std::string& name) {
  const int shard = NumberAfter(name, "part-");
  const size_t w = name.rfind(".w");
  const int rank = w == std::string::npos ? -1 : NumberAfter(name, ".w", w);
  if (shard < 0 || rank < 0) return std::nullopt;
  return std::make_pair(shard, rank);
}

std::string WorkerReportName(int rank) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "_workers/worker-%05d.json", rank);
  return buf;
}

OutputBoard::OutputBoard(std::shared_ptr<FileSystem> fsys, std::string dir, std::string format, std::chrono::milliseconds stale_after)
    : fsys_(std::move(fsys)), dir_(std::move(dir)), format_(std::move(format)), stale_after_(stale_after) {}

std::string OutputBoard::ClaimUri(int shard, int rank) const {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "_claims/part-%05d.w%05d", shard, rank);
  return JoinUri(dir_, buf);
}

Status OutputBoard::Claim(int shard, int rank) {
  ASSIGN_OR_RETURN(auto out, fsys_->OpenForWrite(ClaimUri(shard, rank)));
  return out->Commit();
}

Status OutputBoard::Release(int shard, int rank) { return fsys_->Delete(ClaimUri(shard, rank)); }

Status OutputBoard::ReleaseAll(int rank) {
  ASSIGN_OR_RETURN(auto names, ListNames(JoinUri(dir_, "_claims/"), *fsys_));
  for (const auto& n : names) {
    const auto claim = ParseClaimName(n);
    if (claim && claim->second == rank) RETURN_IF_ERROR(fsys_->Delete(JoinUri(JoinUri(dir_, "_claims"), n)));
  }
  return Status::OK();
}

Result<bool> OutputBoard::IsPublished(int shard) { return fsys_->Exists(JoinUri(dir_, PartName(shard, format_))); }

bool OutputBoard::Alive(int rank, const std::string& version, std::chrono::steady_clock::time_point now) {
  auto [it, first] = seen_.try_emplace(rank, Seen{version, now});
  if (!first && it->second.version != version) it->second = Seen{version, now};
  return now - it->second.changed < stale_after_;
}

Result<OutputBoard::View> OutputBoard::Read(bool with_published) {
  View view;
  if (with_published) {
    ASSIGN_OR_RETURN(auto parts, PublishedParts(dir_, format_, *fsys_));
    for (const auto& p : parts) {
      const int shard = NumberAfter(p, "part-");
      if (shard >= 0) view.published.insert(shard);
    }
  }
  ASSIGN_OR_RETURN(auto claims, ListNames(JoinUri(dir_, "_claims/"), *fsys_));
  if (claims.empty()) return view;
  ASSIGN_OR_RETURN(auto reports, fsys_->List(JoinUri(dir_, "_workers/")));
  std::map<int, std::string> versions;
  for (const auto& f : reports) {
    const size_t slash = f.uri.rfind('/');
    const int rank = NumberAfter(f.uri, "worker-", slash == std::string::npos ? 0 : slash + 1);
    if (rank >= 0) versions[rank] = f.version;
  }
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  for (const auto& n : claims) {
    const auto claim = ParseClaimName(n);
    if (claim && Alive(claim->second, versions[claim->second], now)) view.live_claims[claim->first].insert(claim->second);
  }
  return view;
}

}  // namespace sluice::job
