// wwjail learn's folding, on recorded accesses; the output is read back by
// the policy parser, so a learned policy is always one `check` accepts.
#include "policy/policy_learner.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <fstream>

#include "policy/policy_file.h"

namespace wwjail {
namespace {

class Learner : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wwjail-learn.XXXXXX";
    ASSERT_TRUE(mkdtemp(tmpl));
    char real[PATH_MAX];
    ASSERT_TRUE(realpath(tmpl, real));
    dir_ = real;
  }
  void TearDown() override { (void)!std::system(("rm -rf '" + dir_ + "'").c_str()); }
  std::string file(const std::string& name) {
    std::string p = dir_ + "/" + name;
    ::mkdir(p.substr(0, p.rfind('/')).c_str(), 0755);
    std::ofstream(p) << "x";
    return p;
  }
  std::string dir(const std::string& name) {
    std::string p = dir_ + "/" + name;
    ::mkdir(p.c_str(), 0755);
    return p;
  }
  // Writes the learned text and loads it as a policy.
  RunConfig reload(const LearnedPolicy& learned) {
    std::string p = dir_ + "/learned.toml";
    std::ofstream(p) << learned.text;
    RunConfig c;
    load_policy_file(p, c);
    return c;
  }
  static const GrantRequest* find(const RunConfig& c, const std::string& path) {
    for (const auto& g : c.grants) {
      if (g.path == path) return &g;
    }
    return nullptr;
  }
  std::string dir_;
};

TEST_F(Learner, FoldsFilesIntoTheirDirectoryFromThreeOn) {
  PolicyLearner l({"prog"});
  std::string few = dir("few"), many = dir("many");
  l.storage(file("few/a"), Need::kRead);
  l.storage(file("few/b"), Need::kStat);
  for (const char* n : {"many/1", "many/2", "many/3"}) l.storage(file(n), Need::kRead);
  RunConfig c = reload(l.render());
  EXPECT_TRUE(find(c, few + "/a"));
  EXPECT_TRUE(find(c, few + "/b"));
  EXPECT_FALSE(find(c, few));
  ASSERT_TRUE(find(c, many));
  EXPECT_EQ(find(c, many)->rights, kRead);
  EXPECT_FALSE(find(c, many + "/1"));
}

TEST_F(Learner, NeverFoldsIntoASystemTree) {
  PolicyLearner l({"prog"});
  for (const char* f : {"/etc/hostname", "/etc/os-release", "/etc/debian_version", "/etc/ld.so.conf"})
    l.storage(f, Need::kRead);
  RunConfig c = reload(l.render());
  EXPECT_FALSE(find(c, "/etc"));
  EXPECT_TRUE(find(c, "/etc/hostname"));
}

TEST_F(Learner, WritesAreCommentedAndGoToTheDirectory) {
  PolicyLearner l({"prog"});
  std::string out = dir("out");
  l.storage(out + "/new.db", Need::kCreate);       // created (gone again after the run)
  l.storage(file("conf/existing"), Need::kWrite);  // an existing file changed
  LearnedPolicy learned = l.render();
  EXPECT_TRUE(learned.writes_outside_tmpdir);
  EXPECT_NE(learned.text.find("# WRITE OUTSIDE THE PRIVATE TEMP DIR"), std::string::npos) << learned.text;
  RunConfig c = reload(learned);
  ASSERT_TRUE(find(c, out));
  EXPECT_TRUE(find(c, out)->rights & kWrite);
  ASSERT_TRUE(find(c, dir_ + "/conf/existing"));
  EXPECT_TRUE(find(c, dir_ + "/conf/existing")->rights & kWrite);
}

TEST_F(Learner, TmpdirIsLeftOutAndAbsentPathsBecomeOptional) {
  PolicyLearner l({"prog"});
  std::string tmp = dir("tmp");
  l.set_tmpdir(tmp);
  l.storage(tmp + "/scratch", Need::kCreate);
  l.storage(tmp + "/scratch", Need::kWrite);
  l.storage(dir_ + "/missing.cfg", Need::kStat);
  LearnedPolicy learned = l.render();
  EXPECT_FALSE(learned.writes_outside_tmpdir) << learned.text;
  EXPECT_EQ(learned.text.find(tmp), std::string::npos) << learned.text;
  RunConfig c = reload(learned);
  EXPECT_EQ(c.absent_paths, std::vector<std::string>{dir_ + "/missing.cfg"});
}

TEST_F(Learner, SystemFilesGoToBaseProfiles) {
  PolicyLearner l({"prog"});
  l.storage("/usr/lib/locale/C.utf8/LC_CTYPE", Need::kRead);
  l.storage("/etc/ld.so.preload", Need::kStat);
  LearnedPolicy learned = l.render();
  EXPECT_NE(learned.text.find("include = [\"base:dynamic-elf\"]"), std::string::npos) << learned.text;
  EXPECT_EQ(learned.text.find("/usr/lib/locale"), std::string::npos) << learned.text;
  if (::access("/usr/lib/python3", F_OK) == 0) {
    PolicyLearner py({"python3"});
    py.storage("/usr/lib/python3/dist-packages", Need::kStat);
    char real[PATH_MAX];
    ASSERT_TRUE(realpath("/usr/bin/python3", real));  // decisions are on canonical paths
    py.storage(real, Need::kStat);
    EXPECT_NE(py.render().text.find("include = [\"base:python3\"]"), std::string::npos);
  }
}

TEST_F(Learner, NetworkAndProcPaths) {
  PolicyLearner l({"prog"});
  l.network(true, "tcp:127.0.0.1:8080");
  l.network(false, "tcp:10.0.0.7:5432");
  l.network(false, "tcp:10.0.0.7:5432");
  l.storage("/proc/1234/status", Need::kRead);
  LearnedPolicy learned = l.render();
  EXPECT_NE(learned.text.find("#   /proc/1234/status"), std::string::npos) << learned.text;
  RunConfig c = reload(learned);
  ASSERT_EQ(c.net.size(), 2u);
  EXPECT_EQ(c.net[0].flag, "--bind");
  EXPECT_EQ(c.net[0].spec, "tcp:127.0.0.1:8080");
  EXPECT_EQ(c.net[1].spec, "tcp:10.0.0.7:5432");
  EXPECT_FALSE(find(c, "/proc/1234/status"));
}

TEST_F(Learner, WritesAtomically) {
  std::string p = dir_ + "/out.toml";
  write_learned_policy(p, "x = 1\n");
  std::ifstream in(p);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "x = 1\n");
  EXPECT_NE(::access((p + ".wwjail-tmp").c_str(), F_OK), 0);
  EXPECT_THROW(write_learned_policy("/no/such/dir/p.toml", "x"), std::exception);
}

}  // namespace
}  // namespace wwjail
