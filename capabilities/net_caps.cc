#include "capabilities/net_caps.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace wwjail {
namespace {

// A decimal number as people write it: digits only, no sign, no leading
// zero (so "080" and "+80" are refused, not read as 80), at most `max`.
bool parse_decimal(std::string_view s, unsigned max, unsigned& out) {
  if (s.empty() || s.size() > 5 || (s.size() > 1 && s.front() == '0')) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  unsigned v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v > max) return false;
  out = v;
  return true;
}

bool parse_port(std::string_view s, uint16_t& out) {
  unsigned v = 0;
  if (!parse_decimal(s, 65535, v)) return false;
  out = static_cast<uint16_t>(v);
  return true;
}

bool parse_ports(std::string_view s, NetEndpoint& e, std::string& error) {
  if (s == "*") return true;
  auto dash = s.find('-');
  bool ok = dash == std::string_view::npos
                ? parse_port(s, e.port_lo) && (e.port_hi = e.port_lo, true)
                : parse_port(s.substr(0, dash), e.port_lo) && parse_port(s.substr(dash + 1), e.port_hi);
  if (!ok || e.port_lo > e.port_hi) {
    error = "bad port '" + std::string(s) + "': write a number (8080), a range (8000-8100) or *";
    return false;
  }
  return true;
}

bool parse_addr(std::string_view s, NetEndpoint& e, std::string& error) {
  if (s == "*") return true;
  std::string text(s);
  // Set when the address has a "/": then a prefix length must follow it
  // ("10.0.0.0/" is a mistake, not /32).
  std::optional<std::string> prefix_text;
  // [v6] or [v6/len] or [v6]/len
  bool bracketed = !text.empty() && text.front() == '[';
  if (bracketed) {
    auto close = text.find(']');
    if (close == std::string::npos) {
      error = "unclosed '[' in address '" + text + "'";
      return false;
    }
    std::string rest = text.substr(close + 1);
    text = text.substr(1, close - 1);
    if (!rest.empty()) {
      if (rest.front() != '/') {
        error = "unexpected '" + rest + "' after the IPv6 address";
        return false;
      }
      prefix_text = rest.substr(1);
    }
  }
  if (auto slash = text.find('/'); slash != std::string::npos) {
    if (prefix_text) {
      error = "two prefix lengths in address '" + std::string(s) + "': write one, e.g. [fd00::]/8";
      return false;
    }
    prefix_text = text.substr(slash + 1);
    text.resize(slash);
  }
  // IPv6 needs brackets: its colons would otherwise read as the port's.
  if (!bracketed && text.find(':') != std::string::npos) text = "invalid";
  if (inet_pton(AF_INET, text.c_str(), e.addr) == 1 && !bracketed) {
    e.family = AF_INET;
    e.prefix = 32;
  } else if (inet_pton(AF_INET6, text.c_str(), e.addr) == 1) {
    e.family = AF_INET6;
    e.prefix = 128;
    // A mapped IPv4 address is that IPv4 address.
    static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(e.addr, kMapped, 12) == 0) {
      std::memmove(e.addr, e.addr + 12, 4);
      std::memset(e.addr + 4, 0, 12);
      e.family = AF_INET;
      e.prefix = 32;
    }
  } else {
    error = "bad address '" + std::string(s) +
            "': write an IPv4 literal (127.0.0.1), an IPv6 literal in brackets ([::1]), a CIDR block "
            "(10.0.0.0/8, [fd00::]/8) or *";
    return false;
  }
  if (prefix_text) {
    unsigned p = 0;
    if (!parse_decimal(*prefix_text, static_cast<unsigned>(e.prefix), p)) {
      error = "bad prefix length '/" + *prefix_text + "' for " + text + ": write a number from 0 to " +
              std::to_string(e.prefix) + " after the '/', e.g. " +
              (e.family == AF_INET ? "10.0.0.0/8" : "[fd00::]/8");
      return false;
    }
    e.prefix = static_cast<int>(p);
  }
  return true;
}

bool prefix_match(const uint8_t* a, const uint8_t* b, int bits) {
  int bytes = bits / 8;
  if (std::memcmp(a, b, bytes) != 0) return false;
  int rest = bits % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[bytes] & mask) == (b[bytes] & mask);
}

}  // namespace

std::string_view transport_name(Transport t) {
  switch (t) {
    case Transport::kTcp: return "tcp";
    case Transport::kUdp: return "udp";
    case Transport::kUnix: return "unix";
  }
  return "?";
}

std::optional<NetEndpoint> parse_net_spec(std::string_view spec, std::string& error) {
  NetEndpoint e;
  auto colon = spec.find(':');
  if (colon == std::string_view::npos) {
    error = "bad network spec '" + std::string(spec) +
            "': write tcp:ADDR:PORT, udp:ADDR:PORT, unix:PATH or unix:@NAME";
    return std::nullopt;
  }
  std::string_view kind = spec.substr(0, colon), rest = spec.substr(colon + 1);
  if (kind == "unix") {
    e.transport = Transport::kUnix;
    if (rest.size() > 1 && rest.front() == '@') {
      e.abstract = true;
      e.path = std::string(rest.substr(1));
    } else if (!rest.empty() && rest.front() == '/') {
      e.path = std::string(rest);
    } else {
      error = "bad unix socket '" + std::string(rest) + "': write an absolute path or @NAME for an abstract socket";
      return std::nullopt;
    }
    if (!unix_name_fits(e.path, e.abstract, error)) return std::nullopt;
    return e;
  }
  if (kind == "tcp") {
    e.transport = Transport::kTcp;
  } else if (kind == "udp") {
    e.transport = Transport::kUdp;
  } else {
    error = "unknown transport '" + std::string(kind) + "' in '" + std::string(spec) + "': write tcp, udp or unix";
    return std::nullopt;
  }
  auto last = rest.rfind(':');
  if (last == std::string_view::npos || (rest.front() == '[' && last < rest.find(']'))) {
    error = "missing port in '" + std::string(spec) + "': write " + std::string(kind) + ":ADDR:PORT (PORT may be *)";
    return std::nullopt;
  }
  if (!parse_addr(rest.substr(0, last), e, error) || !parse_ports(rest.substr(last + 1), e, error))
    return std::nullopt;
  return e;
}

