// The guest's environment: inherit, keep, unset, set.
#include "policy/environment.h"

#include <gtest/gtest.h>

namespace wwjail {
namespace {

const char* const kParent[] = {"PATH=/usr/bin", "HOME=/root", "LANG=C.UTF-8", "SECRET=x", "junk", nullptr};

TEST(Environment, InheritsAllByDefault) {
  EnvRequest r;
  EXPECT_EQ(build_environment(r, kParent),
            (std::vector<std::string>{"PATH=/usr/bin", "HOME=/root", "LANG=C.UTF-8", "SECRET=x"}));
}

TEST(Environment, UnsetRemovesAndSetAddsOrReplaces) {
  EnvRequest r;
  r.unset = {"SECRET"};
  r.set = {{"LANG", "C"}, {"NEW", "a=b"}};
  EXPECT_EQ(build_environment(r, kParent),
            (std::vector<std::string>{"PATH=/usr/bin", "HOME=/root", "LANG=C", "NEW=a=b"}));
}

TEST(Environment, InheritNoneOrOnlyListed) {
  EnvRequest none;
  none.inherit = EnvRequest::Inherit::kNone;
  none.set = {{"A", "1"}};
  EXPECT_EQ(build_environment(none, kParent), std::vector<std::string>{"A=1"});
  EnvRequest listed;
  listed.inherit = EnvRequest::Inherit::kListed;
  listed.keep = {"HOME", "NOT_SET"};
  EXPECT_EQ(build_environment(listed, kParent), std::vector<std::string>{"HOME=/root"});
}

TEST(Environment, NamesAreChecked) {
  EXPECT_TRUE(valid_env_name("PATH"));
  EXPECT_FALSE(valid_env_name(""));
  EXPECT_FALSE(valid_env_name("A=B"));
  EXPECT_FALSE(valid_env_name(std::string_view("A\0B", 3)));
}

}  // namespace
}  // namespace wwjail
