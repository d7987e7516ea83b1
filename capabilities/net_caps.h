// Network capabilities: where a guest may bind (and listen) and where it may
// connect or send, as data. Parsing a SPEC is here too, so the command line
// and policy files share one grammar:
//
//   SPEC = tcp:ADDR:PORT | udp:ADDR:PORT | unix:PATH | unix:@ABSTRACT
//   ADDR = IPv4 literal | [IPv6 literal] | CIDR block (10.0.0.0/8, [fd00::]/8) | *
//   PORT = number | range a-b | *
//
// Decisions are asked about the address the broker copied out of guest
// memory. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are decided as the
// IPv4 address they are, so a rule cannot be dodged by respelling it.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wwjail {

enum class Transport : uint8_t { kTcp, kUdp, kUnix };
std::string_view transport_name(Transport t);

struct NetEndpoint {
  Transport transport = Transport::kTcp;
  // inet: family 0 means any address of either family ("*").
  int family = 0;            // AF_INET, AF_INET6 or 0
  uint8_t addr[16] = {};     // network order; IPv4 in the first 4 bytes
  int prefix = 0;            // CIDR prefix length in bits
  uint16_t port_lo = 0, port_hi = 65535;
  // unix
  std::string path;          // canonical path, or the abstract name
  bool abstract = false;
};

struct NetGrant {
  NetEndpoint endpoint;
  std::string origin;  // "--connect tcp:127.0.0.1:5432"
};

// Parses SPEC. Returns the endpoint, or nullopt with `error` saying what is
// wrong and what to write instead. Unix paths are returned as written; the
// caller canonicalises them (and checks the result again with
// unix_name_fits). Whatever a run would refuse is refused here, so `check`
// refuses it too.
std::optional<NetEndpoint> parse_net_spec(std::string_view spec, std::string& error);

// sun_path holds a path and its terminating NUL, or an abstract name after
// its leading NUL: 107 bytes of name either way.
inline constexpr size_t kMaxUnixNameBytes = sizeof(sockaddr_un::sun_path) - 1;

// Whether a unix socket path (or abstract name) fits in a sockaddr_un and
// means what it says (a path holds no NUL); else false with `error` set.
bool unix_name_fits(std::string_view name, bool abstract, std::string& error);

// A socket address the broker copied, in a form rules can be matched on.
struct NetTarget {
  Transport transport = Transport::kTcp;
  int family = 0;  // AF_INET or AF_INET6 (mapped IPv4 already folded to AF_INET), or AF_UNIX
  uint8_t addr[16] = {};
  uint16_t port = 0;
  std::string path;  // unix: canonical path or abstract name
  bool abstract = false;
  // In SPEC form, for log lines and learned policies: "tcp:127.0.0.1:5432",
  // "tcp:[::1]:80", "unix:@name", "unix:/run/x.sock"
  std::string text;
  int unresolved = 0;  // unix: the errno resolving the path gave (decided on its text)
};

// Reads an inet or inet6 sockaddr (len as the guest gave it). nullopt for
// another family or a malformed length.
std::optional<NetTarget> inet_target(Transport transport, const sockaddr_storage& sa, socklen_t len);

// Whether `addr` (network order, IPv4 in the first 4 bytes) is a loopback
// address of `family`: 127.0.0.0/8 or ::1.
bool loopback_address(int family, const uint8_t* addr);

struct NetDecision {
  bool allowed = false;
  const NetGrant* grant = nullptr;
  std::string missing;  // "--connect tcp:10.0.0.1:443"
  bool audited = false;  // audit mode: denied by the grants, allowed anyway
  bool bind = false;     // decided by decide_bind (else a connect or send)
  std::string reason;    // a refusal no grant could lift: why (then `missing` is empty)
};

// Datagram replies. A UDP server bound through a bind grant must answer the
// peers that reach it, and the broker does not see what a socket receives:
// so a UDP socket whose local address, as the kernel reports it
// (getsockname on the broker's duplicate, never guest memory), lies within
// a bind grant naming exactly one port may send to unicast peers of any
// address (of its own family: the kernel refuses others). A port range or
// "*" gives the bind but no replies: an autobound socket could land in it.
// Limited broadcast, multicast, unspecified and reserved destinations are
// refused (directed broadcast of a local subnet is refused by the broker,
// which asks the kernel for its interfaces).
bool grants_replies(const NetEndpoint& e);
// Whether a copied destination is one unicast peer (see above); else false
// with `why` naming what it is.
bool unicast_peer(const NetTarget& t, std::string& why);

class NetCaps {
 public:
  void add_bind(NetGrant g) { bind_.push_back(std::move(g)); }
  void add_connect(NetGrant g) { connect_.push_back(std::move(g)); }
  NetDecision decide_bind(const NetTarget& t) const { return decide(bind_, t, "--bind"); }
  NetDecision decide_connect(const NetTarget& t) const { return decide(connect_, t, "--connect"); }
  // A send from a socket bound at `local` (getsockname) to `peer`, when no
  // connect grant allows it: allowed by a bind grant that grants replies
  // (grants_replies) and covers `local`. No such grant: not allowed, with
  // `missing` the connect grant, as decide_connect says. Such a grant but a
  // peer that is not unicast: refused with `reason`.
  NetDecision decide_reply(const NetTarget& local, const NetTarget& peer) const;
  const std::vector<NetGrant>& bind_grants() const { return bind_; }
  const std::vector<NetGrant>& connect_grants() const { return connect_; }
  // Audit mode: what the grants deny is allowed, and marked audited.
  void enable_audit() { audit_ = true; }
  bool auditing() const { return audit_; }
  // An optional connect grant ("?unix:PATH") whose directory was absent at
  // start: a connect to that path (as written, normalized) is answered
  // ENOENT, as it would be without a jail, and is not logged as a denial.
  void add_absent_socket(std::string path) { absent_sockets_.push_back(std::move(path)); }
  bool named_absent_socket(std::string_view path) const {
    for (const auto& a : absent_sockets_) {
      if (a == path) return true;
    }
    return false;
  }

 private:
  NetDecision decide(const std::vector<NetGrant>& grants, const NetTarget& t, const char* flag) const;
  std::vector<NetGrant> bind_, connect_;
  std::vector<std::string> absent_sockets_;
  bool audit_ = false;
};

bool endpoint_matches(const NetEndpoint& e, const NetTarget& t);

}  // namespace wwjail
