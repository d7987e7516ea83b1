// Datagram replies (capabilities/net_caps.h, NetCaps::decide_reply): a UDP
// socket bound through a bind grant naming one port may answer unicast
// peers; nothing else gains a send. Run in both enforcement modes (the
// broker's full mediation and the kernel-first default, where an inet grant
// keeps the host's network). Every peer is a socket this test owns on
// loopback, so a test sees what really arrived: a denied datagram must
// never arrive, and each denial sits beside the allowed case.
//
// The guest is tests/guests/udp_server.c.
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "jail_runner.h"
#include "sys/unique_fd.h"

namespace wwjail::testing {
namespace {

constexpr int kJailTimeout = 10;

UniqueFd loopback_udp(uint16_t port = 0) {
  UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  in.sin_port = htons(port);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&in), sizeof in) != 0) fd.reset();
  return fd;
}

uint16_t port_of(int fd) {
  sockaddr_in in{};
  socklen_t len = sizeof in;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&in), &len);
  return ntohs(in.sin_port);
}

// A port free a moment ago, for the guest to bind.
uint16_t free_port() {
  UniqueFd fd = loopback_udp();
  return port_of(fd.get());
}

std::vector<std::string> drain(int fd, int ms) {
  std::vector<std::string> got;
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now()).count();
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, left > 0 ? static_cast<int>(left) : 0) <= 0) return got;
    char buf[256];
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n >= 0) got.emplace_back(buf, n);
  }
}

std::string str(uint16_t p) { return std::to_string(p); }

