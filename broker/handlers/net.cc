// Address-carrying socket calls: bind, connect, listen, sendto, sendmsg,
// sendmmsg. The address is copied out of guest memory once and decided as a
// NetTarget; the operation is then performed by the broker on its own
// duplicate of the guest's socket (pidfd_getfd). Nothing here CONTINUEs:
// both the sockaddr (guest memory) and the socket behind the fd number (a
// racing dup2) could change between a decision and the kernel's re-run.
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <optional>

#include "broker/guest_proc.h"
#include "broker/guest_identity.h"
#include "broker/handlers/steps.h"
#include "broker/handlers/handlers.h"
#include "broker/handlers/send_rules.h"
#include "capabilities/path_text.h"
#include "sys/kernel_abi.h"
#include "sys/self_fd.h"

namespace wwjail {
namespace {

// The messages glibc and ip(8) send for read-only queries: rtnetlink's
// RTM_GET* requests (types 18, 22, 26, ...: type % 4 == 2) and the generic
// NLMSG_* control types. Anything else changes the host (routes, addresses,
// links, rules) and is refused whatever capabilities are involved: the
// broker sends with its own socket duplicate, and the kernel's capability
// check on that path is not the guest's alone.
int socket_domain(int fd) {
  int domain = -1;
  socklen_t len = sizeof domain;
  return ::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 ? domain : -1;
}

bool netlink_queries_only(const std::vector<char>& payload) {
  size_t at = 0;
  while (at + sizeof(nlmsghdr) <= payload.size()) {
    nlmsghdr h;
    std::memcpy(&h, payload.data() + at, sizeof h);
    if (h.nlmsg_len < sizeof h || h.nlmsg_len > payload.size() - at) return false;
    bool control = h.nlmsg_type < NLMSG_MIN_TYPE;
    bool get = h.nlmsg_type >= RTM_BASE && h.nlmsg_type % 4 == 2;
    if (!control && !get) return false;
    at += NLMSG_ALIGN(h.nlmsg_len);
  }
  return at >= payload.size();
}


// A send copies at most this much payload per call; a stream send may then
// be partial, as the kernel's own may be. Datagrams are far smaller anyway.
constexpr size_t kMaxSendCopy = 256 * 1024;
constexpr size_t kMaxControl = 4096;
constexpr unsigned kMaxMmsg = 1024;

bool nonblocking(int fd) { return (::fcntl(fd, F_GETFL) & O_NONBLOCK) != 0; }

// A socket of the guest: our duplicate (pidfd_getfd), and what it is.
struct SocketKind {
  int domain = 0;
  int type = 0;
  Transport transport = Transport::kTcp;
};
struct GuestSocket {
  UniqueFd fd;
  SocketKind kind;
};

Expected<GuestSocket, Verdict> dup_socket(const Call& n, int fd) {
  auto dup = dup_guest_fd(n, fd);
  if (!dup) return fail(std::move(dup).error());
  GuestSocket out{std::move(*dup), {}};
  int domain = 0, type = 0;
  socklen_t len = sizeof domain;
  if (::getsockopt(out.fd.get(), SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0) return fail(errno);
  len = sizeof type;
  if (::getsockopt(out.fd.get(), SOL_SOCKET, SO_TYPE, &type, &len) != 0) return fail(errno);
  out.kind = {domain, type,
              domain == AF_UNIX ? Transport::kUnix : type == SOCK_DGRAM ? Transport::kUdp : Transport::kTcp};
  return out;
}

// A sockaddr, copied once.
struct Address {
  sockaddr_storage sa{};
  socklen_t len = 0;
};
Expected<Address, Verdict> copy_sockaddr(const Call& n, uint64_t addr, uint64_t len) {
  Address out;
  if (len > sizeof out.sa) return fail(EINVAL);
  if (len < sizeof(sa_family_t)) return fail(EINVAL);
  if (auto got = n.read(addr, &out.sa, len); !got) return fail(std::move(got).error());
  out.len = static_cast<socklen_t>(len);
  return out;
}

// A unix socket path as decided: bind creates the name (never followed);
// connect follows symlinks. A path that does not resolve is decided on its
// text, so a missing path outside the grants gets EACCES like any other
// (its absence is reported only where the guest may connect).
Expected<void, Verdict> unix_path_target(const Call& n, const Services& s, std::string_view raw, bool binding,
                                         NetTarget& t) {
  std::string joined;
  if (int err = guest_proc::absolute_path(n.tid(), AT_FDCWD, raw, joined)) return fail(err);
  std::string canonical;
  if (int err = s.resolver.physical(GuestThread(n.tid()), joined, !binding, canonical,
                                    PathResolver::Absence::kCallerDecides)) {
    t.path = path_text::normalize(joined);
    t.text = "unix:" + t.path;
    t.unresolved = err;
    return {};
  }
  t.path = canonical;
  t.text = "unix:" + canonical;
  return {};
}

// The decision form of a copied address; unix paths resolved against the
// guest's cwd (bind: last component not followed).
Expected<NetTarget, Verdict> socket_target(const Call& n, const Services& s, const SocketKind& kind,
                                           const Address& a, bool binding) {
  const sockaddr_storage& sa = a.sa;
  if (sa.ss_family == AF_INET || sa.ss_family == AF_INET6) {
    if (kind.domain != AF_INET && kind.domain != AF_INET6) return fail(EAFNOSUPPORT);
    auto target = inet_target(kind.transport, sa, a.len);
    if (!target) return fail(EINVAL);
    return *target;
  }
  if (sa.ss_family != AF_UNIX || kind.domain != AF_UNIX) return fail(EAFNOSUPPORT);
  const auto* un = reinterpret_cast<const sockaddr_un*>(&sa);
  size_t path_len = a.len - offsetof(sockaddr_un, sun_path);
  NetTarget t{};
  t.transport = Transport::kUnix;
  t.family = AF_UNIX;
  if (path_len == 0) {
    // Autobind: the kernel picks an abstract name. Only an explicit grant
    // for the empty abstract name allows it.
    t.abstract = true;
    t.text = "unix:@";  // autobind
    return t;
  }
  if (un->sun_path[0] == '\0') {
    // Abstract: exactly the bytes the length covers, NULs included.
    t.abstract = true;
    t.path.assign(un->sun_path + 1, path_len - 1);
    t.text = "unix:@" + t.path;
    return t;
  }
  // A path: it ends at the first NUL within the length (the kernel's rule),
  // so a length that cuts it short names the shorter path, as decided here.
  std::string raw(un->sun_path, strnlen(un->sun_path, path_len));
  if (auto done = unix_path_target(n, s, raw, binding, t); !done) return fail(std::move(done).error());
  return t;
}

// The peer's socket inode, reached through our own descriptor of it (kept
// open in the result): the path cannot be swapped between the decision and
// the kernel's lookup. `a` is rewritten to name it.
Expected<UniqueFd, Verdict> pin_unix_peer(const NetTarget& t, Address& a) {
  open_how how{};
  how.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC;
  how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  UniqueFd pinned(kernel::openat2(AT_FDCWD, t.path.c_str(), how));
  if (!pinned.valid()) return fail(errno == ENOENT ? ECONNREFUSED : errno);
  auto* un = reinterpret_cast<sockaddr_un*>(&a.sa);
  std::string via = self_fd_path(pinned.get());
  std::memset(un->sun_path, 0, sizeof un->sun_path);
  std::memcpy(un->sun_path, via.c_str(), via.size());
  a.len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + via.size() + 1);
  return pinned;
}

// A UDP connect that looks like getaddrinfo's source-address probe;
// `minor`: one of the unspecified address, logged at info.
struct ProbeHint {
  DecisionHint hint = DecisionHint::kNone;
  bool minor = false;
};
ProbeHint address_probe(const Call& n, const Services& s, const NetTarget& t) {
  // glibc's getaddrinfo sorts its answers (RFC 6724) by connecting a UDP
  // socket to each, which sends nothing, to learn the source address. Told
  // apart from a datagram client (glibc's resolver connects too) where it
  // can be: the unspecified address (AI_PASSIVE answers) is no peer, and a
  // program granted TCP to the same address and port is resolving it.
  if (n.nr() != SYS_connect || t.transport != Transport::kUdp || t.family == AF_UNIX) return {};
  size_t len = t.family == AF_INET ? 4 : 16;
  bool unspecified = std::all_of(t.addr, t.addr + len, [](uint8_t b) { return b == 0; });
  if (unspecified) return {DecisionHint::kAddressProbe, true};
  NetTarget tcp = t;
  tcp.transport = Transport::kTcp;
  NetDecision d = s.net.decide_connect(tcp);
  if (d.allowed && !d.audited) return {DecisionHint::kAddressProbe, false};
  return {};
}

// Every network decision a handler acts on: allowed and audited ones are
// noted for the log (denials are logged by deny_net).
NetDecision note_net(Call& n, const Services& s, const NetTarget& t, NetDecision d, bool bind) {
  if (d.allowed && n.decisions().records_allowed())
    n.note({t.text, Need::kStat, false, bind, d.audited ? DecisionKind::kAudit : DecisionKind::kAllow, nullptr,
            d.grant, d.audited ? address_probe(n, s, t).hint : DecisionHint::kNone});
  return d;
}

Verdict deny_net(Call& n, const Services& s, const NetTarget& t, const NetDecision& d) {
  // glibc asks nscd before reading /etc/passwd and friends, on every
  // lookup: where no nscd runs, say so quietly, as the kernel would.
  // An optional grant whose directory was absent at start is treated alike.
  if (t.transport == Transport::kUnix && !t.abstract && t.unresolved == ENOENT && s.probed_quietly_socket(t.path)) {
    s.log.debug("pid={} {} {}: absent and not granted", n.tid(), syscall_name(n.nr()), t.text);
    return Verdict::error(ENOENT);
  }
  if (!d.reason.empty()) return deny_text(n, t.text, d.reason);
  std::string_view need = d.bind ? "bind" : "connect";
  ProbeHint probe = address_probe(n, s, t);
  return n.refuse({.target = t.text,
                   .need = need,
                   .err = EACCES,
                   .missing_kind = need,
                   .missing_target = t.text,
                   .hint = probe.hint,
                   .minor = probe.minor,
                   .storage = false});
}

// Decides where a send goes; a unix path is rewritten to its pinned inode
// (kept open in `held`). The error is the denial or the errno.
Expected<void, Verdict> check_destination(Call& n, const Services& s, int sock, const SocketKind& kind, Address& a,
                                          std::vector<UniqueFd>& held, std::optional<NetTarget>* reply_from) {
  if (kind.domain == AF_NETLINK) {
    // Only the kernel (pid 0) is a reachable netlink peer.
    const auto* nl = reinterpret_cast<const sockaddr_nl*>(&a.sa);
    NetTarget t;
    NetDecision d;
    d.allowed = a.sa.ss_family == AF_NETLINK && a.len >= static_cast<socklen_t>(sizeof *nl) && nl->nl_pid == 0;
    t.text = "netlink peer";
    d.reason = "netlink messages go to the kernel only";
    if (!d.allowed) return fail(deny_net(n, s, t, d));
    return {};
  }
  auto t = socket_target(n, s, kind, a, false);
  if (!t) return fail(std::move(t).error());
  NetDecision d = note_net(n, s, *t, send_decision(sock, kind.transport, s.net, *t, reply_from), false);
  if (!d.allowed) return fail(deny_net(n, s, *t, d));
  if (t->unresolved) return fail(t->unresolved);
  if (t->transport == Transport::kUnix && !t->abstract) {
    auto pinned = pin_unix_peer(*t, a);
    if (!pinned) return fail(std::move(pinned).error());
    held.push_back(std::move(*pinned));
  }
  return {};
}

// Binds a unix socket path: created in the parent directory we resolved,
// pinned by a descriptor and entered with fchdir, by its bare name, so a
// directory swapped in meanwhile cannot redirect it. This thread has its
// own cwd and umask (NotifyThread unshares CLONE_FS): the socket file gets
// the guest's umask, and the name the kernel records for it (getsockname)
// is the bare name, which is what the guest wrote whenever it bound in its
// cwd.
Verdict bind_unix_path(const Call& n, const Services& s, int sock, const NetTarget& t) {
  auto split = path_text::split_last(t.path);
  open_how how{};
  how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
  how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  UniqueFd dir(kernel::openat2(AT_FDCWD, split.parent.c_str(), how));
  if (!dir.valid()) return Verdict::error(errno);
  if (!s.options.private_fs) return Verdict::error(EOPNOTSUPP);  // never chdir a shared cwd
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  if (split.name.size() >= sizeof un.sun_path) return Verdict::error(ENAMETOOLONG);
  std::memcpy(un.sun_path, split.name.c_str(), split.name.size() + 1);
  if (::fchdir(dir.get()) != 0) return Verdict::error(errno);
  mode_t old = ::umask(guest_proc::umask_of(n.tid()));
  int rc = ::bind(sock, reinterpret_cast<sockaddr*>(&un),
                  static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + split.name.size() + 1));
  int err = errno;
  ::umask(old);
  return rc == 0 ? Verdict::value_of(0) : Verdict::error(err);
}

}  // namespace

