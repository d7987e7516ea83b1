// The log's sinks as main opens them: wwjail's own messages (which quote
// guest paths at debug level, and errors) are one line each in text and
// valid JSON in JSON mode, whatever bytes they hold.
#include "broker/log_sinks.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <set>
#include <nlohmann/json.hpp>
#include <sstream>

#include "broker/decision_log.h"

namespace wwjail {
namespace {

class LogSinksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wwjail-log.XXXXXX";
    int fd = ::mkstemp(tmpl);
    ASSERT_GE(fd, 0);
    ::close(fd);
    path_ = tmpl;
  }
  void TearDown() override { ::unlink(path_.c_str()); }
  LogSinks open(const std::string& format, const std::string& level = "debug") {
    LogRequest r;
    r.format = format;
    r.path = path_;
    return open_log_sinks(r, level, {new_run_id(), "/usr/bin/app"});
  }
  std::vector<std::string> lines() {
    std::ifstream in(path_);
    std::vector<std::string> v;
    std::string line;
    while (std::getline(in, line)) v.push_back(line);
    return v;
  }
  std::string path_;
};

const char kForged[] = "/tmp/x\nwwjail: info: allowed pid=1 openat /etc/shadow";

TEST_F(LogSinksTest, TextMessagesAreOneLineEach) {
  LogSinks s = open("text");
  s.messages->debug("pid={} {} {}: absent and not granted", 9, "openat", kForged);
  s.messages->warn("tab\there esc\x1b[0m bad\xff");
  s.messages->info("plain message");  // positive control: nothing to escape
  auto v = lines();
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0], "wwjail: debug: pid=9 openat /tmp/x\\nwwjail: info: allowed pid=1 openat /etc/shadow: absent and not "
                  "granted");
  EXPECT_EQ(v[1], "wwjail: warning: tab\\there esc\\x1b[0m bad\\xff");
  EXPECT_EQ(v[2], "wwjail: info: plain message");
}

TEST_F(LogSinksTest, DecisionsThroughTheSinksAreOneLineEach) {
  LogSinks s = open("text");
  DecisionLog log(s.decisions);
  DecisionEvent e;
  e.tid = 3;
  e.tgid = 3;
  e.syscall = "openat";
  e.target = kForged;
  e.need = "read";
  e.kind = DecisionKind::kDeny;
  e.err = EACCES;
  log.record(e);
  auto v = lines();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0], "wwjail: warning: denied pid=3 openat /tmp/x\\nwwjail: info: allowed pid=1 openat /etc/shadow");
}

TEST_F(LogSinksTest, JsonMessagesStayValidJson) {
  LogSinks s = open("json");
  s.messages->debug("pid=9 openat {}: absent", std::string(kForged) + "\xff\xfe");
  s.messages->warn("plain");
  auto v = lines();
  ASSERT_EQ(v.size(), 2u);
  for (const auto& line : v) ASSERT_TRUE(nlohmann::json::accept(line)) << line;
  EXPECT_EQ(nlohmann::json::parse(v[0])["message"],
            "pid=9 openat " + std::string(kForged) + "\xef\xbf\xbd\xef\xbf\xbd: absent");
  EXPECT_EQ(nlohmann::json::parse(v[1])["message"], "plain");
}

// The schema of wwjail(1), LOG FORMAT: every kind of line a run can write,
// through the sinks main opens, each parsed and checked for the fields
// every line carries and those of its event.
TEST_F(LogSinksTest, EveryJsonLineFollowsTheSchema) {
  LogSinks s = open("json", "info");
  LogOptions o;
  o.json = true;
  o.log_allowed = true;
  o.audit = true;
  o.context = s.context;
  Grant g{"/srv", kRead, true, "/etc/app.toml:4 read /srv"};
  {
    DecisionLog log(s.decisions, o);
    s.messages->warn("kept the private temp dir at /tmp/x");
    DecisionEvent allow{.tid = 8, .tgid = 7, .syscall = "openat", .target = "/srv/a", .need = "read", .grant = &g};
    log.record(allow);
    DecisionEvent deny{.tid = 7, .tgid = 7, .syscall = "openat", .target = "/etc/shadow", .need = "read",
                       .kind = DecisionKind::kDeny, .err = EACCES, .missing_kind = "read",
                       .missing_target = "/etc/shadow", .storage_need = Need::kRead};
    log.record(deny);
    log.record(deny);  // a repeat: counted, totalled at finish
    DecisionEvent audit = deny;
    audit.kind = DecisionKind::kAudit;
    audit.err = 0;
    audit.target = audit.missing_target = "/etc/app.conf";
    audit.hint = DecisionHint::kAbsent;
    log.record(audit);
    log.finish();
    log.summary("audit", 0);
  }
  report_learned_policy(s, "/tmp/app.toml", 3, false);
  auto v = lines();
  std::map<std::string, int> events;
  const std::set<std::string> levels = {"trace", "debug", "info", "warn", "error"};
  for (const auto& line : v) {
    ASSERT_TRUE(nlohmann::json::accept(line)) << line;
    auto j = nlohmann::json::parse(line);
    ASSERT_TRUE(j.is_object()) << line;
    EXPECT_EQ(j["schema"], kLogSchema) << line;
    EXPECT_EQ(j["program"], "/usr/bin/app") << line;
    EXPECT_EQ(j["run_id"], s.context.run_id) << line;
    EXPECT_EQ(j["time"].get<std::string>().size(), 24u) << line;
    EXPECT_TRUE(levels.count(j["level"].get<std::string>())) << line;
    std::string event = j["event"];
    ++events[event];
    if (event == "decision") {
      for (const char* f : {"tgid", "tid", "syscall", "target", "need", "decision", "errno"})
        EXPECT_TRUE(j.contains(f)) << f << " in " << line;
      EXPECT_FALSE(j.contains("pid")) << line;
      EXPECT_FALSE(j.contains("missing")) << line;
      if (j["decision"] != "allow") {
        EXPECT_TRUE(j.contains("missing_kind") && j.contains("missing_target")) << line;
      }
    } else if (event == "repeated") {
      EXPECT_TRUE(j["count"].is_number_unsigned() && j["final"].is_boolean()) << line;
    } else if (event == "message") {
      EXPECT_TRUE(j["message"].is_string()) << line;
    } else if (event == "summary") {
      for (const char* f : {"mode", "allow", "audit", "deny", "exit"}) EXPECT_TRUE(j.contains(f)) << f << " in " << line;
    } else if (event == "learned") {
      EXPECT_EQ(j["file"], "/tmp/app.toml");
      EXPECT_EQ(j["grants"], 3);
      EXPECT_EQ(j["writes_outside_tmpdir"], false);
    } else {
      ADD_FAILURE() << "an event the schema does not list: " << line;
    }
  }
  EXPECT_EQ(events["decision"], 3) << "allow, deny, audit";
  EXPECT_EQ(events["repeated"], 1);
  EXPECT_EQ(events["message"], 1);
  EXPECT_EQ(events["summary"], 1);
  EXPECT_EQ(events["learned"], 1);
  EXPECT_EQ(nlohmann::json::parse(v[0])["level"], "warn") << "the flag's name, not spdlog's \"warning\"";
}

TEST(RunId, SixteenHexDigitsNewEachRun) {
  std::string a = new_run_id(), b = new_run_id();
  EXPECT_EQ(a.size(), 16u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos) << a;
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace wwjail
