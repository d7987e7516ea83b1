// Kernel-first enforcement: the guest in its own view of the file system
// (shim/mount_view.h), where the kernel decides opens and the stat family.
// Each attack sits beside a positive control, so a jail that refuses
// everything fails these tests too. Runs as root (a mount namespace) and,
// in the unprivileged rerun, as an ordinary user (a user namespace).
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <sstream>
#include <thread>

#include "jail_runner.h"

namespace wwjail::testing {
namespace {

constexpr const char* kSecret = "VIEW-SECRET-5f1c";
constexpr const char* kInside = "view-inside";

// The mode under test: kernel-first, with the view.
std::vector<std::string> view_mode() { return {"--mediate", "auto"}; }

// escape_calls in the view; no output of it may hold the secret.
Calls view_calls(std::vector<std::string> args, const std::vector<Op>& ops) {
  auto mode = view_mode();
  args.insert(args.begin(), mode.begin(), mode.end());
  Calls o = calls(args, ops);
  EXPECT_EQ(o.run.out.find(kSecret), std::string::npos) << "the secret reached the guest\n" << describe(o.run);
  return o;
}

#define EXPECT_OP(o, i, expected) EXPECT_EQ((o)[i], expected) << "op " << (i) << "\n" << describe((o).run)
#define EXPECT_OP_PREFIX(o, i, prefix) \
  EXPECT_EQ((o)[i].rfind(prefix, 0), 0u) << "op " << (i) << ": " << (o)[i] << "\n" << describe((o).run)

// granted/inside.txt (read), writable/w.txt (write), secret.txt (never).
class View : public ::testing::Test {
 protected:
  ScratchDir dir;
  std::string granted = dir.sub("granted");
  std::string inside = dir.file("granted/inside.txt", std::string(kInside) + "\n");
  std::string writable = dir.sub("writable");
  std::string wfile = dir.file("writable/w.txt", "w\n");
  std::string secret = dir.file("secret.txt", std::string(kSecret) + "\n");
};

TEST_F(View, WhatIsNotGrantedDoesNotExist) {
  auto o = view_calls({"--read", granted},
                 {{"read", inside}, {"read", secret}, {"stat", secret}, {"stat", "/etc/shadow"}, {"chdir", "/root"}});
  EXPECT_OP(o, 0, "ok " + std::string(kInside));
  EXPECT_OP(o, 1, "err ENOENT");
  EXPECT_OP(o, 2, "err ENOENT");
  EXPECT_OP(o, 3, "err ENOENT");
  EXPECT_OP(o, 4, "err ENOENT");
}

TEST_F(View, ReadGrantsRefuseEveryWayOfWriting) {
  auto o = view_calls({"--read", granted, "--write", writable},
                 {{"write", wfile}, {"write", inside}, {"rdonly-reopen-write", inside}, {"opath-reopen-write", inside},
                  {"touch", granted + "/new"}, {"fchmod-rw", inside, "0777"}});
  EXPECT_OP_PREFIX(o, 0, "ok");
  EXPECT_OP_PREFIX(o, 1, "err");
  EXPECT_OP_PREFIX(o, 2, "err");
  EXPECT_OP_PREFIX(o, 3, "err");
  EXPECT_OP_PREFIX(o, 4, "err");
  EXPECT_OP_PREFIX(o, 5, "err");
}

// truncate(2) by path opens nothing for writing: in the view a read grant
// is a read-only mount, which refuses it before Landlock is asked.
TEST_F(View, ReadGrantsCannotBeTruncated) {
  auto o = view_calls({"--read", granted, "--write", writable},
                      {{"truncate", inside}, {"truncate", wfile}, {"read", inside}, {"read", wfile}});
  EXPECT_OP(o, 0, "err EROFS");
  EXPECT_OP(o, 1, "ok");
  EXPECT_OP(o, 2, "ok " + std::string(kInside));
  EXPECT_OP(o, 3, "ok ");  // truncated: empty
}

// A descriptor the guest inherits names the file through the host's mounts,
// where no read-only mount is in the way: a read grant stays unwritable
// through it (/proc/self/fd/0 reopened, or a path below an inherited
// directory), since only Landlock stands there.
RunResult with_stdin_from(const std::string& path, std::vector<std::string> args, const std::vector<std::string>& ops) {
  std::vector<std::string> argv{"/bin/sh", "-c", "f=$1; shift; exec \"$@\" < \"$f\"", "sh", path, wwjail_bin(),
                                "--mediate", "auto"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("--");
  argv.push_back(guest("escape_calls"));
  argv.insert(argv.end(), ops.begin(), ops.end());
  return run(argv, "", 30);
}

// stdin is `from`; `path` names granted/inside.txt through it: readable,
// never emptied.
void expect_readable_never_truncated(const std::string& from, const std::string& path, const std::string& granted,
                                     const std::string& inside) {
  auto r = with_stdin_from(from, {"--read", granted}, {"read", path, "open-trunc", path, "truncate", path});
  auto lines = split_lines(r.out);
  ASSERT_EQ(lines.size(), 3u) << describe(r);
  EXPECT_EQ(lines[0], "read ok " + std::string(kInside)) << describe(r);
  EXPECT_EQ(lines[1].rfind("open-trunc err", 0), 0u) << describe(r);
  EXPECT_EQ(lines[2].rfind("truncate err", 0), 0u) << describe(r);
  EXPECT_EQ(read_file(inside), std::string(kInside) + "\n");
}

TEST_F(View, AnInheritedFileCannotBeTruncatedThroughTheHostsMount) {
  expect_readable_never_truncated(inside, "/proc/self/fd/0", granted, inside);
}

TEST_F(View, AFileBelowAnInheritedDirectoryCannotBeTruncated) {
  expect_readable_never_truncated(granted, "/proc/self/fd/0/inside.txt", granted, inside);
}

// Grants only add: a read grant inside a write grant keeps the write, and a
// write grant inside a read grant is writable; the read grant around it is not.
TEST_F(View, NestedGrantsOnlyAdd) {
  std::string inner = dir.sub("writable/inner");
  std::string inner_file = dir.file("writable/inner/f.txt", "f\n");
  std::string rw_inside = dir.sub("granted/rw");
  std::string rw_file = dir.file("granted/rw/n.txt", "n\n");
  auto o = view_calls({"--write", writable, "--read", inner, "--read", granted, "--write", rw_inside},
                      {{"write", inner_file}, {"fchmod-unlinked", inner + "/new"}, {"write", rw_file},
                       {"write", inside}});
  EXPECT_OP_PREFIX(o, 0, "ok");
  EXPECT_OP_PREFIX(o, 1, "ok");
  EXPECT_OP_PREFIX(o, 2, "ok");
  EXPECT_OP_PREFIX(o, 3, "err");
}

// /dev/fd and /dev/std* are the guest's own descriptors, as on any Linux
// system: process substitution and scripts that read /dev/stdin work.
TEST_F(View, DevFdNamesTheGuestsOwnDescriptors) {
  auto o = view_calls({"--read", granted}, {{"read", "/dev/stdin"}, {"stat", "/dev/fd/1"}, {"stat", "/dev/stderr"}});
  EXPECT_OP(o, 0, "ok ");  // stdin is /dev/null here
  EXPECT_OP_PREFIX(o, 1, "ok");
  EXPECT_OP_PREFIX(o, 2, "ok");
}

// Metadata writes are the broker's in every mode: Landlock has no right for them.
TEST_F(View, MetadataWritesStayWithTheBroker) {
  auto o = view_calls({"--read", granted, "--write", writable},
                 {{"chmod", wfile, "0600"}, {"chmod", inside, "0777"}, {"setxattr", inside, "user.x"}});
  EXPECT_OP(o, 0, "ok");
  EXPECT_OP_PREFIX(o, 1, "err");
  EXPECT_OP_PREFIX(o, 2, "err");
  EXPECT_NE(o.run.err.find("chmod"), std::string::npos) << describe(o.run);
}

TEST_F(View, NoWayOutOfTheMountNamespace) {
  auto o = view_calls({"--read", granted}, {{"read", inside}, {"mount"}, {"umount"}, {"chroot"}, {"pivot-root"}, {"setns"},
                                       {"unshare-ns"}, {"clone-newns"}, {"unshare-user"}, {"clone-newuser"}});
  EXPECT_OP(o, 0, "ok " + std::string(kInside));
  for (size_t i = 1; i < o.outcome.size(); ++i) EXPECT_OP_PREFIX(o, i, "err");
}

// The guest's /proc holds itself and its descendants: not the reaper (PID 1
// of its namespace, outside its domain) and no host process.
TEST_F(View, ProcHoldsOnlyTheGuestsOwnProcesses) {
  auto o = view_calls({"--read", granted}, {{"own-proc-read", "status"}, {"child-proc-read", "status"},
                                       {"pid-proc-read", "1", "status"}, {"stat", "/proc/sys"}, {"stat", "/proc/1"}});
  EXPECT_OP_PREFIX(o, 0, "ok");
  EXPECT_OP_PREFIX(o, 1, "ok");
  EXPECT_OP_PREFIX(o, 2, "err");
  EXPECT_OP(o, 3, "err ENOENT");
  EXPECT_OP(o, 4, "err ENOENT");
}

// Without network grants the guest has a network namespace of its own:
// /proc/self/net shows a loopback, not the host's interfaces and sockets.
TEST_F(View, WithoutNetworkGrantsProcShowsNoHostNetwork) {
  auto r = jail({"--mediate", "auto", "--exec", "/usr/bin/cat"}, {"/usr/bin/cat", "/proc/self/net/dev"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  size_t interfaces = 0;
  for (const auto& line : split_lines(r.out)) {
    if (line.find(':') == std::string::npos) continue;  // the two header lines
    ++interfaces;
    EXPECT_NE(line.find("lo:"), std::string::npos) << line;
  }
  EXPECT_EQ(interfaces, 1u) << describe(r);
}

// The reaper makes that namespace while the guest child builds its view and
// hands it over (shim/net_namespace.h). When the kernel refuses to make one
// (here: a user namespace whose max_net_namespaces is 0), the guest must not
// run in the host's namespace instead: the run stops before exec. Control:
// the same refusal with a network grant, which needs no namespace, runs.
RunResult under_no_new_net_namespaces(const std::vector<std::string>& args, const std::vector<std::string>& command) {
  std::vector<std::string> argv = {"/usr/bin/unshare", "--user", "--map-root-user", "/bin/sh", "-c",
                                   "echo 0 > /proc/sys/user/max_net_namespaces && exec \"$0\" \"$@\"", wwjail_bin()};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("--");
  argv.insert(argv.end(), command.begin(), command.end());
  return run(argv);
}

TEST_F(View, ANetworkNamespaceTheKernelRefusesStopsTheRun) {
  std::vector<std::string> cat = {"/usr/bin/cat", "/proc/self/net/dev"};
  auto refused = under_no_new_net_namespaces({"--mediate", "auto", "--exec", "/usr/bin/cat"}, cat);
  EXPECT_EQ(refused.exit_code, 125) << describe(refused);
  EXPECT_EQ(refused.out, "") << describe(refused);
  EXPECT_NE(refused.err.find("making the guest's network namespace failed"), std::string::npos) << describe(refused);

  auto granted_net =
      under_no_new_net_namespaces({"--mediate", "auto", "--exec", "/usr/bin/cat", "--connect", "tcp:127.0.0.1:9"}, cat);
  EXPECT_EQ(granted_net.exit_code, 0) << describe(granted_net);
  EXPECT_NE(granted_net.out.find("lo:"), std::string::npos) << describe(granted_net);
}

// A view that cannot be built for want of descriptors is no reason to run
// without one (and without the guest's own network namespace): the run
// stops. Swept over open-file limits around the view's needs, since where
// the shortage bites depends on the run. Control: the runs that do start
// are in a view, and with a normal limit one does.
TEST_F(View, AnOpenFileLimitTooLowForTheViewStopsTheRun) {
#ifdef WWJAIL_TESTS_UNDER_SANITIZERS
  GTEST_SKIP() << "the sanitizer runtimes fail on their own at these open-file limits";
#endif
  std::string sock = dir.path() + "/listen.sock";
  bool ran_somewhere = false;
  for (int limit = 24; limit <= 48; ++limit) {
    ::unlink(sock.c_str());
    auto r = run({"/bin/sh", "-c", "ulimit -n " + std::to_string(limit) + " && exec \"$0\" \"$@\"", wwjail_bin(),
                  "--mediate", "auto", "--log-level", "debug", "--listen", "unix:" + sock, "--exec", "/usr/bin/cat",
                  "--", "/usr/bin/cat", "/proc/self/net/dev"},
                 "", 20);
    EXPECT_EQ(r.err.find("the view could not be built"), std::string::npos) << "limit " << limit << "\n" << describe(r);
    if (r.exit_code == 0) {
      ran_somewhere = true;
      EXPECT_EQ(r.out.find("eth"), std::string::npos) << "limit " << limit << "\n" << describe(r);
    } else {
      EXPECT_EQ(r.exit_code, 125) << "limit " << limit << "\n" << describe(r);
    }
  }
  EXPECT_TRUE(ran_somewhere);
}

// Whatever step the shortage of descriptors stops, the launch ends: a
// broker that cannot take the guest's listener must not wait for a child
// that waits for its go byte. In both modes; the control is that some
// limit in the sweep runs the guest.
TEST_F(View, AnOpenFileLimitTooLowEndsTheLaunchInEveryMode) {
#ifdef WWJAIL_TESTS_UNDER_SANITIZERS
  GTEST_SKIP() << "the sanitizer runtimes fail on their own at these open-file limits";
#endif
  for (const char* mode : {"files", "auto"}) {
    bool ran_somewhere = false;
    for (int limit = 20; limit <= 40; ++limit) {
      auto r = run({"/bin/sh", "-c", "ulimit -n " + std::to_string(limit) + " && exec \"$0\" \"$@\"", wwjail_bin(),
                    "--mediate", mode, "--", "/bin/true"},
                   "", 20);
      EXPECT_NE(r.exit_code, 128 + SIGKILL) << mode << " limit " << limit << ": hung\n" << describe(r);
      if (r.exit_code == 0) ran_somewhere = true;
    }
    EXPECT_TRUE(ran_somewhere) << mode;
  }
}

// A granted /dev/ptmx gives terminals of the guest's own (a devpts instance
// of its own): the host's terminals are not there.
TEST_F(View, AGrantedPtmxGivesTerminalsOfTheGuestsOwn) {
  auto r = jail({"--mediate", "auto", "--write", "/dev/ptmx", "--exec", "/usr/bin/ls", "--exec", guest("ioctl_probe")},
                {"/bin/sh", "-c", "ls /dev/pts; " + guest("ioctl_probe") + " pty"});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.out, "ptmx\npty ok pts 42x99\n") << describe(r);
}

// exec stays the broker's decision: a read grant is not an exec grant, and
// the loader is executable only through the programs that name it.
TEST_F(View, ExecNeedsAnExecGrant) {
  std::string cat = "/usr/bin/cat";
  auto o = view_calls({"--read", granted, "--read", "/usr/bin", "--exec", "/usr/bin/true"},
                 {{"exec", "/usr/bin/true"}, {"exec", cat}, {"exec2", "/lib64/ld-linux-x86-64.so.2", "/usr/bin/true"}});
  EXPECT_OP(o, 0, "ok exit=0");
  EXPECT_OP_PREFIX(o, 1, "err");
  EXPECT_OP_PREFIX(o, 2, "err");
}

TEST_F(View, APolicyTheViewCannotExpressIsMediated) {
  auto r = jail({"--mediate", "auto", "--log-level", "debug", "--list", granted, "--read", inside},
                {guest("escape_calls"), "list-has", granted, "inside.txt", "read", inside});
  EXPECT_NE(r.err.find("the broker mediates file calls: the policy has the list-only grant"), std::string::npos)
      << describe(r);
  EXPECT_NE(r.out.find("list-has ok"), std::string::npos) << describe(r);
}

// Processes whose command line holds `marker`, by pid, in this PID namespace.
std::vector<pid_t> processes_with(const std::string& marker) {
  std::vector<pid_t> out;
  DIR* d = ::opendir("/proc");
  while (dirent* e = d ? ::readdir(d) : nullptr) {
    char* end;
    long pid = std::strtol(e->d_name, &end, 10);
    if (*end || pid <= 0) continue;
    std::ifstream in("/proc/" + std::string(e->d_name) + "/cmdline");
    std::string cmd((std::istreambuf_iterator<char>(in)), {});
    if (cmd.find(marker) != std::string::npos) out.push_back(static_cast<pid_t>(pid));
  }
  if (d) ::closedir(d);
  return out;
}

// Fail closed: a SIGKILLed broker takes its guests (PID namespace and all) with it.
TEST_F(View, KillingTheBrokerEndsTheGuests) {
  std::string marker = "wwjail-view-marker-" + std::to_string(::getpid());
  pid_t broker = ::fork();
  ASSERT_GE(broker, 0);
  if (broker == 0) {
    std::string bin = wwjail_bin();
    ::execl(bin.c_str(), bin.c_str(), "--mediate", "auto", "--exec", "/usr/bin/sleep", "--", "/bin/sh", "-c",
            ("(sleep 30; :) & sleep 31; : " + marker).c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  bool started = false;
  for (int i = 0; i < 100 && !started; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    started = processes_with(marker).size() >= 4;  // wwjail, the reaper, the shell and its subshell
  }
  ASSERT_TRUE(started) << "the guest never started: " << processes_with(marker).size() << " processes";
  ::kill(broker, SIGKILL);
  int status;
  ::waitpid(broker, &status, 0);
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    gone = processes_with(marker).empty();
  }
  EXPECT_TRUE(gone) << "guests outlived their broker";
}

// Where no namespace can be made (a container's default seccomp profile),
// the broker mediates file calls as before, unless the policy lets metadata
// be visible: then Landlock still decides opens, without a view.
RunResult jail_without_namespaces(const std::string& metadata, const std::vector<std::string>& args,
                                  const std::vector<std::string>& command) {
  std::vector<std::string> argv{guest("no_namespaces"), wwjail_bin(), "--mediate", "auto", "--metadata", metadata,
                                "--log-level", "debug"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("--");
  argv.insert(argv.end(), command.begin(), command.end());
  return run(argv, "", 30);
}

TEST_F(View, WithoutNamespacesTheBrokerMediates) {
  auto r = jail_without_namespaces("hidden", {"--read", granted},
                                   {guest("escape_calls"), "read", inside, "read", secret, "stat", secret});
  EXPECT_NE(r.err.find("the kernel refused the view's namespaces"), std::string::npos) << describe(r);
  EXPECT_NE(r.out.find("read ok " + std::string(kInside)), std::string::npos) << describe(r);
  EXPECT_NE(r.out.find("read err EACCES"), std::string::npos) << describe(r);
  EXPECT_NE(r.out.find("stat err EACCES"), std::string::npos) << describe(r);
  EXPECT_NE(r.err.find("denied"), std::string::npos) << "the broker logs its denials\n" << describe(r);
  EXPECT_EQ(r.out.find(kSecret), std::string::npos) << describe(r);
}

TEST_F(View, WithoutNamespacesVisibleMetadataLeavesOpensToLandlock) {
  auto r = jail_without_namespaces(
      "visible", {"--read", granted},
      {guest("escape_calls"), "read", inside, "read", secret, "stat", secret, "own-proc-read", "status",
       "pid-proc-read", "1", "environ"});
  EXPECT_NE(r.err.find("the kernel decides file calls without a view"), std::string::npos) << describe(r);
  auto lines = split_lines(r.out);
  ASSERT_EQ(lines.size(), 5u) << describe(r);
  EXPECT_EQ(lines[0], "read ok " + std::string(kInside));
  EXPECT_EQ(lines[1], "read err EACCES");
  EXPECT_EQ(lines[2].rfind("stat ok", 0), 0u) << "metadata is visible, as asked\n" << describe(r);
  EXPECT_EQ(lines[3].rfind("own-proc-read ok", 0), 0u) << describe(r);
  EXPECT_EQ(lines[4].rfind("pid-proc-read err", 0), 0u) << "another process's environ stays closed\n" << describe(r);
  EXPECT_EQ(r.out.find(kSecret), std::string::npos) << describe(r);
}

// Without a view nothing is a read-only mount: Landlock alone refuses the
// truncation of a read grant (the kernel decides truncate(2) here).
TEST_F(View, WithoutNamespacesLandlockRefusesTruncatingAReadGrant) {
  auto r = jail_without_namespaces("visible", {"--read", granted, "--write", writable},
                                   {guest("escape_calls"), "truncate", inside, "truncate", wfile, "read", inside});
  EXPECT_NE(r.err.find("the kernel decides file calls without a view"), std::string::npos) << describe(r);
  auto lines = split_lines(r.out);
  ASSERT_EQ(lines.size(), 3u) << describe(r);
  EXPECT_EQ(lines[0], "truncate err EACCES") << describe(r);
  EXPECT_EQ(lines[1], "truncate ok") << describe(r);
  EXPECT_EQ(lines[2], "read ok " + std::string(kInside)) << describe(r);
}

TEST_F(View, WithoutNamespacesTheBrokerRefusesTruncatingAReadGrant) {
  auto r = jail_without_namespaces("hidden", {"--read", granted, "--write", writable},
                                   {guest("escape_calls"), "truncate", inside, "truncate", wfile, "read", inside});
  auto lines = split_lines(r.out);
  ASSERT_EQ(lines.size(), 3u) << describe(r);
  EXPECT_EQ(lines[0].rfind("truncate err", 0), 0u) << describe(r);
  EXPECT_EQ(lines[1], "truncate ok") << describe(r);
  EXPECT_EQ(lines[2], "read ok " + std::string(kInside)) << describe(r);
}

// Visible metadata is stat, readlink and access: an xattr's value is data,
// and stays the broker's to refuse outside the grants.
TEST_F(View, WithoutNamespacesXattrValuesOutsideTheGrantsStayClosed) {
  ASSERT_EQ(::setxattr(secret.c_str(), "user.note", "XATTR-SECRET", 12, 0), 0) << std::strerror(errno);
  ASSERT_EQ(::setxattr(inside.c_str(), "user.note", "granted-note", 12, 0), 0) << std::strerror(errno);
  auto r = jail_without_namespaces("visible", {"--read", granted},
                                   {guest("escape_calls"), "getxattr", secret, "user.note", "getxattr", inside,
                                    "user.note", "stat", secret});
  auto lines = split_lines(r.out);
  ASSERT_EQ(lines.size(), 3u) << describe(r);
  EXPECT_EQ(lines[0].rfind("getxattr err", 0), 0u) << describe(r);
  EXPECT_EQ(lines[1], "getxattr ok granted-note") << describe(r);
  EXPECT_EQ(lines[2].rfind("stat ok", 0), 0u) << describe(r);
  EXPECT_EQ(r.out.find("XATTR-SECRET"), std::string::npos) << describe(r);
}

}  // namespace
}  // namespace wwjail::testing
