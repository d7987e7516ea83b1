// Network capabilities as a black box: --bind, --connect, --listen.
//
// Every peer is a socket this test process owns, on loopback (127.0.0.1,
// ::1) or a unix socket, so a test sees what really arrived and not only
// what the guest was told: a denied connection must never be accepted, a
// denied datagram must never arrive. Each denial sits beside an allowed case
// with the same peer, so a jail that refuses everything cannot pass.
//
// The guest is tests/guests/net_probe.c: one call per run, "ok ..." or
// "err ENAME" on stdout.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <future>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "jail_runner.h"
#include "sys/unique_fd.h"

namespace wwjail::testing {
namespace {

constexpr int kJailTimeout = 8;  // seconds; every call the guest makes is local

// net_probe OP ARGS... inside the jail with `grants`, or natively.
RunResult probe(const std::vector<std::string>& grants, std::vector<std::string> op, int timeout_s = kJailTimeout) {
  op.insert(op.begin(), guest("net_probe"));
  return jail(grants, op, timeout_s);
}
RunResult native(std::vector<std::string> op) {
  op.insert(op.begin(), guest("net_probe"));
  return run(op, "", kJailTimeout);
}

// Each evaluates its run once.
#define EXPECT_PROBE(run_expr, expected)                                  \
  do {                                                                    \
    const RunResult r_ = (run_expr);                                      \
    EXPECT_EQ(r_.out, std::string(expected) + "\n") << describe(r_);      \
  } while (0)
#define EXPECT_DENIED(run_expr)                                           \
  do {                                                                    \
    const RunResult r_ = (run_expr);                                      \
    EXPECT_EQ(r_.out, "err EACCES\n") << describe(r_);                    \
    EXPECT_EQ(r_.exit_code, 1) << describe(r_);                           \
  } while (0)

// ---------------------------------------------------------------------------
// Test-side peers.

sockaddr_storage loopback(int family, uint16_t port, socklen_t& len) {
  sockaddr_storage ss{};
  if (family == AF_INET6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
    in6->sin6_family = AF_INET6;
    in6->sin6_addr = in6addr_loopback;
    in6->sin6_port = htons(port);
    len = sizeof(sockaddr_in6);
  } else {
    auto* in = reinterpret_cast<sockaddr_in*>(&ss);
    in->sin_family = AF_INET;
    in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    in->sin_port = htons(port);
    len = sizeof(sockaddr_in);
  }
  return ss;
}

sockaddr_un unix_address(const std::string& name, bool abstract, socklen_t& len) {
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  std::memcpy(un.sun_path + (abstract ? 1 : 0), name.data(), name.size());
  len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() + 1);
  return un;
}

// A socket bound to loopback (port 0: the kernel picks one).
UniqueFd bound_inet(int family, int type, uint16_t port = 0) {
  UniqueFd fd(::socket(family, type | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return fd;
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  socklen_t len;
  auto ss = loopback(family, port, len);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) fd.reset();
  return fd;
}

UniqueFd bound_unix(int type, const std::string& name, bool abstract) {
  UniqueFd fd(::socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
  socklen_t len;
  auto un = unix_address(name, abstract, len);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&un), len) != 0) fd.reset();
  return fd;
}

