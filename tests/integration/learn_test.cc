// wwjail learn on real programs: the learned policy passes `check`, the
// same workload under it runs with zero denials, and a different program
// touching other files is denied.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <sstream>

#include "jail_runner.h"

namespace wwjail::testing {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool has_denial(const std::string& err) { return err.find("wwjail: warning: denied") != std::string::npos; }

struct RoundTrip {
  std::string policy_text;
  RunResult learned, enforced;
};

// Learns `command`, checks the policy, then runs `command` again under it.
// `between` runs after learning (to remove what the learning run made).
RoundTrip round_trip(const std::string& policy, const std::vector<std::string>& command,
                     const std::function<void()>& between = [] {}) {
  RoundTrip t;
  std::vector<std::string> learn_argv = {wwjail_bin(), "learn", "-o", policy, "--"};
  learn_argv.insert(learn_argv.end(), command.begin(), command.end());
  t.learned = run(learn_argv, "", 120);
  t.policy_text = slurp(policy);
  auto check = run({wwjail_bin(), "check", policy});
  EXPECT_EQ(check.exit_code, 0) << "the learned policy must pass check: " << check.err << "\n" << t.policy_text;
  between();
  t.enforced = jail({"-p", policy}, command, 120);
  return t;
}

TEST(Learn, ShellPipelineWithHelpersAndAnOutputDir) {
  ScratchDir d;
  std::string data = d.sub("data"), out = d.sub("out");
  d.file("data/in.txt", "pear\napple\nfig\n");
  std::string secret = d.file("secret.txt", "s\n");
  std::string script = "sort " + data + "/in.txt | head -n 2 > " + out + "/result.txt";
  auto t = round_trip(d.path() + "/p.toml", {"/bin/sh", "-c", script},
                      [&] { ::unlink((out + "/result.txt").c_str()); });
  ASSERT_EQ(t.learned.exit_code, 0) << t.learned.err;
  EXPECT_NE(t.learned.err.find("learned policy written to"), std::string::npos) << t.learned.err;
  EXPECT_NE(t.policy_text.find("# WRITE OUTSIDE THE PRIVATE TEMP DIR"), std::string::npos) << t.policy_text;
  EXPECT_NE(t.policy_text.find("\"" + out + "\""), std::string::npos) << t.policy_text;
  EXPECT_NE(t.policy_text.find("/usr/bin/sort"), std::string::npos) << t.policy_text;
  EXPECT_EQ(t.enforced.exit_code, 0) << t.enforced.err;
  EXPECT_FALSE(has_denial(t.enforced.err)) << t.enforced.err << "\n" << t.policy_text;
  EXPECT_EQ(slurp(out + "/result.txt"), "apple\nfig\n");
  // Another program under the same policy: not granted.
  auto other = jail({"-p", d.path() + "/p.toml"}, {"/bin/sh", "-c", "sort " + secret});
  EXPECT_NE(other.exit_code, 0);
  EXPECT_NE(other.err.find("denied pid="), std::string::npos) << other.err;
  EXPECT_NE(other.err.find(secret), std::string::npos) << other.err;
}

TEST(Learn, PythonScriptReadingConfigAndWritingAReport) {
  if (::access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "python3 is not installed";
  ScratchDir d;
  std::string conf = d.file("conf.json", "{\"name\": \"wwjail\", \"n\": 3}\n");
  std::string reports = d.sub("reports");
  d.sub("private");
  std::string other = d.file("private/other.json", "{}\n");
  std::string script = d.file("report.py",
                              "import json, sys, pathlib\n"
                              "cfg = json.load(open(sys.argv[1]))\n"
                              "pathlib.Path(sys.argv[2], 'r.txt').write_text(cfg['name'] * cfg['n'])\n"
                              "print('done')\n");
  auto t = round_trip(d.path() + "/p.toml", {"/usr/bin/python3", "-B", script, conf, reports});
  ASSERT_EQ(t.learned.exit_code, 0) << t.learned.err;
  EXPECT_NE(t.policy_text.find("include = [\"base:python3\"]"), std::string::npos) << t.policy_text;
  EXPECT_EQ(t.enforced.exit_code, 0) << t.enforced.err;
  EXPECT_EQ(t.enforced.out, "done\n");
  EXPECT_FALSE(has_denial(t.enforced.err)) << t.enforced.err << "\n" << t.policy_text;
  EXPECT_EQ(slurp(reports + "/r.txt"), "wwjailwwjailwwjail");
  auto denied = jail({"-p", d.path() + "/p.toml"}, {"/usr/bin/python3", "-B", script, other, reports});
  EXPECT_NE(denied.exit_code, 0);
  EXPECT_NE(denied.err.find("denied pid="), std::string::npos) << denied.err;
  EXPECT_NE(denied.err.find(other), std::string::npos) << denied.err;
}

TEST(Learn, CompilerJobExecsItsHelpers) {
  if (::access("/usr/bin/gcc", X_OK) != 0) GTEST_SKIP() << "gcc is not installed";
  ScratchDir d;
  std::string src = d.file("hello.c", "#include <stdio.h>\nint main(void) { puts(\"hello\"); return 0; }\n");
  std::string elsewhere = d.sub("elsewhere");
  std::string other_src = d.file("elsewhere/other.c", "int main(void) { return 0; }\n");
  std::string bin = d.sub("bin");
  auto t = round_trip(d.path() + "/p.toml", {"/usr/bin/gcc", "-o", bin + "/hello", src},
                      [&] { ::unlink((bin + "/hello").c_str()); });
  ASSERT_EQ(t.learned.exit_code, 0) << t.learned.err;
  EXPECT_NE(t.policy_text.find("exec = ["), std::string::npos) << t.policy_text;
  EXPECT_NE(t.policy_text.find("cc1"), std::string::npos) << t.policy_text;
  EXPECT_EQ(t.enforced.exit_code, 0) << t.enforced.err;
  EXPECT_FALSE(has_denial(t.enforced.err)) << t.enforced.err << "\n" << t.policy_text;
  EXPECT_EQ(run({bin + "/hello"}).out, "hello\n");
  auto denied = jail({"-p", d.path() + "/p.toml"}, {"/usr/bin/gcc", "-o", bin + "/other", other_src});
  EXPECT_NE(denied.exit_code, 0);
  EXPECT_NE(denied.err.find(other_src), std::string::npos) << denied.err;
}

TEST(Learn, BadInvocations) {
  auto no_output = run({wwjail_bin(), "learn", "--", "/bin/true"});
  EXPECT_EQ(no_output.exit_code, 125);
  EXPECT_NE(no_output.err.find("--output is required"), std::string::npos) << no_output.err;
  auto nowhere = run({wwjail_bin(), "learn", "-o", "/no/such/dir/p.toml", "--", "/bin/true"});
  EXPECT_EQ(nowhere.exit_code, 125);
  EXPECT_NE(nowhere.err.find("/no/such/dir/p.toml"), std::string::npos) << nowhere.err;
  ::unlink("/tmp/never-written.toml");
  auto missing = run({wwjail_bin(), "learn", "-o", "/tmp/never-written.toml", "--", "/no/such/program"});
  EXPECT_EQ(missing.exit_code, 127);
  EXPECT_NE(::access("/tmp/never-written.toml", F_OK), 0);
}

}  // namespace
}  // namespace wwjail::testing
