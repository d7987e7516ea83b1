// What a guest (or whoever chose its command line) can make wwjail write:
// a learned policy must grant what the run touched and nothing more, and a
// log must say what happened and nothing more, however the arguments and
// file names are spelled.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "jail_runner.h"

namespace wwjail::testing {
namespace {

bool has_denial(const std::string& err) { return err.find("wwjail: warning: denied") != std::string::npos; }

// The line of `wwjail check` output that starts with `label`.
std::string check_line(const std::string& out, const std::string& label) {
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with(label)) return line;
  }
  return "";
}

const std::string kInjected = "x\n[network]\nconnect_broad = [\"tcp:*:*\"]";

TEST(PolicyInjection, AnArgumentCannotAddAGrantToTheLearnedPolicy) {
  ScratchDir d;
  std::string policy = d.path() + "/p.toml";
  auto learned = run({wwjail_bin(), "learn", "-o", policy, "--", "/bin/sh", "-c", "true", kInjected});
  ASSERT_EQ(learned.exit_code, 0) << learned.err;
  std::string text = read_file(policy);
  // Positive control: the header names the command, visibly escaped.
  EXPECT_NE(text.find("# Learned by wwjail learn from: /bin/sh -c true x\\n[network]\\nconnect_broad"),
            std::string::npos) << text;
  auto check = run({wwjail_bin(), "check", policy});
  ASSERT_EQ(check.exit_code, 0) << check.err << "\n" << text;
  EXPECT_NE(check.out.find(policy + ": valid"), std::string::npos) << check.out;
  EXPECT_EQ(check_line(check.out, "connect:"), "connect:   nothing") << check.out << "\n" << text;
  EXPECT_EQ(check.out.find("tcp:"), std::string::npos) << check.out << "\n" << text;
}

TEST(PolicyInjection, GuestChosenFileNamesRoundTripOrAreLeftOut) {
  ScratchDir d;
  // Names a guest could choose: a newline and a quote that would end a
  // TOML string and start a [network] table, glob characters, bytes that
  // are not UTF-8.
  std::string odd_dir = d.sub("d\"q\n[network]\nconnect_broad = [\"tcp:*:*\"]\n#");
  std::string created = odd_dir + "/new\"\n";
  d.sub("keep");
  std::string quoted = d.file("keep/w\"\n[network]\nconnect = [\"tcp:10.0.0.1:1\"]", "");
  std::string glob = d.file("keep/g*[1]", "");
  std::string not_utf8 = d.file("keep/bad\xff", "");
  std::string glob_sibling = d.file("keep/gx1", "");  // what "g*[1]" matches as a pattern
  std::string policy = d.path() + "/p.toml";
  std::vector<std::string> ops = {guest("odd_names"), "create", created, "append", quoted, "append", glob};
  std::vector<std::string> learn_argv = {wwjail_bin(), "learn", "-o", policy, "--"};
  learn_argv.insert(learn_argv.end(), ops.begin(), ops.end());
  learn_argv.insert(learn_argv.end(), {"append", not_utf8});
  auto learned = run(learn_argv);
  ASSERT_EQ(learned.exit_code, 0) << learned.err << learned.out;
  std::string text = read_file(policy);
  EXPECT_NE(text.find("# Not written (not UTF-8, which TOML cannot hold): write " + d.path() + "/keep/bad\\xff"),
            std::string::npos) << text;

  auto check = run({wwjail_bin(), "check", policy});
  ASSERT_EQ(check.exit_code, 0) << check.err << "\n" << text;
  EXPECT_EQ(check_line(check.out, "connect:"), "connect:   nothing") << check.out << "\n" << text;
  EXPECT_EQ(check_line(check.out, "bind:"), "bind:      nothing") << check.out << "\n" << text;

  // The same operations under the learned policy: every name came back
  // exactly, so nothing is denied.
  auto again = jail({"-p", policy}, ops);
  EXPECT_EQ(again.exit_code, 0) << again.err << "\n" << text;
  EXPECT_EQ(again.out, "ok\nok\nok\n") << again.err;
  EXPECT_FALSE(has_denial(again.err)) << again.err << "\n" << text;
  // What was left out is denied, and the glob pattern did not reach its sibling.
  auto left_out = jail({"-p", policy}, {guest("odd_names"), "append", not_utf8});
  EXPECT_EQ(left_out.exit_code, 1) << left_out.err;
  auto sibling = jail({"-p", policy}, {guest("odd_names"), "append", glob_sibling});
  EXPECT_EQ(sibling.exit_code, 1) << sibling.err << "\n" << text;
  EXPECT_TRUE(has_denial(sibling.err)) << sibling.err;
}

TEST(LogForgery, ANewlineInAPathCannotForgeADecisionLine) {
  ScratchDir d;
  std::string granted = d.file("granted.txt", "g");
  std::string forged = d.file("nope\nwwjail: info: allowed pid=1 openat /etc/shadow", "s");
  auto r = jail({"--read", granted, "--log-level", "info"},
                {guest("odd_names"), "read", granted, "read", forged});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.out, "ok\nerr 13\n") << r.err;  // the granted read worked, the other was refused
  int granted_lines = 0, forged_lines = 0;
  for (const auto& line : split_lines(r.err)) {
    EXPECT_FALSE(line.starts_with("wwjail: info: allowed pid=1 ")) << "a forged line:\n" << r.err;
    if (line.find("/nope") != std::string::npos) {
      ++forged_lines;
      EXPECT_TRUE(line.starts_with("wwjail: warning: denied pid=")) << line;
      EXPECT_NE(line.find(d.path() + "/nope\\nwwjail: info: allowed pid=1 openat /etc/shadow"), std::string::npos)
          << line;
    }
    if (line.starts_with("wwjail: info: allowed") && line.find(granted) != std::string::npos) ++granted_lines;
  }
  EXPECT_EQ(forged_lines, 1) << r.err;
  EXPECT_GE(granted_lines, 1) << "positive control: the granted read is logged\n" << r.err;
}

TEST(LogForgery, JsonLogStaysJsonWithInvalidUtf8InAPath) {
  ScratchDir d;
  std::string granted = d.file("granted.txt", "g");
  std::string odd = d.file("bad\xff\xfe\n\x1b[2J", "s");
  auto r = jail({"--read", granted, "--log-level", "info", "--log-format", "json"},
                {guest("odd_names"), "read", granted, "read", odd});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.out, "ok\nerr 13\n") << r.err;
  const std::string expected = d.path() + "/bad\xef\xbf\xbd\xef\xbf\xbd\n\x1b[2J";  // U+FFFD per invalid byte
  int denials = 0, allowed = 0;
  for (const auto& line : split_lines(r.err)) {
    ASSERT_TRUE(nlohmann::json::accept(line)) << "not JSON: " << line;
    auto j = nlohmann::json::parse(line);
    if (j.value("decision", "") == "deny" && j.value("target", "") == expected) ++denials;
    if (j.value("decision", "") == "allow" && j.value("target", "") == granted) ++allowed;
  }
  EXPECT_EQ(denials, 1) << r.err;
  EXPECT_GE(allowed, 1) << "positive control: the granted read is logged\n" << r.err;
}

}  // namespace
}  // namespace wwjail::testing
