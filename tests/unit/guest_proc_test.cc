// guest_proc::pin_caller_or_descendant: which /proc entries are a guest's
// own, decided on pinned processes. This test process plays the broker: its
// child is the caller, the caller's child its descendant.
#include "broker/guest_proc.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

namespace wwjail {
namespace {

// A reaper child that forks one guest grandchild, reports its pid, and
// waits to be killed.
struct Tree {
  pid_t reaper = -1;
  pid_t guest = -1;
  Tree() {
    int p[2];
    if (::pipe(p) != 0) return;
    reaper = ::fork();
    if (reaper == 0) {
      pid_t g = ::fork();
      if (g == 0) {
        ::pause();
        ::_exit(0);
      }
      (void)!::write(p[1], &g, sizeof g);
      ::pause();
      ::_exit(0);
    }
    ::close(p[1]);
    if (::read(p[0], &guest, sizeof guest) != sizeof guest) guest = -1;
    ::close(p[0]);
  }
  ~Tree() {
    if (guest > 0) ::kill(guest, SIGKILL);
    if (reaper > 0) ::kill(reaper, SIGKILL);
    if (reaper > 0) ::waitpid(reaper, nullptr, 0);
  }
};

TEST(GuestProc, PinsTheCallerAndItsDescendantsOnly) {
  Tree t;
  ASSERT_GT(t.guest, 0);
  EXPECT_TRUE(guest_proc::pin_caller_or_descendant(t.reaper, t.reaper).valid()) << "positive control: itself";
  EXPECT_TRUE(guest_proc::pin_caller_or_descendant(t.guest, t.reaper).valid()) << "positive control: its child";
  EXPECT_FALSE(guest_proc::pin_caller_or_descendant(t.reaper, t.guest).valid()) << "the child's parent";
  EXPECT_FALSE(guest_proc::pin_caller_or_descendant(::getpid(), t.reaper).valid()) << "the caller's parent";
  EXPECT_FALSE(guest_proc::pin_caller_or_descendant(1, t.reaper).valid()) << "pid 1";
  EXPECT_FALSE(guest_proc::pin_caller_or_descendant(0, t.reaper).valid());
  EXPECT_FALSE(guest_proc::pin_caller_or_descendant(-1, t.reaper).valid());
  EXPECT_FALSE(guest_proc::pin_caller_or_descendant(t.guest, 0).valid());
}

TEST(GuestProc, AnOrphanIsNoLongerADescendant) {
  Tree t;
  ASSERT_GT(t.guest, 0);
  pid_t guest = t.guest, caller = t.reaper;
  EXPECT_TRUE(guest_proc::pin_caller_or_descendant(guest, caller).valid()) << "positive control";
  // The caller dies and is waited for: the guest (an orphan of init or a
  // subreaper now) descends from it no more.
  ::kill(caller, SIGKILL);
  ::waitpid(caller, nullptr, 0);
  t.reaper = -1;
  EXPECT_FALSE(guest_proc::pin_caller_or_descendant(guest, caller).valid());
}

// A caller's child exits and is reaped; an unrelated process takes its
// number (ns_last_pid, root only). The number then names no descendant.
TEST(GuestProc, AReusedNumberIsNotInTheTree) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  pid_t reaper = ::fork();
  if (reaper == 0) {
    pid_t g = ::fork();
    if (g == 0) ::_exit(0);
    ::waitpid(g, nullptr, 0);
    (void)!::write(p[1], &g, sizeof g);
    ::pause();
    ::_exit(0);
  }
  ::close(p[1]);
  pid_t gone = -1;
  ASSERT_EQ(::read(p[0], &gone, sizeof gone), static_cast<ssize_t>(sizeof gone));
  ::close(p[0]);
  FILE* last = std::fopen("/proc/sys/kernel/ns_last_pid", "w");
  pid_t outside = -1;
  if (last && std::fprintf(last, "%d", gone - 1) > 0 && std::fclose(last) == 0) {
    outside = ::fork();
    if (outside == 0) {
      ::pause();
      ::_exit(0);
    }
  } else if (last) {
    std::fclose(last);
  }
  bool reused = outside == gone;
  bool pinned = reused && guest_proc::pin_caller_or_descendant(gone, reaper).valid();
  if (outside > 0) ::kill(outside, SIGKILL), ::waitpid(outside, nullptr, 0);
  ::kill(reaper, SIGKILL);
  ::waitpid(reaper, nullptr, 0);
  if (!reused) GTEST_SKIP() << "could not make another process take pid " << gone << " (needs root)";
  EXPECT_FALSE(pinned) << "pid " << gone << " now belongs to a process that is not a descendant";
}

}  // namespace
}  // namespace wwjail
