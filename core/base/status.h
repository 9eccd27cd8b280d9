#pragma once
// Status and Result: expected failures are values, not exceptions.
// A Status carries a code (stable, machine-readable, also the JSON error code
// at the HTTP edge) and a human message with context.
#include <optional>
#include <string>
#include <utility>

namespace danmu::core {

enum class Code {
  kOk,
  kInvalidArgument,   // bad input from a client or operator (4xx)
  kNotFound,
  kTooLarge,
  kRateLimited,
  kUnavailable,       // a dependency (Kafka, Redis, peer room) is down: retry
  kFencedEpoch,       // a write carried an epoch older than the store's
  kReadOnly,          // this room does not accept writes right now
  kInternal,
};

const char* CodeName(Code code);

class Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status Ok() { return {}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

// Result<T>: a value or a non-ok Status.
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT
  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() { return *value_; }
  const T& value() const { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace danmu::core