bool unix_name_fits(std::string_view name, bool abstract, std::string& error) {
  if (name.size() > kMaxUnixNameBytes) {
    error = std::string("the unix socket ") + (abstract ? "name @" : "path ") + std::string(name) + " is " +
            std::to_string(name.size()) + " bytes long; a socket address holds at most " +
            std::to_string(kMaxUnixNameBytes) + "; use a shorter one";
    return false;
  }
  // A path ends at its first NUL (the kernel's rule), so one holding a NUL
  // names another, shorter path. An abstract name is bytes: NULs included.
  if (!abstract && name.find('\0') != std::string_view::npos) {
    error = "the unix socket path holds a NUL byte; write the path without it";
    return false;
  }
  return true;
}

bool loopback_address(int family, const uint8_t* addr) {
  static const uint8_t kV6Loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  if (family == AF_INET) return addr[0] == 127;
  return family == AF_INET6 && std::memcmp(addr, kV6Loopback, 16) == 0;
}

std::optional<NetTarget> inet_target(Transport transport, const sockaddr_storage& sa, socklen_t len) {
  NetTarget t;
  t.transport = transport;
  char text[INET6_ADDRSTRLEN] = {};
  if (sa.ss_family == AF_INET && len >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&sa);
    t.family = AF_INET;
    std::memcpy(t.addr, &in->sin_addr, 4);
    t.port = ntohs(in->sin_port);
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    t.text = std::string(transport_name(transport)) + ":" + text + ":" + std::to_string(t.port);
    return t;
  }
  if (sa.ss_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&sa);
    t.port = ntohs(in6->sin6_port);
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
      t.family = AF_INET;
      std::memcpy(t.addr, reinterpret_cast<const uint8_t*>(&in6->sin6_addr) + 12, 4);
      inet_ntop(AF_INET, t.addr, text, sizeof text);
      t.text = std::string(transport_name(transport)) + ":" + text + ":" + std::to_string(t.port);
      return t;
    }
    t.family = AF_INET6;
    std::memcpy(t.addr, &in6->sin6_addr, 16);
    inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
    t.text = std::string(transport_name(transport)) + ":[" + text + "]:" + std::to_string(t.port);
    return t;
  }
  return std::nullopt;
}

bool endpoint_matches(const NetEndpoint& e, const NetTarget& t) {
  if (e.transport != t.transport) return false;
  if (t.transport == Transport::kUnix) return e.abstract == t.abstract && e.path == t.path;
  if (t.port < e.port_lo || t.port > e.port_hi) return false;
  if (e.family == 0) return true;
  return e.family == t.family && prefix_match(e.addr, t.addr, e.prefix);
}

NetDecision NetCaps::decide(const std::vector<NetGrant>& grants, const NetTarget& t, const char* flag) const {
  NetDecision d;
  for (const auto& g : grants) {
    if (endpoint_matches(g.endpoint, t)) {
      d.allowed = true;
      d.grant = &g;
      return d;
    }
  }
  d.bind = &grants == &bind_;
  d.missing = std::string(flag) + " " + t.text;
  d.allowed = d.audited = audit_;
  return d;
}

bool grants_replies(const NetEndpoint& e) {
  return e.transport == Transport::kUdp && e.port_lo == e.port_hi && e.port_lo != 0;
}

bool unicast_peer(const NetTarget& t, std::string& why) {
  const uint8_t* a = t.addr;
  if (t.family == AF_INET) {
    if (a[0] == 0) why = "an address of 0.0.0.0/8 (this host, unspecified)";
    else if (a[0] >= 224 && a[0] <= 239) why = "a multicast address";
    else if (a[0] >= 240) why = "a broadcast or reserved address (240.0.0.0/4)";
    return why.empty();
  }
  if (t.family == AF_INET6) {
    bool unspecified = std::all_of(a, a + 16, [](uint8_t b) { return b == 0; });
    if (unspecified) why = "the unspecified address";
    else if (a[0] == 0xff) why = "a multicast address";
    return why.empty();
  }
  why = "not an inet address";
  return false;
}

NetDecision NetCaps::decide_reply(const NetTarget& local, const NetTarget& peer) const {
  NetDecision d = decide(connect_, peer, "--connect");
  if (d.allowed || local.transport != Transport::kUdp || peer.transport != Transport::kUdp || local.port == 0)
    return d;
  for (const auto& g : bind_) {
    if (!grants_replies(g.endpoint) || !endpoint_matches(g.endpoint, local)) continue;
    std::string why;
    // Mapped IPv4 peers are folded to AF_INET, so an IPv6 socket may answer
    // them; an IPv4 socket answers IPv4 only.
    if (local.family == AF_INET && peer.family != AF_INET) why = "of another address family";
    if (!why.empty() || !unicast_peer(peer, why)) {
      NetDecision refused;
      refused.reason = "a UDP socket bound through " + g.origin + " may reply to unicast peers only, and " + peer.text +
                       " is " + why;
      refused.allowed = refused.audited = audit_;
      return refused;
    }
    NetDecision allowed;
    allowed.allowed = true;
    allowed.grant = &g;
    return allowed;
  }
  return d;
}

}  // namespace wwjail
