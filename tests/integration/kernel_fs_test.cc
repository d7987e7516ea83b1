// A kernel file system mounted inside a granted tree (a chroot's /proc) is
// a side door to the host: a write grant over it let a root guest write the
// host's sysctls. wwjail refuses such a policy at start, in every mode.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "jail_runner.h"

namespace wwjail::testing {
namespace {

class KernelFsBelowAGrant : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "mounting a procfs needs root";
    ::mkdir(chroot_.c_str(), 0755);
    ::mkdir(proc_.c_str(), 0755);
  }
  void TearDown() override {
    if (mounted_) ::umount2(proc_.c_str(), MNT_DETACH);
  }
  std::vector<std::string> mode() const {
    return std::string(GetParam()) == "view" ? std::vector<std::string>{"--mediate", "auto"}
                                             : std::vector<std::string>{"--mediate", "files", "--broker-opens"};
  }
  RunResult read_core_pattern() {
    auto args = mode();
    for (const char* a : {"--write", dir_.path().c_str()}) args.push_back(a);
    return jail(args, {guest("escape_calls"), "read", proc_ + "/sys/kernel/core_pattern", "read", file_});
  }

  ScratchDir dir_;
  std::string file_ = dir_.file("w.txt", "inside\n");
  std::string chroot_ = dir_.path() + "/chroot";
  std::string proc_ = chroot_ + "/proc";
  bool mounted_ = false;
};

TEST_P(KernelFsBelowAGrant, IsRefusedAtStart) {
  // Positive control: the same policy without the mount runs.
  auto ok = read_core_pattern();
  EXPECT_EQ(ok.exit_code, 0) << describe(ok);
  EXPECT_NE(ok.out.find("read ok inside"), std::string::npos) << describe(ok);

  ASSERT_EQ(::mount("proc", proc_.c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr), 0);
  mounted_ = true;
  auto r = read_core_pattern();
  EXPECT_EQ(r.out.find("read ok"), std::string::npos) << "the guest reached the host's sysctls\n" << describe(r);
  EXPECT_NE(r.exit_code, 0) << describe(r);
  EXPECT_NE(r.err.find("holds a proc file system at " + proc_), std::string::npos) << describe(r);
}

INSTANTIATE_TEST_SUITE_P(, KernelFsBelowAGrant, ::testing::Values("view", "mediated"));

// The loader is executable only through the programs that name it. A guest
// that moves an exec-granted program's directory away and leaves a link to
// the loader at the program's path must not get the loader to run a file it
// may only read: exec is decided where the path really leads (red team).
class ExecPathSwap : public ::testing::TestWithParam<const char*> {};

TEST_P(ExecPathSwap, ALinkToTheLoaderAtAGrantedPathIsRefused) {
  ScratchDir dir;
  std::string w = dir.sub("w");
  std::string d = dir.sub("w/d");
  std::string ro = dir.sub("ro");
  std::string readable = ro + "/probe";
  ASSERT_EQ(std::system(("cp " + guest("probe") + " " + readable + " && cp /usr/bin/true " + d + "/tool").c_str()), 0);
  std::vector<std::string> grants{"--mediate", std::string(GetParam()) == "view" ? "auto" : "files", "--write", w,
                                  "--exec", d + "/tool", "--read", ro};
  // Positive control: the granted program runs.
  auto ok = jail(grants, {d + "/tool"});
  EXPECT_EQ(ok.exit_code, 0) << describe(ok);
  auto r = jail(grants, {guest("exec_swap"), d, "tool", "/lib64/ld-linux-x86-64.so.2", readable, "exit", "42"});
  EXPECT_NE(r.exit_code, 42) << "the loader ran a file the guest may only read\n" << describe(r);
  EXPECT_NE(r.out.find("exec err"), std::string::npos) << describe(r);
}

INSTANTIATE_TEST_SUITE_P(, ExecPathSwap, ::testing::Values("view", "mediated"));

}  // namespace
}  // namespace wwjail::testing
