// The log's sinks as main opens them: wwjail's own messages (which quote
// guest paths at debug level, and errors) are one line each in text and
// valid JSON in JSON mode, whatever bytes they hold.
#include "broker/log_sinks.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
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
  LogSinks open(const std::string& format) {
    LogRequest r;
    r.format = format;
    r.path = path_;
    return open_log_sinks(r, "debug");
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

}  // namespace
}  // namespace wwjail
