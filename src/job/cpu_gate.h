#pragma once
/// CpuGate: time-slices CPU preprocessing and CPU inference when both run on the same cores.
///
/// A CPU model's intra-op threads meet at a barrier after every operator, so one of them
/// preempted by a decode thread stalls them all (measured: -13% model throughput on 2 cores
/// while preprocessing took 3% of the CPU). Overlapping CPU work with CPU work gains nothing,
/// so the model call runs alone: it waits for preprocessing batches already running to end,
/// and new ones wait while the model runs or is waiting to. Preprocessing then runs when the
/// model waits for input, on every core. With a GPU model the job uses no gate.
///
/// Threading: all methods may be called from any thread; the Scoped guards pair them.

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace sluice::job {

class CpuGate {
 public:
  void EnterModel() {
    std::unique_lock lock(mu_);
    ++models_waiting_;
    Wait(lock, [&] { return preprocessing_ == 0; }, &model_wait_s_);
    --models_waiting_;
    ++models_running_;
  }
  void ExitModel() {
    std::lock_guard lock(mu_);
    --models_running_;
    cv_.notify_all();
  }
  void EnterPreprocess() {
    std::unique_lock lock(mu_);
    Wait(lock, [&] { return models_waiting_ == 0 && models_running_ == 0; }, &preprocess_wait_s_);
    ++preprocessing_;
  }
  void ExitPreprocess() {
    std::lock_guard lock(mu_);
    --preprocessing_;
    cv_.notify_all();
  }

  template <void (CpuGate::*Enter)(), void (CpuGate::*Exit)()>
  class Scoped {
   public:
    explicit Scoped(CpuGate* gate) : gate_(gate) {
      if (gate_) (gate_->*Enter)();
    }
    ~Scoped() {
      if (gate_) (gate_->*Exit)();
    }
    Scoped(const Scoped&) = delete;
    Scoped& operator=(const Scoped&) = delete;

   private:
    CpuGate* gate_;
  };
  using ModelTurn = Scoped<&CpuGate::EnterModel, &CpuGate::ExitModel>;
  using PreprocessTurn = Scoped<&CpuGate::EnterPreprocess, &CpuGate::ExitPreprocess>;

  /// Seconds spent waiting at the gate (inside the stages' busy time, which they are not).
  double model_wait_s() {
    std::lock_guard lock(mu_);
    return model_wait_s_;
  }
  double preprocess_wait_s() {
    std::lock_guard lock(mu_);
    return preprocess_wait_s_;
  }

 private:
  template <typename Pred>
  void Wait(std::unique_lock<std::mutex>& lock, Pred ready, double* waited) {
    if (ready()) return;
    const auto t0 = std::chrono::steady_clock::now();
    cv_.wait(lock, ready);
    *waited += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }

  std::mutex mu_;
  std::condition_variable cv_;
  int preprocessing_ = 0;
  int models_waiting_ = 0;
  int models_running_ = 0;
  double model_wait_s_ = 0, preprocess_wait_s_ = 0;
};

}  // namespace sluice::job
