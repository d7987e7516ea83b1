// Network surface that is decided by the filter alone: which socket
// families and types a guest may create. Each refusal sits beside a family
// that must keep working.
#include <gtest/gtest.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "jail_runner.h"

namespace wwjail::testing {
namespace {

RunResult make_socket(int family, int type, int proto = 0) {
  return jail({}, {guest("probe"), "socket", std::to_string(family), std::to_string(type), std::to_string(proto)});
}

TEST(NetSockets, UnixInetAndNetlinkRouteWork) {
  for (auto [family, type, proto] : {std::tuple{AF_INET, SOCK_STREAM, 0}, std::tuple{AF_INET, SOCK_DGRAM, 0},
                                     std::tuple{AF_INET6, SOCK_STREAM, 0}, std::tuple{AF_INET6, SOCK_DGRAM, 0},
                                     std::tuple{AF_UNIX, SOCK_STREAM, 0}, std::tuple{AF_UNIX, SOCK_DGRAM, 0},
                                     std::tuple{AF_NETLINK, SOCK_RAW, NETLINK_ROUTE}}) {
    auto r = make_socket(family, type, proto);
    EXPECT_EQ(r.out, "ok\n") << family << "/" << type << " " << r.err;
  }
}

TEST(NetSockets, RawPacketAndOtherFamiliesAreRefused) {
  // Outside the jail, as root, a raw socket opens: the refusal is the jail's.
  auto native = run({guest("probe"), "socket", std::to_string(AF_INET), std::to_string(SOCK_RAW),
                     std::to_string(IPPROTO_ICMP)});
  if (native.out == "ok\n") {
    auto r = make_socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    EXPECT_EQ(r.out, "err EPERM\n") << r.err;
  }
  EXPECT_EQ(make_socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6).out.rfind("err ", 0), 0u);
  EXPECT_EQ(make_socket(AF_PACKET, SOCK_RAW, 0).out.rfind("err ", 0), 0u);
  EXPECT_EQ(make_socket(AF_NETLINK, SOCK_RAW, 9 /* NETLINK_AUDIT */).out.rfind("err ", 0), 0u);
  EXPECT_EQ(make_socket(38 /* AF_ALG */, SOCK_SEQPACKET, 0).out.rfind("err ", 0), 0u);
}

TEST(NetSockets, PythonStillResolvesLocalhost) {
  // getaddrinfo uses netlink route; it must keep working.
  auto r = jail({"--read", "/usr", "--read", "/etc"},
                {"/usr/bin/python3", "-S", "-c", "import socket; print(socket.getaddrinfo('localhost', 80)[0][0].name)"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("AF_INET"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace wwjail::testing
