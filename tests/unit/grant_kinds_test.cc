// The table of grant kinds: what the flags and the policy reader share.
#include "policy/grant_kinds.h"

#include <gtest/gtest.h>

#include <set>

#include "capabilities/storage_caps.h"

namespace wwjail {
namespace {

TEST(GrantKinds, EveryKindHasAFlagAKeyAndADeliberateTwinWhereChecked) {
  std::set<std::string_view> flags, keys;
  for (const auto& k : grant_kinds()) {
    EXPECT_TRUE(k.flag.starts_with("--")) << k.key;
    EXPECT_TRUE(flags.insert(k.flag).second) << k.flag;
    EXPECT_TRUE(keys.insert(k.key).second) << k.key;
    EXPECT_FALSE(k.help.empty()) << k.key;
    EXPECT_EQ(k.section == GrantKind::Section::kStorage, k.rights != 0) << k.key;
    EXPECT_EQ(k.section == GrantKind::Section::kNetwork, !k.verb.empty()) << k.key;
    if (k.breadth == GrantKind::Breadth::kAny) continue;
    const GrantKind& twin = grant_kind(k.deliberate);
    EXPECT_EQ(twin.breadth, GrantKind::Breadth::kAny) << k.key;
    EXPECT_EQ(twin.rights, k.rights) << k.key;
    EXPECT_EQ(twin.verb, k.verb) << k.key;
  }
  EXPECT_EQ(find_grant_kind(GrantKind::Section::kNetwork, "read"), nullptr);
  ASSERT_NE(find_grant_kind(GrantKind::Section::kStorage, "exec"), nullptr);
  EXPECT_EQ(find_grant_kind(GrantKind::Section::kStorage, "exec")->rights, kRead | kExec);
}

TEST(GrantKinds, OnlyTheNarrowKindsRefuseBroadGrants) {
  EXPECT_TRUE(too_broad_path(grant_kind("write"), "/usr"));
  EXPECT_FALSE(too_broad_path(grant_kind("write"), "/usr/local/app"));  // positive control
  EXPECT_FALSE(too_broad_path(grant_kind("write_broad"), "/usr"));
  EXPECT_FALSE(too_broad_path(grant_kind("read"), "/"));
  std::string err;
  auto any = parse_net_spec("tcp:*:*", err);
  ASSERT_TRUE(any) << err;
  EXPECT_TRUE(too_broad_peer(grant_kind("connect"), *any));
  EXPECT_FALSE(too_broad_peer(grant_kind("connect_broad"), *any));
  EXPECT_FALSE(too_broad_peer(grant_kind("bind"), *any));
  auto one = parse_net_spec("tcp:127.0.0.1:*", err);
  ASSERT_TRUE(one) << err;
  EXPECT_FALSE(too_broad_peer(grant_kind("connect"), *one));
}

TEST(GrantKinds, EntriesAreOptionalOrNamedForAGuest) {
  std::string err;
  GrantEntry e = parse_grant_entry("?/opt/x::/x", err);
  EXPECT_EQ(err, "");
  EXPECT_TRUE(e.optional);
  EXPECT_EQ(e.path, "/opt/x");
  EXPECT_EQ(e.guest, "/x");
  parse_grant_entry("/opt/x::x", err);
  EXPECT_NE(err.find("must be absolute"), std::string::npos);
  parse_grant_entry("?", err);
  EXPECT_NE(err.find("empty path"), std::string::npos);
}

}  // namespace
}  // namespace wwjail
