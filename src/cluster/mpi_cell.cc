#include "cluster/mpi_cell.h"

#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "cluster/batch_wire.h"
#include "sluice/memory.h"

namespace sluice::cluster {
namespace {

enum Tag : int { kRequest = 1, kAssign, kCredit, kBatch, kBad, kFailed, kBye };
constexpr int kHostChars = 64;
using Clock = std::chrono::steady_clock;

struct Outgoing {
  int dest = 0;  // world rank
  int tag = 0;
  std::string bytes;                  // small messages
  std::optional<EncodedBatch> batch;  // kBatch
};

class MpiCellImpl final : public MpiCell, public FeederPort, public InferPort {
 public:
  MpiCellImpl(CellRole role, std::string fingerprint) : role_(role), fingerprint_(std::move(fingerprint)) {}
  ~MpiCellImpl() override {
    if (thread_.joinable()) {
      {
        std::lock_guard lock(mu_);
        stopping_ = true;
      }
      wake_.notify_all();
      thread_.join();
    }
  }

  Status Init() {
    thread_ = std::thread([this] { Run(); });
    std::unique_lock lock(mu_);
    state_cv_.wait(lock, [&] { return started_; });
    return init_status_;
  }

  // MpiCell.
  const WorkerIdentity& identity() const override { return identity_; }
  FeederPort* feeders() override { return this; }
  InferPort* infer() override { return this; }
  Status Finish() override {
    std::unique_lock lock(mu_);
    if (role_ == CellRole::kInfer) {
      closed_ = true;
    } else {
      for (int r : infer_ranks_) outbox_.push_back({r, kBye, {}, std::nullopt});
    }
    finishing_ = true;
    wake_.notify_all();
    lock.unlock();
    thread_.join();
    return transport_error_;
  }
  [[noreturn]] void Abort(int code) override {
    {
      std::lock_guard lock(mu_);
      abort_code_ = code;
    }
    wake_.notify_all();
    thread_.join();  // the MPI thread calls MPI_Abort, which does not return
    std::_Exit(code);
  }

  // FeederPort.
  int feeders() const override { return static_cast<int>(feeder_ranks_.size()); }
  std::string Describe(int index) const override {
    const bool infer_side = role_ == CellRole::kInfer;  // an infer worker describes feeders
    const int rank = infer_side ? feeder_ranks_[static_cast<size_t>(index)] : infer_ranks_[static_cast<size_t>(index)];
    return std::string(infer_side ? "feeder " : "infer worker ") + std::to_string(index) + " (MPI rank " + std::to_string(rank) + " on " +
           hosts_[static_cast<size_t>(rank)] + ")";
  }
  void Attach(Handlers handlers) override {
    std::lock_guard hl(handler_mu_);
    std::lock_guard lock(mu_);
    handlers_ = std::move(handlers);
    attached_ = true;
    wake_.notify_all();
    for (auto& [feeder, error] : early_failures_) handlers_.failed(feeder, error);  // before this worker attached
    early_failures_.clear();
  }
  void Detach() override {
    std::lock_guard hl(handler_mu_);  // waits for a handler running now
    std::lock_guard lock(mu_);
    attached_ = false;
    handlers_ = {};
  }
  void Close() override {
    std::lock_guard lock(mu_);
    closed_ = true;
    wake_.notify_all();
  }
  void Grant(int feeder, int credits) override {
    std::string bytes(sizeof(int), '\0');
    std::memcpy(bytes.data(), &credits, sizeof(int));
    Post({feeder_ranks_[static_cast<size_t>(feeder)], kCredit, std::move(bytes), std::nullopt});
  }

