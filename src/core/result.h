// Result<T>: a value or an Error, returned by every fallible I/O or parsing call.
// Shaped like std::expected (which Debian's clang 14 cannot compile) so it can be swapped later.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace leeway {

// What kind of failure an Error is, so that a caller (the API) can answer each kind its own way
// (500, 404, 400, 503) without matching messages.
enum class ErrorKind {
  kInternal,         // a bug or an unexpected failure
  kNotFound,         // what was asked for does not exist
  kInvalidArgument,  // the caller's input is wrong; the message says which and why
  kUnavailable,      // a dependency (the store, a peer) failed; trying later may work
};

// An error with a human-readable message that names what is wrong and where.
struct Error {
  std::string message;
  ErrorKind kind = ErrorKind::kInternal;
};

// Builds an Error; reads well at call sites: `return fail("bad port: ", port)`.
template <typename... Parts>
Error fail(Parts&&... parts) {
  std::string message;
  (message.append(std::forward<Parts>(parts)), ...);
  return Error{std::move(message)};
}

// Builds an Error of a given kind: `return fail_as(ErrorKind::kNotFound, "no check ", id)`.
template <typename... Parts>
Error fail_as(ErrorKind kind, Parts&&... parts) {
  Error e = fail(std::forward<Parts>(parts)...);
  e.kind = kind;
  return e;
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}

  bool has_value() const { return state_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  // REQUIRES: has_value().
  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // REQUIRES: !has_value().
  const Error& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, Error> state_;
};

// Result of an operation that yields nothing but may fail.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}

  bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace leeway
