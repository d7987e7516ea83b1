// The Landlock rights a grant becomes (shim/landlock_ruleset.h).
#include "shim/landlock_ruleset.h"

#include <gtest/gtest.h>

#include "capabilities/storage_caps.h"
#include "sys/kernel_abi.h"  // Landlock constants newer than the installed headers

namespace wwjail {
namespace {

TEST(LandlockRights, AReadRuleCarriesTruncateOnlyThroughAReadOnlyMount) {
  EXPECT_FALSE(landlock_rights_for(kRead, false) & LANDLOCK_ACCESS_FS_TRUNCATE);
  EXPECT_FALSE(landlock_rights_for(kRead, true) & LANDLOCK_ACCESS_FS_TRUNCATE);
  EXPECT_TRUE(landlock_rights_for(kRead, false, true) & LANDLOCK_ACCESS_FS_TRUNCATE);
  EXPECT_TRUE(landlock_rights_for(kRead, true, true) & LANDLOCK_ACCESS_FS_TRUNCATE);
  // The mount adds nothing else: no write, create or remove right.
  EXPECT_EQ(landlock_rights_for(kRead, true, true) & ~LANDLOCK_ACCESS_FS_TRUNCATE, landlock_rights_for(kRead, true));
}

TEST(LandlockRights, ExecAloneGetsNoTruncate) {
  EXPECT_FALSE(landlock_rights_for(kExec, false, true) & LANDLOCK_ACCESS_FS_TRUNCATE);
}

TEST(LandlockRights, WriteRulesTruncateEverywhere) {
  for (bool view : {false, true}) {
    EXPECT_TRUE(landlock_rights_for(kRead | kWrite, false, view) & LANDLOCK_ACCESS_FS_TRUNCATE);
    EXPECT_TRUE(landlock_rights_for(kRead | kWrite, true, view) & LANDLOCK_ACCESS_FS_WRITE_FILE);
  }
}

}  // namespace
}  // namespace wwjail
