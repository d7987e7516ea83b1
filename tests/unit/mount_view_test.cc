#include "shim/mount_view.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "sys/remove_tree.h"

namespace wwjail {
namespace {

using Entry = MountViewPlan::Entry;

// A host tree to plan views of: top/{data/, data/inner/, cfg.txt, lib/{libx.so.1.2, libx.so.1 -> libx.so.1.2}}.
class MountViewPlanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wwjail-view-test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    top_ = tmpl;
    ::mkdir((top_ + "/data").c_str(), 0755);
    ::mkdir((top_ + "/data/inner").c_str(), 0755);
    ::mkdir((top_ + "/lib").c_str(), 0755);
    std::ofstream(top_ + "/cfg.txt") << "x";
    std::ofstream(top_ + "/lib/libx.so.1.2") << "x";
    ASSERT_EQ(::symlink("libx.so.1.2", (top_ + "/lib/libx.so.1").c_str()), 0);
    ASSERT_EQ(::symlink("cfg.txt", (top_ + "/cfg-link").c_str()), 0);
  }
  void TearDown() override { remove_tree_at(AT_FDCWD, top_.c_str()); }

  const Entry* find(const MountViewPlan& plan, const std::string& path) {
    for (const auto& e : plan.entries)
      if (e.path == path) return &e;
    return nullptr;
  }
  size_t index_of(const MountViewPlan& plan, const std::string& path) {
    for (size_t i = 0; i < plan.entries.size(); ++i)
      if (plan.entries[i].path == path) return i;
    return plan.entries.size();
  }

  std::string top_;
};

TEST_F(MountViewPlanTest, GrantsAreBoundAtTheirPathsAboveAnEmptySkeleton) {
  StorageCaps caps;
  caps.add({top_ + "/data", kRead | kWrite, true, "--write"});
  caps.add({top_ + "/cfg.txt", kRead, false, "--read"});
  caps.add({.path = top_ + "/cfg-link", .rights = kRead, .origin = "--read", .link = true});
  std::string why;
  auto plan = plan_mount_view(caps, "/", why);
  ASSERT_TRUE(plan) << why;

  const Entry* data = find(*plan, top_ + "/data");
  ASSERT_NE(data, nullptr);
  EXPECT_EQ(data->kind, Entry::kBindDir);
  EXPECT_FALSE(data->read_only);
  EXPECT_EQ(data->source, plan->old_root_in_view + top_ + "/data");
  const Entry* cfg = find(*plan, top_ + "/cfg.txt");
  ASSERT_NE(cfg, nullptr);
  EXPECT_EQ(cfg->kind, Entry::kBindFile);
  EXPECT_TRUE(cfg->read_only);
  const Entry* link = find(*plan, top_ + "/cfg-link");
  ASSERT_NE(link, nullptr);
  EXPECT_EQ(link->kind, Entry::kSymlink);
  EXPECT_EQ(link->source, "cfg.txt");

  // The directories above the grants are empty directories of the
  // skeleton, each made before what is inside it; nothing else is there.
  const Entry* tmp = find(*plan, "/tmp");
  ASSERT_NE(tmp, nullptr);
  EXPECT_EQ(tmp->kind, Entry::kDir);
  EXPECT_LT(index_of(*plan, "/tmp"), index_of(*plan, top_));
  EXPECT_LT(index_of(*plan, top_), index_of(*plan, top_ + "/data"));
  EXPECT_EQ(find(*plan, top_ + "/lib"), nullptr);
  EXPECT_EQ(find(*plan, top_ + "/lib/libx.so.1.2"), nullptr);
}

TEST_F(MountViewPlanTest, AGrantInsideABoundDirectoryGoesOnTopWithoutASkeleton) {
  StorageCaps caps;
  caps.add({top_ + "/data", kRead, true, "--read"});
  caps.add({top_ + "/data/inner", kRead | kWrite, true, "--write"});
  std::string why;
  auto plan = plan_mount_view(caps, "/", why);
  ASSERT_TRUE(plan) << why;
  const Entry* inner = find(*plan, top_ + "/data/inner");
  ASSERT_NE(inner, nullptr);
  EXPECT_FALSE(inner->read_only);
  EXPECT_TRUE(find(*plan, top_ + "/data")->read_only);
  EXPECT_LT(index_of(*plan, top_ + "/data"), index_of(*plan, top_ + "/data/inner"));
  for (const auto& e : plan->entries)
    if (e.kind == Entry::kDir) {
      EXPECT_FALSE(e.path.starts_with(top_ + "/data")) << e.path;
    }
}

// The loader asks for a library by its soname, a link beside the file.
TEST_F(MountViewPlanTest, ASonameLinkBesideAGrantedFileIsRecreated) {
  StorageCaps caps;
  caps.add({top_ + "/lib/libx.so.1.2", kRead, false, "library"});
  std::string why;
  auto plan = plan_mount_view(caps, "/", why);
  ASSERT_TRUE(plan) << why;
  const Entry* soname = find(*plan, top_ + "/lib/libx.so.1");
  ASSERT_NE(soname, nullptr);
  EXPECT_EQ(soname->kind, Entry::kSymlink);
  EXPECT_EQ(soname->source, "libx.so.1.2");
}

TEST_F(MountViewPlanTest, AnUngrantedStartDirectoryIsAnEmptyDirectory) {
  StorageCaps caps;
  caps.add({top_ + "/cfg.txt", kRead, false, "--read"});
  std::string why;
  auto plan = plan_mount_view(caps, top_ + "/data/inner", why);
  ASSERT_TRUE(plan) << why;
  EXPECT_EQ(plan->cwd, top_ + "/data/inner");
  const Entry* cwd = find(*plan, top_ + "/data/inner");
  ASSERT_NE(cwd, nullptr);
  EXPECT_EQ(cwd->kind, Entry::kDir);
}

// What a view cannot express is mediated, never silently widened.
TEST_F(MountViewPlanTest, GrantsAViewCannotExpressAreRefusedWithTheReason) {
  struct Case {
    Grant grant;
    const char* says;
  } cases[] = {
      {{.path = top_ + "/data", .rights = kRead, .origin = "--list", .list_only = true}, "list-only"},
      {{.path = "/proc/cpuinfo", .rights = kRead, .origin = "--read"}, "/proc"},
      {{.path = "/", .rights = kRead, .directory = true, .origin = "audit", .audit_fallback = true}, "audit"},
  };
  for (const auto& c : cases) {
    StorageCaps caps;
    caps.add({top_ + "/cfg.txt", kRead, false, "--read"});
    caps.add(c.grant);
    std::string why;
    EXPECT_FALSE(plan_mount_view(caps, "/", why)) << c.says;
    EXPECT_NE(why.find(c.says), std::string::npos) << why;
  }
}

TEST(ViewSteps, EveryStepHasAName) {
  for (int s = static_cast<int>(ViewStep::kDevpts); s <= static_cast<int>(ViewStep::kChdir); ++s)
    EXPECT_STRNE(view_step_name(s), "?") << s;
}

}  // namespace
}  // namespace wwjail
