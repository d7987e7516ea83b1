#include "capabilities/storage_caps.h"

#include <gtest/gtest.h>

namespace wwjail {
namespace {

StorageCaps sample() {
  StorageCaps caps;
  caps.add({"/usr/lib", kRead, true, "--read /usr/lib"});
  caps.add({"/srv/data", kWrite, true, "--write /srv/data"});
  caps.add({"/srv/data/ro", kRead, true, "--read /srv/data/ro"});
  caps.add({"/opt/tool", kExec, false, "--exec /opt/tool"});
  return caps;
}

TEST(StorageCaps, ReadWithinGrantOnly) {
  auto caps = sample();
  EXPECT_TRUE(caps.decide("/usr/lib/libc.so", Need::kRead).allowed);
  EXPECT_TRUE(caps.decide("/usr/lib", Need::kRead).allowed);
  EXPECT_FALSE(caps.decide("/usr/libx", Need::kRead).allowed);
  EXPECT_FALSE(caps.decide("/etc/passwd", Need::kRead).allowed);
  EXPECT_EQ(caps.decide("/etc/passwd", Need::kRead).missing, "read on /etc/passwd");
}

TEST(StorageCaps, WriteImpliesReadButNotTheOtherWay) {
  auto caps = sample();
  EXPECT_TRUE(caps.decide("/srv/data/f", Need::kRead).allowed);
  EXPECT_TRUE(caps.decide("/srv/data/f", Need::kWrite).allowed);
  EXPECT_FALSE(caps.decide("/usr/lib/f", Need::kWrite).allowed);
}

TEST(StorageCaps, MostSpecificGrantIsUsedButRightsDoNotShrink) {
  auto caps = sample();
  // A read grant nested in a write grant does not remove the write right:
  // grants only ever add.
  auto d = caps.decide("/srv/data/ro/f", Need::kWrite);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.grant->path, "/srv/data");
  EXPECT_EQ(caps.decide("/srv/data/ro/f", Need::kRead).grant->path, "/srv/data/ro");
}

TEST(StorageCaps, CreateAndRemoveNeedADirectoryWriteGrantAndNotItsRoot) {
  auto caps = sample();
  EXPECT_TRUE(caps.decide("/srv/data/new", Need::kCreate).allowed);
  EXPECT_FALSE(caps.decide("/srv/data", Need::kRemove).allowed);
  EXPECT_FALSE(caps.decide("/usr/lib/new", Need::kCreate).allowed);
  EXPECT_FALSE(caps.decide("/opt/tool", Need::kRemove).allowed);
}

TEST(StorageCaps, StatOnGrantsAndTheirAncestors) {
  auto caps = sample();
  EXPECT_TRUE(caps.decide("/usr", Need::kStat).allowed);
  EXPECT_TRUE(caps.decide("/", Need::kStat).allowed);
  EXPECT_TRUE(caps.decide("/opt", Need::kStat).allowed);
  EXPECT_TRUE(caps.decide("/usr/lib/x", Need::kStat).allowed);
  EXPECT_FALSE(caps.decide("/usr/bin", Need::kStat).allowed);
  EXPECT_FALSE(caps.decide("/etc", Need::kStat).allowed);
  // Ancestors are for walking: not readable.
  EXPECT_FALSE(caps.decide("/usr", Need::kRead).allowed);
}

TEST(StorageCaps, FileGrantCoversOnlyThatFile) {
  auto caps = sample();
  EXPECT_TRUE(caps.decide("/opt/tool", Need::kExec).allowed);
  EXPECT_TRUE(caps.decide("/opt/tool", Need::kRead).allowed);
  EXPECT_FALSE(caps.decide("/opt/tool/x", Need::kRead).allowed);
  EXPECT_FALSE(caps.decide("/opt/toolbox", Need::kExec).allowed);
  EXPECT_FALSE(caps.decide("/usr/lib/x", Need::kExec).allowed);
}

TEST(StorageCaps, InterpreterStaysInterpreterOnlyUnlessExecIsGranted) {
  StorageCaps caps;
  caps.add({"/lib/ld.so", kExec, false, "interpreter", true});
  caps.add({"/lib/ld.so", kRead, false, "library of libc", false});
  EXPECT_TRUE(caps.grants()[0].interpreter_only);
  caps.add({"/lib/ld.so", kExec, false, "--exec /lib/ld.so", false});
  EXPECT_FALSE(caps.grants()[0].interpreter_only);
  StorageCaps other;
  other.add({"/lib/ld.so", kRead, false, "library", false});
  other.add({"/lib/ld.so", kExec, false, "interpreter", true});
  EXPECT_TRUE(other.grants()[0].interpreter_only);
}

TEST(StorageCaps, MergingWidens) {
  StorageCaps caps;
  caps.add({"/a", kRead, true, "one"});
  caps.add({"/a", kExec, true, "two"});
  ASSERT_EQ(caps.grants().size(), 1u);
  EXPECT_TRUE(caps.decide("/a/x", Need::kExec).allowed);
}

}  // namespace
}  // namespace wwjail
