#include "capabilities/path_text.h"

#include <gtest/gtest.h>

namespace wwjail::path_text {
namespace {

TEST(PathText, Normalize) {
  EXPECT_EQ(normalize("/"), "/");
  EXPECT_EQ(normalize("//a//b/"), "/a/b");
  EXPECT_EQ(normalize("/a/./b/../c"), "/a/c");
  EXPECT_EQ(normalize("/../../etc"), "/etc");
  EXPECT_EQ(normalize("/a/b/../.."), "/");
}

TEST(PathText, IsWithin) {
  EXPECT_TRUE(is_within("/usr/lib", "/usr"));
  EXPECT_TRUE(is_within("/usr", "/usr"));
  EXPECT_FALSE(is_within("/usrx", "/usr"));
  EXPECT_FALSE(is_within("/us", "/usr"));
  EXPECT_TRUE(is_within("/anything", "/"));
}

TEST(PathText, DotDot) {
  EXPECT_TRUE(has_dotdot("a/../b"));
  EXPECT_TRUE(has_dotdot(".."));
  EXPECT_TRUE(has_dotdot("/a/.."));
  EXPECT_FALSE(has_dotdot("/a/..b/c.."));
}

TEST(PathText, SplitAndRelative) {
  EXPECT_EQ(split_last("/a/b").parent, "/a");
  EXPECT_EQ(split_last("/a/b").name, "b");
  EXPECT_EQ(split_last("/a").parent, "/");
  EXPECT_EQ(split_last("/").name, "");
  EXPECT_EQ(relative_to("/usr/lib/x", "/usr"), "lib/x");
  EXPECT_EQ(relative_to("/usr", "/usr"), ".");
  EXPECT_EQ(relative_to("/etc/x", "/"), "etc/x");
}

TEST(PathText, Join) {
  EXPECT_EQ(join("/a", "b"), "/a/b");
  EXPECT_EQ(join("/a/", "b"), "/a/b");
  EXPECT_EQ(join("/a", "/b"), "/b");
}

}  // namespace
}  // namespace wwjail::path_text
