// Acting as a guest (broker/guest_identity.h): how scopes nest. Root only:
// an ordinary user has no credentials to switch between.
#include "broker/guest_identity.h"

#include <gtest/gtest.h>
#include <sys/fsuid.h>
#include <unistd.h>

#include <thread>

namespace wwjail {
namespace {

GuestIdentity with_fs_ids(uid_t id, bool at_launch = false) {
  GuestIdentity g;
  g.ruid = g.euid = 0;
  g.rgid = g.egid = 0;
  g.fsuid = id;
  g.fsgid = id;
  g.groups = {};
  g.at_launch = at_launch;
  return g;
}

uid_t fsuid_now() { return static_cast<uid_t>(::setfsuid(static_cast<uid_t>(-1))); }
uint64_t effective_now() { return thread_capabilities().effective; }

class ActingAsNesting : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  }
};

// A thread that rests as the launch identity: a call in another identity
// switches from it and back to it, and AsBroker inside that call lifts to
// the broker's own credentials, not to the resting ones.
TEST_F(ActingAsNesting, AsBrokerInsideANestedScopeLiftsToTheBrokersOwn) {
  std::thread t([] {
    const uint64_t broker_caps = effective_now();
    ASSERT_NE(broker_caps, 0u);
    ActingAs resting(with_fs_ids(0, true));  // no capabilities kept
    EXPECT_EQ(effective_now(), 0u);
    {
      ActingAs call(with_fs_ids(65534));
      EXPECT_EQ(fsuid_now(), 65534u);
      {
        AsBroker broker;
        EXPECT_EQ(fsuid_now(), 0u);
        EXPECT_EQ(effective_now(), broker_caps);
      }
      EXPECT_EQ(fsuid_now(), 65534u);
      EXPECT_EQ(effective_now(), 0u);
    }
    // Back to the resting scope, not to the broker.
    EXPECT_EQ(fsuid_now(), 0u);
    EXPECT_EQ(effective_now(), 0u);
  });
  t.join();
}

TEST_F(ActingAsNesting, TheOutermostScopeRestoresTheBroker) {
  std::thread t([] {
    const uint64_t broker_caps = effective_now();
    {
      ActingAs resting(with_fs_ids(0, true));
      ActingAs same(with_fs_ids(0, true));  // the common call: nothing to switch
      EXPECT_EQ(effective_now(), 0u);
    }
    EXPECT_EQ(effective_now(), broker_caps);
    EXPECT_EQ(fsuid_now(), 0u);
  });
  t.join();
}

}  // namespace
}  // namespace wwjail
