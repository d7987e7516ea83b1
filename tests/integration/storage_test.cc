// Storage capabilities, one syscall family at a time: each test runs the
// probe guest twice, once on a granted target (must succeed) and once on a
// target outside every grant (must fail with EACCES), so neither a jail that
// allows everything nor one that denies everything can pass.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "jail_runner.h"

namespace wwjail::testing {
namespace {

class Storage : public ::testing::Test {
 protected:
  void SetUp() override {
    granted_ = scratch_.sub("granted");
    writable_ = scratch_.sub("writable");
    secret_dir_ = scratch_.sub("secret");
    granted_file_ = scratch_.file("granted/data.txt", "granted-content");
    secret_file_ = scratch_.file("secret/data.txt", "secret-content");
    scratch_.file("writable/existing.txt", "old");
  }
  RunResult probe(std::vector<std::string> args, std::vector<std::string> extra = {}) {
    std::vector<std::string> grants{"--read", granted_, "--write", writable_};
    grants.insert(grants.end(), extra.begin(), extra.end());
    args.insert(args.begin(), guest("probe"));
    return jail(grants, args);
  }
  void expect_ok(const RunResult& r) {
    EXPECT_EQ(r.exit_code, 0) << "out: " << r.out << "\nerr: " << r.err;
    EXPECT_EQ(r.out.rfind("ok", 0), 0u) << r.out;
  }
  void expect_denied(const RunResult& r, const std::string& err = "EACCES") {
    EXPECT_EQ(r.exit_code, 1) << "out: " << r.out << "\nerr: " << r.err;
    EXPECT_EQ(r.out, "err " + err + "\n") << r.err;
  }
  ScratchDir scratch_;
  std::string granted_, writable_, secret_dir_, granted_file_, secret_file_;
};

TEST_F(Storage, ReadGrantedFileButNotOthers) {
  auto ok = probe({"read", granted_file_});
  expect_ok(ok);
  EXPECT_NE(ok.out.find("granted-content"), std::string::npos);
  auto denied = probe({"read", secret_file_});
  expect_denied(denied);
  EXPECT_EQ(denied.out.find("secret-content"), std::string::npos);
  // The denial is logged once, naming the syscall, the path and the missing grant.
  EXPECT_NE(denied.err.find("denied pid="), std::string::npos) << denied.err;
  EXPECT_NE(denied.err.find(secret_file_), std::string::npos) << denied.err;
  EXPECT_NE(denied.err.find("missing grant: read on"), std::string::npos) << denied.err;
}

TEST_F(Storage, BrokerPerformedOpensBehaveTheSame) {
  auto ok = jail({"--read", granted_, "--broker-opens"}, {guest("probe"), "read", granted_file_});
  expect_ok(ok);
  EXPECT_NE(ok.out.find("granted-content"), std::string::npos);
  expect_denied(jail({"--read", granted_, "--broker-opens"}, {guest("probe"), "read", secret_file_}));
  auto w = jail({"--write", writable_, "--broker-opens"}, {guest("probe"), "write", writable_ + "/new.txt"});
  expect_ok(w);
  expect_denied(jail({"--read", granted_, "--broker-opens"}, {guest("probe"), "write", granted_ + "/new.txt"}));
}

TEST_F(Storage, WriteNeedsWriteGrant) {
  expect_ok(probe({"write", writable_ + "/new.txt"}));
  std::ifstream created(writable_ + "/new.txt");
  std::string content;
  created >> content;
  EXPECT_EQ(content, "x");
  expect_denied(probe({"write", granted_ + "/new.txt"}));
  expect_denied(probe({"write-existing", granted_file_}));
  expect_denied(probe({"write", secret_dir_ + "/new.txt"}));
  expect_ok(probe({"write-existing", writable_ + "/existing.txt"}));
}

TEST_F(Storage, TruncatingOpenIsAWrite) {
  expect_denied(probe({"trunc-rdonly", granted_file_}));
  struct stat st{};
  ASSERT_EQ(stat(granted_file_.c_str(), &st), 0);
  EXPECT_GT(st.st_size, 0);
  expect_ok(probe({"trunc-rdonly", writable_ + "/existing.txt"}));
}

TEST_F(Storage, CreatAndExclusiveCreate) {
  expect_ok(probe({"creat", writable_ + "/c.txt"}));
  expect_denied(probe({"creat", granted_ + "/c.txt"}));
  expect_ok(probe({"create-excl", writable_ + "/e.txt"}));
  expect_denied(probe({"create-excl", writable_ + "/e.txt"}), "EEXIST");
}

TEST_F(Storage, StatFamilyOnGrantsAndAncestorsOnly) {
  expect_ok(probe({"stat", granted_file_}));
  expect_ok(probe({"statx", granted_file_}));
  expect_ok(probe({"lstat", granted_file_}));
  expect_ok(probe({"fstat", granted_file_}));
  // Ancestors of a grant may be stat'ed so path walking works...
  expect_ok(probe({"stat", scratch_.path()}));
  // ...but their other children may not.
  expect_denied(probe({"stat", secret_file_}));
  expect_denied(probe({"statx", secret_file_}));
  expect_denied(probe({"lstat", secret_dir_}));
  // Non-existence outside grants is not revealed either.
  expect_denied(probe({"stat", secret_dir_ + "/missing"}));
  expect_denied(probe({"stat", granted_ + "/missing"}), "ENOENT");
}

TEST_F(Storage, StatResultIsTheRealOne) {
  auto r = probe({"stat", granted_file_});
  EXPECT_EQ(r.out, "ok size=15\n");
  r = probe({"statx", granted_file_});
  EXPECT_EQ(r.out, "ok size=15\n");
}

TEST_F(Storage, AccessReflectsGrants) {
  expect_ok(probe({"access", granted_file_, "r"}));
  expect_denied(probe({"access", granted_file_, "w"}));
  expect_ok(probe({"access", writable_ + "/existing.txt", "w"}));
  expect_denied(probe({"access", secret_file_, "r"}));
  expect_denied(probe({"access", secret_file_, ""}));
}

TEST_F(Storage, Readlink) {
  ASSERT_EQ(symlink("data.txt", (granted_ + "/link").c_str()), 0);
  ASSERT_EQ(symlink("data.txt", (secret_dir_ + "/link").c_str()), 0);
  auto r = probe({"readlink", granted_ + "/link"});
  EXPECT_EQ(r.out, "ok data.txt\n");
  expect_denied(probe({"readlink", secret_dir_ + "/link"}));
}

TEST_F(Storage, ReadlinkOfOwnProcExe) {
  auto r = probe({"readlink", "/proc/self/exe"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  char real[PATH_MAX];
  ASSERT_TRUE(realpath(guest("probe").c_str(), real));
  EXPECT_EQ(r.out, std::string("ok ") + real + "\n");
}

TEST_F(Storage, ListDirectories) {
  expect_ok(probe({"readdir", granted_}));
  expect_denied(probe({"readdir", secret_dir_}));
  // An ancestor may be stat'ed but not listed.
  expect_denied(probe({"readdir", scratch_.path()}));
}

TEST_F(Storage, MkdirRmdir) {
  expect_ok(probe({"mkdir", writable_ + "/d"}));
  struct stat st{};
  EXPECT_EQ(stat((writable_ + "/d").c_str(), &st), 0);
  expect_ok(probe({"rmdir", writable_ + "/d"}));
  EXPECT_NE(stat((writable_ + "/d").c_str(), &st), 0);
  expect_denied(probe({"mkdir", granted_ + "/d"}));
  expect_denied(probe({"mkdir", secret_dir_ + "/d"}));
  ASSERT_EQ(mkdir((granted_ + "/sub").c_str(), 0755), 0);
  expect_denied(probe({"rmdir", granted_ + "/sub"}));
  // The grant's own root cannot be removed.
  expect_denied(probe({"rmdir", writable_}));
}

TEST_F(Storage, UnlinkNeedsWriteOnParent) {
  expect_ok(probe({"unlink", writable_ + "/existing.txt"}));
  expect_denied(probe({"unlink", granted_file_}));
  expect_denied(probe({"unlink", secret_file_}));
  struct stat st{};
  EXPECT_EQ(stat(granted_file_.c_str(), &st), 0);
  EXPECT_EQ(stat(secret_file_.c_str(), &st), 0);
}

TEST_F(Storage, RenameCannotTurnReadIntoWrite) {
  expect_ok(probe({"rename", writable_ + "/existing.txt", writable_ + "/moved.txt"}));
  expect_denied(probe({"rename", granted_file_, writable_ + "/stolen.txt"}));
  expect_denied(probe({"rename", writable_ + "/moved.txt", granted_ + "/planted.txt"}));
  expect_denied(probe({"rename", writable_ + "/moved.txt", secret_dir_ + "/planted.txt"}));
}

TEST_F(Storage, HardLinkCannotTurnReadIntoWrite) {
  expect_ok(probe({"link", writable_ + "/existing.txt", writable_ + "/hard.txt"}));
  expect_denied(probe({"link", granted_file_, writable_ + "/hard2.txt"}));
  expect_denied(probe({"link", secret_file_, writable_ + "/hard3.txt"}));
}

TEST_F(Storage, SymlinkCreation) {
  expect_ok(probe({"symlink", "existing.txt", writable_ + "/sym"}));
  expect_denied(probe({"symlink", "data.txt", granted_ + "/sym"}));
  // A symlink to a secret may be made, but following it is decided again.
  expect_ok(probe({"symlink", secret_file_, writable_ + "/to-secret"}));
  expect_denied(probe({"read", writable_ + "/to-secret"}));
}

TEST_F(Storage, ChmodChownUtimesTruncateAreWrites) {
  for (const char* op : {"chmod", "chown", "utimes", "truncate"}) {
    SCOPED_TRACE(op);
    expect_ok(probe({op, writable_ + "/existing.txt"}));
    expect_denied(probe({op, granted_file_}));
    expect_denied(probe({op, secret_file_}));
  }
  // fchmod on a descriptor of a read-only grant is a write too.
  expect_denied(probe({"fchmod", granted_file_}));
  expect_ok(probe({"fchmod", writable_ + "/existing.txt"}));
}

TEST_F(Storage, Xattrs) {
  // tmpfs may not support user xattrs: compare with the native outcome.
  auto native = run({guest("probe"), "setxattr", writable_ + "/existing.txt"});
  auto jailed = probe({"setxattr", writable_ + "/existing.txt"});
  EXPECT_EQ(jailed.out, native.out);
  expect_denied(probe({"setxattr", granted_file_}));
  expect_denied(probe({"getxattr", secret_file_}));
  expect_denied(probe({"listxattr", secret_file_}));
  auto list = probe({"listxattr", granted_file_});
  EXPECT_EQ(list.out, run({guest("probe"), "listxattr", granted_file_}).out);
}

TEST_F(Storage, MknodFifoButNeverDevices) {
  expect_ok(probe({"mkfifo", writable_ + "/fifo"}));
  struct stat st{};
  ASSERT_EQ(stat((writable_ + "/fifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  expect_denied(probe({"mknod-chr", writable_ + "/null"}), "EPERM");
  EXPECT_NE(stat((writable_ + "/null").c_str(), &st), 0);
  expect_denied(probe({"mkfifo", granted_ + "/fifo"}));
}

TEST_F(Storage, RelativePathsResolveAgainstTheRealCwd) {
  auto r = probe({"chdir-read", granted_, "data.txt"});
  expect_ok(r);
  EXPECT_NE(r.out.find("granted-content"), std::string::npos);
  expect_denied(probe({"chdir-read", granted_, "../secret/data.txt"}));
  expect_ok(probe({"fchdir-read", granted_, "data.txt"}));
  expect_ok(probe({"openat", granted_, "data.txt"}));
  expect_denied(probe({"openat", granted_, "../secret/data.txt"}));
  // chdir into a non-granted directory is refused.
  expect_denied(probe({"chdir", secret_dir_}));
}

TEST_F(Storage, StatfsAndInotify) {
  expect_ok(probe({"statfs", granted_}));
  expect_denied(probe({"statfs", secret_dir_}));
  expect_ok(probe({"inotify", granted_file_}));
  expect_denied(probe({"inotify", secret_file_}));
}

TEST_F(Storage, OTmpfileThenLink) {
  expect_ok(probe({"tmpfile-link", writable_, writable_ + "/materialised"}));
  struct stat st{};
  EXPECT_EQ(stat((writable_ + "/materialised").c_str(), &st), 0);
  expect_denied(probe({"tmpfile-link", granted_, granted_ + "/materialised"}));
}

TEST_F(Storage, ExecNeedsExecGrant) {
  // Read grant is not enough to run a program.
  auto r = jail({"--read", "/usr/bin"}, {guest("probe"), "exec", "/usr/bin/true"});
  expect_denied(r);
  r = jail({"--exec", "/usr/bin/true"}, {guest("probe"), "exec", "/usr/bin/true"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST_F(Storage, DefaultDevicesAndTmpdir) {
  expect_ok(probe({"read", "/dev/zero"}));
  expect_ok(probe({"write-existing", "/dev/null"}));
  auto env = jail({}, {guest("probe"), "env", "TMPDIR"});
  ASSERT_EQ(env.exit_code, 0);
  std::string tmp = env.out.substr(3, env.out.size() - 4);
  EXPECT_EQ(tmp.rfind("/", 0), 0u);
  // The temp dir is gone after the run.
  struct stat st{};
  EXPECT_NE(stat(tmp.c_str(), &st), 0) << tmp;
  // Shell builtins only: no exec grant is needed.
  auto w = jail({}, {"/bin/sh", "-c", "echo hi > \"$TMPDIR/f\" && read x < \"$TMPDIR/f\" && echo $x"});
  EXPECT_EQ(w.exit_code, 0) << w.err;
  EXPECT_EQ(w.out, "hi\n");
  // Nothing else is writable or readable by default.
  expect_denied(jail({}, {guest("probe"), "write", "/tmp/wwjail-should-not-exist"}));
  expect_denied(jail({}, {guest("probe"), "read", "/etc/hostname"}));
}

TEST_F(Storage, KeepTmpdirKeepsAndSaysWhere) {
  auto r = jail({"--keep-tmpdir"}, {"/bin/sh", "-c", "echo kept > \"$TMPDIR/f\""});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto at = r.err.find("kept the private temp dir at ");
  ASSERT_NE(at, std::string::npos) << r.err;
  std::string dir = r.err.substr(at + 29);
  dir = dir.substr(0, dir.find('\n'));
  std::ifstream f(dir + "/f");
  std::string content;
  f >> content;
  EXPECT_EQ(content, "kept");
  std::string cmd = "rm -rf '" + dir + "'";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
}

}  // namespace
}  // namespace wwjail::testing