Verdict on_bind(Call& n, const Services& s) {
  const auto* a = n.args();
  auto sock = dup_socket(n, static_cast<int>(a[0]));
  if (!sock) return std::move(sock).error();
  auto addr = copy_sockaddr(n, a[1], a[2]);
  if (!addr) return std::move(addr).error();
  auto* sa = reinterpret_cast<sockaddr*>(&addr->sa);
  if (sock->kind.domain == AF_NETLINK) {
    // libc binds its netlink route socket to learn the host's addresses;
    // the filter admits no other netlink protocol.
    if (!n.pending()) return interrupted();
    return result_of(::bind(sock->fd.get(), sa, addr->len));
  }
  auto t = socket_target(n, s, sock->kind, *addr, true);
  if (!t) return std::move(t).error();
  NetDecision d = note_net(n, s, *t, s.net.decide_bind(*t), true);
  if (!d.allowed) return deny_net(n, s, *t, d);
  if (t->unresolved) return Verdict::error(t->unresolved);
  if (!n.pending()) return interrupted();
  if (t->transport != Transport::kUnix || t->abstract) return result_of(::bind(sock->fd.get(), sa, addr->len));
  return bind_unix_path(n, s, sock->fd.get(), *t);
}

Verdict on_connect(Call& n, const Services& s) {
  const auto* a = n.args();
  auto guest_sock = dup_socket(n, static_cast<int>(a[0]));
  if (!guest_sock) return std::move(guest_sock).error();
  auto sock = std::make_shared<UniqueFd>(std::move(guest_sock->fd));
  SocketKind kind = guest_sock->kind;
  auto addr = copy_sockaddr(n, a[1], a[2]);
  if (!addr) return std::move(addr).error();
  if (addr->sa.ss_family == AF_UNSPEC) {
    // Dissolving a datagram association reaches nobody.
    if (!n.pending()) return interrupted();
    return result_of(::connect(sock->get(), reinterpret_cast<sockaddr*>(&addr->sa), addr->len));
  }
  auto t = socket_target(n, s, kind, *addr, false);
  if (!t) return std::move(t).error();
  NetDecision d = note_net(n, s, *t, s.net.decide_connect(*t), false);
  if (!d.allowed) return deny_net(n, s, *t, d);
  if (t->unresolved) return Verdict::error(t->unresolved);
  UniqueFd pinned;  // a unix socket's inode, reached through our descriptor
  if (t->transport == Transport::kUnix && !t->abstract) {
    auto pin = pin_unix_peer(*t, *addr);
    if (!pin) return std::move(pin).error();
    pinned = std::move(*pin);
  }
  if (!n.pending()) return interrupted();
  // A non-blocking socket keeps EINPROGRESS; a datagram "connect" never
  // waits; a blocking stream connect may wait for a slow peer (a unix
  // listener whose backlog is full waits until it accepts), so it goes
  // through the ring and answers when it completes.
  if (nonblocking(sock->get()) || kind.transport == Transport::kUdp) {
    std::optional<PeerIdsAsGuest> peer;
    if (kind.domain == AF_UNIX) peer.emplace();  // what the listener learns of its client
    return result_of(::connect(sock->get(), reinterpret_cast<sockaddr*>(&addr->sa), addr->len));
  }
  // The ring resolves "/proc/self/fd/N" of a pinned peer in this process
  // too (its workers share our descriptor table): keep N open until then.
  struct Held {
    std::shared_ptr<UniqueFd> sock;
    UniqueFd pinned;
  };
  auto held = std::make_shared<Held>(Held{sock, std::move(pinned)});
  AsyncOps& ring = n.async();
  ring.connect(sock->get(), addr->sa, addr->len, held, [call = n.defer()](int result) mutable {
    call.finish(result < 0 ? Verdict::error(-result) : Verdict::value_of(0));
  });
  return Verdict::deferred();
}

