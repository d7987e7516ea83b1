// Resource limit names and values.
#include "policy/limits.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

namespace wwjail {
namespace {

TEST(Limits, ValuesAndSuffixes) {
  auto memory = *find_limit("memory");
  auto nofile = *find_limit("nofile");
  std::string err;
  EXPECT_EQ(parse_limit_value(nofile, "1024", err), 1024u);
  EXPECT_EQ(parse_limit_value(memory, "512M", err), 512ull << 20);
  EXPECT_EQ(parse_limit_value(memory, "2g", err), 2ull << 30);
  EXPECT_EQ(parse_limit_value(nofile, "unlimited", err), RLIM_INFINITY);
  EXPECT_EQ(memory.resource, RLIMIT_AS);
}

TEST(Limits, BadValuesSayWhatToWrite) {
  auto nofile = *find_limit("nofile");
  auto fsize = *find_limit("fsize");
  std::string err;
  EXPECT_FALSE(parse_limit_value(nofile, "10K", err));  // a count takes no suffix
  EXPECT_NE(err.find("write a whole number or \"unlimited\""), std::string::npos) << err;
  EXPECT_FALSE(parse_limit_value(fsize, "", err));
  EXPECT_FALSE(parse_limit_value(fsize, "-1", err));
  EXPECT_FALSE(parse_limit_value(fsize, "1KB", err));
  EXPECT_FALSE(parse_limit_value(fsize, "99999999999999999999", err));
  EXPECT_FALSE(parse_limit_value(fsize, "17179869184G", err));
  EXPECT_NE(err.find("too large"), std::string::npos) << err;
  EXPECT_FALSE(find_limit("files"));
  EXPECT_EQ(limit_name_list(), "nofile, nproc, memory, fsize, cpu, core, stack");
}

}  // namespace
}  // namespace wwjail
