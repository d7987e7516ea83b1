// Where the private temp dir goes: $TMPDIR, /tmp, /dev/shm, $XDG_RUNTIME_DIR,
// the first that takes a directory; the one-line message when none does.
#include "broker/temp_dir.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "sys/sys_error.h"

namespace wwjail {
namespace {

using Candidates = std::vector<std::string>;

TEST(TempDirCandidates, OrderAndWhatCounts) {
  EXPECT_EQ(temp_dir_candidates("/scratch/", "/run/user/1000"),
            (Candidates{"/scratch", "/tmp", "/dev/shm", "/run/user/1000"}));
  // Unset, empty or relative variables are skipped; duplicates are tried once.
  EXPECT_EQ(temp_dir_candidates(nullptr, nullptr), (Candidates{"/tmp", "/dev/shm"}));
  EXPECT_EQ(temp_dir_candidates("", "relative/dir"), (Candidates{"/tmp", "/dev/shm"}));
  EXPECT_EQ(temp_dir_candidates("/tmp", "/dev/shm"), (Candidates{"/tmp", "/dev/shm"}));
}

class TempDirFallback : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wwjail-tempdir-test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    base_ = tmpl;
    ASSERT_EQ(mkdir((base_ + "/first").c_str(), 0700), 0);
    ASSERT_EQ(mkdir((base_ + "/second").c_str(), 0700), 0);
    std::ofstream(base_ + "/a-file") << "not a directory";
  }
  void TearDown() override { std::system(("rm -rf '" + base_ + "'").c_str()); }
  // Places no mkdtemp can use, whoever runs the test (root included).
  std::string missing() const { return base_ + "/missing"; }
  std::string not_a_dir() const { return base_ + "/a-file"; }
  std::string base_;
};

TEST_F(TempDirFallback, FirstWritableWins) {
  PrivateTempDir t({missing(), not_a_dir(), base_ + "/first", base_ + "/second"});
  EXPECT_EQ(t.path().rfind(base_ + "/first/wwjail.", 0), 0u) << t.path();
  struct stat st{};
  ASSERT_EQ(stat(t.path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST_F(TempDirFallback, PositiveControlUsesTheFirst) {
  PrivateTempDir t({base_ + "/second", base_ + "/first"});
  EXPECT_EQ(t.path().rfind(base_ + "/second/wwjail.", 0), 0u) << t.path();
}

TEST_F(TempDirFallback, NoneWritableSaysWhatToDoOnOneLine) {
  try {
    PrivateTempDir t({missing(), not_a_dir()});
    FAIL() << "created " << t.path();
  } catch (const SetupError& e) {
    std::string m = e.what();
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
    EXPECT_NE(m.find(missing() + ": No such file or directory"), std::string::npos) << m;
    EXPECT_NE(m.find(not_a_dir() + ": Not a directory"), std::string::npos) << m;
    EXPECT_NE(m.find("mount a tmpfs"), std::string::npos) << m;
    EXPECT_NE(m.find("--no-tmpdir"), std::string::npos) << m;
  }
}

}  // namespace
}  // namespace wwjail
