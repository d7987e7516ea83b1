// wwjail-runc's reading of an OCI runtime command line: the verb, the
// bundle, its own --wwjail-runtime taken out, everything else passed on.
#include "cli/runc/runc_args.h"

#include <gtest/gtest.h>

namespace wwjail::runc {
namespace {

using Args = std::vector<std::string>;

TEST(RuncArgs, ContainerdCreatePassesThroughWithItsBundle) {
  Args in = {"--root", "/run/containerd/runc/k8s.io", "--log", "/run/x/log.json", "--log-format", "json",
             "--systemd-cgroup", "create", "--bundle", "/run/b", "--pid-file", "/run/b/init.pid", "id1"};
  RuntimeArgs a = parse_runtime_args(in);
  EXPECT_EQ(a.verb, "create");
  EXPECT_EQ(a.bundle, "/run/b");
  EXPECT_EQ(a.passed, in);
  EXPECT_EQ(a.log_path, "/run/x/log.json");
  EXPECT_EQ(a.log_format, "json");
  EXPECT_TRUE(a.rewrites());
  EXPECT_FALSE(a.runtime);
}

TEST(RuncArgs, BundleSpellings) {
  EXPECT_EQ(parse_runtime_args({"run", "-b", "/b", "id"}).bundle, "/b");
  EXPECT_EQ(parse_runtime_args({"run", "--bundle=/c", "id"}).bundle, "/c");
  EXPECT_EQ(parse_runtime_args({"create", "id"}).bundle, "");  // the cwd, as runc
  // A value that looks like the option is a value, not the option.
  EXPECT_EQ(parse_runtime_args({"create", "--pid-file", "-b", "--bundle", "/d", "id"}).bundle, "/d");
}

TEST(RuncArgs, OwnOptionIsTakenOut) {
  RuntimeArgs a = parse_runtime_args({"--wwjail-runtime", "/usr/bin/crun", "--root", "/r", "state", "id"});
  EXPECT_EQ(*a.runtime, "/usr/bin/crun");
  EXPECT_EQ(a.passed, (Args{"--root", "/r", "state", "id"}));
  EXPECT_FALSE(a.rewrites());
  EXPECT_EQ(*parse_runtime_args({"--wwjail-runtime=crun", "list"}).runtime, "crun");
  EXPECT_THROW(parse_runtime_args({"--wwjail-runtime"}), BadArgs);
  EXPECT_THROW(parse_runtime_args({"--wwjail-runtime=", "list"}), BadArgs);
}

TEST(RuncArgs, OtherVerbsAreUntouched) {
  for (Args in : {Args{"start", "id"}, Args{"--root", "/r", "kill", "id", "TERM"}, Args{"delete", "--force", "id"},
                  Args{"--version"}, Args{"exec", "--bundle", "x", "id"}}) {
    RuntimeArgs a = parse_runtime_args(in);
    EXPECT_EQ(a.passed, in);
    EXPECT_FALSE(a.rewrites());
  }
}

TEST(RuncArgs, RefusesWhatWouldRunAnUnrewrittenConfig) {
  EXPECT_THROW(parse_runtime_args({"create", "--config", "/other.json", "id"}), BadArgs);
  EXPECT_THROW(parse_runtime_args({"run", "-f=/other.json", "id"}), BadArgs);
  EXPECT_THROW(parse_runtime_args({"create", "-b", "/a", "--bundle", "/b", "id"}), BadArgs);
  EXPECT_THROW(parse_runtime_args({"create", "--bundle"}), BadArgs);
  // Positive control: the same verbs without them.
  EXPECT_NO_THROW(parse_runtime_args({"create", "-b", "/a", "id"}));
}

}  // namespace
}  // namespace wwjail::runc
