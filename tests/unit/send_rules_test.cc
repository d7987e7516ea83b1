// What a send may carry (broker/handlers/send_rules.h), on copied control
// messages.
#include "broker/handlers/send_rules.h"

#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

namespace wwjail {
namespace {

// One control message of `level`/`type` carrying `data`, appended to `out`.
void add_cmsg(std::vector<char>& out, int level, int type, const void* data, size_t len) {
  size_t at = out.size();
  out.resize(at + CMSG_SPACE(len));
  cmsghdr c{};
  c.cmsg_level = level;
  c.cmsg_type = type;
  c.cmsg_len = CMSG_LEN(len);
  std::memcpy(out.data() + at, &c, sizeof c);
  std::memcpy(out.data() + at + CMSG_LEN(0), data, len);
}

std::vector<char> pktinfo(const char* src) {
  in_pktinfo info{};
  inet_pton(AF_INET, src, &info.ipi_spec_dst);
  std::vector<char> v;
  add_cmsg(v, IPPROTO_IP, IP_PKTINFO, &info, sizeof info);
  return v;
}

NetTarget local_v4(const char* addr) {
  NetTarget t;
  t.family = AF_INET;
  inet_pton(AF_INET, addr, t.addr);
  return t;
}

TEST(SendRules, SourceRoutesAreFoundWhereverTheyAre) {
  const unsigned char lsrr[8] = {131, 7, 4, 127, 0, 0, 2, 0};
  std::vector<char> ip_opts;
  add_cmsg(ip_opts, IPPROTO_IP, IP_RETOPTS, lsrr, sizeof lsrr);
  EXPECT_TRUE(carries_route(ip_opts));
  // Behind an innocent message too.
  std::vector<char> second = pktinfo("127.0.0.1");
  add_cmsg(second, IPPROTO_IP, IP_RETOPTS, lsrr, sizeof lsrr);
  EXPECT_TRUE(carries_route(second));
  const unsigned char rthdr[24] = {0, 2, 2, 1};
  for (int type : {IPV6_RTHDR, 5 /* IPV6_2292RTHDR */, IPV6_NEXTHOP}) {
    std::vector<char> v6;
    add_cmsg(v6, IPPROTO_IPV6, type, rthdr, sizeof rthdr);
    EXPECT_TRUE(carries_route(v6)) << type;
  }
}

TEST(SendRules, EverydayControlMessagesCarryNoRoute) {
  EXPECT_FALSE(carries_route({}));
  EXPECT_FALSE(carries_route(pktinfo("127.0.0.1")));
  int tos = 0x10;
  std::vector<char> v;
  add_cmsg(v, IPPROTO_IP, IP_TOS, &tos, sizeof tos);
  add_cmsg(v, IPPROTO_IPV6, IPV6_HOPLIMIT, &tos, sizeof tos);
  EXPECT_FALSE(carries_route(v));
}

TEST(SendRules, TheRfc2292SpellingOfIpv6PktinfoIsCheckedToo) {
  NetTarget local;
  local.family = AF_INET6;
  inet_pton(AF_INET6, "::1", local.addr);
  in6_pktinfo info{};
  inet_pton(AF_INET6, "fd00::2", &info.ipi6_addr);
  for (int type : {IPV6_PKTINFO, 2 /* IPV6_2292PKTINFO */}) {
    std::vector<char> v;
    add_cmsg(v, IPPROTO_IPV6, type, &info, sizeof info);
    EXPECT_FALSE(reply_source_stays(local, v)) << type;
  }
  in6_pktinfo same{};
  inet_pton(AF_INET6, "::1", &same.ipi6_addr);
  std::vector<char> ok;
  add_cmsg(ok, IPPROTO_IPV6, 2, &same, sizeof same);
  EXPECT_TRUE(reply_source_stays(local, ok));
}

TEST(SendRules, AReplyLeavesFromItsBoundAddress) {
  EXPECT_TRUE(reply_source_stays(local_v4("127.0.0.1"), pktinfo("127.0.0.1")));
  EXPECT_FALSE(reply_source_stays(local_v4("127.0.0.1"), pktinfo("127.0.0.2")));
  // Unspecified: the kernel would choose the route's source (off the host
  // for a remote peer), so a specifically bound socket may not say it.
  EXPECT_FALSE(reply_source_stays(local_v4("127.0.0.1"), pktinfo("0.0.0.0")));
  // The interface a query came in on may be named, with the bound source
  // (what DNS servers bound to one address send); without it, refused.
  in_pktinfo info{};
  info.ipi_ifindex = 2;
  inet_pton(AF_INET, "127.0.0.1", &info.ipi_spec_dst);
  std::vector<char> via_if;
  add_cmsg(via_if, IPPROTO_IP, IP_PKTINFO, &info, sizeof info);
  EXPECT_TRUE(reply_source_stays(local_v4("127.0.0.1"), via_if));
  info.ipi_spec_dst.s_addr = 0;
  std::vector<char> via_if_no_source;
  add_cmsg(via_if_no_source, IPPROTO_IP, IP_PKTINFO, &info, sizeof info);
  EXPECT_FALSE(reply_source_stays(local_v4("127.0.0.1"), via_if_no_source));
  // A wildcard-bound socket may answer from any local address.
  EXPECT_TRUE(reply_source_stays(local_v4("0.0.0.0"), pktinfo("127.0.0.2")));
  EXPECT_TRUE(reply_source_stays(local_v4("0.0.0.0"), pktinfo("0.0.0.0")));
  // A truncated IP_PKTINFO is refused, not read past its end.
  std::vector<char> short_info;
  int four = 0;
  add_cmsg(short_info, IPPROTO_IP, IP_PKTINFO, &four, sizeof four);
  EXPECT_FALSE(reply_source_stays(local_v4("127.0.0.1"), short_info));
}

}  // namespace
}  // namespace wwjail