class UdpReply : public ::testing::TestWithParam<const char*> {
 protected:
  RunResult server(std::vector<std::string> grants, std::vector<std::string> op) {
    grants.insert(grants.begin(), {"--mediate", GetParam()});
    op.insert(op.begin(), guest("udp_server"));
    return jail(grants, op, kJailTimeout);
  }
  // The guest serves `count` requests on 127.0.0.1:port; this test is the
  // client and returns the replies it got.
  std::vector<std::string> ask(const std::vector<std::string>& grants, const char* op, uint16_t port, int count,
                               RunResult& result) {
    auto run = std::async(std::launch::async, [&] {
      return server(grants, {op, "127.0.0.1", str(port), std::to_string(count)});
    });
    UniqueFd client = loopback_udp();
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to.sin_port = htons(port);
    std::vector<std::string> replies;
    // The server may not be bound yet: ask again until it answers (bounded).
    for (int tries = 0; tries < 100 && static_cast<int>(replies.size()) < count; ++tries) {
      std::string req = "q" + std::to_string(replies.size());
      (void)!::sendto(client.get(), req.data(), req.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
      for (auto& r : drain(client.get(), 100)) replies.push_back(r);
    }
    result = run.get();
    return replies;
  }
};

TEST_P(UdpReply, BoundServerAnswersItsClients) {
  for (const char* op : {"serve", "serve-msg"}) {
    uint16_t port = free_port();
    RunResult r;
    auto replies = ask({"--bind", "udp:127.0.0.1:" + str(port)}, op, port, 3, r);
    EXPECT_EQ(r.out, "ok served 3\n") << op << ": " << describe(r);
    ASSERT_GE(replies.size(), 3u) << op << ": " << describe(r);
    EXPECT_EQ(replies[0].rfind("pong:q", 0), 0u) << replies[0];
  }
}

TEST_P(UdpReply, WildcardAddressGrantAnswersToo) {
  uint16_t port = free_port();
  RunResult r;
  auto replies = ask({"--bind", "udp:*:" + str(port)}, "serve", port, 1, r);
  EXPECT_EQ(r.out, "ok served 1\n") << describe(r);
  EXPECT_EQ(replies.size(), 1u);
}

// A port range binds but grants no replies: an autobound socket could land in it.
TEST_P(UdpReply, PortRangeGrantsNoReplies) {
  uint16_t port = free_port();
  RunResult r;
  auto replies = ask({"--bind", "udp:127.0.0.1:" + str(port) + "-" + str(port)}, "serve", port, 1, r);
  // port-port is one port written as a range: replies allowed.
  EXPECT_EQ(r.out, "ok served 1\n") << describe(r);
  UniqueFd sink = loopback_udp();
  uint16_t lo = port > 1024 ? port - 1 : port;
  auto ranged = server({"--bind", "udp:127.0.0.1:" + str(lo) + "-" + str(static_cast<uint16_t>(port + 1))},
                       {"send", "127.0.0.1", str(port), "same", "127.0.0.1", str(port_of(sink.get()))});
  EXPECT_EQ(ranged.out, "err EACCES\n") << describe(ranged);
  EXPECT_NE(ranged.err.find("missing grant: --connect udp:127.0.0.1:" + str(port_of(sink.get()))), std::string::npos)
      << ranged.err;
  EXPECT_TRUE(drain(sink.get(), 200).empty());
}

// The adversarial cases: each must send nothing, beside the same send from
// the socket bound through the grant, which arrives.
TEST_P(UdpReply, OnlyTheBoundSocketGainsSends) {
  UniqueFd sink = loopback_udp();
  std::string to = str(port_of(sink.get()));
  uint16_t port = free_port();
  std::vector<std::string> grant{"--bind", "udp:127.0.0.1:" + str(port)};

  auto same = server(grant, {"send", "127.0.0.1", str(port), "same", "127.0.0.1", to});
  EXPECT_EQ(same.out, "ok sent\n") << describe(same);
  EXPECT_EQ(drain(sink.get(), 300), std::vector<std::string>{"hi"});

  // dup()ed and used from another thread: still that socket, still allowed.
  auto dup = server(grant, {"send", "127.0.0.1", str(port), "dup", "127.0.0.1", to});
  EXPECT_EQ(dup.out, "ok sent\n") << describe(dup);
  EXPECT_EQ(drain(sink.get(), 300), std::vector<std::string>{"hi"});

  // Bound one socket through the grant, sent from another.
  auto other = server(grant, {"send", "127.0.0.1", str(port), "other", "127.0.0.1", to});
  EXPECT_EQ(other.out, "err EACCES\n") << describe(other);
  EXPECT_NE(other.err.find("missing grant: --connect udp:127.0.0.1:" + to), std::string::npos) << other.err;
  // Never bound (the send autobinds an ephemeral port).
  auto unbound = server(grant, {"send", "127.0.0.1", "0", "unbound", "127.0.0.1", to});
  EXPECT_EQ(unbound.out, "err EACCES\n") << describe(unbound);
  // An ephemeral bind is outside the grant.
  auto ephemeral = server(grant, {"send", "127.0.0.1", "0", "same", "127.0.0.1", to});
  EXPECT_EQ(ephemeral.out, "err EACCES\n") << describe(ephemeral);
  // IP_PKTINFO naming the bound address is fine; naming another local
  // address (127.0.0.2 is loopback's too) is another source: refused.
  auto pkt_same = server(grant, {"send", "127.0.0.1", str(port), "pktinfo:127.0.0.1", "127.0.0.1", to});
  EXPECT_EQ(pkt_same.out, "ok sent\n") << describe(pkt_same);
  EXPECT_EQ(drain(sink.get(), 300), std::vector<std::string>{"hi"});
  auto pkt_other = server(grant, {"send", "127.0.0.1", str(port), "pktinfo:127.0.0.2", "127.0.0.1", to});
  EXPECT_EQ(pkt_other.out, "err EACCES\n") << describe(pkt_other);
  EXPECT_NE(pkt_other.err.find("a reply leaves from the address its socket is bound to"), std::string::npos)
      << pkt_other.err;
  // An unspecified source is not "the bound one": the kernel would pick the
  // route's source, the host's outside address for a remote peer.
  auto pkt_zero = server(grant, {"send", "127.0.0.1", str(port), "pktinfo:0.0.0.0", "127.0.0.1", to});
  EXPECT_EQ(pkt_zero.out, "err EACCES\n") << describe(pkt_zero);
  // With no grant at all, as before.
  auto none = server({}, {"send", "127.0.0.1", "0", "unbound", "127.0.0.1", to});
  EXPECT_EQ(none.out, "err EACCES\n") << describe(none);
  EXPECT_TRUE(drain(sink.get(), 300).empty());
}

TEST_P(UdpReply, BoundSocketMaySendOnlyToUnicastPeers) {
  uint16_t port = free_port();
  std::vector<std::string> grant{"--bind", "udp:0.0.0.0:" + str(port)};
  for (const char* dest : {"255.255.255.255", "224.0.0.1", "239.255.255.250", "0.0.0.0", "240.0.0.1"}) {
    auto r = server(grant, {"send", "0.0.0.0", str(port), "same", dest, "9"});
    EXPECT_EQ(r.out, "err EACCES\n") << dest << ": " << describe(r);
    EXPECT_NE(r.err.find("may reply to unicast peers only"), std::string::npos) << dest << ": " << r.err;
  }
  // Loopback's subnet broadcast, decided on the host's interfaces.
  auto subnet = server(grant, {"send", "0.0.0.0", str(port), "same", "127.255.255.255", "9"});
  EXPECT_EQ(subnet.out, "err EACCES\n") << describe(subnet);
  EXPECT_NE(subnet.err.find("is a broadcast address of a local subnet"), std::string::npos) << subnet.err;
  // A different family on that socket.
  auto v6 = server(grant, {"send", "0.0.0.0", str(port), "same", "::1", "9"});
  EXPECT_EQ(v6.out, "err EACCES\n") << describe(v6);
  EXPECT_NE(v6.err.find("is of another address family"), std::string::npos) << v6.err;
}

// `check` says what a UDP bind grant implies.
// A source route in a control message sends to the route's first hop, an
// address no grant was asked about: refused on every send, by a connect
// grant as by the reply right. Without CAP_NET_RAW the kernel refuses such
// routes itself, so the guest keeps it here (root only).
TEST_P(UdpReply, SourceRoutesAreRefusedOnEverySend) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root: only a guest holding CAP_NET_RAW can route its own datagrams";
  UniqueFd peer = loopback_udp();
  std::string to = str(port_of(peer.get()));
  const std::vector<std::string> connect{"--cap-keep", "CAP_NET_RAW", "--bind", "udp:127.0.0.1:0", "--connect",
                                         "udp:127.0.0.1:" + to};
  auto plain = server(connect, {"send", "127.0.0.1", "0", "same", "127.0.0.1", to});
  EXPECT_EQ(plain.out, "ok sent\n") << describe(plain);
  auto routed = server(connect, {"send", "127.0.0.1", "0", "lsrr:127.0.0.2", "127.0.0.1", to});
  EXPECT_EQ(routed.out, "err EPERM\n") << describe(routed);
  EXPECT_NE(routed.err.find("source route"), std::string::npos) << describe(routed);

