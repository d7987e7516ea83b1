// Decision events: text and JSON lines (each validated by a JSON parser),
// what is logged when, and the counts audit mode ends with.
#include "broker/decision_log.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <nlohmann/json.hpp>
#include <sstream>

namespace wwjail {
namespace {

class DecisionLogTest : public ::testing::Test {
 protected:
  std::shared_ptr<spdlog::logger> logger(bool json) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    auto l = std::make_shared<spdlog::logger>("t", sink);
    l->set_pattern(json ? "%v" : "wwjail: %l: %v");
    l->set_level(spdlog::level::trace);
    return l;
  }
  std::vector<std::string> lines() {
    std::vector<std::string> v;
    std::string line;
    std::istringstream in(out_.str());
    while (std::getline(in, line)) v.push_back(line);
    return v;
  }
  std::ostringstream out_;
  Grant grant_{"/srv/data", kRead, true, "/etc/app.toml:7 read /srv/data"};
};

LogOptions options(bool json, bool log_allowed, bool audit = false, bool quiet_audit = false) {
  LogOptions o;
  o.json = json;
  o.log_allowed = log_allowed;
  o.audit = audit;
  o.quiet_audit = quiet_audit;
  o.context = {"0123456789abcdef", "/usr/bin/app"};
  return o;
}

DecisionEvent denied_read() {
  DecisionEvent e;
  e.tid = 42;
  e.tgid = 42;
  e.syscall = "openat";
  e.target = "/etc/shadow";
  e.need = "read";
  e.kind = DecisionKind::kDeny;
  e.err = EACCES;
  e.missing_kind = "read";
  e.missing_target = "/etc/shadow";
  e.storage_need = Need::kRead;
  return e;
}

TEST_F(DecisionLogTest, JsonLinesCarryEveryField) {
  DecisionLog log(logger(true), options(true, true));
  log.record(denied_read());
  DecisionEvent allowed;
  allowed.tid = 42;
  allowed.tgid = 42;
  allowed.syscall = "openat";
  allowed.target = "/srv/data/a \"quoted\"\n name";
  allowed.need = "read";
  allowed.grant = &grant_;
  log.record(allowed);
  auto v = lines();
  ASSERT_EQ(v.size(), 2u);
  auto deny = nlohmann::json::parse(v[0]);
  EXPECT_EQ(deny["decision"], "deny");
  EXPECT_EQ(deny["tgid"], 42);
  EXPECT_EQ(deny["tid"], 42);
  EXPECT_EQ(deny["schema"], 1);
  EXPECT_EQ(deny["event"], "decision");
  EXPECT_EQ(deny["level"], "warn");
  EXPECT_EQ(deny["run_id"], "0123456789abcdef");
  EXPECT_EQ(deny["program"], "/usr/bin/app");
  EXPECT_EQ(deny["syscall"], "openat");
  EXPECT_EQ(deny["target"], "/etc/shadow");
  EXPECT_EQ(deny["need"], "read");
  EXPECT_EQ(deny["errno"], "EACCES");
  EXPECT_EQ(deny["missing_kind"], "read");
  EXPECT_EQ(deny["missing_target"], "/etc/shadow");
  EXPECT_FALSE(deny.contains("missing"));
  EXPECT_FALSE(deny.contains("grant"));
  std::string time = deny["time"];
  EXPECT_EQ(time.size(), 24u) << time;  // 2026-11-21T10:14:41.667Z
  EXPECT_EQ(time.back(), 'Z');
  auto allow = nlohmann::json::parse(v[1]);
  EXPECT_EQ(allow["decision"], "allow");
  EXPECT_EQ(allow["target"], "/srv/data/a \"quoted\"\n name");  // escaped and back
  EXPECT_TRUE(allow["errno"].is_null());
  EXPECT_EQ(allow["grant"], "/etc/app.toml:7 read /srv/data");
  EXPECT_EQ(allow["policy"], "/etc/app.toml:7");
}

TEST_F(DecisionLogTest, InvalidUtf8InATargetStillGivesValidJson) {
  DecisionLog log(logger(true), options(true, false));
  DecisionEvent e = denied_read();
  std::string odd = "/tmp/\xff\xfe-name";
  e.target = odd;
  log.record(e);
  auto v = lines();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_TRUE(nlohmann::json::accept(v[0])) << v[0];
}

// A guest chooses the paths it opens: whatever bytes they hold, a text
// decision stays one line and cannot pass for another one.
TEST_F(DecisionLogTest, TextLinesEscapeWhatTheGuestChose) {
  DecisionLog log(logger(false), options(false, true));
  std::string forged = "/tmp/x\nwwjail: info: allowed pid=1 openat /etc/shadow";
  DecisionEvent e = denied_read();
  e.target = forged;
  e.missing_target = forged;
  log.record(e);
  std::string odd = "/srv/data/t\tesc\x1b[2J del\x7f bad\xff\xfe back\\slash cr\r";
  DecisionEvent allowed;
  allowed.tid = 7;
  allowed.tgid = 7;
  allowed.syscall = "openat";
  allowed.target = odd;
  allowed.need = "read";
  Grant from_policy{"/srv/data", kRead, true, "/etc/a\nb.toml:3 read /srv/data"};
  allowed.grant = &from_policy;
  log.record(allowed);
  auto v = lines();
  ASSERT_EQ(v.size(), 2u) << out_.str();
  EXPECT_EQ(v[0],
            "wwjail: warning: denied pid=42 openat /tmp/x\\nwwjail: info: allowed pid=1 openat /etc/shadow (need read; "
            "missing grant: read on /tmp/x\\nwwjail: info: allowed pid=1 openat /etc/shadow)");
  EXPECT_EQ(v[1],
            "wwjail: info: allowed pid=7 openat /srv/data/t\\tesc\\x1b[2J del\\x7f bad\\xff\\xfe back\\\\slash cr\\r "
            "(read; granted by /etc/a\\nb.toml:3 read /srv/data)");
}

TEST_F(DecisionLogTest, JsonLinesStayValidForAnyBytesInAnyField) {
  DecisionLog log(logger(true), options(true, true));
  DecisionEvent e = denied_read();
  std::string target = "/tmp/\xff\n\x1b\x7f\xc3", missing = "/tmp/\xfe", reason = "no \xc0\xaf";
  e.target = target;
  e.missing_target = missing;
  e.reason = reason;
  log.record(e);
  DecisionEvent allowed = denied_read();
  allowed.kind = DecisionKind::kAllow;
  allowed.err = 0;
  Grant odd{"/srv", kRead, true, "/etc/\xff.toml:1 read /srv"};
  allowed.grant = &odd;
  log.record(allowed);
  auto v = lines();
  ASSERT_EQ(v.size(), 2u) << out_.str();
  for (const auto& line : v) ASSERT_TRUE(nlohmann::json::accept(line)) << line;
  auto deny = nlohmann::json::parse(v[0]);
  EXPECT_EQ(deny["target"], "/tmp/\xef\xbf\xbd\n\x1b\x7f\xef\xbf\xbd");  // U+FFFD for each invalid byte
  EXPECT_EQ(deny["missing_target"], "/tmp/\xef\xbf\xbd");
  EXPECT_EQ(nlohmann::json::parse(v[1])["grant"], "/etc/\xef\xbf\xbd.toml:1 read /srv");
}

TEST_F(DecisionLogTest, QuietOnSuccessUnlessAsked) {
  DecisionLog quiet(logger(false), options(false, false));
  EXPECT_FALSE(quiet.records_allowed());
  DecisionEvent allowed;
  allowed.target = "/srv/data/x";
  allowed.grant = &grant_;
  quiet.record(allowed);
  EXPECT_EQ(out_.str(), "");
  quiet.record(denied_read());
  EXPECT_EQ(out_.str(),
            "wwjail: warning: denied pid=42 openat /etc/shadow (need read; missing grant: read on /etc/shadow)\n");
}

TEST_F(DecisionLogTest, AuditCountsAndEndsWithOneSummaryLine) {
  DecisionLog log(logger(true), options(true, false, /*audit=*/true));
  EXPECT_TRUE(log.records_allowed());  // audit counts the allowed ones too
  DecisionEvent e = denied_read();
  e.kind = DecisionKind::kAudit;
  e.err = 0;
  log.record(e);
  DecisionEvent allowed;
  allowed.grant = &grant_;
  log.record(allowed);
  log.record(allowed);
  log.record(denied_read());
  log.summary("audit", 3);
  auto v = lines();
  ASSERT_EQ(v.size(), 3u);  // the audit line, the denial, the summary: allowed ones stay quiet
  EXPECT_EQ(nlohmann::json::parse(v[0])["decision"], "audit");
  auto s = nlohmann::json::parse(v[2]);
  EXPECT_EQ(s["event"], "summary");
  EXPECT_EQ(s["mode"], "audit");
  EXPECT_EQ(s["allow"], 2);
  EXPECT_EQ(s["audit"], 1);
  EXPECT_EQ(s["deny"], 1);
  EXPECT_EQ(s["exit"], 3);
}

TEST_F(DecisionLogTest, ObserverSeesEverythingLearnModeLogsNothingPerDecision) {
  struct Seen : DecisionObserver {
    std::vector<std::string> targets;
    void observe(const DecisionEvent& e) override { targets.emplace_back(e.target); }
  } seen;
  DecisionLog log(logger(false), options(false, false, true, /*quiet_audit=*/true), &seen);
  DecisionEvent e = denied_read();
  e.kind = DecisionKind::kAudit;
  log.record(e);
  EXPECT_EQ(seen.targets, std::vector<std::string>{"/etc/shadow"});
  EXPECT_EQ(out_.str(), "");
}

// The same denial again and again is one line, then a count at 10, 100,
// ... and its total at finish(): no occurrence goes uncounted.
TEST_F(DecisionLogTest, RepeatedDenialsAreCountedOnce) {
  DecisionLog log(logger(true), options(true, false));
  for (int i = 0; i < 12; ++i) {
    DecisionEvent e = denied_read();
    e.tid = e.tgid = 100 + i;  // another process: the same denial all the same
    log.record(e);
  }
  DecisionEvent other = denied_read();
  other.target = other.missing_target = "/etc/gshadow";
  log.record(other);  // positive control: a different denial gets its own line
  log.finish();
  log.finish();  // once only
  auto v = lines();
  ASSERT_EQ(v.size(), 4u) << out_.str();
  auto first = nlohmann::json::parse(v[0]);
  EXPECT_EQ(first["event"], "decision");
  EXPECT_EQ(first["tgid"], 100);
  auto at_ten = nlohmann::json::parse(v[1]);
  EXPECT_EQ(at_ten["event"], "repeated");
  EXPECT_EQ(at_ten["count"], 10);
  EXPECT_EQ(at_ten["final"], false);
  EXPECT_EQ(at_ten["target"], "/etc/shadow");
  EXPECT_EQ(at_ten["missing_target"], "/etc/shadow");
  EXPECT_FALSE(at_ten.contains("tgid"));
  EXPECT_EQ(nlohmann::json::parse(v[2])["target"], "/etc/gshadow");
  auto total = nlohmann::json::parse(v[3]);
  EXPECT_EQ(total["count"], 12);
  EXPECT_EQ(total["final"], true);
  EXPECT_EQ(log.counts().deny, 13u);
}

TEST_F(DecisionLogTest, RepeatedDenialsInTextSayHowOften) {
  DecisionLog log(logger(false), options(false, false));
  log.record(denied_read());
  log.record(denied_read());
  log.finish();
  auto v = lines();
  ASSERT_EQ(v.size(), 2u) << out_.str();
  EXPECT_EQ(v[1], "wwjail: warning: repeated: denied openat /etc/shadow (need read; missing grant: read on "
                  "/etc/shadow): seen 2 times in this run");
}

// A guest making endless distinct denials fills the table to its cap and
// no further: past it, each denial is logged as it comes (none is lost).
TEST_F(DecisionLogTest, TheRepeatTableIsCapped) {
  LogOptions o = options(false, false);
  o.repeat_entries = 2;
  DecisionLog log(logger(false), o);
  std::vector<std::string> paths = {"/a", "/b", "/c"};
  for (int round = 0; round < 3; ++round) {
    for (const auto& p : paths) {
      DecisionEvent e = denied_read();
      e.target = e.missing_target = p;
      log.record(e);
    }
  }
  log.finish();
  int lines_of_c = 0, totals = 0;
  for (const auto& line : lines()) {
    lines_of_c += line.find(" /c ") != std::string::npos && !line.starts_with("wwjail: warning: repeated");
    totals += line.starts_with("wwjail: warning: repeated");
  }
  EXPECT_EQ(lines_of_c, 3) << out_.str();  // past the cap: every occurrence
  EXPECT_EQ(totals, 2) << out_.str();      // /a and /b: counted, then their totals
}

// The table's other cap: the bytes of what it remembers (paths are
// guest-chosen and may be 4 KiB each).
TEST_F(DecisionLogTest, TheRepeatTableIsCappedInBytesToo) {
  LogOptions o = options(false, false);
  o.repeat_bytes = 64;
  DecisionLog log(logger(false), o);
  std::string long_path = "/" + std::string(100, 'x');
  DecisionEvent e = denied_read();
  e.target = e.missing_target = long_path;
  log.record(e);
  log.record(e);
  log.finish();
  EXPECT_EQ(lines().size(), 2u) << "too long to remember: logged each time\n" << out_.str();
  DecisionEvent small = denied_read();  // positive control: a short one fits and is counted
  DecisionLog counted(logger(false), o);
  out_.str("");
  counted.record(small);
  counted.record(small);
  EXPECT_EQ(lines().size(), 1u) << out_.str();
}

TEST_F(DecisionLogTest, HintsSayWhatToGrant) {
  DecisionLog log(logger(false), options(false, false));
  DecisionEvent absent = denied_read();
  absent.target = absent.missing_target = "/etc/app.conf";
  absent.hint = DecisionHint::kAbsent;
  log.record(absent);
  DecisionEvent exe = denied_read();
  exe.syscall = "newfstatat";
  exe.need = "stat";
  exe.target = "/usr/bin/mkdir";
  exe.missing_kind = "exec";
  exe.missing_target = "/usr/bin/mkdir";
  exe.hint = DecisionHint::kExecutable;
  log.record(exe);
  DecisionEvent probe = denied_read();
  probe.syscall = "connect";
  probe.need = probe.missing_kind = "connect";
  probe.target = probe.missing_target = "udp:[::]:8000";
  probe.storage = false;
  probe.hint = DecisionHint::kAddressProbe;
  probe.minor = true;
  log.record(probe);
  auto v = lines();
  ASSERT_EQ(v.size(), 3u) << out_.str();
  EXPECT_EQ(v[0], "wwjail: warning: denied pid=42 openat /etc/app.conf (need read; missing grant: read on "
                  "/etc/app.conf; absent: grant ?/etc/app.conf if it is optional)");
  EXPECT_EQ(v[1], "wwjail: warning: denied pid=42 newfstatat /usr/bin/mkdir (need stat; missing grant: exec on "
                  "/usr/bin/mkdir, an executable (read, if it is only looked at))");
  EXPECT_TRUE(v[2].starts_with("wwjail: info: denied pid=42 connect udp:[::]:8000 (not granted: --connect "
                               "udp:[::]:8000; a UDP connect sends nothing"))
      << v[2];
  EXPECT_EQ(v[2].find("missing grant"), std::string::npos) << v[2];
}

TEST(MissingStorageGrant, CreateAndRemoveNeedWriteOnTheParent) {
  EXPECT_EQ(missing_storage_grant("/srv/out/new.txt", Need::kCreate).kind, "write");
  EXPECT_EQ(missing_storage_grant("/srv/out/new.txt", Need::kCreate).target, "/srv/out");
  EXPECT_EQ(missing_storage_grant("/top", Need::kRemove).target, "/");
  EXPECT_EQ(missing_storage_grant("/etc/x", Need::kStat).kind, "read");
  EXPECT_EQ(missing_storage_grant("/etc/x", Need::kStat).target, "/etc/x");
  EXPECT_EQ(missing_storage_grant("/bin/x", Need::kExec).kind, "exec");
}

TEST_F(DecisionLogTest, ThreadsNameTheirProcess) {
  LogOptions o = options(false, false);
  o.tgid_of = [](pid_t tid) { return tid == 43 ? 40 : -1; };
  DecisionLog log(logger(false), o);
  DecisionEvent e = denied_read();
  e.tid = 43;
  e.tgid = 0;  // looked up when written
  log.record(e);
  EXPECT_NE(out_.str().find(": denied pid=40 tid=43 openat /etc/shadow"), std::string::npos) << out_.str();
}

}  // namespace
}  // namespace wwjail
