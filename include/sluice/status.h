#pragma once
/// Status and Result<T>: how every library API reports failure.
///
/// User errors (bad configuration, bad input data, missing files) and internal errors (bugs)
/// are distinct codes so the CLI and the job layer can treat them differently. Messages name
/// the thing that failed: file, row, column, stage, URI, expected vs got.
///
/// Threading: Status and Result are values; copies may be used from any thread.

#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace sluice {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,    // user: bad configuration or API misuse by the caller
  kInvalidData,        // user: bad input data (corrupt file, wrong type, bad row)
  kNotFound,           // user: missing file, column, key
  kIOError,            // environment: storage or network failed
  kResourceExhausted,  // environment: out of memory, budget, device memory
  kCancelled,          // the plan was stopped (by an error elsewhere or by the caller)
  kStalled,            // nothing moved for longer than the no-progress watchdog allows
  kUnimplemented,      // not supported (yet)
  kInternal,           // a bug in sluice
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message);

  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
  static Status InvalidData(std::string m) { return {StatusCode::kInvalidData, std::move(m)}; }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status IOError(std::string m) { return {StatusCode::kIOError, std::move(m)}; }
  static Status ResourceExhausted(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
  static Status Cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
  static Status Stalled(std::string m) { return {StatusCode::kStalled, std::move(m)}; }
  static Status Unimplemented(std::string m) { return {StatusCode::kUnimplemented, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool ok() const { return state_ == nullptr; }
  StatusCode code() const { return ok() ? StatusCode::kOk : state_->code; }
  const std::string& message() const;
  /// True for errors caused by the user's configuration or data rather than by sluice.
  bool IsUserError() const;
  /// "InvalidData: row 12 of 'a.parquet': ..." or "OK".
  std::string ToString() const;
  /// The same code with "context: " put in front of the message.
  Status WithContext(std::string_view context) const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code() == b.code() && a.message() == b.message();
  }

 private:
  struct State {
    StatusCode code;
    std::string message;
  };
  std::shared_ptr<const State> state_;  // null means OK; shared so copies are cheap
};

/// A value or the Status saying why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    if (std::get<Status>(v_).ok()) v_ = Status::Internal("Result constructed from an OK status");
  }
  template <typename U, typename = std::enable_if_t<std::is_convertible_v<U&&, T> &&
                                                    !std::is_same_v<std::decay_t<U>, Status> &&
                                                    !std::is_same_v<std::decay_t<U>, T>>>
  Result(U&& value) : v_(T(std::forward<U>(value))) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return std::holds_alternative<T>(v_); }
  Status status() const { return ok() ? Status::OK() : std::get<Status>(v_); }

  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<Status, T> v_;
};

namespace internal {
inline Status ToStatus(Status s) { return s; }
template <typename T>
Status ToStatus(const Result<T>& r) { return r.status(); }
}  // namespace internal

}  // namespace sluice

#define SLUICE_CONCAT_INNER(a, b) a##b
#define SLUICE_CONCAT(a, b) SLUICE_CONCAT_INNER(a, b)

/// Returns the error from the enclosing function if `expr` (Status or Result) is not OK.
#define RETURN_IF_ERROR(expr)                                      \
  do {                                                             \
    ::sluice::Status _sluice_st = ::sluice::internal::ToStatus(expr); \
    if (!_sluice_st.ok()) return _sluice_st;                       \
  } while (0)

#define SLUICE_ASSIGN_OR_RETURN_IMPL(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                                 \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(tmp).value()

/// `ASSIGN_OR_RETURN(auto x, MakeX());` declares x from the Result or returns its error.
#define ASSIGN_OR_RETURN(lhs, rexpr) \
  SLUICE_ASSIGN_OR_RETURN_IMPL(SLUICE_CONCAT(_sluice_result_, __LINE__), lhs, rexpr)
