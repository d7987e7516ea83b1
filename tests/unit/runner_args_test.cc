// The runner's command line: what wwjail writes (to_argv) is what the
// runner reads (from_argv), and what it cannot read is refused in one line.
#include "wasm/abi/runner_args.h"

#include <gtest/gtest.h>

namespace wwjail {
namespace {

RunnerArgs full() {
  RunnerArgs a;
  a.module = "/cache/wasm/0123abcd.so";
  a.module_id = "2049:131";
  a.dirs = {{"/srv/data", "/data"}, {"/home/u/work", "/home/u/work"}, {"/tmp/x", "/"}};
  a.env = {"LANG=C.UTF-8", "EMPTY=", "A=B=C"};
  a.max_memory = 64ull << 20;
  a.argv = {"probe", "--", "--module", "x y", ""};  // options after "--" are the guest's
  return a;
}

RunnerArgs parse(const std::vector<std::string>& argv) { return RunnerArgs::from_argv(argv); }

TEST(RunnerArgs, RoundTrip) {
  RunnerArgs a = full();
  std::vector<std::string> argv = a.to_argv("/usr/libexec/wwjail/wwjail-wasm-run");
  EXPECT_EQ(argv.front(), "/usr/libexec/wwjail/wwjail-wasm-run");
  EXPECT_EQ(parse(argv), a);
}

TEST(RunnerArgs, RoundTripOfTheLeast) {
  RunnerArgs a;
  a.module = "m.so";
  a.module_id = "1:2";
  a.argv = {"main"};
  std::vector<std::string> argv = a.to_argv("run");
  EXPECT_EQ(argv, (std::vector<std::string>{"run", "--module", "m.so", "--module-id", "1:2", "--", "main"}));
  EXPECT_EQ(parse(argv), a);
}

TEST(RunnerArgs, ADirWithoutAGuestNameIsSeenUnderItsHostPath) {
  RunnerArgs a = parse({"run", "--module", "m.so", "--module-id", "1:2", "--dir", "/srv/data", "--", "main"});
  ASSERT_EQ(a.dirs.size(), 1u);
  EXPECT_EQ(a.dirs[0].host, "/srv/data");
  EXPECT_EQ(a.dirs[0].guest, "/srv/data");
}

TEST(RunnerArgs, MalformedCommandLinesAreRefused) {
  auto message = [](const std::vector<std::string>& argv) -> std::string {
    try {
      RunnerArgs::from_argv(argv);
    } catch (const BadRunnerArgs& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_EQ(message({"run", "--module", "m.so", "--module-id", "1:2", "--", "main"}), "");  // control
  EXPECT_EQ(message({"run", "--module", "m.so", "--module-id", "1:2", "--bogus", "v", "--", "main"}),
            "wwjail-wasm-run: unknown option --bogus");
  EXPECT_EQ(message({"run", "--module"}), "wwjail-wasm-run: --module needs a value");
  EXPECT_NE(message({"run", "--module", "m.so", "--", "main"}).find("usage:"), std::string::npos);  // no id
  EXPECT_NE(message({"run", "--module", "m.so", "--module-id", "1:2"}).find("usage:"), std::string::npos);  // no argv
  EXPECT_NE(message({"run", "--module", "m.so", "--module-id", "1:2", "--dir", "/a::b", "--", "main"})
                .find("must be absolute"),
            std::string::npos);
}

}  // namespace
}  // namespace wwjail
