// The control plane, black-box: `wwjail --name` serves a control socket and
// `wwjail ctl` lists, stops and watches the run through it. Each test has a
// control directory of its own (WWJAIL_CONTROL_DIR), so tests running at
// once do not see each other's jails.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <future>
#include <thread>

#include "jail_runner.h"

namespace wwjail::testing {
namespace {

class Control : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = scratch_.path() + "/ctl";
    ::setenv("WWJAIL_CONTROL_DIR", dir_.c_str(), 1);
  }
  void TearDown() override { ::unsetenv("WWJAIL_CONTROL_DIR"); }

  // wwjail ARGS -- COMMAND in the background.
  std::future<RunResult> start(const std::vector<std::string>& args, const std::vector<std::string>& command) {
    std::vector<std::string> argv{wwjail_bin()};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--");
    argv.insert(argv.end(), command.begin(), command.end());
    return std::async(std::launch::async, [argv] { return run(argv, "", 60); });
  }
  std::string sock(const std::string& name) const { return dir_ + "/" + name + ".sock"; }
  // Until `name`'s socket exists (false after 10 s).
  bool wait_for_socket(const std::string& name) const {
    for (int i = 0; i < 1000; ++i) {
      struct stat st{};
      if (::stat(sock(name).c_str(), &st) == 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  // A guest that must have set its traps before it is stopped touches
  // ready() (in a directory of its own: a write grant over the control
  // directory would be refused).
  std::string ready() const { return marks_.path() + "/ready"; }
  bool wait_until_ready(int seconds = 10) const {
    for (int i = 0; i < seconds * 100; ++i) {
      if (::access(ready().c_str(), F_OK) == 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  RunResult ctl(const std::vector<std::string>& args, int timeout_s = 30) {
    std::vector<std::string> argv{wwjail_bin(), "ctl"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, "", timeout_s);
  }

  ScratchDir scratch_, marks_;
  std::string dir_;
};

const std::vector<std::string> kShell{"--read", "/usr", "--exec", "/usr/bin"};

std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST_F(Control, PsListsTheRunAndStopEndsItWithTheGuestsStatus) {
  auto jail = start(with(kShell, {"--name", "c1", "--write", marks_.path()}),
                    {"/bin/sh", "-c", "trap 'exit 7' TERM; touch " + ready() + "; while :; do sleep 0.05; done"});
  ASSERT_TRUE(wait_for_socket("c1"));
  ASSERT_TRUE(wait_until_ready());
  RunResult ps = ctl({"ps"});
  EXPECT_EQ(ps.exit_code, 0) << describe(ps);
  EXPECT_NE(ps.out.find("c1 "), std::string::npos) << ps.out;
  EXPECT_NE(ps.out.find("trap 'exit 7' TERM"), std::string::npos) << ps.out;
  RunResult js = ctl({"ps", "--json"});
  auto lines = split_lines(js.out);
  ASSERT_EQ(lines.size(), 1u) << js.out;
  auto j = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(j["name"], "c1");
  EXPECT_EQ(j["mode"], "enforce");
  EXPECT_EQ(j["program"], "/usr/bin/dash");
  EXPECT_GT(j["main_pid"].get<int>(), 0);
  RunResult stop = ctl({"stop", "c1", "--grace", "20s"});
  EXPECT_EQ(stop.exit_code, 0) << describe(stop);
  RunResult r = jail.get();
  EXPECT_EQ(r.exit_code, 7) << describe(r);
  EXPECT_NE(r.err.find("stop asked for over the control socket"), std::string::npos) << r.err;
  struct stat st{};
  EXPECT_NE(::stat(sock("c1").c_str(), &st), 0) << "the socket outlived the run";
  EXPECT_EQ(ctl({"ps"}).out.find("c1 "), std::string::npos);
}

TEST_F(Control, StopKillsAGuestThatIgnoresTermAfterTheGrace) {
  auto jail = start(with(kShell, {"--name", "c2", "--write", marks_.path()}),
                    {"/bin/sh", "-c", "trap '' TERM; touch " + ready() + "; while :; do sleep 0.05; done"});
  ASSERT_TRUE(wait_for_socket("c2"));
  ASSERT_TRUE(wait_until_ready());
  RunResult stop = ctl({"stop", "c2", "--grace", "200ms"});
  EXPECT_EQ(stop.exit_code, 0) << describe(stop);
  RunResult r = jail.get();
  EXPECT_EQ(r.exit_code, 128 + SIGKILL) << describe(r);
  EXPECT_NE(r.err.find("outlived the stop's grace"), std::string::npos) << r.err;
}

TEST_F(Control, EventsShowsTheDenialsAsTheyComeAndEndsWithTheRun) {
  // Distinct targets, so that none is folded into a repeat; long enough for
  // the subscriber to be there for most of them.
  auto jail = start(with(kShell, {"--name", "c3", "--mediate", "files"}),
                    {"/bin/sh", "-c", "sleep 0.3; for i in $(seq 60); do cat /etc/shadow-$i 2>/dev/null; sleep 0.05; done; exit 0"});
  ASSERT_TRUE(wait_for_socket("c3"));
  RunResult ev = ctl({"events", "c3", "--json"}, 60);
  RunResult r = jail.get();
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(ev.exit_code, 0) << describe(ev);
  int shadow = 0;
  for (const auto& line : split_lines(ev.out)) {
    auto j = nlohmann::json::parse(line);
    if (j["syscall"] == "openat" && j["decision"] == "deny" &&
        j["target"].get<std::string>().rfind("/etc/shadow-", 0) == 0)
      ++shadow;
  }
  EXPECT_GE(shadow, 10) << ev.out;
}

// A guest that may connect to its jail's control socket, and runs wwjail ctl
// itself, must not be served: the broker performs its connects, so the
// server sees the broker's pid, and refuses whoever supervises guests. The
// same stop from outside, after it, ends the run (a jail that refused every
// client would pass the first half alone).
TEST_F(Control, AGuestGrantedItsControlSocketCannotStopItsJail) {
  ASSERT_EQ(::mkdir(dir_.c_str(), 0700), 0);  // granted, so it must exist
#ifdef WWJAIL_TESTS_UNDER_SANITIZERS
  // The guest here is wwjail itself, instrumented: under --mediate files its
  // LeakSanitizer cannot read /proc/PID/task and fails on its own. The
  // plain tree runs both modes.
  const std::vector<const char*> modes{"auto"};
#else
  const std::vector<const char*> modes{"auto", "files"};
#endif
  for (const char* mode : modes) {
    SCOPED_TRACE(mode);
    std::string name = std::string("c4") + mode;
    ::unlink(ready().c_str());
    std::string inner = wwjail_bin() + " ctl stop " + name + " --grace 0; echo inner=$?; sleep 0.5; echo alive; " +
                        "touch " + ready() + "; while :; do sleep 0.05; done";
    std::string bin_dir = wwjail_bin().substr(0, wwjail_bin().rfind('/'));
    auto jail = start(with(kShell, {"--name", name, "--mediate", mode, "--write", marks_.path(), "--exec", bin_dir,
                                    "--read", dir_, "--connect",
                                    "unix:" + sock(name), "--env", "WWJAIL_CONTROL_DIR=" + dir_}),
                      {"/bin/sh", "-c", inner});
    ASSERT_TRUE(wait_for_socket(name));
    // The guest tries first (a refused ctl waits 3 s to tell a refusal from
    // a run that ended); then the outside stops the run.
    ASSERT_TRUE(wait_until_ready(30));
    RunResult stop = ctl({"stop", name, "--grace", "5s"});
    EXPECT_EQ(stop.exit_code, 0) << describe(stop);
    RunResult r = jail.get();
    EXPECT_NE(r.out.find("inner=1\nalive"), std::string::npos) << describe(r);
    EXPECT_NE(r.err.find("refused a connection"), std::string::npos) << r.err;
    EXPECT_EQ(r.exit_code, 128 + SIGTERM) << describe(r);
  }
}

TEST_F(Control, ANameInUseStopsTheSecondRunAndADeadRunsSocketIsReplaced) {
  auto jail = start(with(kShell, {"--name", "c5"}), {"/bin/sh", "-c", "sleep 30"});
  ASSERT_TRUE(wait_for_socket("c5"));
  RunResult second = run({wwjail_bin(), "--name", "c5", "--", "/bin/true"});
  EXPECT_EQ(second.exit_code, 125) << describe(second);
  EXPECT_NE(second.err.find("a jail named c5 is running"), std::string::npos) << second.err;
  RunResult stop = ctl({"stop", "c5", "--grace", "1s"});
  EXPECT_EQ(stop.exit_code, 0) << describe(stop);
  jail.get();
  // A socket nobody listens on, as a run killed with SIGKILL leaves.
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  std::strcpy(un.sun_path, sock("c6").c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&un), sizeof un), 0) << std::strerror(errno);
  ::close(fd);
  RunResult third = run({wwjail_bin(), "--name", "c6", "--", "/bin/true"});
  EXPECT_EQ(third.exit_code, 0) << describe(third);
  struct stat st{};
  EXPECT_NE(::stat(sock("c6").c_str(), &st), 0);
}

TEST_F(Control, AWriteGrantOverTheControlDirectoryIsRefused) {
  RunResult r = run({wwjail_bin(), "--name", "c7", "--write", scratch_.path(), "--", "/bin/true"});
  EXPECT_EQ(r.exit_code, 125) << describe(r);
  EXPECT_NE(r.err.find("covers the control directory"), std::string::npos) << r.err;
  struct stat st{};
  EXPECT_NE(::stat(sock("c7").c_str(), &st), 0) << "the refused run left its socket";
  // An audit run's guest may write anywhere.
  RunResult audit = run({wwjail_bin(), "--name", "c7", "--audit", "--", "/bin/true"});
  EXPECT_EQ(audit.exit_code, 125) << describe(audit);
  EXPECT_NE(audit.err.find("refused with --audit and learn"), std::string::npos) << audit.err;
  // Beside it, a write grant elsewhere runs.
  ScratchDir other;
  EXPECT_EQ(run({wwjail_bin(), "--name", "c7", "--write", other.path(), "--", "/bin/true"}).exit_code, 0);
}

TEST_F(Control, AnUntrustedControlDirectoryIsRefusedByBothSides) {
  ASSERT_EQ(::mkdir(dir_.c_str(), 0777), 0);
  ASSERT_EQ(::chmod(dir_.c_str(), 0777), 0);
  RunResult r = run({wwjail_bin(), "--name", "c8", "--", "/bin/true"});
  EXPECT_EQ(r.exit_code, 125) << describe(r);
  EXPECT_NE(r.err.find("writable by its group or others"), std::string::npos) << r.err;
  RunResult ps = ctl({"ps"});
  EXPECT_EQ(ps.exit_code, 125) << describe(ps);
  EXPECT_NE(ps.err.find("cannot be trusted"), std::string::npos) << ps.err;
}

// Garbage, a client that never speaks, more connections than allowed: the
// run goes on, a well-behaved client is still served, and the guest's status
// is its own.
TEST_F(Control, HostileClientsLeaveTheRunAndOtherClientsAlone) {
  auto jail = start(with(kShell, {"--name", "c9"}), {"/bin/sh", "-c", "sleep 3; exit 5"});
  ASSERT_TRUE(wait_for_socket("c9"));
  std::vector<int> held;
  for (int i = 0; i < 24; ++i) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    std::strcpy(un.sun_path, sock("c9").c_str());
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&un), sizeof un), 0);
    if (i % 3 == 0) {
      std::string junk(4096, '\xff');
      (void)!::write(fd, junk.data(), junk.size());
    }
    held.push_back(fd);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  for (int fd : held) ::close(fd);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  RunResult ps = ctl({"ps"});
  EXPECT_NE(ps.out.find("c9 "), std::string::npos) << describe(ps);
  RunResult r = jail.get();
  EXPECT_EQ(r.exit_code, 5) << describe(r);
}

// Without a PID namespace only the reaper knows the tree: a stop whose
// grace runs out must end every guest process, not just the reaper (which
// left a child that ignored SIGTERM running, re-parented to init).
TEST_F(Control, AStopsKillLeavesNoGuestProcessWithoutAView) {
  const std::string marker = "917.25";  // a sleep nobody else runs
  auto jail = start(with(kShell, {"--name", "c10", "--mediate", "files", "--write", marks_.path()}),
                    {"/bin/sh", "-c", "trap '' TERM; (trap '' TERM; exec sleep " + marker + ") & touch " + ready() +
                                          "; wait"});
  ASSERT_TRUE(wait_for_socket("c10"));
  ASSERT_TRUE(wait_until_ready());
  auto survivors = [&] { return run({"/usr/bin/pgrep", "-f", "sleep " + marker}).exit_code == 0; };
  for (int i = 0; i < 100 && !survivors(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(survivors()) << "the guest's child never ran (control)";
  EXPECT_EQ(ctl({"stop", "c10", "--grace", "100ms"}).exit_code, 0);
  RunResult r = jail.get();
  EXPECT_EQ(r.exit_code, 128 + SIGKILL) << describe(r);
  bool left = survivors();
  if (left) run({"/usr/bin/pkill", "-KILL", "-f", "sleep " + marker});
  EXPECT_FALSE(left) << "a guest process outlived the run";
}

// No run's guest may listen where control sockets are: a bind or --listen
// grant there is refused at start, and a socket a guest planted there (by a
// rename from a directory it may bind in) is not taken for a jail's.
TEST_F(Control, AGuestCannotPassItsOwnSocketOffAsAJail) {
  ASSERT_EQ(::mkdir(dir_.c_str(), 0700), 0);
  for (const char* flag : {"--bind", "--listen"}) {
    RunResult r = run({wwjail_bin(), "--read", "/usr", flag, "unix:" + dir_ + "/victim.sock", "--", "/bin/true"});
    EXPECT_EQ(r.exit_code, 125) << flag << describe(r);
    EXPECT_NE(r.err.find("control directory"), std::string::npos) << r.err;
  }
  std::string fake = scratch_.file("fake.py", R"PY(
import socket, os, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(8)
os.rename(sys.argv[1], sys.argv[2])
open(sys.argv[3], "w").close()
while True:
    c, _ = s.accept(); c.recv(4096); c.close()
)PY");
  std::string bound = scratch_.path() + "/app.sock";
  std::string planted = sock("victim");
  auto jail = start({"--read", "/usr", "--read", fake, "--write", scratch_.path(), "--bind", "unix:" + bound,
                     "--write", marks_.path(), "--timeout", "20s"},
                    {"/usr/bin/python3", fake, bound, planted, ready()});
  ASSERT_TRUE(wait_until_ready()) << describe(jail.get());
  struct stat st{};
  ASSERT_EQ(::lstat(planted.c_str(), &st), 0) << "the plant did not happen (control)";
  RunResult ps = ctl({"ps"});
  EXPECT_EQ(ps.out.find("victim"), std::string::npos) << describe(ps);
  EXPECT_NE(ps.err.find("does not hold the socket"), std::string::npos) << describe(ps);
  RunResult stop = ctl({"stop", "victim"});
  EXPECT_EQ(stop.exit_code, 1) << describe(stop);
  // A link to a socket elsewhere is not followed either.
  ::unlink(planted.c_str());
  ASSERT_EQ(::symlink(bound.c_str(), planted.c_str()), 0);
  EXPECT_NE(ctl({"stop", "victim"}).err.find("not a socket of this user's"), std::string::npos);
  ::unlink(planted.c_str());
  run({"/usr/bin/pkill", "-f", fake});
  jail.get();
}

// The socket a named jail's guest listens on was listened on by that jail's
// broker, which also holds the jail's real control socket. Swapped into the
// control socket's place (by another run that may write there), it must not
// pass for the jail: ctl matches the socket it reached, by its file, with a
// socket the listener holds. Swapped back, the same ctl stops the run.
TEST_F(Control, ASocketSwappedIntoAJailsPlaceIsNotTakenForIt) {
  std::string fake = scratch_.file("fake.py", R"PY(
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(8)
open(sys.argv[2], "w").close()
while True:
    c, _ = s.accept(); c.recv(4096); c.close()
)PY");
  std::string bound = scratch_.path() + "/s.sock", moved = scratch_.path() + "/orig.sock";
  auto jail = start({"--name", "c11", "--read", "/usr", "--read", fake, "--bind", "unix:" + bound, "--write",
                     marks_.path(), "--timeout", "30s"},
                    {"/usr/bin/python3", fake, bound, ready()});
  ASSERT_TRUE(wait_for_socket("c11"));
  ASSERT_TRUE(wait_until_ready());
  auto swap = [&](const std::string& a, const std::string& b, const std::string& c) {
    return run({wwjail_bin(), "--read", "/usr", "--exec", "/usr/bin", "--write", scratch_.path(), "--", "/bin/sh", "-c",
                "mv " + a + " " + b + " && mv " + c + " " + a});
  };
  ASSERT_EQ(swap(sock("c11"), moved, bound).exit_code, 0);
  RunResult fooled = ctl({"stop", "c11", "--grace", "1s"});
  EXPECT_EQ(fooled.exit_code, 1) << describe(fooled);
  EXPECT_NE(fooled.err.find("does not hold the socket"), std::string::npos) << fooled.err;
  RunResult ps = ctl({"ps"});
  EXPECT_EQ(ps.out.find("c11"), std::string::npos) << describe(ps);
  // Back in place, the real one stops the run (control).
  ASSERT_EQ(swap(sock("c11"), bound, moved).exit_code, 0);
  RunResult stop = ctl({"stop", "c11", "--grace", "1s"});
  EXPECT_EQ(stop.exit_code, 0) << describe(stop);
  RunResult r = jail.get();
  EXPECT_EQ(r.exit_code, 128 + SIGTERM) << describe(r);
}

TEST_F(Control, BadUsageAndAbsentJailsSayWhatIsWrong) {
  RunResult none = ctl({"stop", "nosuch"});
  EXPECT_EQ(none.exit_code, 1) << describe(none);
  EXPECT_NE(none.err.find("no jail named nosuch is running"), std::string::npos) << none.err;
  RunResult bad = ctl({"events", "../x"});
  EXPECT_EQ(bad.exit_code, 125) << describe(bad);
  EXPECT_EQ(ctl({}).exit_code, 125);
  EXPECT_EQ(ctl({"stop", "x", "--grace", "soon"}).exit_code, 125);
  RunResult name = run({wwjail_bin(), "--name", "a/b", "--", "/bin/true"});
  EXPECT_EQ(name.exit_code, 125);
  EXPECT_EQ(split_lines(name.err).size(), 1u) << name.err;
  RunResult empty = ctl({"ps"});
  EXPECT_EQ(empty.exit_code, 0) << describe(empty);
}

}  // namespace
}  // namespace wwjail::testing

namespace wwjail::testing {
namespace {

// --timeout needs no control socket: the run ends itself, SIGTERM first.
TEST(Timeout, ARunIsStoppedAfterItsTimeoutAndKilledAfterTheGrace) {
  RunResult polite = run({wwjail_bin(), "--read", "/usr", "--exec", "/usr/bin", "--timeout", "600ms", "--", "/bin/sh",
                          "-c", "trap 'exit 9' TERM; while :; do sleep 0.05; done"});
  EXPECT_EQ(polite.exit_code, 9) << describe(polite);
  EXPECT_NE(polite.err.find("reached its --timeout of 600 ms"), std::string::npos) << polite.err;
  RunResult stubborn = run({wwjail_bin(), "--read", "/usr", "--exec", "/usr/bin", "--timeout", "600ms",
                            "--timeout-grace", "200ms", "--", "/bin/sh", "-c", "trap '' TERM; while :; do sleep 0.05; done"});
  EXPECT_EQ(stubborn.exit_code, 128 + SIGKILL) << describe(stubborn);
  // Beside them, a run that ends first is not touched.
  RunResult quick = run({wwjail_bin(), "--timeout", "30s", "--", "/bin/true"});
  EXPECT_EQ(quick.exit_code, 0) << describe(quick);
  EXPECT_EQ(quick.err, "");
  for (const char* bad : {"0", "soon", "5x", "-1"}) {
    RunResult r = run({wwjail_bin(), "--timeout", bad, "--", "/bin/true"});
    EXPECT_EQ(r.exit_code, 125) << bad;
    EXPECT_EQ(split_lines(r.err).size(), 1u) << r.err;
  }
}

}  // namespace
}  // namespace wwjail::testing