Verdict on_listen(Call& n, const Services&) {
  const auto* a = n.args();
  auto sock = dup_socket(n, static_cast<int>(a[0]));
  if (!sock) return std::move(sock).error();
  // listen() on an unbound socket binds it to a port (or abstract name) the
  // kernel picks: a bind no grant was asked about.
  sockaddr_storage sa{};
  socklen_t len = sizeof sa;
  if (::getsockname(sock->fd.get(), reinterpret_cast<sockaddr*>(&sa), &len) != 0) return Verdict::error(errno);
  bool unbound = (sa.ss_family == AF_INET && reinterpret_cast<sockaddr_in*>(&sa)->sin_port == 0) ||
                 (sa.ss_family == AF_INET6 && reinterpret_cast<sockaddr_in6*>(&sa)->sin6_port == 0) ||
                 (sa.ss_family == AF_UNIX && len <= offsetof(sockaddr_un, sun_path));
  if (unbound) return deny_text(n, "an unbound socket", "listen would bind a port no grant covers");
  if (!n.pending()) return interrupted();
  // Performed on our duplicate: the guest may swap another socket in at
  // that fd number meanwhile.
  // A unix listener's credentials are what its clients see (SO_PEERCRED).
  std::optional<PeerIdsAsGuest> peer;
  if (sock->kind.domain == AF_UNIX) peer.emplace();
  return result_of(::listen(sock->fd.get(), static_cast<int>(a[1])));
}

