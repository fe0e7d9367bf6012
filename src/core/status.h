// MelodAI — licensed under the Apache License 2.0.
// Status and Result<T>: the error type of every fallible operation. Expected failures (I/O,
// bad input, peer misbehaviour) travel as values; programmer errors use MELODAI_CHECK instead.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "core/check.h"

namespace melodai::core {

enum class StatusCode : uint8_t {
  kOk = 0,
  kInvalidArgument,    // The caller passed a bad parameter (absurd value, unknown name).
  kNotFound,           // A file, item or key does not exist.
  kAlreadyExists,      // Creating something that is already there.
  kDataLoss,           // Input bytes are malformed, truncated or fail a checksum.
  kIoError,            // The operating system refused a read or write.
  kOutOfRange,         // A value lies outside what the format or protocol allows.
  kFailedPrecondition, // The system is not in a state where the call makes sense.
  kResourceExhausted,  // A limit (size, count, memory) would be exceeded.
  kAborted,            // The operation was abandoned (for example below a quorum).
  kUnavailable,        // A peer or service cannot be reached right now.
  kDeadlineExceeded,   // A deadline passed before the operation finished.
  kUnimplemented,      // The request names a feature this build does not have.
  kInternal,           // An invariant broke; a bug report is in order.
};

// Returns the stable lower-case name of `code`, e.g. "data_loss".
std::string_view StatusCodeName(StatusCode code);

// A success marker or an error code with a human-readable message. Cheap to copy when ok.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "data_loss: mpd.slice.0-999.json:12:5: expected string" — or "ok".
  std::string ToString() const;

  // Returns a copy whose message is "<context>: <message>"; ok stays ok.
  Status WithContext(std::string_view context) const;

  // Marks a status as deliberately ignored; the caller documents why at the call site.
  void IgnoreError() const {}

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

Status InvalidArgumentError(std::string message);
Status NotFoundError(std::string message);
Status AlreadyExistsError(std::string message);
Status DataLossError(std::string message);
Status IoError(std::string message);
Status OutOfRangeError(std::string message);
Status FailedPreconditionError(std::string message);
Status ResourceExhaustedError(std::string message);
Status AbortedError(std::string message);
Status UnavailableError(std::string message);
Status DeadlineExceededError(std::string message);
Status UnimplementedError(std::string message);
Status InternalError(std::string message);

// Either a value of type T or a non-ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : storage_(std::move(value)) {}  // NOLINT: implicit by design.
  Result(Status status) : storage_(std::move(status)) {  // NOLINT: implicit by design.
    MELODAI_CHECK(!std::get<Status>(storage_).ok());
  }

  bool ok() const { return std::holds_alternative<T>(storage_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(storage_);
  }

  // REQUIRES: ok().
  T& value() & {
    MELODAI_CHECK(ok());
    return std::get<T>(storage_);
  }
  const T& value() const& {
    MELODAI_CHECK(ok());
    return std::get<T>(storage_);
  }
  T&& value() && {
    MELODAI_CHECK(ok());
    return std::get<T>(std::move(storage_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> storage_;
};

}  // namespace melodai::core

#define MELODAI_STATUS_CONCAT_INNER(a, b) a##b
#define MELODAI_STATUS_CONCAT(a, b) MELODAI_STATUS_CONCAT_INNER(a, b)

// Returns early from the enclosing function when `expr` (a Status) is not ok.
#define MELODAI_RETURN_IF_ERROR(expr)                                   \
  do {                                                                  \
    ::melodai::core::Status melodai_status_ = (expr);                   \
    if (!melodai_status_.ok()) return melodai_status_;                  \
  } while (false)

// `MELODAI_ASSIGN_OR_RETURN(auto x, Fn());` declares x from a Result or returns its error.
#define MELODAI_ASSIGN_OR_RETURN(lhs, expr) \
  MELODAI_ASSIGN_OR_RETURN_IMPL(MELODAI_STATUS_CONCAT(melodai_result_, __LINE__), lhs, expr)
#define MELODAI_ASSIGN_OR_RETURN_IMPL(result, lhs, expr) \
  auto result = (expr);                                  \
  if (!result.ok()) return result.status();              \
  lhs = std::move(result).value()
