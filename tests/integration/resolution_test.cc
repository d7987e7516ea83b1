// Regressions found by running real programs (python's threaded
// http.server, gcc, glibc's nscd probe) under wwjail: each with the
// denial beside it that must still hold.
#include <gtest/gtest.h>
#include <unistd.h>

#include "jail_runner.h"

namespace wwjail::testing {
namespace {

TEST(Resolution, AThreadMayUseDescriptorsTheMainThreadOpened) {
  ScratchDir d;
  std::string f = d.file("f.txt", "12345");
  auto r = jail({"--read", f}, {guest("thread_fd"), f});
  EXPECT_EQ(r.out, "ok size=5\n") << r.err;
  auto denied = jail({}, {guest("thread_fd"), f});
  EXPECT_EQ(denied.out.rfind("err open", 0), 0u) << denied.out;
}

TEST(Resolution, AccessIsDecidedOnWhereASymlinkLeads) {
  ScratchDir d;
  std::string bin = d.sub("bin"), real = d.sub("real");
  std::string tool = d.file("real/tool", "#!/bin/sh\n");
  ASSERT_EQ(::chmod(tool.c_str(), 0755), 0);
  ASSERT_EQ(::symlink(tool.c_str(), (bin + "/tool").c_str()), 0);
  // A read grant over both, an exec grant on the target only.
  auto x = jail({"--read", d.path(), "--exec", tool}, {guest("probe"), "access", bin + "/tool", "x"});
  EXPECT_EQ(x.out, "ok\n") << x.err;
  std::string other = d.file("real/other", "#!/bin/sh\n");
  ASSERT_EQ(::chmod(other.c_str(), 0755), 0);
  ASSERT_EQ(::symlink(other.c_str(), (bin + "/other").c_str()), 0);
  auto no = jail({"--read", d.path(), "--exec", tool}, {guest("probe"), "access", bin + "/other", "x"});
  EXPECT_EQ(no.out, "err EACCES\n") << no.err;
}

TEST(Resolution, AMissingPathThroughASymlinkedDirIsMissingWhereItIsGranted) {
  ScratchDir d;
  std::string real = d.sub("real");
  std::string via = d.path() + "/via";
  ASSERT_EQ(::symlink(real.c_str(), via.c_str()), 0);
  auto missing = jail({"--read", real}, {guest("probe"), "stat", via + "/nope/deeper"});
  EXPECT_EQ(missing.out, "err ENOENT\n") << missing.err;
  // Outside the grant, absence stays hidden.
  std::string other = d.sub("other");
  ASSERT_EQ(::symlink(other.c_str(), (d.path() + "/via2").c_str()), 0);
  auto hidden = jail({"--read", real}, {guest("probe"), "stat", d.path() + "/via2/nope"});
  EXPECT_EQ(hidden.out, "err EACCES\n") << hidden.err;
}

TEST(Resolution, AnAbsentOptionalDirectoryIsAbsentAllTheWayDown) {
  ScratchDir d;
  std::string policy = d.file("p.toml", "[storage]\nread = [\"?/no/such/dir\"]\n");
  auto r = jail({"-p", policy}, {guest("probe"), "stat", "/no/such/dir/include/stdio.h"});
  EXPECT_EQ(r.out, "err ENOENT\n") << r.err;
  EXPECT_EQ(r.err.find("denied"), std::string::npos) << r.err;
  auto audit = jail({"-p", policy, "--audit"}, {guest("probe"), "stat", "/no/such/dir/x"});
  EXPECT_NE(audit.err.find("0 would have been denied"), std::string::npos) << audit.err;
  // Not named: still denied.
  auto other = jail({"-p", policy}, {guest("probe"), "stat", "/no/such/other"});
  EXPECT_EQ(other.out, "err EACCES\n");
}

TEST(Resolution, Openat2ExclusiveCreateOfAnExistingEntryIsEexist) {
  ScratchDir d;
  std::string w = d.sub("w");
  d.file("w/there", "x");
  ASSERT_EQ(::symlink("nowhere", (w + "/dangling").c_str()), 0);
  auto in_dir = [&](const std::string& name) {
    return jail({"--write", w, "--exec", guest("probe")},
                {"/bin/sh", "-c", "cd " + w + " && exec " + guest("probe") + " openat2-excl " + name});
  };
  EXPECT_EQ(in_dir("new").out, "ok\n");  // positive control
  EXPECT_EQ(in_dir("there").out, "err EEXIST\n");
  EXPECT_EQ(in_dir("dangling").out, "err EEXIST\n");  // never followed
}

TEST(Resolution, Openat2BeneathTellsAbsenceOnlyWhereTheGuestMayLook) {
  ScratchDir d;
  std::string w = d.sub("w");
  d.file("w/there", "here\n");
  auto from = [&](const std::string& dir, const std::string& path) {
    // RESOLVE_BENEATH (0x08) relative to the cwd.
    return jail({"--read", w, "--exec", guest("probe")},
                {"/bin/sh", "-c", "cd " + dir + " && exec " + guest("probe") + " openat2 " + path + " 8"});
  };
  EXPECT_EQ(from(w, "there").out, "ok here\n\n");  // positive control
  EXPECT_EQ(from(w, "missing").out, "err ENOENT\n");  // inside the grant: absence is told
  // Outside: an absent path looks like a present one.
  EXPECT_EQ(from("/", "etc/wwjail-no-such-file").out, "err EACCES\n");
  EXPECT_EQ(from("/", "etc/shadow").out, "err EACCES\n");
}

TEST(Resolution, TheNscdProbeIsQuietWhereNoNscdRuns) {
  if (::access("/run/nscd/socket", F_OK) == 0) GTEST_SKIP() << "nscd runs here";
  auto r = jail({}, {guest("net_probe"), "connect-unix", "/var/run/nscd/socket"});
  EXPECT_NE(r.out.find("ENOENT"), std::string::npos) << r.out << r.err;
  EXPECT_EQ(r.err.find("denied"), std::string::npos) << r.err;
  auto other = jail({}, {guest("net_probe"), "connect-unix", "/run/other.sock"});
  EXPECT_NE(other.out.find("EACCES"), std::string::npos) << other.out << other.err;
}

}  // namespace
}  // namespace wwjail::testing
