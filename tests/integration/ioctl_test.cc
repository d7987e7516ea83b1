// ioctl is an allow-list decided in the filter (shim/ioctl_allowlist.cc);
// everything else is refused by the broker with EPERM and one log line.
// The guest (tests/guests/ioctl_probe.c) tries the inode and filesystem
// writes an "allow all but TIOCSTI" filter let through, on a file granted
// read-only, beside the ordinary commands that must keep working. Real
// programs run after it, to show nothing common now needs a refused one.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "jail_runner.h"

namespace wwjail::testing {
namespace {

struct Probe {
  RunResult run;
  std::vector<std::string> outcome;  // one per op, without the op's name
  std::string log;
  const std::string& operator[](size_t i) const { return outcome.at(i); }
};

// Runs ioctl_probe with `ops` ({"getflags", FILE} or {"fionread"}), jailed
// with `args` and the log in a file, or directly when `jailed` is false.
Probe probe(const std::vector<std::string>& args, const std::vector<std::vector<std::string>>& ops,
            bool jailed = true) {
  ScratchDir logs;
  std::string log = logs.path() + "/log";
  std::vector<std::string> command{guest("ioctl_probe")};
  for (const auto& op : ops) command.insert(command.end(), op.begin(), op.end());
  std::vector<std::string> jail_args{"--log", log};
  jail_args.insert(jail_args.end(), args.begin(), args.end());
  Probe p;
  p.run = jailed ? jail(jail_args, command, 30) : run(command, "", 30);
  p.log = read_file(log);
  std::istringstream lines(p.run.out);
  std::string line;
  for (const auto& op : ops) {
    std::string prefix = op[0] + " ";
    if (std::getline(lines, line) && line.rfind(prefix, 0) == 0) {
      p.outcome.push_back(line.substr(prefix.size()));
    } else {
      p.outcome.push_back("<missing: " + op[0] + ">");
    }
  }
  return p;
}

std::string describe(const Probe& p) {
  return "exit " + std::to_string(p.run.exit_code) + "\n--- stdout:\n" + p.run.out + "\n--- stderr:\n" + p.run.err +
         "\n--- log:\n" + p.log;
}

size_t count(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1)) ++n;
  return n;
}

// The inode's flags, or -1. The kernel reads and writes an int, whatever
// the "long" in FS_IOC_GETFLAGS's definition says.
long inode_flags(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  int flags = 0;
  bool ok = fd >= 0 && ::ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0;
  if (fd >= 0) ::close(fd);
  return ok ? flags : -1;
}

TEST(Ioctl, InodeAndFilesystemWritesAreRefusedOnAReadOnlyGrant) {
  ScratchDir dir;
  std::string file = dir.file("ro.txt", "data\n");
  long before = inode_flags(file);
  auto p = probe({"--read", dir.path()},
                 {{"setflags-immutable", file},
                  {"setflags-append", file},
                  {"setflags-high", file},
                  {"setversion", file},
                  {"freeze"},
                  // Positive controls in the same guest: reads of the same file,
                  // an ordinary command on a pipe.
                  {"getflags", file},
                  {"fionread"}});
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(p[i], "err EPERM") << "op " << i << "\n" << describe(p);
  EXPECT_EQ(p[5], "ok") << describe(p);
  EXPECT_EQ(p[6], "ok 3") << describe(p);
  EXPECT_EQ(p.run.exit_code, 0) << describe(p);
  // The inode is untouched, whatever the guest claims.
  EXPECT_EQ(inode_flags(file), before);
  EXPECT_EQ(inode_flags(file) & (FS_IMMUTABLE_FL | FS_APPEND_FL), 0) << describe(p);

  // One denial per refused call, naming the command in hex and the file.
  EXPECT_EQ(count(p.log, "ioctl " + file + " (ioctl 0x40086602 FS_IOC_SETFLAGS"), 3u) << describe(p);
  EXPECT_EQ(count(p.log, "upper half 0xdead0000 ignored by the kernel"), 1u) << describe(p);
  EXPECT_EQ(count(p.log, "ioctl " + file + " (ioctl 0x40087602 FS_IOC_SETVERSION"), 1u) << describe(p);
  EXPECT_EQ(count(p.log, "(ioctl 0xc0045877 FIFREEZE is not on the allow-list)"), 1u) << describe(p);
  EXPECT_NE(p.log.find("ioctl pipe:["), std::string::npos) << describe(p);
  // The allowed commands left no line.
  EXPECT_EQ(count(p.log, "FS_IOC_GETFLAGS"), 0u) << describe(p);
  EXPECT_EQ(count(p.log, "FIONREAD"), 0u) << describe(p);
}

TEST(Ioctl, TheInodeWriteIsRealOutsideTheJail) {
  // Without the jail, the same guest sets +i on a file it opened read-only
  // (root on a filesystem with inode flags): what the jail refuses is real.
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (inode flags belong to the owner or CAP_LINUX_IMMUTABLE)";
  ScratchDir dir;
  std::string file = dir.file("ro.txt", "data\n");
  if (inode_flags(file) < 0) GTEST_SKIP() << "no inode flags on this filesystem";
  auto p = probe({}, {{"setflags-immutable", file}}, false);
  EXPECT_EQ(p[0], "ok (changed, then restored)") << describe(p);
  EXPECT_EQ(inode_flags(file) & FS_IMMUTABLE_FL, 0);
}

