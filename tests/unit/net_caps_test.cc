#include "capabilities/net_caps.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstring>

namespace wwjail {
namespace {

NetEndpoint parse(const std::string& s) {
  std::string err;
  auto e = parse_net_spec(s, err);
  EXPECT_TRUE(e.has_value()) << s << ": " << err;
  return e.value_or(NetEndpoint{});
}

std::string parse_error(const std::string& s) {
  std::string err;
  EXPECT_FALSE(parse_net_spec(s, err).has_value()) << s;
  return err;
}

NetTarget v4(Transport t, const char* ip, uint16_t port) {
  sockaddr_storage ss{};
  auto* in = reinterpret_cast<sockaddr_in*>(&ss);
  in->sin_family = AF_INET;
  in->sin_port = htons(port);
  inet_pton(AF_INET, ip, &in->sin_addr);
  return *inet_target(t, ss, sizeof(sockaddr_in));
}

NetTarget v6(Transport t, const char* ip, uint16_t port) {
  sockaddr_storage ss{};
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
  in6->sin6_family = AF_INET6;
  in6->sin6_port = htons(port);
  inet_pton(AF_INET6, ip, &in6->sin6_addr);
  return *inet_target(t, ss, sizeof(sockaddr_in6));
}

TEST(NetSpec, ParsesEveryForm) {
  auto e = parse("tcp:127.0.0.1:8080");
  EXPECT_EQ(e.transport, Transport::kTcp);
  EXPECT_EQ(e.family, AF_INET);
  EXPECT_EQ(e.port_lo, 8080);
  EXPECT_EQ(e.port_hi, 8080);
  e = parse("udp:[::1]:53");
  EXPECT_EQ(e.family, AF_INET6);
  e = parse("tcp:10.0.0.0/8:8000-8100");
  EXPECT_EQ(e.prefix, 8);
  EXPECT_EQ(e.port_lo, 8000);
  EXPECT_EQ(e.port_hi, 8100);
  e = parse("tcp:[fd00::]/8:*");
  EXPECT_EQ(e.prefix, 8);
  EXPECT_EQ(e.port_hi, 65535);
  e = parse("tcp:*:443");
  EXPECT_EQ(e.family, 0);
  e = parse("unix:/run/app.sock");
  EXPECT_EQ(e.transport, Transport::kUnix);
  EXPECT_FALSE(e.abstract);
  e = parse("unix:@name");
  EXPECT_TRUE(e.abstract);
  EXPECT_EQ(e.path, "name");
  // A mapped address is its IPv4 address.
  e = parse("tcp:[::ffff:127.0.0.1]:80");
  EXPECT_EQ(e.family, AF_INET);
}

TEST(NetSpec, RejectsWithAnExplanation) {
  EXPECT_NE(parse_error("tcp:127.0.0.1").find("missing port"), std::string::npos);
  EXPECT_NE(parse_error("tcp:127.0.0.300:80").find("bad address"), std::string::npos);
  EXPECT_NE(parse_error("tcp:1.2.3.4:70000").find("bad port"), std::string::npos);
  EXPECT_NE(parse_error("tcp:1.2.3.4:90-80").find("bad port"), std::string::npos);
  EXPECT_NE(parse_error("sctp:1.2.3.4:80").find("unknown transport"), std::string::npos);
  EXPECT_NE(parse_error("unix:relative.sock").find("absolute path"), std::string::npos);
  EXPECT_NE(parse_error("tcp:10.0.0.0/33:80").find("prefix"), std::string::npos);
  EXPECT_NE(parse_error("tcp:::1:80").find("bad address"), std::string::npos);  // IPv6 needs brackets
  EXPECT_NE(parse_error("nonsense").find("tcp:ADDR:PORT"), std::string::npos);
}

// A "/" with no length after it used to be read as /32 or /128, a whole
// block narrowed to one host (or, misplaced, silently accepted).
TEST(NetSpec, MalformedCidrBlocksAreRefused) {
  for (const char* spec : {"tcp:10.0.0.0/:80", "tcp:[::1]/:80", "tcp:[::1/]:81", "tcp:10.0.0.0/33:80",
                           "tcp:[fd00::]/129:80", "tcp:10.0.0.0/-1:80", "tcp:10.0.0.0/+8:80", "tcp:10.0.0.0/08:80",
                           "tcp:10.0.0.0/8/8:80", "tcp:[fd00::/8]/8:80", "tcp:10.0.0.0/ 8:80", "tcp:10.0.0.0/8x:80",
                           "tcp:10.0.0.0/4294967304:80", "tcp:[::ffff:10.0.0.0]/104:80"}) {
    std::string err = parse_error(spec);
    EXPECT_TRUE(err.find("prefix length") != std::string::npos) << spec << ": " << err;
  }
  EXPECT_NE(parse_error("tcp:10.0.0.0/:80").find("write a number from 0 to 32 after the '/'"), std::string::npos);
  EXPECT_NE(parse_error("tcp:[::1]/:80").find("write a number from 0 to 128 after the '/'"), std::string::npos);
  // Positive controls: every length in range, in both spellings of IPv6.
  EXPECT_EQ(parse("tcp:0.0.0.0/0:80").prefix, 0);
  EXPECT_EQ(parse("tcp:10.0.0.0/8:80").prefix, 8);
  EXPECT_EQ(parse("tcp:10.1.2.3/32:80").prefix, 32);
  EXPECT_EQ(parse("tcp:[fd00::]/8:80").prefix, 8);
  EXPECT_EQ(parse("tcp:[fd00::/8]:80").prefix, 8);
  EXPECT_EQ(parse("tcp:[::1]/128:80").prefix, 128);
  EXPECT_EQ(parse("tcp:[::]/0:80").prefix, 0);
  // Ports are numbers written plainly too.
  for (const char* spec : {"tcp:1.2.3.4:+80", "tcp:1.2.3.4:080", "tcp:1.2.3.4:-80", "tcp:1.2.3.4:80-", "tcp:1.2.3.4: 80"})
    EXPECT_NE(parse_error(spec).find("bad port"), std::string::npos) << spec;
  EXPECT_EQ(parse("tcp:1.2.3.4:0").port_lo, 0);
}

// A run cannot bind or listen on a unix path sun_path cannot hold, so the
// parser (and with it `check`) refuses it.
TEST(NetSpec, UnixNamesMustFitASocketAddress) {
  std::string fits = "/" + std::string(kMaxUnixNameBytes - 1, 'x');
  EXPECT_EQ(parse("unix:" + fits).path, fits);
  std::string err = parse_error("unix:" + fits + "x");
  EXPECT_NE(err.find("is 108 bytes long; a socket address holds at most 107"), std::string::npos) << err;
  std::string name(kMaxUnixNameBytes, 'n');
  EXPECT_EQ(parse("unix:@" + name).path, name);
  EXPECT_NE(parse_error("unix:@" + name + "n").find("name @"), std::string::npos);
  // A NUL ends a path: "/run/a.sock\0x" would name /run/a.sock.
  EXPECT_NE(parse_error(std::string("unix:/run/a.sock\0x", 18)).find("NUL"), std::string::npos);
  EXPECT_TRUE(parse(std::string("unix:@a\0b", 9)).abstract);  // abstract names are bytes
}

TEST(NetCaps, MatchesTransportAddressAndPort) {
  NetCaps caps;
  caps.add_connect({parse("tcp:127.0.0.1:5432"), "--connect tcp:127.0.0.1:5432"});
  caps.add_connect({parse("udp:10.0.0.0/8:53"), "--connect udp:10.0.0.0/8:53"});
  EXPECT_TRUE(caps.decide_connect(v4(Transport::kTcp, "127.0.0.1", 5432)).allowed);
  EXPECT_FALSE(caps.decide_connect(v4(Transport::kTcp, "127.0.0.1", 5433)).allowed);
  EXPECT_FALSE(caps.decide_connect(v4(Transport::kUdp, "127.0.0.1", 5432)).allowed);
  EXPECT_TRUE(caps.decide_connect(v4(Transport::kUdp, "10.1.2.3", 53)).allowed);
  EXPECT_FALSE(caps.decide_connect(v4(Transport::kUdp, "11.1.2.3", 53)).allowed);
  auto d = caps.decide_connect(v4(Transport::kTcp, "192.168.1.1", 80));
  EXPECT_EQ(d.missing, "--connect tcp:192.168.1.1:80");
  EXPECT_TRUE(caps.decide_bind(v4(Transport::kTcp, "127.0.0.1", 5432)).allowed == false);
}

TEST(NetCaps, MappedAddressesCannotDodgeOrWidenRules) {
  NetCaps caps;
  caps.add_connect({parse("tcp:127.0.0.1:80"), "v4 only"});
  EXPECT_TRUE(caps.decide_connect(v6(Transport::kTcp, "::ffff:127.0.0.1", 80)).allowed);
  EXPECT_FALSE(caps.decide_connect(v6(Transport::kTcp, "::ffff:127.0.0.2", 80)).allowed);
  EXPECT_FALSE(caps.decide_connect(v6(Transport::kTcp, "::1", 80)).allowed);
  NetCaps v6only;
  v6only.add_connect({parse("tcp:[::1]:80"), "v6 loopback"});
  EXPECT_TRUE(v6only.decide_connect(v6(Transport::kTcp, "::1", 80)).allowed);
  EXPECT_FALSE(v6only.decide_connect(v4(Transport::kTcp, "127.0.0.1", 80)).allowed);
}

TEST(NetCaps, WildcardAddressCoversBothFamiliesOnlyOnItsPorts) {
  NetCaps caps;
  caps.add_bind({parse("tcp:*:8080"), "--bind tcp:*:8080"});
  EXPECT_TRUE(caps.decide_bind(v4(Transport::kTcp, "0.0.0.0", 8080)).allowed);
  EXPECT_TRUE(caps.decide_bind(v6(Transport::kTcp, "::", 8080)).allowed);
  EXPECT_FALSE(caps.decide_bind(v4(Transport::kTcp, "0.0.0.0", 8081)).allowed);
  // Port 0 (an ephemeral port chosen by the kernel) is not 8080.
  EXPECT_FALSE(caps.decide_bind(v4(Transport::kTcp, "0.0.0.0", 0)).allowed);
}

TEST(NetCaps, ShortSockaddrsAreNotTargets) {
  sockaddr_storage ss{};
  ss.ss_family = AF_INET;
  EXPECT_FALSE(inet_target(Transport::kTcp, ss, sizeof(sockaddr_in) - 1).has_value());
  ss.ss_family = AF_INET6;
  EXPECT_FALSE(inet_target(Transport::kTcp, ss, sizeof(sockaddr_in6) - 1).has_value());
  ss.ss_family = AF_PACKET;
  EXPECT_FALSE(inet_target(Transport::kTcp, ss, sizeof ss).has_value());
}


NetCaps reply_caps(const std::string& bind_spec) {
  std::string err;
  NetCaps caps;
  caps.add_bind({*parse_net_spec(bind_spec, err), "--bind " + bind_spec});
  return caps;
}

TEST(NetCapsReply, SinglePortUdpBindGrantsUnicastReplies) {
  NetCaps caps = reply_caps("udp:0.0.0.0:5353");
  NetTarget local = v4(Transport::kUdp, "0.0.0.0", 5353);
  NetDecision d = caps.decide_reply(local, v4(Transport::kUdp, "192.0.2.7", 40000));
  EXPECT_TRUE(d.allowed);
  ASSERT_NE(d.grant, nullptr);
  EXPECT_EQ(d.grant->origin, "--bind udp:0.0.0.0:5353");
  // Another local port, a TCP socket, an unbound (port 0) socket: no right.
  EXPECT_FALSE(caps.decide_reply(v4(Transport::kUdp, "0.0.0.0", 5354), v4(Transport::kUdp, "192.0.2.7", 1)).allowed);
  EXPECT_FALSE(caps.decide_reply(v4(Transport::kTcp, "0.0.0.0", 5353), v4(Transport::kTcp, "192.0.2.7", 1)).allowed);
  EXPECT_FALSE(caps.decide_reply(v4(Transport::kUdp, "0.0.0.0", 0), v4(Transport::kUdp, "192.0.2.7", 1)).allowed);
  NetDecision denied = caps.decide_reply(v4(Transport::kUdp, "0.0.0.0", 5354), v4(Transport::kUdp, "192.0.2.7", 1));
  EXPECT_EQ(denied.missing, "--connect udp:192.0.2.7:1");
}

TEST(NetCapsReply, RangesAndStarsGrantNoReplies) {
  EXPECT_TRUE(grants_replies(parse("udp:*:53")));
  EXPECT_TRUE(grants_replies(parse("udp:127.0.0.1:53-53")));
  EXPECT_FALSE(grants_replies(parse("udp:*:53-54")));
  EXPECT_FALSE(grants_replies(parse("udp:*:*")));
  EXPECT_FALSE(grants_replies(parse("udp:*:0")));
  EXPECT_FALSE(grants_replies(parse("tcp:*:53")));
  NetCaps caps = reply_caps("udp:*:5000-6000");
  EXPECT_FALSE(caps.decide_reply(v4(Transport::kUdp, "0.0.0.0", 5353), v4(Transport::kUdp, "192.0.2.7", 1)).allowed);
}

TEST(NetCapsReply, OnlyUnicastPeersOfTheSocketsFamily) {
  NetCaps caps = reply_caps("udp:*:5353");
  NetTarget here4 = v4(Transport::kUdp, "0.0.0.0", 5353);
  NetTarget here6 = v6(Transport::kUdp, "::", 5353);
  for (const char* bad : {"255.255.255.255", "224.0.0.251", "0.0.0.0", "240.1.2.3"}) {
    NetDecision d = caps.decide_reply(here4, v4(Transport::kUdp, bad, 9));
    EXPECT_FALSE(d.allowed) << bad;
    EXPECT_NE(d.reason.find("may reply to unicast peers only"), std::string::npos) << bad << ": " << d.reason;
    EXPECT_TRUE(d.missing.empty()) << bad;
  }
  EXPECT_FALSE(caps.decide_reply(here6, v6(Transport::kUdp, "ff02::fb", 9)).allowed);
  EXPECT_FALSE(caps.decide_reply(here6, v6(Transport::kUdp, "::", 9)).allowed);
  EXPECT_FALSE(caps.decide_reply(here4, v6(Transport::kUdp, "2001:db8::1", 9)).allowed);
  EXPECT_TRUE(caps.decide_reply(here6, v6(Transport::kUdp, "2001:db8::1", 9)).allowed);
  // A mapped IPv4 peer of an IPv6 socket is decided as IPv4: broadcast stays refused.
  EXPECT_TRUE(caps.decide_reply(here6, v6(Transport::kUdp, "::ffff:192.0.2.7", 9)).allowed);
  EXPECT_FALSE(caps.decide_reply(here6, v6(Transport::kUdp, "::ffff:255.255.255.255", 9)).allowed);
}

}  // namespace
}  // namespace wwjail