namespace {

// Sends `m` on our duplicate: at once if it fits, else through the ring.
Verdict send_owned(Call& n, std::shared_ptr<UniqueFd> sock, std::shared_ptr<AsyncOps::OwnedMessage> m, int flags) {
  m->seal();
  if (!n.pending()) return interrupted();
  // The broker never takes SIGPIPE for a guest (it ignores it); the guest
  // sees EPIPE.
  std::optional<PeerIdsAsGuest> peer;
  if (socket_domain(sock->get()) == AF_UNIX) peer.emplace();  // the credentials a receiver may ask for
  ssize_t sent = ::sendmsg(sock->get(), &m->msg, flags | MSG_DONTWAIT | MSG_NOSIGNAL);
  if (sent >= 0) return Verdict::value_of(sent);
  if ((errno != EAGAIN && errno != EWOULDBLOCK) || (flags & MSG_DONTWAIT) || nonblocking(sock->get()))
    return Verdict::error(errno);
  // A blocking send that would wait: through the ring.
  AsyncOps& ring = n.async();
  int fd = sock->get();
  ring.sendmsg(fd, m, flags | MSG_NOSIGNAL, sock, [call = n.defer()](int result) mutable {
    call.finish(result < 0 ? Verdict::error(-result) : Verdict::value_of(result));
  });
  return Verdict::deferred();
}

Verdict refuse_netlink_change(Call& n) {
  return deny_text(n, "netlink message", "only read-only queries (RTM_GET*) reach the kernel", EPERM);
}

}  // namespace

