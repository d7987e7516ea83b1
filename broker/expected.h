// A value or the reason there is none: the error convention of the
// handlers' steps (broker/handlers/steps.h), where the reason is the Verdict
// the guest is answered. A stand-in for C++23's std::expected, which
// Debian 12's g++ 12 provides only with -std=c++23 (the project is C++20):
// the same names and meaning for the part we use, so the switch is a rename.
//
// Unlike std::expected there is no default construction and no
// Expected<void, E> specialisation beyond what handlers need (has_value,
// error): Expected<void, E> holds nothing on success.
#pragma once

#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

namespace wwjail {

template <typename E>
class Unexpected {
 public:
  explicit Unexpected(E e) : error_(std::move(e)) {}
  E& error() & { return error_; }
  E&& error() && { return std::move(error_); }

 private:
  E error_;
};

template <typename T, typename E>
class [[nodiscard]] Expected {
 public:
  template <typename U = T, typename = std::enable_if_t<std::is_constructible_v<T, U&&>>>
  Expected(U&& value) : v_(std::in_place_index<0>, std::forward<U>(value)) {}  // NOLINT: implicit, as std::expected
  Expected(Unexpected<E> u) : v_(std::in_place_index<1>, std::move(u).error()) {}  // NOLINT

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& operator*() & { return value(); }
  T&& operator*() && { return std::move(value()); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &std::get<0>(v_); }
  T& value() & {
    assert(has_value());
    return std::get<0>(v_);
  }
  E& error() & {
    assert(!has_value());
    return std::get<1>(v_);
  }
  E&& error() && {
    assert(!has_value());
    return std::move(std::get<1>(v_));
  }

 private:
  std::variant<T, E> v_;
};

template <typename E>
class [[nodiscard]] Expected<void, E> {
 public:
  Expected() = default;
  Expected(Unexpected<E> u) : error_(std::move(u).error()), failed_(true) {}  // NOLINT

  bool has_value() const { return !failed_; }
  explicit operator bool() const { return has_value(); }
  E& error() & {
    assert(failed_);
    return error_;
  }
  E&& error() && {
    assert(failed_);
    return std::move(error_);
  }

 private:
  E error_{};
  bool failed_ = false;
};

}  // namespace wwjail
