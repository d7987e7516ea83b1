// The broker's two event loops (broker/event_loop.h): io_uring, and epoll
// with worker threads where io_uring is refused. Selection at start, the
// messages that name why io_uring is missing, and the promise both keep:
// a guest thread whose open blocks in the broker stalls no other thread.
// The whole integration suite also runs once with io_uring forbidden
// (ctest: integration_without_io_uring, under tests/tools/no_io_uring).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "jail_runner.h"

namespace wwjail::testing {
namespace {

// wwjail [args...] -- command..., with `env` set (and under no_io_uring).
RunResult jail_with(const std::vector<std::string>& env, bool forbid_io_uring, const std::vector<std::string>& args,
                    const std::vector<std::string>& command, int timeout_s = 60) {
  std::vector<std::string> argv;
  if (forbid_io_uring) argv.push_back(NO_IO_URING_BIN);
  argv.push_back("/usr/bin/env");
  argv.insert(argv.end(), env.begin(), env.end());
  argv.push_back(wwjail_bin());
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("--");
  argv.insert(argv.end(), command.begin(), command.end());
  return run(argv, "", timeout_s);
}

size_t lines(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

TEST(EventLoopSelection, FallsBackToEpollWhenASeccompFilterRefusesIoUring) {
  auto r = jail_with({}, true, {"--log-level", "debug"}, {"/bin/sh", "-c", "echo served"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.out, "served\n");
  EXPECT_NE(r.err.find("event loop: epoll"), std::string::npos) << describe(r);
  EXPECT_NE(r.err.find("seccomp filter"), std::string::npos) << describe(r);
  EXPECT_NE(r.err.find("kernel.io_uring_disabled"), std::string::npos) << describe(r);
}

TEST(EventLoopSelection, SaysWhichLoopRuns) {
  // Positive control beside the fallback: without the filter, either loop
  // may run (the machine may disable io_uring), and the log says which.
  auto r = jail_with({}, false, {"--log-level", "debug"}, {"/bin/true"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_NE(r.err.find("event loop: "), std::string::npos) << describe(r);
  auto forced = jail_with({"WWJAIL_EVENT_LOOP=epoll"}, false, {"--log-level", "debug"}, {"/bin/true"});
  ASSERT_EQ(forced.exit_code, 0) << describe(forced);
  EXPECT_NE(forced.err.find("event loop: epoll with worker threads (WWJAIL_EVENT_LOOP=epoll)"), std::string::npos)
      << describe(forced);
}

TEST(EventLoopSelection, DemandedIoUringNamesTheSeccompFilterNotTheSysctl) {
  auto r = jail_with({"WWJAIL_EVENT_LOOP=io_uring"}, true, {}, {"/bin/true"});
  EXPECT_EQ(r.exit_code, 125) << describe(r);
  EXPECT_EQ(lines(r.err), 1u) << describe(r);
  EXPECT_NE(r.err.find("io_uring_setup: Function not implemented: refused by a seccomp filter"), std::string::npos)
      << describe(r);
  EXPECT_EQ(r.err.find("disabled by"), std::string::npos) << describe(r);
}

TEST(EventLoopSelection, UnknownLoopIsOneLineAndExit125) {
  auto r = jail_with({"WWJAIL_EVENT_LOOP=kqueue"}, false, {}, {"/bin/true"});
  EXPECT_EQ(r.exit_code, 125) << describe(r);
  EXPECT_EQ(lines(r.err), 1u) << describe(r);
  EXPECT_NE(r.err.find("WWJAIL_EVENT_LOOP=kqueue: write io_uring, epoll or auto"), std::string::npos) << describe(r);
}

// Adversarial: a guest thread's FIFO open waits in the broker for a peer;
// another thread's open, and a pair of opens that wait for each other,
// must still be served (tests/guests/fifo_stall.c). A loop that serves its
// blocking operations one at a time hangs here (the guest's alarm reports
// "stalled").
class EventLoopStall : public ::testing::TestWithParam<const char*> {};

TEST_P(EventLoopStall, ABlockedFifoOpenStallsNoOtherThread) {
  ScratchDir dir;
  std::string w = dir.sub("w");
  auto r = jail_with({std::string("WWJAIL_EVENT_LOOP=") + GetParam()}, false, {"--broker-opens", "--write", w},
                     {guest("fifo_stall"), w}, 90);
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.out, "ok\n") << describe(r);
}

INSTANTIATE_TEST_SUITE_P(, EventLoopStall, ::testing::Values("auto", "epoll"),
                         [](const auto& info) { return std::string(info.param); });


// Adversarial: more guest threads than the epoll loop's old worker bound (64)
// block in connects to a unix listener that never accepts; a connect to a
// healthy listener must still be answered (tests/guests/connect_exhaust.c;
// its alarm reports "stalled"). The positive control blocks a few threads.
class EventLoopExhaust : public ::testing::TestWithParam<const char*> {
 protected:
  RunResult connect_after(int blocked) {
    ScratchDir dir;
    std::string s = dir.sub("s");
    std::vector<std::string> args = {"--bind",    "unix:" + s + "/full", "--bind",    "unix:" + s + "/room",
                                     "--connect", "unix:" + s + "/full", "--connect", "unix:" + s + "/room",
                                     "--write",   s};
    return jail_with({std::string("WWJAIL_EVENT_LOOP=") + GetParam()}, false, args,
                     {guest("connect_exhaust"), s, std::to_string(blocked)}, 60);
  }
};

TEST_P(EventLoopExhaust, AFewBlockedConnectsStallNoOtherConnect) {
  auto r = connect_after(4);
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.out, "ok\n") << describe(r);
}

TEST_P(EventLoopExhaust, ManyBlockedConnectsStallNoOtherConnect) {
  auto r = connect_after(80);
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.out, "ok\n") << describe(r);
}

INSTANTIATE_TEST_SUITE_P(, EventLoopExhaust, ::testing::Values("auto", "epoll"),
                         [](const auto& info) { return std::string(info.param); });

}  // namespace
}  // namespace wwjail::testing