Verdict on_sendto(Call& n, const Services& s) {
  const auto* a = n.args();
  int flags = static_cast<int>(a[3]);
  // TCP Fast Open connects from inside a send; refused rather than emulated.
  if (flags & MSG_FASTOPEN) return deny_text(n, "sendto(MSG_FASTOPEN)", "TCP Fast Open is not supported", EOPNOTSUPP);
  auto guest_sock = dup_socket(n, static_cast<int>(a[0]));
  if (!guest_sock) return std::move(guest_sock).error();
  auto sock = std::make_shared<UniqueFd>(std::move(guest_sock->fd));
  auto m = std::make_shared<AsyncOps::OwnedMessage>();
  if (a[4]) {
    auto addr = copy_sockaddr(n, a[4], a[5]);
    if (!addr) return std::move(addr).error();
    if (auto ok = check_destination(n, s, sock->get(), guest_sock->kind, *addr, m->held, nullptr); !ok) return std::move(ok).error();
    m->name = addr->sa;
    m->name_len = addr->len;
  }
  m->payload.resize(std::min<uint64_t>(a[2], kMaxSendCopy));
  if (auto got = n.read(a[1], m->payload.data(), m->payload.size()); !got) return std::move(got).error();
  if (guest_sock->kind.domain == AF_NETLINK && !netlink_queries_only(m->payload)) return refuse_netlink_change(n);
  return send_owned(n, sock, m, flags);
}

