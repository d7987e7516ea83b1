// link(2) with a trailing slash on the new name: Linux refuses to create a
// non-directory entry under a name that asks for a directory (ENOENT), and
// the jail, which performs link in the broker, must say the same. Each case
// runs natively too, so the expectation is the kernel's, not ours.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "jail_runner.h"

namespace wwjail::testing {
namespace {

class LinkSlash : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = scratch_.sub("w");
    scratch_.file("w/a", "a\n");
    scratch_.file("w/file", "f\n");
    scratch_.sub("w/dir");
  }
  std::string jailed(const std::string& to) {
    return jail({"--write", dir_}, {guest("probe"), "link", dir_ + "/a", dir_ + "/" + to}).out;
  }
  std::string native(const std::string& to) { return run({guest("probe"), "link", dir_ + "/a", dir_ + "/" + to}).out; }
  bool exists(const std::string& name) {
    struct stat st;
    return ::lstat((dir_ + "/" + name).c_str(), &st) == 0;
  }
  ScratchDir scratch_;
  std::string dir_;
};

TEST_F(LinkSlash, ANewNameWithATrailingSlashIsENOENT) {
  EXPECT_EQ(jailed("new/"), "err ENOENT\n");
  EXPECT_FALSE(exists("new")) << "the link was made under the name without its slash";
  EXPECT_EQ(native("new/"), "err ENOENT\n");
  EXPECT_FALSE(exists("new"));
}

TEST_F(LinkSlash, ExistingNamesAreEEXISTWithOrWithoutTheSlash) {
  for (const char* to : {"file/", "dir/", "file"}) {
    EXPECT_EQ(jailed(to), "err EEXIST\n") << to;
    EXPECT_EQ(native(to), "err EEXIST\n") << to;
  }
}

// Positive control: without the slash the link is made, under the jail too.
TEST_F(LinkSlash, WithoutTheSlashTheLinkIsMade) {
  EXPECT_EQ(jailed("made"), "ok\n");
  EXPECT_TRUE(exists("made"));
  EXPECT_EQ(native("made2"), "ok\n");
}

}  // namespace
}  // namespace wwjail::testing