uint16_t port_of(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  return ntohs(ss.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                                        : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
}

// A loopback port nobody listens on right now, for the guest to bind.
uint16_t free_port(int family = AF_INET, int type = SOCK_STREAM) {
  auto fd = bound_inet(family, type);
  return fd.valid() ? port_of(fd.get()) : 0;
}

bool ipv6_loopback_works() { return bound_inet(AF_INET6, SOCK_STREAM).valid(); }

// Accepts connections in a thread and answers each one's first message with
// `reply`; counts what it accepted. With an empty reply it reads nothing and
// holds every connection open until destroyed.
class StreamServer {
 public:
  StreamServer(UniqueFd listener, std::string reply, int backlog = 128)
      : fd_(std::move(listener)), reply_(std::move(reply)) {
    if (!fd_.valid() || ::listen(fd_.get(), backlog) != 0) throw std::runtime_error("listen");
    thread_ = std::thread([this] { loop(); });
  }
  ~StreamServer() {
    stop_ = true;
    thread_.join();
  }
  uint16_t port() const { return port_of(fd_.get()); }
  int accepted() const { return accepted_; }
  // Waits (bounded) until `n` connections were accepted; returns the count.
  int wait_accepted(int n, int ms = 2000) const {
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (accepted_ < n && std::chrono::steady_clock::now() < end)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return accepted_;
  }

 private:
  void loop() {
    std::vector<UniqueFd> held;
    while (!stop_) {
      pollfd p{fd_.get(), POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      UniqueFd c(::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!c.valid()) continue;
      ++accepted_;
      if (reply_.empty()) {
        held.push_back(std::move(c));
        continue;
      }
      pollfd q{c.get(), POLLIN, 0};
      if (::poll(&q, 1, 2000) <= 0) continue;
      char buf[128];
      if (::recv(c.get(), buf, sizeof buf, 0) > 0) (void)!::send(c.get(), reply_.data(), reply_.size(), MSG_NOSIGNAL);
    }
  }

  UniqueFd fd_;
  std::string reply_;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

std::unique_ptr<StreamServer> tcp_server(int family = AF_INET, std::string reply = "pong") {
  return std::make_unique<StreamServer>(bound_inet(family, SOCK_STREAM), std::move(reply));
}
std::unique_ptr<StreamServer> unix_server(const std::string& name, bool abstract, std::string reply = "pong") {
  return std::make_unique<StreamServer>(bound_unix(SOCK_STREAM, name, abstract), std::move(reply));
}

// A datagram socket the guest sends to; the test reads what arrived.
class Sink {
 public:
  explicit Sink(UniqueFd fd) : fd_(std::move(fd)) {
    if (!fd_.valid()) throw std::runtime_error("sink socket");
  }
  uint16_t port() const { return port_of(fd_.get()); }
  // Every datagram that arrives within `ms`. The guest has exited by the
  // time a test asks, and loopback delivery is done by then, so the window
  // only covers scheduling.
  std::vector<std::string> drain(int ms = 200) {
    std::vector<std::string> got;
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    for (;;) {
      int left = static_cast<int>(
          std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now()).count());
      pollfd p{fd_.get(), POLLIN, 0};
      if (::poll(&p, 1, left > 0 ? left : 0) <= 0) return got;
      char buf[256];
      ssize_t n = ::recv(fd_.get(), buf, sizeof buf, MSG_DONTWAIT);
      if (n >= 0) got.emplace_back(buf, n);
    }
  }

 private:
  UniqueFd fd_;
};

std::unique_ptr<Sink> udp_sink(int family = AF_INET) {
  return std::make_unique<Sink>(bound_inet(family, SOCK_DGRAM));
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += "[" + x + "]";
  return s;
}

std::string spec(const std::string& transport, const std::string& addr, uint16_t port) {
  return transport + ":" + addr + ":" + std::to_string(port);
}
std::string str(uint16_t port) { return std::to_string(port); }

std::string abstract_name(const char* what) {
  static std::atomic<int> counter{0};
  return "wwjail-nettest-" + std::to_string(::getpid()) + "-" + what + "-" + std::to_string(counter++);
}

// ---------------------------------------------------------------------------
// TCP connect

TEST(NetworkTcp, ConnectNeedsAGrantForThatAddressAndPort) {
  auto s = tcp_server();
  auto other = tcp_server();
  auto p = s->port();

  auto allowed = probe({"--connect", spec("tcp", "127.0.0.1", p)}, {"connect", "tcp", "127.0.0.1", str(p)});
  EXPECT_PROBE(allowed, "ok pong");
  EXPECT_EQ(allowed.exit_code, 0);
  EXPECT_EQ(s->wait_accepted(1), 1);

  auto none = probe({}, {"connect", "tcp", "127.0.0.1", str(p)});
  EXPECT_DENIED(none);
  auto other_port = probe({"--connect", spec("tcp", "127.0.0.1", other->port())}, {"connect", "tcp", "127.0.0.1", str(p)});
  EXPECT_DENIED(other_port);
  auto udp_grant = probe({"--connect", spec("udp", "127.0.0.1", p)}, {"connect", "tcp", "127.0.0.1", str(p)});
  EXPECT_DENIED(udp_grant);
  auto bind_grant = probe({"--bind", spec("tcp", "127.0.0.1", p)}, {"connect", "tcp", "127.0.0.1", str(p)});
  EXPECT_DENIED(bind_grant);

  EXPECT_EQ(s->wait_accepted(2, 200), 1) << "a denied connect reached the listener";
  EXPECT_EQ(other->accepted(), 0);
}

TEST(NetworkTcp, CidrWildcardAndPortRangeGrants) {
  auto s = tcp_server();
  auto p = s->port();
  std::vector<std::string> op{"connect", "tcp", "127.0.0.1", str(p)};
  EXPECT_PROBE(probe({"--connect", "tcp:127.0.0.0/8:*"}, op), "ok pong");
  EXPECT_PROBE(probe({"--connect", "tcp:*:" + str(p)}, op), "ok pong");
  EXPECT_PROBE(probe({"--connect", "tcp:127.0.0.1:" + str(p - 1) + "-" + str(p + 1)}, op), "ok pong");
  EXPECT_DENIED(probe({"--connect", "tcp:127.0.0.1:" + str(p + 1) + "-" + str(p + 2)}, op));
  EXPECT_DENIED(probe({"--connect", "tcp:10.0.0.0/8:*"}, op));
  EXPECT_EQ(s->wait_accepted(3, 200), 3);
}

// 0.0.0.0 as a destination is this host: it must not slip past a grant for
// some other address.
TEST(NetworkTcp, ZeroAddressIsDecidedAsWhatItIs) {
  auto s = tcp_server();
  auto p = s->port();
  std::vector<std::string> op{"connect", "tcp", "0.0.0.0", str(p)};
  auto outside = native(op);
  ASSERT_EQ(outside.out, "ok pong\n") << "0.0.0.0 reaches the loopback listener natively\n" << describe(outside);
  ASSERT_EQ(s->wait_accepted(1), 1);
  // 192.0.2.0/24 is TEST-NET-1: granted, never contacted.
  EXPECT_DENIED(probe({"--connect", spec("tcp", "192.0.2.1", p)}, op));
  EXPECT_EQ(s->wait_accepted(2, 200), 1) << "a connect to 0.0.0.0 got through a grant for another address";
}

// sendto(MSG_FASTOPEN) with an address on a TCP socket is a connect. wwjail
// may perform it for a granted address or refuse fast open outright
// (EOPNOTSUPP); it must never perform it for an ungranted one.
TEST(NetworkTcp, FastOpenSendtoIsAConnect) {
  auto s = tcp_server();
  auto p = s->port();
  std::vector<std::string> op{"fastopen", "127.0.0.1", str(p)};
  auto denied = probe({}, op);
  EXPECT_TRUE(denied.out == "err EACCES\n" || denied.out == "err EOPNOTSUPP\n") << describe(denied);
  EXPECT_EQ(s->wait_accepted(1, 200), 0) << "a denied fast-open connect reached the listener";
  auto allowed = probe({"--connect", spec("tcp", "127.0.0.1", p)}, op);
  EXPECT_TRUE(allowed.out == "ok pong\n" || allowed.out == "err EOPNOTSUPP\n") << describe(allowed);
}

// ---------------------------------------------------------------------------
// Bind and listen

TEST(NetworkBind, BindNeedsAGrantForThatAddressAndPort) {
  auto p = free_port();
  auto q = free_port();
  ASSERT_NE(p, 0);
  std::vector<std::string> op{"bind", "tcp", "127.0.0.1", str(p)};
  auto allowed = probe({"--bind", spec("tcp", "127.0.0.1", p)}, op);
  EXPECT_PROBE(allowed, "ok " + str(p));
  EXPECT_EQ(allowed.exit_code, 0);

  EXPECT_DENIED(probe({}, op));
  EXPECT_DENIED(probe({"--bind", spec("tcp", "127.0.0.1", q)}, op));
  EXPECT_DENIED(probe({"--connect", spec("tcp", "127.0.0.1", p)}, op));
  EXPECT_DENIED(probe({"--bind", spec("udp", "127.0.0.1", p)}, op));
  // 0.0.0.0 binds every address: wider than the grant.
  EXPECT_DENIED(probe({"--bind", spec("tcp", "127.0.0.1", p)}, {"bind", "tcp", "0.0.0.0", str(p)}));
}

TEST(NetworkBind, UdpBind) {
  auto p = free_port(AF_INET, SOCK_DGRAM);
  std::vector<std::string> op{"bind", "udp", "127.0.0.1", str(p)};
  EXPECT_PROBE(probe({"--bind", spec("udp", "127.0.0.1", p)}, op), "ok " + str(p));
  EXPECT_DENIED(probe({}, op));
  EXPECT_DENIED(probe({"--bind", spec("tcp", "127.0.0.1", p)}, op));
}

// listen() on a socket that was never bound binds a port on every address.
TEST(NetworkBind, ListenOnUnboundSocketIsDenied) {
  auto outside = native({"listen-unbound", "4"});
  ASSERT_EQ(outside.out.rfind("ok ", 0), 0u) << describe(outside);
  EXPECT_DENIED(probe({}, {"listen-unbound", "4"}));
  EXPECT_DENIED(probe({}, {"listen-unbound", "6"}));
  EXPECT_DENIED(probe({"--bind", "tcp:127.0.0.1:*"}, {"listen-unbound", "4"}));
  // Listening after a granted bind is the allowed case.
  auto p = free_port();
  EXPECT_PROBE(probe({"--bind", spec("tcp", "127.0.0.1", p)}, {"bind", "tcp", "127.0.0.1", str(p)}), "ok " + str(p));
}

// ---------------------------------------------------------------------------
// UDP: every address-carrying send is a connect decision.

class NetworkUdpSend : public ::testing::TestWithParam<std::string> {
 protected:
  // What the sink must receive when `op` with message `msg` is allowed.
  std::vector<std::string> expected(const std::string& msg) const {
    if (GetParam() == "sendmmsg") return {msg + "#1", msg + "#2"};
    return {msg};
  }
  std::string ok() const { return GetParam() == "sendmmsg" ? "ok 2" : "ok sent"; }
};

TEST_P(NetworkUdpSend, AllowedBesideDenied) {
  auto sink = udp_sink();
  auto p = sink->port();
  auto op = [&](const std::string& msg) { return std::vector<std::string>{GetParam(), "udp", "127.0.0.1", str(p), msg}; };

  auto allowed = probe({"--connect", spec("udp", "127.0.0.1", p)}, op("granted"));
  EXPECT_PROBE(allowed, ok());
  EXPECT_EQ(sink->drain(), expected("granted"));

  EXPECT_DENIED(probe({}, op("no-grant")));
  EXPECT_DENIED(probe({"--connect", spec("tcp", "127.0.0.1", p)}, op("tcp-grant")));
  EXPECT_DENIED(probe({"--bind", spec("udp", "127.0.0.1", p)}, op("bind-grant")));
  auto late = sink->drain(300);
  EXPECT_TRUE(late.empty()) << "denied datagrams arrived: " << joined(late);
}

INSTANTIATE_TEST_SUITE_P(Calls, NetworkUdpSend, ::testing::Values("sendto", "sendmsg", "sendmmsg"),
                         [](const auto& info) { return info.param; });

// sendmmsg carries one address per message: the second must be checked too.
TEST(NetworkUdp, SendmmsgChecksEveryAddress) {
  auto good = udp_sink();
  auto bad = udp_sink();
  auto r = probe({"--connect", spec("udp", "127.0.0.1", good->port())},
                 {"sendmmsg", "udp", "127.0.0.1", str(good->port()), "mixed", "127.0.0.1", str(bad->port())});
  // Either the call stops at the bad message (the kernel's own partial
  // result) or the whole call is refused; never two sent.
  EXPECT_TRUE(r.out == "ok 1\n" || r.out == "err EACCES\n") << describe(r);
  auto at_bad = bad->drain(300);
  EXPECT_TRUE(at_bad.empty()) << "a message reached the ungranted address: " << joined(at_bad);
  auto at_good = good->drain(0);
  if (r.out == "ok 1\n") {
    EXPECT_EQ(at_good, std::vector<std::string>{"mixed#1"});
  }
}

// On a connected UDP socket an explicit sendto address still wins.
TEST(NetworkUdp, ConnectedSocketStillChecksSendtoAddress) {
  auto good = udp_sink();
  auto bad = udp_sink();
  auto g = str(good->port()), b = str(bad->port());
  auto grant = std::vector<std::string>{"--connect", spec("udp", "127.0.0.1", good->port())};

  EXPECT_PROBE(probe(grant, {"connect", "udp", "127.0.0.1", g}), "ok sent");
  EXPECT_PROBE(probe(grant, {"connected-sendto", "127.0.0.1", g, "127.0.0.1", g, "same"}), "ok sent");
  EXPECT_EQ(good->drain(), (std::vector<std::string>{"ping", "same"}));

  EXPECT_DENIED(probe(grant, {"connected-sendto", "127.0.0.1", g, "127.0.0.1", b, "elsewhere"}));
  auto at_bad = bad->drain(300);
  EXPECT_TRUE(at_bad.empty()) << joined(at_bad);
}

// ---------------------------------------------------------------------------
// Pointer TOCTOU: a second guest thread flips sin_port between a granted and
// an ungranted port while the main thread keeps using the same sockaddr.

struct RaceCounts {
  long ok = -1, good = -1, bad = -1, denied = -1, other = -1, flips = -1;
};

bool parse_race(const std::string& out, RaceCounts& c) {
  return std::sscanf(out.c_str(), "ok ok=%ld good=%ld bad=%ld denied=%ld other=%ld flips=%ld", &c.ok, &c.good, &c.bad,
                     &c.denied, &c.other, &c.flips) == 6;
}

TEST(NetworkRace, FlippedConnectPortNeverReachesTheOtherListener) {
  auto good = tcp_server();
  auto bad = tcp_server();
  auto r = probe({"--connect", spec("tcp", "127.0.0.1", good->port())},
                 {"race", "connect", str(good->port()), str(bad->port()), "50"}, 12);
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  RaceCounts c;
  ASSERT_TRUE(parse_race(r.out, c)) << describe(r);
  EXPECT_EQ(bad->wait_accepted(1, 300), 0) << "the ungranted listener accepted a connection\n" << describe(r);
  EXPECT_EQ(c.bad, 0) << describe(r);
  EXPECT_EQ(c.good, c.ok) << "every connect that succeeded must have gone to the granted port\n" << describe(r);
  EXPECT_GE(c.good, 50) << "the granted port must connect many times\n" << describe(r);
  EXPECT_GT(c.denied, 0) << "the flipped port must have been tried (and denied)\n" << describe(r);
  EXPECT_EQ(c.other, 0) << describe(r);
  EXPECT_GE(good->wait_accepted(static_cast<int>(c.good)), c.good) << describe(r);
}

TEST(NetworkRace, FlippedSendtoPortNeverReachesTheOtherSocket) {
  auto good = udp_sink();
  auto bad = udp_sink();
  auto r = probe({"--connect", spec("udp", "127.0.0.1", good->port())},
                 {"race", "sendto", str(good->port()), str(bad->port()), "50"}, 12);
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  RaceCounts c;
  ASSERT_TRUE(parse_race(r.out, c)) << describe(r);
  auto at_bad = bad->drain(300);
  EXPECT_TRUE(at_bad.empty()) << at_bad.size() << " datagrams reached the ungranted port\n" << describe(r);
  EXPECT_GE(c.ok, 50) << describe(r);
  EXPECT_GT(c.denied, 0) << describe(r);
  EXPECT_EQ(c.other, 0) << describe(r);
  // A full receive buffer may drop some; only their destination matters.
  auto at_good = static_cast<long>(good->drain().size());
  EXPECT_GT(at_good, 0) << describe(r);
  EXPECT_LE(at_good, c.ok) << describe(r);
}

// ---------------------------------------------------------------------------
// Unix sockets: paths and the abstract namespace

TEST(NetworkUnix, PathConnectNeedsAGrant) {
  ScratchDir dir;
  std::string path = dir.path() + "/s.sock", other = dir.path() + "/other.sock";
  auto s = unix_server(path, false);
  auto o = unix_server(other, false);
  std::vector<std::string> op{"connect-unix", path};

  auto allowed = probe({"--connect", "unix:" + path}, op);
  EXPECT_PROBE(allowed, "ok pong");
  EXPECT_DENIED(probe({}, op));
  EXPECT_DENIED(probe({"--connect", "unix:" + other}, op));
  EXPECT_DENIED(probe({"--bind", "unix:" + path}, op));
  EXPECT_DENIED(probe({"--connect", "unix:@" + path}, op));  // the abstract name of the same spelling
  // A file grant is not a socket grant.
  EXPECT_DENIED(probe({"--write", dir.path()}, op));
  EXPECT_EQ(s->wait_accepted(2, 200), 1);
  EXPECT_EQ(o->accepted(), 0);
}

// "--connect ?unix:PATH" (what learn writes for nscd's socket where no nscd
// runs): with its directory absent, a connect is told ENOENT, as without a
// jail, and no denial is logged; with its directory there it is a grant like
// unix:PATH. Another absent path stays denied.
TEST(NetworkUnix, OptionalSocketConnects) {
  ScratchDir dir;
  std::string gone = dir.path() + "/no-dir/x.sock", also_gone = dir.path() + "/no-dir/y.sock";
  auto absent = probe({"--connect", "?unix:" + gone}, {"connect-unix", gone});
  EXPECT_PROBE(absent, "err ENOENT");
  EXPECT_EQ(absent.err.find("denied"), std::string::npos) << absent.err;
  EXPECT_DENIED(probe({"--connect", "?unix:" + gone}, {"connect-unix", also_gone}));
  std::string live = dir.path() + "/s.sock";
  auto s = unix_server(live, false);
  EXPECT_PROBE(probe({"--connect", "?unix:" + live}, {"connect-unix", live}), "ok pong");
  EXPECT_EQ(s->wait_accepted(1, 200), 1);
  // Only a connect to a unix path can be optional.
  auto bad = jail({"--connect", "?tcp:127.0.0.1:9"}, {"/bin/true"});
  EXPECT_EQ(bad.exit_code, 125);
  EXPECT_NE(bad.err.find("can be optional (?unix:PATH)"), std::string::npos) << bad.err;
}

// A sockaddr_un whose length ends inside sun_path names the shorter path:
// the decision must be about the path the kernel will use.
TEST(NetworkUnix, ShortenedSockaddrIsDecidedOnThePathItReallyNames) {
  ScratchDir dir;
  std::string shorter = dir.path() + "/ab", longer = dir.path() + "/abc";
  auto s_short = unix_server(shorter, false, "pong-ab");
  auto s_long = unix_server(longer, false, "pong-abc");
  std::vector<std::string> op{"connect-unix", longer, str(static_cast<uint16_t>(shorter.size()))};
  auto outside = native(op);
  ASSERT_EQ(outside.out, "ok pong-ab\n") << "the cut sockaddr reaches the shorter path natively\n" << describe(outside);
  ASSERT_EQ(s_short->wait_accepted(1), 1);

  EXPECT_DENIED(probe({"--connect", "unix:" + longer}, op));
  EXPECT_EQ(s_short->wait_accepted(2, 200), 1) << "the shortened address slipped past a grant for the longer one";
  EXPECT_PROBE(probe({"--connect", "unix:" + shorter}, op), "ok pong-ab");
  EXPECT_EQ(s_long->accepted(), 0);
}

TEST(NetworkUnix, AbstractConnectNeedsAGrant) {
  auto name = abstract_name("conn");
  auto s = unix_server(name, true);
  std::vector<std::string> op{"connect-abstract", name};
  EXPECT_PROBE(probe({"--connect", "unix:@" + name}, op), "ok pong");
  EXPECT_DENIED(probe({}, op));
  EXPECT_DENIED(probe({"--connect", "unix:@" + name + "-other"}, op));
  EXPECT_DENIED(probe({"--bind", "unix:@" + name}, op));
  EXPECT_EQ(s->wait_accepted(2, 200), 1);
}

TEST(NetworkUnix, PathBindNeedsAGrant) {
  ScratchDir dir;
  std::string path = dir.path() + "/b.sock";
  struct stat st;
  EXPECT_DENIED(probe({}, {"bind-unix", path}));
  EXPECT_DENIED(probe({"--connect", "unix:" + path}, {"bind-unix", path}));
  EXPECT_NE(::lstat(path.c_str(), &st), 0) << "a denied bind created the socket file";

  // getsockname reports the path as given natively; README "Known limits":
  // a socket the broker binds records its bare name.
  auto allowed = probe({"--bind", "unix:" + path}, {"bind-unix", path});
  EXPECT_TRUE(allowed.out == "ok " + path + "\n" || allowed.out == "ok b.sock\n") << describe(allowed);
  ASSERT_EQ(::lstat(path.c_str(), &st), 0) << "the granted bind left no socket at " << path;
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
}

TEST(NetworkUnix, AbstractBindNeedsAGrant) {
  auto name = abstract_name("bind");
  EXPECT_DENIED(probe({}, {"bind-abstract", name}));
  EXPECT_DENIED(probe({"--bind", "unix:@" + name + "-other"}, {"bind-abstract", name}));
  EXPECT_PROBE(probe({"--bind", "unix:@" + name}, {"bind-abstract", name}), "ok @" + name);
}

// Without a grant every unix path gets EACCES, whether it exists, is a
// socket or not: a denial must not reveal what lies outside the grants (as
// for files, README "What a guest may do without grants").
TEST(NetworkUnix, UngrantedPathsAllLookTheSame) {
  ScratchDir dir;
  std::string sock = dir.path() + "/s.sock";
  auto s = unix_server(sock, false);
  std::string plain = dir.file("plain.txt", "x\n");
  for (const auto& path : {sock, plain, dir.path() + "/missing.sock", dir.path() + "/no-dir/x.sock"}) {
    SCOPED_TRACE(path);
    EXPECT_DENIED(probe({}, {"connect-unix", path}));
    EXPECT_DENIED(probe({}, {"sendto-unix", path, "x"}));
    EXPECT_DENIED(probe({}, {"bind-unix", path + ".new"}));
  }
  EXPECT_EQ(s->accepted(), 0);
}

TEST(NetworkUnix, DatagramSendtoPathNeedsAGrant) {
  ScratchDir dir;
  std::string path = dir.path() + "/d.sock";
  Sink sink(bound_unix(SOCK_DGRAM, path, false));
  EXPECT_PROBE(probe({"--connect", "unix:" + path}, {"sendto-unix", path, "granted"}), "ok sent");
  EXPECT_EQ(sink.drain(), std::vector<std::string>{"granted"});
  EXPECT_DENIED(probe({}, {"sendto-unix", path, "denied"}));
  auto late = sink.drain(300);
  EXPECT_TRUE(late.empty()) << joined(late);
}

TEST(NetworkUnix, SocketpairNeedsNoGrant) {
  auto r = probe({}, {"socketpair"});
  EXPECT_PROBE(r, "ok pong");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.err, "");
}

// ---------------------------------------------------------------------------
// IPv6 loopback and IPv4-mapped addresses

TEST(NetworkIpv6, LoopbackConnectAndSend) {
  if (!ipv6_loopback_works()) GTEST_SKIP() << "no ::1 on this host";
  auto s = tcp_server(AF_INET6);
  auto p = s->port();
  std::vector<std::string> op{"connect", "tcp", "::1", str(p)};
  EXPECT_PROBE(probe({"--connect", spec("tcp", "[::1]", p)}, op), "ok pong");
  EXPECT_DENIED(probe({}, op));
  EXPECT_DENIED(probe({"--connect", spec("tcp", "127.0.0.1", p)}, op));
  EXPECT_EQ(s->wait_accepted(2, 200), 1);

  auto sink = udp_sink(AF_INET6);
  auto u = sink->port();
  EXPECT_PROBE(probe({"--connect", spec("udp", "[::1]", u)}, {"sendto", "udp", "::1", str(u), "v6"}), "ok sent");
  EXPECT_DENIED(probe({"--connect", spec("udp", "127.0.0.1", u)}, {"sendto", "udp", "::1", str(u), "v6-denied"}));
  EXPECT_EQ(sink->drain(300), std::vector<std::string>{"v6"});
}

TEST(NetworkIpv6, BindLoopback) {
  if (!ipv6_loopback_works()) GTEST_SKIP() << "no ::1 on this host";
  auto p = free_port(AF_INET6);
  std::vector<std::string> op{"bind", "tcp", "::1", str(p)};
  EXPECT_PROBE(probe({"--bind", spec("tcp", "[::1]", p)}, op), "ok " + str(p));
  EXPECT_DENIED(probe({}, op));
  EXPECT_DENIED(probe({"--bind", spec("tcp", "127.0.0.1", p)}, op));
  // :: binds every address of both families.
  EXPECT_DENIED(probe({"--bind", spec("tcp", "[::1]", p)}, {"bind", "tcp", "::", str(p)}));
}

// ::ffff:127.0.0.1 is 127.0.0.1: only the IPv4 grant may cover it.
TEST(NetworkIpv6, MappedIpv4FollowsTheIpv4Grant) {
  if (!ipv6_loopback_works()) GTEST_SKIP() << "no IPv6 on this host";
  auto s = tcp_server(AF_INET, "pong-v4");
  auto p = s->port();
  std::vector<std::string> op{"connect", "tcp", "::ffff:127.0.0.1", str(p)};
  EXPECT_PROBE(probe({"--connect", spec("tcp", "127.0.0.1", p)}, op), "ok pong-v4");
  EXPECT_DENIED(probe({}, op));
  EXPECT_DENIED(probe({"--connect", spec("tcp", "[::1]", p)}, op));
  EXPECT_DENIED(probe({"--connect", spec("tcp", "127.0.0.2", p)}, op));
  EXPECT_EQ(s->wait_accepted(2, 200), 1);

  auto sink = udp_sink();
  auto u = sink->port();
  EXPECT_PROBE(probe({"--connect", spec("udp", "127.0.0.1", u)}, {"sendto", "udp", "::ffff:127.0.0.1", str(u), "m"}),
               "ok sent");
  EXPECT_DENIED(probe({"--connect", spec("udp", "[::1]", u)}, {"sendto", "udp", "::ffff:127.0.0.1", str(u), "m2"}));
  EXPECT_EQ(sink->drain(300), std::vector<std::string>{"m"});

  auto b = free_port();
  EXPECT_PROBE(probe({"--bind", spec("tcp", "127.0.0.1", b)}, {"bind", "tcp", "::ffff:127.0.0.1", str(b)}),
               "ok " + str(b));
  EXPECT_DENIED(probe({"--bind", spec("tcp", "[::1]", b)}, {"bind", "tcp", "::ffff:127.0.0.1", str(b)}));
}

// ---------------------------------------------------------------------------
// Non-blocking connect keeps the kernel's semantics: EINPROGRESS, then
// EALREADY while pending, then completion.

TEST(NetworkNonblocking, ConnectReturnsEinprogress) {
  // A listener whose accept queue is full drops SYNs, so the connect is
  // still pending when connect() returns, whatever the machine's speed; the
  // client's SYN retransmission (after about 1 s) succeeds once the server
  // has drained the queue.
  auto run_once = [](const std::vector<std::string>& grants, bool jailed) {
    UniqueFd listener = bound_inet(AF_INET, SOCK_STREAM);
    uint16_t p = port_of(listener.get());
    if (::listen(listener.get(), 0) != 0) throw std::runtime_error("listen");
    UniqueFd filler(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    socklen_t len;
    auto ss = loopback(AF_INET, p, len);
    if (::connect(filler.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) throw std::runtime_error("filler");
    std::atomic<bool> stop{false};
    std::thread server([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      UniqueFd first(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));  // the filler
      pollfd pl{listener.get(), POLLIN, 0};
      for (int i = 0; i < 100 && !stop && ::poll(&pl, 1, 50) == 0; ++i) {
      }
      if (stop) return;
      UniqueFd c(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
      if (!c.valid()) return;
      pollfd pc{c.get(), POLLIN, 0};
      char buf[16];
      if (::poll(&pc, 1, 3000) > 0 && ::recv(c.get(), buf, sizeof buf, 0) > 0) (void)!::send(c.get(), "pong", 4, 0);
    });
    std::vector<std::string> op{"nonblock-connect", "127.0.0.1", str(p)};
    auto r = jailed ? probe(grants, op, 12) : native(op);
    stop = true;
    server.join();
    return r;
  };
  auto outside = run_once({}, false);
  ASSERT_EQ(outside.out, "ok first=EINPROGRESS again=EALREADY reply=pong\n") << describe(outside);

  auto allowed = run_once({"--connect", "tcp:127.0.0.1:*"}, true);
  EXPECT_PROBE(allowed, "ok first=EINPROGRESS again=EALREADY reply=pong");
  EXPECT_DENIED(run_once({}, true));
}

// ---------------------------------------------------------------------------
// A guest thread blocked in a call the broker performs must not hold up
// another thread's calls (nor other guests'). Each run has a native control.

RunResult stall(const std::vector<std::string>& grants, const std::vector<std::string>& op, bool jailed) {
  return jailed ? probe(grants, op, 12) : native(op);
}

long stall_ms(const RunResult& r) {
  long ms = -1;
  return std::sscanf(r.out.c_str(), "ok ms=%ld", &ms) == 1 ? ms : -1;
}

TEST(NetworkStall, BlockedUnixConnectDoesNotStallOtherCalls) {
  ScratchDir dir;
  std::string path = dir.path() + "/full.sock";
  UniqueFd full = bound_unix(SOCK_STREAM, path, false);
  ASSERT_EQ(::listen(full.get(), 0), 0);
  UniqueFd filler(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  socklen_t len;
  auto un = unix_address(path, false, len);
  ASSERT_EQ(::connect(filler.get(), reinterpret_cast<sockaddr*>(&un), len), 0);  // the queue is now full
  auto pong = tcp_server();
  std::vector<std::string> op{"stall", "unix-connect", path, str(pong->port())};

  auto outside = stall({}, op, false);
  ASSERT_GE(stall_ms(outside), 0) << describe(outside);
  ASSERT_LT(stall_ms(outside), 1000) << describe(outside);
  auto r = stall({"--connect", "unix:" + path, "--connect", spec("tcp", "127.0.0.1", pong->port())}, op, true);
  ASSERT_GE(stall_ms(r), 0) << describe(r);
  EXPECT_LT(stall_ms(r), 1500) << "a connect waited for another thread's blocked unix connect\n" << describe(r);
}

TEST(NetworkStall, BlockedSendmmsgDoesNotStallOtherCalls) {
  auto silent = tcp_server(AF_INET, "");  // accepts, never reads
  auto pong = tcp_server();
  std::vector<std::string> op{"stall", "sendmmsg", str(silent->port()), str(pong->port())};
  auto outside = stall({}, op, false);
  ASSERT_GE(stall_ms(outside), 0) << describe(outside);
  ASSERT_LT(stall_ms(outside), 1000) << describe(outside);
  auto r = stall({"--connect", "tcp:127.0.0.1:*"}, op, true);
  ASSERT_GE(stall_ms(r), 0) << describe(r);
  EXPECT_LT(stall_ms(r), 1500) << "a connect waited for another thread's blocked sendmmsg\n" << describe(r);
}

// ---------------------------------------------------------------------------
// --listen: wwjail binds and listens, the guest gets the socket as fd 3.

// Connects to `addr` until the jail has bound it (or the deadline passes),
// sends "hi" and returns the reply.
std::string ask_listener(const sockaddr* addr, socklen_t len, int family) {
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < end) {
    UniqueFd c(::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (::connect(c.get(), addr, len) != 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    timeval tv{5, 0};
    ::setsockopt(c.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (::send(c.get(), "hi", 2, MSG_NOSIGNAL) != 2) return "<send failed>";
    char buf[64];
    ssize_t n = ::recv(c.get(), buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, n) : "<no reply>";
  }
  return "<never listening>";
}

TEST(NetworkListen, TcpSocketArrivesAsFd3) {
  auto p = free_port();
  auto jailed = std::async(std::launch::async, [p] {
    return probe({"--listen", spec("tcp", "127.0.0.1", p)}, {"serve-fd3"}, 12);
  });
  socklen_t len;
  auto ss = loopback(AF_INET, p, len);
  EXPECT_EQ(ask_listener(reinterpret_cast<sockaddr*>(&ss), len, AF_INET), "hello from fd3");
  auto r = jailed.get();
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.out.rfind("ok req=hi names=", 0), 0u) << describe(r);
}

TEST(NetworkListen, UnixSocketArrivesAsFd3) {
  ScratchDir dir;
  std::string path = dir.path() + "/l.sock";
  auto jailed = std::async(std::launch::async, [path] { return probe({"--listen", "unix:" + path}, {"serve-fd3"}, 12); });
  socklen_t len;
  auto un = unix_address(path, false, len);
  EXPECT_EQ(ask_listener(reinterpret_cast<sockaddr*>(&un), len, AF_UNIX), "hello from fd3");
  auto r = jailed.get();
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.out.rfind("ok req=hi names=", 0), 0u) << describe(r);
}

// Without --listen there is no fd 3 and no LISTEN_* variables; --listen
// grants nothing else (the guest may not bind or connect there itself).
TEST(NetworkListen, NothingWithoutTheFlag) {
  auto r = probe({}, {"serve-fd3"});
  EXPECT_EQ(r.out.rfind("err LISTEN_PID=(unset)", 0), 0u) << describe(r);
  auto p = free_port();
  auto q = free_port();
  auto other = probe({"--listen", spec("tcp", "127.0.0.1", p)}, {"bind", "tcp", "127.0.0.1", str(q)});
  EXPECT_DENIED(other);
}

// ---------------------------------------------------------------------------
// What a user sees: one log line per denial, 125 for a bad spec.

std::vector<std::string> lines_with(const std::string& text, const std::string& needle) {
  std::vector<std::string> found;
  for (const auto& line : split_lines(text))
    if (line.find(needle) != std::string::npos) found.push_back(line);
  return found;
}

TEST(NetworkLog, DeniedCallsLogOneLineNamingTheAddress) {
  auto s = tcp_server();
  auto p = s->port();
  auto target = "127.0.0.1:" + str(p);

  auto allowed = probe({"--connect", spec("tcp", "127.0.0.1", p)}, {"connect", "tcp", "127.0.0.1", str(p)});
  EXPECT_PROBE(allowed, "ok pong");
  EXPECT_EQ(allowed.err, "") << "an allowed connect logs nothing";

  auto denied = probe({}, {"connect", "tcp", "127.0.0.1", str(p)});
  EXPECT_DENIED(denied);
  auto lines = lines_with(denied.err, "denied");
  ASSERT_EQ(lines.size(), 1u) << describe(denied);
  EXPECT_EQ(lines[0].rfind("wwjail: warning: denied pid=", 0), 0u) << lines[0];
  EXPECT_NE(lines[0].find("connect"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find(target), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("--connect"), std::string::npos) << "the line should name the missing grant: " << lines[0];

  auto b = free_port();
  auto bind_denied = probe({}, {"bind", "tcp", "127.0.0.1", str(b)});
  EXPECT_DENIED(bind_denied);
  lines = lines_with(bind_denied.err, "denied");
  ASSERT_EQ(lines.size(), 1u) << describe(bind_denied);
  EXPECT_NE(lines[0].find("bind"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("127.0.0.1:" + str(b)), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("--bind"), std::string::npos) << lines[0];

  auto name = abstract_name("log");
  auto unix_denied = probe({}, {"connect-abstract", name});
  EXPECT_DENIED(unix_denied);
  lines = lines_with(unix_denied.err, "denied");
  ASSERT_EQ(lines.size(), 1u) << describe(unix_denied);
  EXPECT_NE(lines[0].find(name), std::string::npos) << lines[0];
}

TEST(NetworkCli, BadSpecExits125WithOneLine) {
  const std::vector<std::vector<std::string>> bad = {
      {"--connect", "tcp:1.2.3.4"},        {"--bind", "nonsense"},
      {"--connect", "tcp:127.0.0.1:99999"}, {"--connect", "sctp:127.0.0.1:80"},
      {"--bind", "udp:[::1:53"},           {"--listen", "tcp:127.0.0.1:"},
      {"--connect", "tcp:127.0.0.1/33:80"}, {"--connect"},
  };
  for (const auto& args : bad) {
    auto r = jail(args, {guest("net_probe"), "socketpair"}, kJailTimeout);
    std::string what = args[0] + (args.size() > 1 ? " " + args[1] : "");
    EXPECT_EQ(r.exit_code, 125) << what << "\n" << describe(r);
    EXPECT_EQ(r.out, "") << what << ": the guest must not run";
    EXPECT_EQ(split_lines(r.err).size(), 1u) << what << "\n" << describe(r);
    EXPECT_EQ(r.err.rfind("wwjail: ", 0), 0u) << what << "\n" << describe(r);
  }
}

// --connect dns grants reading the resolver's files; nothing is sent here.
TEST(NetworkCli, ConnectDnsGrantsTheResolverFiles) {
  struct stat st;
  if (::stat("/etc/resolv.conf", &st) != 0) GTEST_SKIP() << "no /etc/resolv.conf";
  auto with = jail({"--connect", "dns"}, {guest("probe"), "read", "/etc/resolv.conf"}, kJailTimeout);
  EXPECT_EQ(with.exit_code, 0) << describe(with);
  EXPECT_EQ(with.out.rfind("ok", 0), 0u) << describe(with);
  auto without = jail({}, {guest("probe"), "read", "/etc/resolv.conf"}, kJailTimeout);
  EXPECT_EQ(without.out, "err EACCES\n") << describe(without);
}

}  // namespace
}  // namespace wwjail::testing
