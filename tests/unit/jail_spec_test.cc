// The JailSpec is decided as data from a RunConfig: built here without
// forking, and read like any value.
#include "policy/jail_spec.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "policy/run_profile.h"
#include "sys/sys_error.h"

namespace wwjail {
namespace {

class JailSpecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wwjail-spec.XXXXXX";
    ASSERT_TRUE(mkdtemp(tmpl));
    dir_ = tmpl;
    tmpdir_ = dir_ + "/tmp";
    ::mkdir(tmpdir_.c_str(), 0700);
    program_ = find_program("/bin/true");
    ASSERT_EQ(program_.exit_status, 0);
    config_.command = {"/bin/true", "x"};
  }
  void TearDown() override { (void)!std::system(("rm -rf '" + dir_ + "'").c_str()); }

  JailSpec build(bool learning = false) {
    const char* parent[] = {"HOME=/home/u", "TMPDIR=/elsewhere", "LISTEN_FDS=9", nullptr};
    return build_jail_spec(config_, {program_, tmpdir_, parent, learning}, *log_);
  }
  static bool has(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  }

  std::shared_ptr<spdlog::logger> log_ =
      std::make_shared<spdlog::logger>("t", std::make_shared<spdlog::sinks::null_sink_mt>());
  std::string dir_, tmpdir_;
  ProgramLookup program_;
  RunConfig config_;
};

TEST_F(JailSpecTest, HoldsTheProgramItsArgvAndEnvironment) {
  JailSpec spec = build();
  EXPECT_EQ(spec.program, program_.path);
  EXPECT_EQ(spec.argv, (std::vector<std::string>{"/bin/true", "x"}));
  EXPECT_TRUE(has(spec.env, "HOME=/home/u"));
  EXPECT_TRUE(has(spec.env, "TMPDIR=" + tmpdir_));  // wwjail's replaces the inherited one
  EXPECT_FALSE(has(spec.env, "TMPDIR=/elsewhere"));
  EXPECT_TRUE(has(spec.env, "LISTEN_FDS=9"));  // no --listen: inherited as it was
  EXPECT_EQ(spec.tmpdir, tmpdir_);
  EXPECT_FALSE(spec.keep_tmpdir);
}

TEST_F(JailSpecTest, TheRunProfileIsGrantedToEveryRun) {
  JailSpec spec = build();
  EXPECT_TRUE(spec.storage.decide(program_.path, Need::kExec).allowed);
  EXPECT_TRUE(spec.storage.decide("/dev/null", Need::kWrite).allowed);
  EXPECT_TRUE(spec.storage.decide(tmpdir_ + "/f", Need::kWrite).allowed);
  EXPECT_FALSE(spec.storage.decide("/dev/urandom", Need::kWrite).allowed);
  EXPECT_FALSE(spec.storage.decide("/etc/shadow", Need::kRead).allowed);  // positive control
  // Every path row of the profile is a read grant at least, where it exists.
  for (const auto& p : run_profile()) {
    struct stat st{};
    if (p.source != ProfileGrant::Source::kPath || ::stat(std::string(p.path).c_str(), &st) != 0) continue;
    EXPECT_TRUE(spec.storage.decide(std::string(p.path), Need::kRead).allowed) << p.path;
  }
}

TEST_F(JailSpecTest, ListenEndpointsSetTheActivationVariables) {
  config_.net.push_back({"tcp:127.0.0.1:8080", "--listen"});
  config_.net.push_back({"unix:" + dir_ + "/s", "--listen"});
  JailSpec spec = build();
  ASSERT_EQ(spec.listen.size(), 2u);
  EXPECT_TRUE(has(spec.env, "LISTEN_FDS=2"));
  EXPECT_TRUE(has(spec.env, "LISTEN_FDNAMES=listen0:listen1"));
  EXPECT_FALSE(has(spec.env, "LISTEN_FDS=9"));
}

TEST_F(JailSpecTest, MoreListenSocketsThanTheLaunchTakesAreRefused) {
  for (int port = 9000; port < 9017; ++port) config_.net.push_back({"tcp:127.0.0.1:" + std::to_string(port), "--listen"});
  EXPECT_THROW(build(), SetupError);
  config_.net.pop_back();
  EXPECT_EQ(build().listen.size(), 16u);
}

TEST_F(JailSpecTest, ALaterLimitReplacesAnEarlierOne) {
  config_.limits.push_back({RLIMIT_NOFILE, 64, "a"});
  config_.limits.push_back({RLIMIT_CORE, 0, "b"});
  config_.limits.push_back({RLIMIT_NOFILE, 32, "c"});
  JailSpec spec = build();
  ASSERT_EQ(spec.limits.size(), 2u);
  EXPECT_EQ(spec.limits[0].resource, RLIMIT_CORE);
  EXPECT_EQ(spec.limits[1].value, 32u);
}

TEST_F(JailSpecTest, AuditAndLearnEnforceNoGrantAndMediateFiles) {
  JailSpec plain = build();
  EXPECT_FALSE(plain.audit);
  EXPECT_EQ(plain.mediate, MediateMode::kAuto);
  EXPECT_FALSE(plain.storage.decide("/etc/shadow", Need::kRead).allowed);
  JailSpec learning = build(true);
  EXPECT_TRUE(learning.audit && learning.learning);
  EXPECT_EQ(learning.mediate, MediateMode::kFiles);
  EXPECT_TRUE(learning.storage.decide("/etc/shadow", Need::kRead).allowed);
  config_.audit = true;
  JailSpec audit = build();
  EXPECT_TRUE(audit.audit && !audit.learning);
  EXPECT_EQ(audit.mediate, MediateMode::kFiles);
}

TEST_F(JailSpecTest, TheEnforcementModesReachTheSpec) {
  config_.mediate = MediateMode::kFiles;
  config_.metadata = MetadataMode::kVisible;
  JailSpec spec = build();
  EXPECT_EQ(spec.mediate, MediateMode::kFiles);
  EXPECT_EQ(spec.metadata, MetadataMode::kVisible);
}

TEST_F(JailSpecTest, WithoutATempDirThereIsNoTmpdirVariable) {
  const char* parent[] = {"TMPDIR=/elsewhere", nullptr};
  std::string none;
  JailSpec spec = build_jail_spec(config_, {program_, none, parent}, *log_);
  EXPECT_EQ(spec.tmpdir, "");
  EXPECT_FALSE(has(spec.env, "TMPDIR=/elsewhere"));
  config_.env.set.push_back({"TMPDIR", "/mine"});
  EXPECT_TRUE(has(build_jail_spec(config_, {program_, none, parent}, *log_).env, "TMPDIR=/mine"));
}

}  // namespace
}  // namespace wwjail