  // InferPort.
  int infer_workers() const override { return static_cast<int>(infer_ranks_.size()); }
  Result<std::optional<std::pair<int, int>>> RequestShard(std::stop_token stop) override {
    std::lock_guard one(request_mu_);  // one question at a time
    std::unique_lock lock(mu_);
    while (true) {
      // The infer worker that granted the most unused credits and may still have work.
      int best = -1;
      for (int i = 0; i < infer_workers(); ++i) {
        if (said_none_.count(i)) continue;
        if (best < 0 || credits_[static_cast<size_t>(i)] > credits_[static_cast<size_t>(best)]) best = i;
      }
      if (best < 0) return std::optional<std::pair<int, int>>();
      answer_.reset();
      outbox_.push_back({infer_ranks_[static_cast<size_t>(best)], kRequest, {}, std::nullopt});
      wake_.notify_all();
      while (!answer_ && transport_error_.ok()) {
        if (stop.stop_requested()) return Status::Cancelled("stopped while asking infer workers for work");
        state_cv_.wait_for(lock, std::chrono::milliseconds(50));
      }
      RETURN_IF_ERROR(transport_error_);
      if (answer_->second >= 0) return std::optional<std::pair<int, int>>(*answer_);
      said_none_.insert(answer_->first);
    }
  }
  Status Send(int infer, const Batch& batch, const std::string& meta, std::stop_token stop) override {
    ASSIGN_OR_RETURN(EncodedBatch encoded, EncodeBatch(batch, meta));
    if (encoded.total_bytes > (int64_t{1} << 30)) return Status::InvalidArgument("a batch of over 1 GiB cannot be sent to an infer worker");
    std::unique_lock lock(mu_);
    int& credits = credits_[static_cast<size_t>(infer)];
    if (credits <= 0) {
      const auto t0 = Clock::now();
      while (credits <= 0 && transport_error_.ok() && !stop.stop_requested()) state_cv_.wait_for(lock, std::chrono::milliseconds(50));
      credit_wait_s_ += std::chrono::duration<double>(Clock::now() - t0).count();
      if (stop.stop_requested()) return Status::Cancelled("stopped while waiting for credits from " + Describe(infer));
      RETURN_IF_ERROR(transport_error_);
    }
    --credits;
    outbox_.push_back({infer_ranks_[static_cast<size_t>(infer)], kBatch, {}, std::move(encoded)});
    wake_.notify_all();
    return Status::OK();
  }
  Status SendBadRows(int infer, int shard, const std::vector<BadRow>& rows) override {
    Post({infer_ranks_[static_cast<size_t>(infer)], kBad, EncodeBadRows(shard, rows), std::nullopt});
    return Status::OK();
  }
  void Fail(const Status& error) override {
    for (int r : infer_ranks_) Post({r, kFailed, error.ToString(), std::nullopt});
  }
  double credit_wait_s() const override {
    std::lock_guard lock(mu_);
    return credit_wait_s_;
  }

 private:
  void Post(Outgoing out) {
    std::lock_guard lock(mu_);
    outbox_.push_back(std::move(out));
    wake_.notify_all();
  }

  // The MPI thread.
  void Run() {
    int provided = 0;
    Status st;
    if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) st = Status::IOError("MPI_Init_thread failed");
    if (st.ok()) st = LearnRoles();
    {
      std::lock_guard lock(mu_);
      init_status_ = st;
      started_ = true;
    }
    state_cv_.notify_all();
    if (!st.ok()) {
      MPI_Finalize();
      return;
    }
    Serve();
  }

