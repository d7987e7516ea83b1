// PathResolver: the same answers as realpath(3), errno included, with each
// name's link status read once; failures and /proc never kept.
#include "policy/path_resolver.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <fstream>

namespace wwjail {
namespace {

class PathResolverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wwjail-resolver.XXXXXX";
    ASSERT_TRUE(mkdtemp(tmpl));
    char real[PATH_MAX];
    ASSERT_TRUE(::realpath(tmpl, real));  // /tmp may itself be a link
    dir_ = real;
    mkdir("real");
    mkdir("real/sub");
    file("real/sub/file");
    file("real/other");
    link("real", "dirlink");           // a symlinked directory
    link("dirlink", "chain1");         // a chain: chain2 -> chain1 -> dirlink -> real
    link("chain1", "chain2");
    link("sub/file", "real/rel");      // relative to the link's own directory
    link("../real/other", "real/sub/up");
    link(dir_ + "/real/sub", "abs");   // absolute
    link("missing", "dangling");
    link("loop2", "loop1");
    link("loop1", "loop2");
  }
  void TearDown() override { (void)!std::system(("rm -rf '" + dir_ + "'").c_str()); }

  void mkdir(const std::string& rel) { ASSERT_EQ(::mkdir((dir_ + "/" + rel).c_str(), 0755), 0); }
  void file(const std::string& rel) { std::ofstream(dir_ + "/" + rel) << "x"; }
  void link(const std::string& target, const std::string& rel) {
    ASSERT_EQ(::symlink(target.c_str(), (dir_ + "/" + rel).c_str()), 0);
  }

  // The resolver and realpath agree on `path`: the same result, or both
  // fail with the same errno.
  void expect_as_realpath(PathResolver& paths, const std::string& path) {
    char buf[PATH_MAX];
    errno = 0;
    const char* want = ::realpath(path.c_str(), buf);
    int want_errno = errno;
    errno = 0;
    std::optional<std::string> got = paths.resolve(path);
    if (want) {
      ASSERT_TRUE(got) << path << ": realpath gave " << want;
      EXPECT_EQ(*got, want) << path;
    } else {
      EXPECT_FALSE(got) << path << ": realpath failed (" << want_errno << ")";
      EXPECT_EQ(errno, want_errno) << path;
    }
  }

  std::string dir_;
};

TEST_F(PathResolverTest, AgreesWithRealpath) {
  const char* const cases[] = {
      "real/sub/file", "dirlink/sub/file", "chain2/sub/file", "chain2", "real/rel", "real/sub/up",
      "abs/file", "abs/../other", "dirlink/../real/other", "dirlink/sub/../other", "dirlink/./sub//file",
      "real/sub/file/", "real/sub/file/.", "real/sub/file/..", "real/sub/", "dirlink/", "chain1/.",
      "real/nothing", "real/nothing/..", "nothing/sub", "dangling", "dangling/", "loop1", "loop1/x",
      "real/sub/file/x", "real/rel/", ".", "..",
  };
  PathResolver paths;
  // Twice: the second pass answers from what the first kept.
  for (int pass = 0; pass < 2; ++pass) {
    for (const char* c : cases) expect_as_realpath(paths, dir_ + "/" + c);
  }
  for (const char* c : {"/", "//", "/usr/bin/../lib", "/proc/self/exe", "/dev/stdin", "/etc/../etc/"})
    expect_as_realpath(paths, c);
  errno = 0;
  EXPECT_FALSE(paths.resolve(""));
  EXPECT_EQ(errno, ENOENT);
}

// The system's own trees: merged-/usr links, alternatives chains, /dev's
// links into /proc, each name also as a directory ("/", "/.", "/..").
TEST_F(PathResolverTest, AgreesWithRealpathOnTheSystemsTrees) {
  PathResolver paths;
  size_t names = 0;
  for (const char* dir : {"/", "/bin", "/sbin", "/lib64", "/etc", "/etc/alternatives", "/dev"}) {
    DIR* d = ::opendir(dir);
    if (!d) continue;
    size_t here = 0;
    while (dirent* e = ::readdir(d)) {
      if (++here > 300) break;
      std::string path = std::string(dir == std::string("/") ? "" : dir) + "/" + e->d_name;
      for (const char* suffix : {"", "/", "/.", "/..", "/x"}) expect_as_realpath(paths, path + suffix);
      ++names;
    }
    ::closedir(d);
  }
  EXPECT_GT(names, 50u) << "positive control: the trees were read";
}

TEST_F(PathResolverTest, RelativePathsStartAtTheWorkingDirectory) {
  char old[PATH_MAX];
  ASSERT_TRUE(::getcwd(old, sizeof old));
  ASSERT_EQ(::chdir((dir_ + "/real").c_str()), 0);
  PathResolver paths;
  for (const char* c : {"sub/file", "../dirlink/sub", "rel", "sub/up", "nothing", ""}) expect_as_realpath(paths, c);
  ASSERT_EQ(::chdir(old), 0);
}

TEST_F(PathResolverTest, ReadsEachDirectoryOnce) {
  PathResolver paths;
  ASSERT_EQ(paths.resolve(dir_ + "/dirlink/sub/file"), dir_ + "/real/sub/file");
  size_t first = paths.readlinks();
  EXPECT_GT(first, 0u);
  // The same directories again, through the link: only the new name is read.
  ASSERT_EQ(paths.resolve(dir_ + "/dirlink/other"), dir_ + "/real/other");
  EXPECT_EQ(paths.readlinks(), first + 1);
  // A chain: each link in it read once, however often it is resolved.
  ASSERT_EQ(paths.resolve(dir_ + "/chain2/sub"), dir_ + "/real/sub");
  size_t after_chain = paths.readlinks();
  EXPECT_EQ(after_chain, first + 1 + 2);  // chain2 and chain1; dirlink, real and sub are known
  ASSERT_EQ(paths.resolve(dir_ + "/chain2/sub/file"), dir_ + "/real/sub/file");
  ASSERT_EQ(paths.resolve(dir_ + "/chain1"), dir_ + "/real");
  EXPECT_EQ(paths.readlinks(), after_chain);
}

TEST_F(PathResolverTest, MissingComponentIsNotKept) {
  PathResolver paths;
  errno = 0;
  EXPECT_FALSE(paths.resolve(dir_ + "/real/later/file"));
  EXPECT_EQ(errno, ENOENT);
  // Made after the failure: found, as realpath would find it now.
  mkdir("real/later");
  file("real/later/file");
  EXPECT_EQ(paths.resolve(dir_ + "/real/later/file"), dir_ + "/real/later/file");
  EXPECT_EQ(paths.resolve(dir_ + "/dangling"), std::nullopt);
  file("missing");
  EXPECT_EQ(paths.resolve(dir_ + "/dangling"), dir_ + "/missing");
}

TEST_F(PathResolverTest, ProcIsAlwaysReadAgain) {
  PathResolver paths;
  ASSERT_EQ(paths.resolve("/proc/self"), "/proc/" + std::to_string(::getpid()));
  size_t first = paths.readlinks();
  ASSERT_EQ(paths.resolve("/proc/self"), "/proc/" + std::to_string(::getpid()));
  EXPECT_EQ(paths.readlinks(), 2 * first);  // /proc, /proc/self and /proc/PID: none kept
}

}  // namespace
}  // namespace wwjail
