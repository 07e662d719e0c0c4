#pragma once
// Errors as values across module boundaries. A Result<T> holds either a T or
// an Error; Result<void> (alias Status) holds only the outcome.

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace sg {

enum class ErrorCode {
  kNotFound,         // the object does not exist (HTTP 404)
  kConflict,         // name taken (409) or stale version ("update out of sequence")
  kInvalidArgument,  // the request was rejected as malformed (400)
  kUnavailable,      // endpoint unreachable, timeout, 5xx other than the above
  kInternal,         // a bug or an unexpected answer
};

const char* ErrorCodeName(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;

  bool Is(ErrorCode c) const { return code == c; }
  std::string ToString() const { return std::string(ErrorCodeName(code)) + ": " + message; }
};

inline Error NotFound(std::string m) { return {ErrorCode::kNotFound, std::move(m)}; }
inline Error Conflict(std::string m) { return {ErrorCode::kConflict, std::move(m)}; }
inline Error InvalidArgument(std::string m) { return {ErrorCode::kInvalidArgument, std::move(m)}; }
inline Error Unavailable(std::string m) { return {ErrorCode::kUnavailable, std::move(m)}; }
inline Error Internal(std::string m) { return {ErrorCode::kInternal, std::move(m)}; }

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(runtime/explicit)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(runtime/explicit)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  const T& value() const& { return std::get<0>(v_); }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : e_(std::move(error)) {}  // NOLINT(runtime/explicit)

  bool ok() const { return !e_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return *e_; }

 private:
  std::optional<Error> e_;
};

using Status = Result<void>;
inline Status OkStatus() { return Status(); }

}  // namespace sg