  Status LearnRoles() {
    int rank = 0, size = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int mine = role_ == CellRole::kInfer ? 1 : 2;
    std::vector<int> roles(static_cast<size_t>(size));
    MPI_Allgather(&mine, 1, MPI_INT, roles.data(), 1, MPI_INT, MPI_COMM_WORLD);
    char host[kHostChars] = {};
    gethostname(host, sizeof(host) - 1);
    std::vector<char> hosts(static_cast<size_t>(size) * kHostChars);
    MPI_Allgather(host, kHostChars, MPI_CHAR, hosts.data(), kHostChars, MPI_CHAR, MPI_COMM_WORLD);
    for (int r = 0; r < size; ++r) {
      hosts_.emplace_back(&hosts[static_cast<size_t>(r) * kHostChars]);
      (roles[static_cast<size_t>(r)] == 1 ? infer_ranks_ : feeder_ranks_).push_back(r);
    }
    // One job file for the whole launch: a feeder cropping differently would change the output.
    uint64_t digest = 1469598103934665603ull;  // FNV-1a of the fingerprint
    for (unsigned char c : fingerprint_) digest = (digest ^ c) * 1099511628211ull;
    std::vector<uint64_t> digests(static_cast<size_t>(size));
    MPI_Allgather(&digest, 1, MPI_UINT64_T, digests.data(), 1, MPI_UINT64_T, MPI_COMM_WORLD);
    std::string differ;
    for (int r = 1; r < size; ++r) {
      if (digests[static_cast<size_t>(r)] != digests[0]) differ += (differ.empty() ? "" : ", ") + std::to_string(r);
    }
    if (!differ.empty()) {
      return Status::InvalidArgument("the processes of this MPI launch run different jobs: rank(s) " + differ +
                                     " have a job file (after --set) whose output-deciding keys differ from rank 0's; give every role the same job file");
    }
    if (infer_ranks_.empty()) return Status::InvalidArgument("no process of this MPI launch was started with --role infer: the feeders have nobody to feed");
    credits_.assign(infer_ranks_.size(), 0);
    const auto& mine_list = role_ == CellRole::kInfer ? infer_ranks_ : feeder_ranks_;
    identity_.rank = static_cast<int>(std::find(mine_list.begin(), mine_list.end(), rank) - mine_list.begin());
    identity_.count = static_cast<int>(mine_list.size());
    identity_.source = role_ == CellRole::kInfer ? "MPI rank " + std::to_string(rank) + ", --role infer"
                                                 : "MPI rank " + std::to_string(rank) + ", --role preprocess";
    for (size_t i = 0; i < feeder_ranks_.size(); ++i) feeder_index_[feeder_ranks_[i]] = static_cast<int>(i);
    for (size_t i = 0; i < infer_ranks_.size(); ++i) infer_index_[infer_ranks_[i]] = static_cast<int>(i);
    return Status::OK();
  }

