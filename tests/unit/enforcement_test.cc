// The enforcement modes: their names, and the one rule that makes a run's
// files mediated whatever was asked.
#include "policy/enforcement.h"

#include <gtest/gtest.h>

#include "policy/policy_file.h"
#include "sys/sys_error.h"

namespace wwjail {
namespace {

TEST(Enforcement, NamesRoundTripAndBadValuesAreRefused) {
  for (auto m : {MediateMode::kAuto, MediateMode::kFiles}) EXPECT_EQ(parse_mediate(mediate_name(m)), m);
  for (auto m : {MetadataMode::kHidden, MetadataMode::kVisible}) EXPECT_EQ(parse_metadata(metadata_name(m)), m);
  EXPECT_FALSE(parse_mediate("none"));
  EXPECT_FALSE(parse_mediate("Files"));
  EXPECT_FALSE(parse_mediate(""));
  EXPECT_FALSE(parse_metadata("shown"));
  EXPECT_EQ(mediate_names(), "auto, files");
  EXPECT_EQ(metadata_names(), "hidden, visible");
}

TEST(Enforcement, LearnAuditAndLoggingAllowedDecisionsMediateFiles) {
  std::string why;
  EXPECT_EQ(effective_mediation(MediateMode::kAuto, false, false, "warn", &why), MediateMode::kAuto);
  EXPECT_EQ(why, "");
  EXPECT_EQ(effective_mediation(MediateMode::kAuto, false, false, "error"), MediateMode::kAuto);
  EXPECT_EQ(effective_mediation(MediateMode::kFiles, false, false, "warn"), MediateMode::kFiles);
  EXPECT_EQ(effective_mediation(MediateMode::kAuto, true, false, "warn", &why), MediateMode::kFiles);
  EXPECT_EQ(why, "learn sees every file call");
  EXPECT_EQ(effective_mediation(MediateMode::kAuto, false, true, "warn", &why), MediateMode::kFiles);
  EXPECT_EQ(why, "--audit sees every file call");
  for (const char* level : {"info", "debug", "trace"})
    EXPECT_EQ(effective_mediation(MediateMode::kAuto, false, false, level), MediateMode::kFiles) << level;
}

// An explicit --mediate auto stands against the log level (its allowed
// kernel decisions go unlogged), never against learn or audit.
TEST(Enforcement, AnExplicitModeStandsAgainstTheLogLevelOnly) {
  EXPECT_EQ(effective_mediation(MediateMode::kAuto, false, false, "debug", nullptr, true), MediateMode::kAuto);
  EXPECT_EQ(effective_mediation(MediateMode::kAuto, true, false, "warn", nullptr, true), MediateMode::kFiles);
  EXPECT_EQ(effective_mediation(MediateMode::kAuto, false, true, "warn", nullptr, true), MediateMode::kFiles);
}

TEST(Enforcement, APolicyMayMakeMetadataVisible) {
  RunConfig config;
  EXPECT_EQ(config.metadata, MetadataMode::kHidden);
  load_policy_text("[storage]\nmetadata = \"visible\"\n", "p.toml", "/", config);
  EXPECT_EQ(config.metadata, MetadataMode::kVisible);
  EXPECT_NE(describe_capabilities(config).find("metadata:  visible"), std::string::npos);
  load_policy_text("[storage]\nmetadata = \"hidden\"\n", "p.toml", "/", config);
  EXPECT_EQ(config.metadata, MetadataMode::kHidden);
}

TEST(Enforcement, ABadMetadataValueIsOneLineNamingItsPlace) {
  for (const char* bad : {"\"shown\"", "true", "1", "[\"hidden\"]"}) {
    RunConfig config;
    try {
      load_policy_text(std::string("[storage]\nmetadata = ") + bad + "\n", "p.toml", "/", config);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const SetupError& e) {
      std::string what = e.what();
      EXPECT_TRUE(what.starts_with("p.toml:2:12: 'storage.metadata' must be one of")) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    }
  }
}

}  // namespace
}  // namespace wwjail
