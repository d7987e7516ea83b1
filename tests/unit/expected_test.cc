// Expected<T, E>: the handlers' steps answer with it (broker/expected.h).
#include "broker/expected.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "broker/verdict.h"

namespace wwjail {
namespace {

Expected<int, std::string> half(int v) {
  if (v % 2) return Unexpected<std::string>("odd");
  return v / 2;
}

TEST(Expected, HoldsTheValueOrTheError) {
  auto ok = half(8);
  ASSERT_TRUE(ok.has_value());
  EXPECT_TRUE(static_cast<bool>(ok));
  EXPECT_EQ(*ok, 4);
  auto bad = half(3);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error(), "odd");
}

TEST(Expected, CarriesMoveOnlyValuesAndErrors) {
  // A Verdict owns a descriptor: moved out, never copied.
  Expected<std::unique_ptr<int>, Verdict> value(std::make_unique<int>(7));
  ASSERT_TRUE(value);
  std::unique_ptr<int> p = std::move(*value);
  EXPECT_EQ(*p, 7);
  Expected<std::unique_ptr<int>, Verdict> denied(Unexpected(Verdict::error(EACCES)));
  ASSERT_FALSE(denied);
  Verdict v = std::move(denied).error();
  EXPECT_EQ(v.kind, Verdict::Kind::kError);
  EXPECT_EQ(v.err, EACCES);
}

TEST(Expected, VoidHoldsOnlyTheError) {
  Expected<void, Verdict> fine;
  EXPECT_TRUE(fine.has_value());
  Expected<void, Verdict> gone = Unexpected(Verdict::error(ENOENT));
  ASSERT_FALSE(gone.has_value());
  EXPECT_EQ(gone.error().err, ENOENT);
}

TEST(Expected, ArrowReachesTheValue) {
  Expected<std::string, int> s(std::string("abc"));
  EXPECT_EQ(s->size(), 3u);
}

}  // namespace
}  // namespace wwjail