namespace {

// Replaces the SCM_RIGHTS descriptors of the copied control messages (the
// guest's fd numbers) by the broker's duplicates of the same files, held
// by `m`. SCM_CREDENTIALS is refused: the kernel checks claimed
// credentials against the sender, which is the broker here, so the guest
// could claim wwjail's pid and ids.
Expected<void, Verdict> take_passed_fds(Call& n, AsyncOps::OwnedMessage& m) {
  msghdr view{};
  view.msg_control = m.control.data();
  view.msg_controllen = m.control.size();
  for (cmsghdr* c = CMSG_FIRSTHDR(&view); c; c = CMSG_NXTHDR(&view, c)) {
    if (c->cmsg_len < CMSG_LEN(0) || c->cmsg_len > m.control.size()) return fail(EINVAL);
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS)
      return fail(deny_text(n, "SCM_CREDENTIALS", "credentials cannot be sent through the broker", EPERM));
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    auto* fds = reinterpret_cast<int*>(CMSG_DATA(c));
    for (size_t i = 0; i < count; ++i) {
      auto dup = dup_guest_fd_named(n, fds[i]);
      if (!dup) return fail(std::move(dup).error());
      fds[i] = dup->fd.get();
      m.held.push_back(std::move(dup->fd));
    }
  }
  return {};
}

// Gathers the payload (at most kMaxSendCopy bytes) into one buffer.
Expected<void, Verdict> gather_payload(const Call& n, const msghdr& hdr, AsyncOps::OwnedMessage& m) {
  if (hdr.msg_iovlen > 1024) return fail(EMSGSIZE);
  std::vector<iovec> iovs(hdr.msg_iovlen);
  if (!iovs.empty()) {
    auto got = n.read(reinterpret_cast<uint64_t>(hdr.msg_iov), iovs.data(), iovs.size() * sizeof(iovec));
    if (!got) return got;
  }
  for (const auto& v : iovs) {
    size_t take = std::min(v.iov_len, kMaxSendCopy - m.payload.size());
    if (take == 0) continue;
    size_t at = m.payload.size();
    m.payload.resize(at + take);
    if (auto got = n.read(reinterpret_cast<uint64_t>(v.iov_base), m.payload.data() + at, take); !got) return got;
    if (m.payload.size() == kMaxSendCopy) break;
  }
  return {};
}

// Copies a msghdr and everything it points to into `m`: the destination
// decided (check_destination), the payload, and the control messages with
// their descriptors duplicated. Netlink sends only read-only queries.
Expected<void, Verdict> copy_message(Call& n, const Services& s, uint64_t msg_addr, int sock, const SocketKind& kind,
                                     AsyncOps::OwnedMessage& m) {
  msghdr hdr{};
  std::optional<NetTarget> reply_from;  // set when the reply right decided
  if (auto got = n.read(msg_addr, &hdr, sizeof hdr); !got) return got;
  if (hdr.msg_name && hdr.msg_namelen) {
    auto addr = copy_sockaddr(n, reinterpret_cast<uint64_t>(hdr.msg_name), hdr.msg_namelen);
    if (!addr) return fail(std::move(addr).error());
    if (auto ok = check_destination(n, s, sock, kind, *addr, m.held, &reply_from); !ok) return ok;
    m.name = addr->sa;
    m.name_len = addr->len;
  }
  if (auto ok = gather_payload(n, hdr, m); !ok) return ok;
  if (hdr.msg_control && hdr.msg_controllen) {
    if (hdr.msg_controllen > kMaxControl) return fail(ENOBUFS);
    m.control.resize(hdr.msg_controllen);
    if (auto got = n.read(reinterpret_cast<uint64_t>(hdr.msg_control), m.control.data(), m.control.size()); !got)
      return got;
    if (auto ok = take_passed_fds(n, m); !ok) return ok;
    if (carries_route(m.control))
      return fail(deny_text(n, "a source route in a control message",
                            "the kernel would send to the route's first hop, which no grant was asked about", EPERM));
    if (reply_from && !reply_source_stays(*reply_from, m.control))
      return fail(deny_text(n, "a UDP reply's control message",
                            "a reply leaves from the address its socket is bound to", EACCES));
  }
  if (kind.domain == AF_NETLINK && !netlink_queries_only(m.payload)) return fail(refuse_netlink_change(n));
  return {};
}

}  // namespace