  void Serve() {
    auto idle = std::chrono::microseconds(20);
    while (true) {
      bool busy = false;
      std::deque<Outgoing> out;
      {
        std::lock_guard lock(mu_);
        if (abort_code_) break;
        if (Done()) break;  // before taking the outbox: a last message (BYE) must go out first
        out.swap(outbox_);
      }
      for (auto& o : out) StartSend(std::move(o));
      busy |= !out.empty();
      busy |= TestSends();
      busy |= ReceiveOne();
      busy |= AnswerWaitingRequests();
      if (busy) {
        idle = std::chrono::microseconds(20);
        continue;
      }
      std::unique_lock lock(mu_);
      wake_.wait_for(lock, idle, [&] { return !outbox_.empty() || abort_code_ || stopping_; });
      idle = std::min<std::chrono::microseconds>(idle * 2, std::chrono::milliseconds(1));
    }
    if (abort_code_) {
      // What was posted (a FAILED naming this process's error) gets up to 2 s to leave.
      std::deque<Outgoing> out;
      {
        std::lock_guard lock(mu_);
        out.swap(outbox_);
      }
      for (auto& o : out) StartSend(std::move(o));
      const auto until = Clock::now() + std::chrono::seconds(2);
      while (!sends_.empty() && Clock::now() < until) {
        TestSends();
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      MPI_Abort(MPI_COMM_WORLD, abort_code_);
    }
    // Sends still in flight complete before MPI ends.
    while (!sends_.empty()) TestSends();
    MPI_Finalize();
  }

  // mu_ held.
  bool Done() const {
    if (stopping_) return true;
    if (!finishing_ || !outbox_.empty() || !sends_.empty()) return false;
    return role_ == CellRole::kPreprocess || byes_ == static_cast<int>(feeder_ranks_.size());
  }

  void StartSend(Outgoing o) {
    Pending p;
    p.out = std::make_unique<Outgoing>(std::move(o));
    Outgoing& m = *p.out;
    if (m.batch) {
      std::vector<int> lengths;
      std::vector<MPI_Aint> places;
      for (const auto& piece : m.batch->pieces) {
        MPI_Aint at;
        MPI_Get_address(piece.data, &at);
        places.push_back(at);
        lengths.push_back(static_cast<int>(piece.size));
      }
      MPI_Datatype type;
      MPI_Type_create_hindexed(static_cast<int>(lengths.size()), lengths.data(), places.data(), MPI_BYTE, &type);
      MPI_Type_commit(&type);
      MPI_Isend(MPI_BOTTOM, 1, type, m.dest, m.tag, MPI_COMM_WORLD, &p.request);
      MPI_Type_free(&type);  // freed once the send no longer needs it
    } else {
      MPI_Isend(m.bytes.data(), static_cast<int>(m.bytes.size()), MPI_BYTE, m.dest, m.tag, MPI_COMM_WORLD, &p.request);
    }
    sends_.push_back(std::move(p));
  }

  bool TestSends() {
    bool any = false;
    for (auto it = sends_.begin(); it != sends_.end();) {
      int done = 0;
      MPI_Test(&it->request, &done, MPI_STATUS_IGNORE);
      if (done) {
        it = sends_.erase(it);
        any = true;
      } else {
        ++it;
      }
    }
    return any;
  }

  bool ReceiveOne() {
    int flag = 0;
    MPI_Message message;
    MPI_Status status;
    MPI_Improbe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &message, &status);
    if (!flag) return false;
    int bytes = 0;
    MPI_Get_count(&status, MPI_BYTE, &bytes);
    const int from = status.MPI_SOURCE;
    if (status.MPI_TAG == kBatch) {
      auto buffer = HostAllocator()->Allocate(bytes);
      if (!buffer.ok()) {
        Fatal(buffer.status().WithContext("receiving a batch from MPI rank " + std::to_string(from)));
        std::vector<uint8_t> sink(static_cast<size_t>(bytes));
        MPI_Mrecv(sink.data(), bytes, MPI_BYTE, &message, MPI_STATUS_IGNORE);
        return true;
      }
      MPI_Mrecv((*buffer)->data(), bytes, MPI_BYTE, &message, MPI_STATUS_IGNORE);
      OnBatch(from, std::move(*buffer));
      return true;
    }
    std::string payload(static_cast<size_t>(bytes), '\0');
    MPI_Mrecv(payload.data(), bytes, MPI_BYTE, &message, MPI_STATUS_IGNORE);
    OnSmall(from, status.MPI_TAG, payload);
    return true;
  }

  void OnBatch(int from, std::shared_ptr<Buffer> buffer) {
    const int feeder = feeder_index_.at(from);
    std::string meta;
    auto batch = DecodeBatch(std::move(buffer), &meta, "a batch from " + Describe(feeder));
    std::lock_guard hl(handler_mu_);
    if (!batch.ok()) {
      if (handlers_.failed) handlers_.failed(feeder, batch.status());
      return;
    }
    if (handlers_.batch) handlers_.batch(feeder, std::move(*batch), std::move(meta));
  }

