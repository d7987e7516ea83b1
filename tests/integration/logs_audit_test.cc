// Logs, audit mode, environment and limits through the CLI, as a user sees
// them. JSON lines are read back with a JSON parser.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "jail_runner.h"

namespace wwjail::testing {
namespace {

std::vector<nlohmann::json> json_lines(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    EXPECT_TRUE(nlohmann::json::accept(line)) << "not a JSON object: " << line;
    if (nlohmann::json::accept(line)) out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

// True when `env` output sets NAME (not merely FOO_NAME).
bool sets(const std::string& env_out, const std::string& name) {
  return env_out.starts_with(name + "=") || env_out.find("\n" + name + "=") != std::string::npos;
}

const nlohmann::json* find_event(const std::vector<nlohmann::json>& events, const std::string& decision,
                                 const std::string& target) {
  for (const auto& e : events) {
    if (e.value("decision", "") == decision && e.value("target", "") == target) return &e;
  }
  return nullptr;
}

TEST(Logs, JsonLinesToAFileNameTheGrantAndItsPolicyLine) {
  ScratchDir d;
  std::string data = d.sub("data");
  std::string secret = d.file("secret.txt", "s\n");
  d.file("data/in.txt", "in\n");
  std::string policy = d.file("app.toml", "# app\n[storage]\nread = [\"data\"]\n");
  std::string log = d.path() + "/log.jsonl";
  auto r = jail({"-p", policy, "--log", log, "--log-format", "json", "--log-level", "info", "--exec", "/usr/bin/cat"},
                {"/bin/sh", "-c", "cat " + data + "/in.txt; cat " + secret + "; true"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "in\n");                 // positive control: the granted read worked
  EXPECT_EQ(r.err.find("wwjail:"), std::string::npos) << "the log went to the file, not stderr: " << r.err;
  auto events = json_lines(read_file(log));
  const auto* allow = find_event(events, "allow", data + "/in.txt");
  ASSERT_TRUE(allow) << read_file(log);
  EXPECT_EQ((*allow)["policy"], policy + ":3");
  EXPECT_EQ((*allow)["grant"], policy + ":3 read data");
  EXPECT_EQ((*allow)["need"], "read");
  EXPECT_TRUE((*allow)["tgid"].is_number_integer());
  EXPECT_TRUE((*allow)["tid"].is_number_integer());
  EXPECT_EQ((*allow)["syscall"], "openat");
  const auto* deny = find_event(events, "deny", secret);
  ASSERT_TRUE(deny) << read_file(log);
  EXPECT_EQ((*deny)["errno"], "EACCES");
  EXPECT_EQ((*deny)["missing_kind"], "read");
  EXPECT_EQ((*deny)["missing_target"], secret);
  for (const auto& e : events) EXPECT_TRUE(e.contains("time")) << e.dump();
}

TEST(Logs, QuietOnSuccessByDefaultAndJsonOnAnInheritedFd) {
  ScratchDir d;
  std::string f = d.file("f.txt", "f\n");
  auto quiet = jail({"--read", f}, {"/bin/cat", f});
  EXPECT_EQ(quiet.out, "f\n");
  EXPECT_EQ(quiet.err, "");
  // --log-fd: the descriptor the caller opened; the guest does not inherit it.
  std::string log = d.path() + "/fd.jsonl";
  auto r = run({"/bin/sh", "-c",
                "exec \"$0\" --log-fd 7 --log-format json --read /proc --exec /usr/bin/cat --exec /usr/bin/ls -- "
                "/bin/sh -c 'cat /etc/shadow; ls /proc/self/fd' 7>" + log,
                wwjail_bin()});
  EXPECT_EQ(r.out.find("7\n"), std::string::npos) << "fd 7 leaked into the guest: " << r.out;
  auto events = json_lines(read_file(log));
  EXPECT_TRUE(find_event(events, "deny", "/etc/shadow")) << read_file(log);
  auto bad = jail({"--log-fd", "9"}, {"/bin/true"});
  EXPECT_EQ(bad.exit_code, 125);
  EXPECT_NE(bad.err.find("--log-fd 9: not a descriptor open for writing"), std::string::npos) << bad.err;
  auto both = jail({"--log-fd", "2", "--log", d.path() + "/x"}, {"/bin/true"});
  EXPECT_EQ(both.exit_code, 125);
  auto nodir = jail({"--log", "/no/such/dir/log"}, {"/bin/true"});
  EXPECT_EQ(nodir.exit_code, 125);
  EXPECT_NE(nodir.err.find("--log /no/such/dir/log: No such file or directory"), std::string::npos) << nodir.err;
}

// Lines holding `needle` in `text`.
std::vector<std::string> lines_with(const std::string& text, const std::string& needle) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.find(needle) != std::string::npos) out.push_back(line);
  }
  return out;
}

// A shell's PATH search stats the program first: denied, the advice is
// exec, which running it needs (read alone would not let it run).
TEST(Denials, AStatOfAnExecutableAdvisesExec) {
  auto r = jail({}, {"/bin/sh", "-c", "PATH=/usr/bin; mkdir \"$TMPDIR/d\""});
  EXPECT_NE(r.exit_code, 0);
  auto lines = lines_with(r.err, "newfstatat /usr/bin/mkdir");
  ASSERT_EQ(lines.size(), 1u) << r.err;
  EXPECT_NE(lines[0].find("(need stat; missing grant: exec on /usr/bin/mkdir, an executable"), std::string::npos)
      << lines[0];
  // Following the advice lifts the denial: the shell goes on to run it
  // (positive control; its libraries are another matter).
  auto ok = jail({"--exec", "/usr/bin/mkdir"}, {"/bin/sh", "-c", "PATH=/usr/bin; mkdir \"$TMPDIR/d\""});
  EXPECT_TRUE(lines_with(ok.err, " /usr/bin/mkdir ").empty()) << ok.err;
}

TEST(Denials, AnAbsentPathSaysSoAndAPresentOneDoesNot) {
  ScratchDir d;
  std::string secret = d.file("secret.txt", "s\n");
  std::string absent = d.path() + "/app.conf";
  auto r = jail({"--exec", "/usr/bin/cat", "--log-format", "json"},
                {"/bin/sh", "-c", "cat " + absent + " " + secret + " 2>/dev/null; true"});
  auto events = json_lines(r.err);
  const auto* gone = find_event(events, "deny", absent);
  ASSERT_TRUE(gone) << r.err;
  EXPECT_EQ((*gone)["hint"], "absent");
  EXPECT_EQ((*gone)["missing_target"], absent);
  const auto* there = find_event(events, "deny", secret);
  ASSERT_TRUE(there) << r.err;
  EXPECT_FALSE(there->contains("hint")) << there->dump();
  auto text = jail({"--exec", "/usr/bin/cat"}, {"/bin/cat", absent});
  EXPECT_NE(text.err.find("missing grant: read on " + absent + "; absent: grant ?" + absent + " if it is optional"),
            std::string::npos)
      << text.err;
  // Audit mode gives the same advice on what it would deny.
  auto audited = jail({"--audit"}, {"/bin/cat", absent});
  EXPECT_NE(audited.err.find("would deny pid="), std::string::npos) << audited.err;
  EXPECT_NE(audited.err.find("; absent: grant ?" + absent + " if it is optional"), std::string::npos) << audited.err;
}

// The same denial a dozen times: one line, a count at 10, the total at
// the end; the decision counts still see every one.
TEST(Denials, RepeatsAreCountedNotRepeated) {
  ScratchDir d;
  std::string secret = d.file("secret.txt", "s\n");
  auto r = jail({"--exec", "/usr/bin/cat", "--log-format", "json"},
                {"/bin/sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10 11 12; do cat " + secret + " 2>/dev/null; done; true"});
  int decisions = 0;
  std::vector<uint64_t> counts;
  std::vector<bool> finals;
  for (const auto& e : json_lines(r.err)) {
    if (e.value("target", "") != secret) continue;
    if (e["event"] == "decision") ++decisions;
    if (e["event"] == "repeated") {
      counts.push_back(e["count"]);
      finals.push_back(e["final"]);
    }
  }
  EXPECT_EQ(decisions, 1) << r.err;
  EXPECT_EQ(counts, (std::vector<uint64_t>{10, 12})) << r.err;
  EXPECT_EQ(finals, (std::vector<bool>{false, true})) << r.err;
}

// glibc's getaddrinfo connects a UDP socket to each answer to sort them;
// that sends nothing and is no grant to add. A datagram client's connect
// stays an ordinary denial (positive control).
TEST(Denials, GetaddrinfoAddressProbesAreNoAdvice) {
  auto passive = jail({}, {guest("net_probe"), "connect", "udp", "0.0.0.0", "8000"});
  EXPECT_EQ(passive.err.find("denied"), std::string::npos) << "an info line, not a warning: " << passive.err;
  auto info = jail({"--log-level", "info"}, {guest("net_probe"), "connect", "udp", "::", "8000"});
  auto probe = lines_with(info.err, "connect udp:[::]:8000");
  ASSERT_EQ(probe.size(), 1u) << info.err;
  EXPECT_TRUE(probe[0].starts_with("wwjail: info: denied")) << probe[0];
  EXPECT_NE(probe[0].find("a UDP connect sends nothing"), std::string::npos) << probe[0];
  EXPECT_EQ(probe[0].find("missing grant"), std::string::npos) << probe[0];
  // Granted TCP to the same address and port: the program is resolving it.
  auto sorted = jail({"--connect", "tcp:127.0.0.1:8000", "--log-format", "json"},
                     {guest("net_probe"), "connect", "udp", "127.0.0.1", "8000"});
  auto sorted_events = json_lines(sorted.err);
  const auto* e = find_event(sorted_events, "deny", "udp:127.0.0.1:8000");
  ASSERT_TRUE(e) << sorted.err;
  EXPECT_EQ((*e)["hint"], "address-probe");
  EXPECT_EQ((*e)["level"], "warn");
  auto client = jail({}, {guest("net_probe"), "connect", "udp", "127.0.0.1", "8000"});
  EXPECT_NE(client.err.find("(missing grant: --connect udp:127.0.0.1:8000)"), std::string::npos) << client.err;
}

// Every line wwjail writes with --log-format json is JSON: the decisions,
// the summary and the learned-policy line of `learn`, setup errors.
TEST(Logs, EveryLineIsJson) {
  ScratchDir d;
  std::string out = d.path() + "/learned.toml";
  auto r = run({wwjail_bin(), "learn", "-o", out, "--log-format", "json", "--", "/bin/sh", "-c",
                "cat /etc/hostname >/dev/null"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto events = json_lines(r.err);
  ASSERT_GE(events.size(), 2u) << r.err;
  std::string run_id = events.front()["run_id"];
  EXPECT_EQ(run_id.size(), 16u);
  for (const auto& e : events) {
    EXPECT_EQ(e["schema"], 1) << e.dump();
    EXPECT_EQ(e["run_id"], run_id) << e.dump();
    EXPECT_EQ(e["program"], "/bin/sh") << e.dump();
  }
  EXPECT_EQ(events[events.size() - 2]["event"], "summary");
  EXPECT_EQ(events[events.size() - 2]["mode"], "learn");
  EXPECT_EQ(events.back()["event"], "learned");
  EXPECT_EQ(events.back()["file"], out);
  auto bad = jail({"--log-format", "json", "--env", "NOEQUALS"}, {"/bin/true"});
  EXPECT_EQ(bad.exit_code, 125);
  auto lines = json_lines(bad.err);
  ASSERT_EQ(lines.size(), 1u) << bad.err;
  EXPECT_EQ(lines[0]["event"], "message");
  EXPECT_EQ(lines[0]["level"], "error");
  EXPECT_EQ(lines[0]["message"], "--env NOEQUALS: write NAME=VALUE");
  auto other = run({wwjail_bin(), "--log-format", "json", "--", "/bin/true"});
  EXPECT_EQ(other.err, "");  // a quiet run writes nothing (positive control for the count above)
}

TEST(Audit, AllowsWhatWouldBeDeniedLogsItAndSumsUp) {
  ScratchDir d;
  std::string secret = d.file("secret.txt", "s3cret\n");
  std::string out = d.sub("out");
  // Positive control: without --audit the same run is denied.
  auto enforced = jail({}, {guest("probe"), "read", secret});
  EXPECT_EQ(enforced.out, "err EACCES\n");
  auto audited = jail({"--audit"}, {guest("probe"), "read", secret});
  EXPECT_EQ(audited.out, "ok s3cret\n\n") << audited.err;
  EXPECT_NE(audited.err.find("would deny pid="), std::string::npos) << audited.err;
  EXPECT_NE(audited.err.find(secret + " (need read; missing grant: read on " + secret + ")"), std::string::npos)
      << audited.err;
  // One summary line, last.
  std::string last = audited.err.substr(audited.err.rfind("wwjail: ", audited.err.size() - 2));
  EXPECT_TRUE(last.starts_with("wwjail: warning: audit: ")) << last;
  EXPECT_NE(last.find("would have been denied, 0 denied; guest exit status 0"), std::string::npos) << last;
  // Writes too, and in JSON.
  auto w = jail({"--audit", "--log-format", "json"}, {guest("probe"), "write", out + "/x"});
  EXPECT_EQ(w.out, "ok\n");
  auto events = json_lines(w.err);
  ASSERT_FALSE(events.empty());
  EXPECT_TRUE(find_event(events, "audit", out + "/x")) << w.err;
  EXPECT_EQ(events.back()["event"], "summary");
  EXPECT_EQ(events.back()["mode"], "audit");
  EXPECT_GE(events.back()["audit"].get<int>(), 1);
  EXPECT_EQ(events.back()["deny"], 0);
}

TEST(Audit, EscapesAreStillRefused) {
  // Audit lifts grants, not the walls: ptrace and namespaces stay refused.
  auto r = jail({"--audit"}, {guest("escape_calls"), "unshare-user"});
  EXPECT_NE(r.out.find("err"), std::string::npos) << r.out << r.err;
  auto ok = jail({"--audit"}, {guest("probe"), "exit", "0"});
  EXPECT_EQ(ok.exit_code, 0);
}

TEST(Env, PolicyAndFlagsShapeTheEnvironment) {
  ScratchDir d;
  std::string policy =
      d.file("env.toml", "[env]\ninherit = [\"HOME\"]\nset = { GREETING = \"hello there\" }\n");
  auto r = jail({"-p", policy, "--env", "EXTRA=1"}, {"/usr/bin/env"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("GREETING=hello there\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("EXTRA=1\n"), std::string::npos) << r.out;
  EXPECT_FALSE(sets(r.out, "PATH")) << "PATH was not listed in inherit: " << r.out;
  EXPECT_TRUE(sets(r.out, "TMPDIR")) << "wwjail's own TMPDIR is always set: " << r.out;
  auto clean = jail({"--clean-env"}, {"/usr/bin/env"});
  EXPECT_FALSE(sets(clean.out, "PATH")) << clean.out;
  EXPECT_TRUE(sets(clean.out, "TMPDIR")) << clean.out;
  // Positive control: by default the environment is inherited.
  auto inherited = jail({"--unset-env", "HOME"}, {"/usr/bin/env"});
  EXPECT_TRUE(sets(inherited.out, "PATH")) << inherited.out;
  EXPECT_FALSE(sets(inherited.out, "HOME")) << inherited.out;
  auto bad = jail({"--env", "NOEQUALS"}, {"/usr/bin/env"});
  EXPECT_EQ(bad.exit_code, 125);
  EXPECT_NE(bad.err.find("--env NOEQUALS: write NAME=VALUE"), std::string::npos) << bad.err;
}

TEST(Limits, AreSetAndCannotBeRaised) {
  auto r = jail({"--limit", "nofile=37"}, {"/bin/sh", "-c", "ulimit -n; ulimit -Hn; ulimit -n 38 2>/dev/null || echo refused"});
  EXPECT_EQ(r.out, "37\n37\nrefused\n") << r.err;
  ScratchDir d;
  std::string policy = d.file("lim.toml", "[limits]\nfsize = \"4K\"\n");
  auto f = jail({"-p", policy}, {"/bin/sh", "-c", "ulimit -f"});
  EXPECT_EQ(f.out, "8\n") << f.err;  // dash reports 512-byte blocks
  auto none = jail({}, {"/bin/sh", "-c", "ulimit -n"});
  EXPECT_NE(none.out, "37\n");
  auto bad = jail({"--limit", "files=3"}, {"/bin/true"});
  EXPECT_EQ(bad.exit_code, 125);
  EXPECT_NE(bad.err.find("NAME one of nofile, nproc"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace wwjail::testing
