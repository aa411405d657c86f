// Result<T>: the value or the Error of every operation that can fail on input, files or I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#if __has_include(<expected>)
#include <expected>
#endif

namespace clearbox {

// What went wrong, in categories the engine and the CLI act on.
enum class ErrorCode : std::uint8_t {
  kInvalidArgument,  // a caller passed something unusable (bad option, missing file)
  kNotThisFormat,    // the bytes are not the format a handler looked for (not a problem)
  kMalformed,        // the bytes claim the format but break its rules
  kTruncated,        // the bytes end before the format says they should
  kUnsupported,      // a valid variant we do not handle (yet)
  kLimitExceeded,    // a Budget limit stopped the work
  kTimeout,          // the per-handler time limit ran out
  kTraversal,        // a member tried to leave the output directory
  kIo,               // the operating system refused a read or write
  kInternal,         // a bug or an unexpected library failure
};

// Stable lower-case name of an ErrorCode, used in manifests and messages.
std::string_view ErrorCodeName(ErrorCode code);

// An error: a category and a human-readable message saying where and why.
struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
};

#if defined(__cpp_lib_expected) && __cpp_lib_expected >= 202202L
template <class T>
using Result = std::expected<T, Error>;
using Unexpected = std::unexpected<Error>;
#else
// Minimal stand-in for std::expected for compilers whose library lacks it (clang 14 for
// fuzzing); supports exactly the subset the code base uses.
class Unexpected {
 public:
  explicit Unexpected(Error error) : error_(std::move(error)) {}
  const Error& error() const& { return error_; }
  Error&& error() && { return std::move(error_); }

 private:
  Error error_;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(const T& value) : has_value_(true) { new (&value_) T(value); }        // NOLINT
  Result(T&& value) : has_value_(true) { new (&value_) T(std::move(value)); }  // NOLINT
  template <class U>
  requires(std::is_constructible_v<T, U&&> && !std::is_same_v<std::decay_t<U>, Result> &&
           !std::is_same_v<std::decay_t<U>, Unexpected> && !std::is_same_v<std::decay_t<U>, T>)
      Result(U&& value)
      : has_value_(true) {  // NOLINT
    new (&value_) T(std::forward<U>(value));
  }
  Result(Unexpected unexpected) : has_value_(false) {  // NOLINT
    new (&error_) Error(std::move(unexpected).error());
  }
  Result(const Result& other) : has_value_(other.has_value_) {
    if (has_value_)
      new (&value_) T(other.value_);
    else
      new (&error_) Error(other.error_);
  }
  Result(Result&& other) noexcept : has_value_(other.has_value_) {
    if (has_value_)
      new (&value_) T(std::move(other.value_));
    else
      new (&error_) Error(std::move(other.error_));
  }
  Result& operator=(Result other) {
    this->~Result();
    new (this) Result(std::move(other));
    return *this;
  }
  ~Result() {
    if (has_value_)
      value_.~T();
    else
      error_.~Error();
  }
  bool has_value() const { return has_value_; }
  explicit operator bool() const { return has_value_; }
  T& operator*() & { return value_; }
  const T& operator*() const& { return value_; }
  T&& operator*() && { return std::move(value_); }
  T* operator->() { return &value_; }
  const T* operator->() const { return &value_; }
  T& value() & { return value_; }
  const T& value() const& { return value_; }
  T&& value() && { return std::move(value_); }
  const Error& error() const { return error_; }
  template <class U>
  T value_or(U&& fallback) const {
    return has_value_ ? value_ : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  bool has_value_;
  union {
    T value_;
    Error error_;
  };
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Unexpected unexpected)
      : has_value_(false), error_(std::move(unexpected).error()) {}  // NOLINT
  bool has_value() const { return has_value_; }
  explicit operator bool() const { return has_value_; }
  void value() const {}
  const Error& error() const { return error_; }

 private:
  bool has_value_ = true;
  Error error_;
};
#endif

// Builds the error branch of any Result: `return Fail(ErrorCode::kMalformed, "...")`.
inline Unexpected Fail(ErrorCode code, std::string message) {
  return Unexpected(Error{code, std::move(message)});
}

// Forwards an error from a Result of another type.
template <class T>
inline Unexpected Forward(const Result<T>& failed) {
  return Unexpected(failed.error());
}

}  // namespace clearbox

// Evaluates a Result-returning expression and returns its error from the current function.
#define CLEARBOX_TRY(expr)                                         \
  do {                                                             \
    auto clearbox_try_result_ = (expr);                            \
    if (!clearbox_try_result_) {                                   \
      return ::clearbox::Unexpected(clearbox_try_result_.error()); \
    }                                                              \
  } while (false)