  void OnSmall(int from, int tag, const std::string& payload) {
    switch (tag) {
      case kRequest: {
        std::lock_guard lock(mu_);
        waiting_.push_back(feeder_index_.at(from));
        return;
      }
      case kAssign: {
        int shard = -1;
        std::memcpy(&shard, payload.data(), std::min(payload.size(), sizeof(int)));
        {
          std::lock_guard lock(mu_);
          answer_ = std::make_pair(infer_index_.at(from), shard);
        }
        state_cv_.notify_all();
        return;
      }
      case kCredit: {
        int n = 0;
        std::memcpy(&n, payload.data(), std::min(payload.size(), sizeof(int)));
        {
          std::lock_guard lock(mu_);
          credits_[static_cast<size_t>(infer_index_.at(from))] += n;
        }
        state_cv_.notify_all();
        return;
      }
      case kBad: {
        int shard = 0;
        auto rows = DecodeBadRows(payload, &shard);
        std::lock_guard hl(handler_mu_);
        if (!rows.ok()) {
          if (handlers_.failed) handlers_.failed(feeder_index_.at(from), rows.status());
        } else if (handlers_.bad_rows) {
          handlers_.bad_rows(feeder_index_.at(from), shard, std::move(*rows));
        }
        return;
      }
      case kFailed: {
        std::lock_guard hl(handler_mu_);
        const int feeder = feeder_index_.at(from);
        const Status error = Status::Internal(Describe(feeder) + " failed: " + payload);
        if (handlers_.failed) {
          handlers_.failed(feeder, error);
        } else {
          early_failures_.emplace_back(feeder, error);  // handler_mu_ held: Attach delivers them
        }
        return;
      }
      case kBye: {
        std::lock_guard lock(mu_);
        ++byes_;
        return;
      }
      default:
        return;
    }
  }

  /// Answers requests from feeders: a shard while attached, none once closed.
  bool AnswerWaitingRequests() {
    std::deque<int> waiting;
    bool attached, closed;
    {
      std::lock_guard lock(mu_);
      if (waiting_.empty()) return false;
      attached = attached_;
      closed = closed_;
      if (!attached && !closed) return false;
      waiting.swap(waiting_);
    }
    for (int feeder : waiting) {
      int shard = -1;
      if (attached) {
        std::lock_guard hl(handler_mu_);
        if (handlers_.assign) shard = handlers_.assign(feeder).value_or(-1);
      }
      std::string bytes(sizeof(int), '\0');
      std::memcpy(bytes.data(), &shard, sizeof(int));
      StartSend({feeder_ranks_[static_cast<size_t>(feeder)], kAssign, std::move(bytes), std::nullopt});
    }
    return true;
  }

  void Fatal(const Status& error) {
    std::lock_guard lock(mu_);
    if (transport_error_.ok()) transport_error_ = error;
    state_cv_.notify_all();
  }

  struct Pending {
    MPI_Request request;
    std::unique_ptr<Outgoing> out;  // the bytes stay put until the send completes
  };

  const CellRole role_;
  const std::string fingerprint_;
  WorkerIdentity identity_;
  std::vector<int> infer_ranks_, feeder_ranks_;
  std::map<int, int> feeder_index_, infer_index_;  // world rank -> index
  std::vector<std::string> hosts_;
  std::thread thread_;

  mutable std::mutex mu_;
  std::condition_variable wake_;      // the MPI thread: something to send, or stop
  std::condition_variable state_cv_;  // callers: started, an answer, credits
  bool started_ = false, stopping_ = false, finishing_ = false, closed_ = false, attached_ = false;
  int abort_code_ = 0;
  Status init_status_, transport_error_;
  std::deque<Outgoing> outbox_;
  std::deque<int> waiting_;  // feeders whose request waits for an answer
  int byes_ = 0;
  std::vector<int> credits_;  // per infer worker (feeder side)
  std::set<int> said_none_;
  std::optional<std::pair<int, int>> answer_;
  double credit_wait_s_ = 0;
  std::mutex request_mu_;

  std::mutex handler_mu_;  // held while a handler runs; Attach/Detach take it
  Handlers handlers_;
  std::vector<std::pair<int, Status>> early_failures_;  // feeders' FAILED before Attach (handler_mu_)

  std::vector<Pending> sends_;  // the MPI thread's
};

}  // namespace

Result<std::unique_ptr<MpiCell>> MpiCell::Start(CellRole role, const std::string& job_fingerprint) {
  auto cell = std::make_unique<MpiCellImpl>(role, job_fingerprint);
  RETURN_IF_ERROR(cell->Init());
  return std::unique_ptr<MpiCell>(std::move(cell));
}

}  // namespace sluice::cluster
