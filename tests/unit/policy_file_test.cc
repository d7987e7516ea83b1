// Policy files: every error path names FILE:LINE:COLUMN and what to write.
#include "policy/policy_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "sys/sys_error.h"

namespace wwjail {
namespace {

class PolicyFile : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wwjail-policy.XXXXXX";
    ASSERT_TRUE(mkdtemp(tmpl));
    dir_ = tmpl;
    ::mkdir((dir_ + "/data").c_str(), 0755);
  }
  void TearDown() override { (void)!std::system(("rm -rf '" + dir_ + "'").c_str()); }
  std::string write(const std::string& text) {
    std::string p = dir_ + "/policy.toml";
    std::ofstream(p) << text;
    return p;
  }
  // The error message, or "" when the file loads.
  std::string error_of(const std::string& text) {
    RunConfig c;
    try {
      load_policy_file(write(text), c);
    } catch (const SetupError& e) {
      return e.what();
    }
    return "";
  }
  std::string dir_;
};

TEST_F(PolicyFile, LoadsEveryKey) {
  RunConfig c;
  load_policy_file(write("[storage]\nread = [\"/usr\"]\nwrite = [\"data\"]\nexec = [\"/bin/sh\"]\n"
                         "tmpdir = false\nkeep_tmpdir = true\n"
                         "[network]\nbind = [\"tcp:127.0.0.1:8080\"]\nconnect = [\"udp:[::1]:53\"]\n"
                         "listen = [\"tcp:127.0.0.1:8081\"]\ndns = true\n"),
                   c);
  ASSERT_EQ(c.grants.size(), 3u);
  EXPECT_EQ(c.grants[0].path, "/usr");
  EXPECT_EQ(c.grants[0].origin, dir_ + "/policy.toml:2 read /usr");
  char real[PATH_MAX];
  ASSERT_TRUE(realpath((dir_ + "/data").c_str(), real));
  EXPECT_EQ(c.grants[1].path, real);  // relative to the policy's directory
  EXPECT_TRUE(c.grants[1].rights & kWrite);
  EXPECT_TRUE(c.grants[2].rights & kExec);
  EXPECT_FALSE(c.tmpdir);
  EXPECT_TRUE(c.keep_tmpdir);
  ASSERT_EQ(c.net.size(), 4u);
  EXPECT_EQ(c.net[3].spec, "dns");
}

TEST_F(PolicyFile, ErrorsNameTheSpotAndTheFix) {
  struct Case {
    const char* text;
    const char* where;
    const char* says;
  } cases[] = {
      {"[storage]\nreed = [\"/usr\"]\n", ":2:1:", "unknown key 'reed' in [storage]; the keys are"},
      {"[store]\n", ":1:2:", "unknown key 'store'"},
      {"[storage]\nread = \"/usr\"\n", ":2:8:", "must be an array of strings"},
      {"[storage]\nread = [1]\n", ":2:9:", "holds a non-string"},
      {"[storage]\ntmpdir = \"yes\"\n", ":2:10:", "must be true or false"},
      {"[storage]\nread = [\"/no/such/path\"]\n", ":2:9:", "does not exist"},
      {"[storage]\nwrite = [\"/\"]\n", ":2:10:", "too broad to be deliberate"},
      {"[storage]\nwrite = [\"/etc\"]\n", ":2:10:", "list \"/etc\" under write_broad"},
      {"[network]\nconnect = [\"tcp:*:*\"]\n", ":2:12:", "under connect_broad"},
      {"[network]\nconnect = [\"tcp:[::]/0:*\"]\n", ":2:12:", "too broad"},
      {"[network]\nbind = [\"tcp:127.0.0.1\"]\n", ":2:9:", "missing port"},
      {"[network]\nbind = [\"tcp:127.0.0.1:99999\"]\n", ":2:9:", "bad port"},
      {"[network]\ndns = 1\n", ":2:7:", "must be true or false"},
      {"[network\n", ":1:", "must be valid TOML"},
  };
  for (const auto& c : cases) {
    std::string err = error_of(c.text);
    EXPECT_NE(err.find("policy.toml" + std::string(c.where)), std::string::npos) << c.text << " -> " << err;
    EXPECT_NE(err.find(c.says), std::string::npos) << c.text << " -> " << err;
  }
}

TEST_F(PolicyFile, BroadGrantsCanBeMadeDeliberate) {
  EXPECT_EQ(error_of("[storage]\nwrite_broad = [\"/tmp\"]\n"), "");
  EXPECT_EQ(error_of("[network]\nconnect_broad = [\"tcp:*:*\"]\n"), "");
  // A specific peer on any port, or any peer on one port, is not "broad".
  EXPECT_EQ(error_of("[network]\nconnect = [\"tcp:127.0.0.1:*\", \"tcp:*:443\"]\n"), "");
}

TEST_F(PolicyFile, DescribesTheCapabilitiesInPlainWords) {
  RunConfig c;
  load_policy_file(write("[storage]\nread = [\"/usr\"]\n[network]\nconnect = [\"tcp:127.0.0.1:5432\"]\n"), c);
  std::string text = describe_capabilities(c);
  EXPECT_NE(text.find("read:      /usr and everything below it"), std::string::npos) << text;
  EXPECT_NE(text.find("write:     nothing"), std::string::npos) << text;
  EXPECT_NE(text.find("connect:   tcp:127.0.0.1:5432"), std::string::npos) << text;
  EXPECT_NE(text.find("temp dir:  private $TMPDIR, removed after the run"), std::string::npos) << text;
}

}  // namespace
}  // namespace wwjail