TEST(Ioctl, OrdinaryCommandsStillWork) {
  ScratchDir dir;
  std::string file = dir.file("ro.txt", "data\n");
  auto p = probe({"--read", dir.path(), "--write", "/dev/ptmx"},
                 {{"tcgets-null"},
                  {"tcgets-null-high"},
                  {"isatty-null"},
                  {"pty"},
                  {"fionread"},
                  {"fionbio"},
                  {"fioclex"},
                  {"siocgifconf"},
                  {"siocgifindex"},
                  {"getflags", file}});
  // /dev/null is no terminal: the kernel's answer, not the jail's.
  EXPECT_EQ(p[0], "err ENOTTY") << describe(p);
  EXPECT_EQ(p[1], "err ENOTTY") << describe(p);
  EXPECT_EQ(p[2], "ok 0 ENOTTY") << describe(p);
  EXPECT_EQ(p[3], "ok pts 42x99") << describe(p);
  EXPECT_EQ(p[4], "ok 3") << describe(p);
  EXPECT_EQ(p[5], "ok nonblock") << describe(p);
  EXPECT_EQ(p[6], "ok cloexec") << describe(p);
  EXPECT_EQ(p[7], "ok interfaces") << describe(p);
  EXPECT_EQ(p[8], "ok indexed") << describe(p);
  EXPECT_EQ(p[9], "ok") << describe(p);
  EXPECT_EQ(p.log.find(" ioctl "), std::string::npos) << describe(p);
}

TEST(Ioctl, TheJsonDenialNamesCommandAndTarget) {
  ScratchDir dir;
  std::string file = dir.file("ro.txt", "data\n");
  auto p = probe({"--read", dir.path(), "--log-format", "json"}, {{"setflags-immutable", file}});
  EXPECT_EQ(p[0], "err EPERM") << describe(p);
  std::istringstream lines(p.log);
  int found = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.find("\"syscall\":\"ioctl\"") == std::string::npos) continue;
    ++found;
    EXPECT_NE(line.find("\"decision\":\"deny\""), std::string::npos) << line;
    EXPECT_NE(line.find("\"errno\":\"EPERM\""), std::string::npos) << line;
    EXPECT_NE(line.find("\"target\":\"" + file + "\""), std::string::npos) << line;
    EXPECT_NE(line.find("\"need\":\"ioctl\""), std::string::npos) << line;
    EXPECT_NE(line.find("0x40086602 FS_IOC_SETFLAGS"), std::string::npos) << line;
  }
  EXPECT_EQ(found, 1) << describe(p);
}

// Real programs: each must succeed with no ioctl in the log.
bool have(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

void expect_no_ioctl_denial(const std::string& log, const std::string& what) {
  EXPECT_EQ(log.find(" ioctl "), std::string::npos) << what << "\n--- log:\n" << log;
}

TEST(IoctlPrograms, LsAndPythonInAPty) {
  // script(1) gives the jail a pseudo-terminal, outside the jail, so the
  // guest's stdin and stdout are a terminal.
  if (!have("/usr/bin/script") || !have("/bin/ls")) GTEST_SKIP() << "script or ls missing";
  ScratchDir dir;
  dir.file("a.txt", "x");
  dir.sub("subdir");
  std::string log = dir.path() + "/jail.log";
  std::string jail_cmd = wwjail_bin() + " --log " + log + " --read " + dir.path() + " -- /bin/ls --color=always " +
                         dir.path();
  auto r = run({"/usr/bin/script", "-qec", jail_cmd, "/dev/null"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("\x1b["), std::string::npos) << "ls printed no colour: " << r.out;  // the directory is coloured
  EXPECT_NE(r.out.find("a.txt"), std::string::npos) << r.out;
  expect_no_ioctl_denial(read_file(log), "ls");

  if (!have("/usr/bin/python3")) GTEST_SKIP() << "python3 missing";
  std::string py_log = dir.path() + "/py.log";
  std::string py = "stty cols 91 rows 37; " + wwjail_bin() + " --log " + py_log +
                   " --read /usr/lib/python3 --read /usr/lib/python3.11 -- /usr/bin/python3 -c "
                   "'import os,sys; print(\"size\", tuple(os.get_terminal_size()), sys.stdin.isatty())'";
  r = run({"/usr/bin/script", "-qec", py, "/dev/null"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err << read_file(py_log);
  EXPECT_NE(r.out.find("size (91, 37) True"), std::string::npos) << r.out << read_file(py_log);
  expect_no_ioctl_denial(read_file(py_log), "python3");
}

TEST(IoctlPrograms, CpAndIp) {
  if (!have("/bin/cp")) GTEST_SKIP() << "cp missing";
  ScratchDir src, dst;
  std::string from = src.file("in.txt", "copied through the jail\n");
  ScratchDir logs;
  std::string log = logs.path() + "/cp.log";
  auto r = jail({"--log", log, "--read", src.path(), "--write", dst.path()},
                {"/bin/cp", from, dst.path() + "/out.txt"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err << read_file(log);
  EXPECT_EQ(read_file(dst.path() + "/out.txt"), "copied through the jail\n");
  expect_no_ioctl_denial(read_file(log), "cp");

  std::string ip = have("/usr/sbin/ip") ? "/usr/sbin/ip" : have("/sbin/ip") ? "/sbin/ip" : "";
  if (ip.empty()) GTEST_SKIP() << "iproute2 missing";
  std::string ip_log = logs.path() + "/ip.log";
  r = jail({"--log", ip_log}, {ip, "-br", "addr"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err << read_file(ip_log);
  EXPECT_NE(r.out.find("lo "), std::string::npos) << r.out;
  expect_no_ioctl_denial(read_file(ip_log), "ip");
}

}  // namespace
}  // namespace wwjail::testing
