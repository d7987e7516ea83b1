// --mediate and --metadata through the CLI: the values each takes, bad
// values refused in one line with 125, and a run the same in every mode
// (kernel-first enforcement is not there yet: every mode mediates files).
#include <gtest/gtest.h>

#include <algorithm>

#include "jail_runner.h"

namespace wwjail::testing {
namespace {

TEST(EnforcementFlags, EveryValueRunsAndEnforcesTheSame) {
  ScratchDir d;
  std::string ok = d.file("ok.txt", "ok\n");
  for (const char* mediate : {"auto", "files"}) {
    for (const char* metadata : {"hidden", "visible"}) {
      auto r = jail({"--mediate", mediate, "--metadata", metadata, "--read", ok}, {"/bin/cat", ok});
      EXPECT_EQ(r.exit_code, 0) << mediate << " " << metadata << ": " << r.err;
      EXPECT_EQ(r.out, "ok\n");
      // Positive control beside it: what is not granted stays denied.
      auto denied = jail({"--mediate", mediate, "--metadata", metadata}, {"/bin/cat", ok});
      EXPECT_NE(denied.exit_code, 0) << mediate << " " << metadata;
      // The broker logs its denials; where the kernel decided, one line
      // says how to see them.
      const char* said = std::string(mediate) == "files" ? "denied" : "rerun with --mediate files to see every denial";
      EXPECT_NE(denied.err.find(said), std::string::npos) << denied.err;
    }
  }
}

TEST(EnforcementFlags, BadValuesAre125WithOneLine) {
  for (const char* flag : {"--mediate", "--metadata"}) {
    for (const char* bad : {"none", "", "FILES", "visible,hidden"}) {
      auto r = jail({flag, bad}, {"/bin/echo", "ran"});
      EXPECT_EQ(r.exit_code, 125) << flag << " " << bad;
      EXPECT_EQ(r.out, "") << flag << " " << bad;
      EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
      EXPECT_NE(r.err.find(flag), std::string::npos) << r.err;
    }
  }
  auto r = jail({"--mediate", "none"}, {"/bin/echo", "ran"});
  EXPECT_NE(r.err.find("'none' is not one of auto, files"), std::string::npos) << r.err;
}

TEST(EnforcementFlags, CheckShowsThePolicysMetadataMode) {
  ScratchDir d;
  std::string policy = d.file("p.toml", "[storage]\nmetadata = \"visible\"\n");
  auto r = run({wwjail_bin(), "check", policy});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\nmediate:   auto  ("), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nmetadata:  visible  ("), std::string::npos) << r.out;
  std::string bad = d.file("bad.toml", "[storage]\nmetadata = \"shown\"\n");
  auto b = run({wwjail_bin(), "check", bad});
  EXPECT_EQ(b.exit_code, 125);
  EXPECT_EQ(b.err, "wwjail: " + bad + ":2:12: 'storage.metadata' must be one of \"hidden\", \"visible\"\n");
}

TEST(EnforcementFlags, TheMetadataFlagOverridesThePolicy) {
  ScratchDir d;
  std::string ok = d.file("ok.txt", "ok\n");
  std::string policy = d.file("p.toml", "[storage]\nmetadata = \"visible\"\n");
  auto r = run({wwjail_bin(), "-p", policy, "--metadata", "hidden", "--read", ok, "--log-level", "debug", "--", "/bin/cat", ok});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("metadata hidden"), std::string::npos) << r.err;
  // --log-level debug logs allowed decisions too: the broker mediates files.
  EXPECT_NE(r.err.find("the broker mediates file calls: --log-level sees every file call"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace wwjail