  uint16_t port = free_port();
  const std::vector<std::string> bound{"--cap-keep", "CAP_NET_RAW", "--bind", "udp:127.0.0.1:" + str(port)};
  auto reply = server(bound, {"send", "127.0.0.1", str(port), "same", "127.0.0.1", to});
  EXPECT_EQ(reply.out, "ok sent\n") << describe(reply);
  auto routed_reply = server(bound, {"send", "127.0.0.1", str(port), "lsrr:127.0.0.2", "127.0.0.1", to});
  EXPECT_EQ(routed_reply.out, "err EPERM\n") << describe(routed_reply);
}

// The host's first IPv4 address that is not loopback, or empty.
std::string outside_address() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return {};
  std::string found;
  for (ifaddrs* i = list; i && found.empty(); i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
    auto* in = reinterpret_cast<sockaddr_in*>(i->ifa_addr);
    if ((ntohl(in->sin_addr.s_addr) >> 24) == 127) continue;
    char text[INET_ADDRSTRLEN];
    found = inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
  }
  ::freeifaddrs(list);
  return found;
}

// Only local clients reach a loopback address, so a socket bound there
// answers peers on loopback only (IPv6 would put a ::1-sourced datagram on
// the wire to any other peer).
TEST_P(UdpReply, ALoopbackBoundSocketAnswersLoopbackPeersOnly) {
  std::string outside = outside_address();
  if (outside.empty()) GTEST_SKIP() << "the host has no IPv4 address but loopback";
  uint16_t port = free_port();
  const std::vector<std::string> grant{"--bind", "udp:127.0.0.1:" + str(port)};
  UniqueFd local_peer = loopback_udp();
  auto to_local = server(grant, {"send", "127.0.0.1", str(port), "same", "127.0.0.1", str(port_of(local_peer.get()))});
  EXPECT_EQ(to_local.out, "ok sent\n") << describe(to_local);
  auto to_outside = server(grant, {"send", "127.0.0.1", str(port), "same", outside, "9"});
  EXPECT_EQ(to_outside.out, "err EACCES\n") << describe(to_outside);
  EXPECT_NE(to_outside.err.find("may reply to peers on loopback only"), std::string::npos) << describe(to_outside);
}

TEST(UdpReplyCheck, CheckStatesTheReplyRule) {
  ScratchDir d;
  std::string policy =
      d.file("p.toml", "[network]\nbind = [\"udp:127.0.0.1:5353\", \"udp:0.0.0.0:53\", \"udp:*:6000-6010\"]\n");
  auto r = run({wwjail_bin(), "check", policy});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_NE(r.out.find("udp:127.0.0.1:5353  (" + policy + ":2 bind udp:127.0.0.1:5353); its socket may reply to "
                       "unicast peers on loopback"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("udp:0.0.0.0:53  (" + policy + ":2 bind udp:0.0.0.0:53); its socket may reply to any "
                       "unicast peer (no broadcast, no multicast)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("udp:*:6000-6010  (" + policy + ":2 bind udp:*:6000-6010); no replies"), std::string::npos)
      << r.out;
}

INSTANTIATE_TEST_SUITE_P(Modes, UdpReply, ::testing::Values("files", "auto"),
                         [](const auto& info) { return std::string(info.param); });

}  // namespace
}  // namespace wwjail::testing