Verdict on_sendmsg(Call& n, const Services& s) {
  const auto* a = n.args();
  int flags = static_cast<int>(a[2]);
  if (flags & MSG_FASTOPEN) return deny_text(n, "sendmsg(MSG_FASTOPEN)", "TCP Fast Open is not supported", EOPNOTSUPP);
  auto guest_sock = dup_socket(n, static_cast<int>(a[0]));
  if (!guest_sock) return std::move(guest_sock).error();
  auto sock = std::make_shared<UniqueFd>(std::move(guest_sock->fd));
  auto m = std::make_shared<AsyncOps::OwnedMessage>();
  if (auto ok = copy_message(n, s, a[1], sock->get(), guest_sock->kind, *m); !ok) return std::move(ok).error();
  return send_owned(n, sock, m, flags);
}

namespace {

// The first message of a sendmmsg would wait: sent through the ring, and
// answered 1 (its msg_len written back) when it has gone.
Verdict send_first_later(Call& n, std::shared_ptr<UniqueFd> sock, std::shared_ptr<AsyncOps::OwnedMessage> m,
                         int flags, uint64_t len_addr) {
  AsyncOps& ring = n.async();
  int fd = sock->get();
  ring.sendmsg(fd, m, flags | MSG_NOSIGNAL, sock, [call = n.defer(), len_addr](int result) mutable {
    if (result < 0) return call.finish(Verdict::error(-result));
    unsigned len = static_cast<unsigned>(result);
    (void)call.write(len_addr, &len, sizeof len);
    call.finish(Verdict::value_of(1));
  });
  return Verdict::deferred();
}

}  // namespace

Verdict on_sendmmsg(Call& n, const Services& s) {
  // Each message is checked and sent in turn; msg_len is written back for
  // every message sent, and the count returned, as the kernel does. It
  // stops at the first message that fails (reporting the error only when
  // none was sent). Only the first message may wait, and it waits on the
  // ring, never on this thread: later ones get what fits.
  const auto* a = n.args();
  int flags = static_cast<int>(a[3]);
  if (flags & MSG_FASTOPEN) return deny_text(n, "sendmmsg(MSG_FASTOPEN)", "TCP Fast Open is not supported", EOPNOTSUPP);
  auto guest_sock = dup_socket(n, static_cast<int>(a[0]));
  if (!guest_sock) return std::move(guest_sock).error();
  auto sock = std::make_shared<UniqueFd>(std::move(guest_sock->fd));
  SocketKind kind = guest_sock->kind;
  unsigned count = static_cast<unsigned>(std::min<uint64_t>(a[2], kMaxMmsg));
  unsigned sent = 0;
  for (; sent < count; ++sent) {
    uint64_t entry = a[1] + sent * sizeof(mmsghdr);
    uint64_t len_addr = entry + offsetof(mmsghdr, msg_len);
    auto m = std::make_shared<AsyncOps::OwnedMessage>();
    Verdict failure;
    if (auto ok = copy_message(n, s, entry, sock->get(), kind, *m); !ok) {
      failure = std::move(ok).error();
    } else {
      m->seal();
      if (!n.pending()) return interrupted();
      std::optional<PeerIdsAsGuest> peer;
      if (kind.domain == AF_UNIX) peer.emplace();
      ssize_t r = ::sendmsg(sock->get(), &m->msg, flags | MSG_NOSIGNAL | MSG_DONTWAIT);
      if (r >= 0) {
        unsigned len = static_cast<unsigned>(r);
        (void)n.write(len_addr, &len, sizeof len);
        continue;
      }
      int err = errno;
      if (sent == 0 && (err == EAGAIN || err == EWOULDBLOCK) && !(flags & MSG_DONTWAIT) && !nonblocking(sock->get()))
        return send_first_later(n, sock, m, flags, len_addr);
      failure = Verdict::error(err);
    }
    if (sent == 0) return failure;
    break;
  }
  return Verdict::value_of(sent);
}

}  // namespace wwjail
