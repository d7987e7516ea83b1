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
#include "broker/syscall_handlers.h"
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

}  // namespace

int SyscallHandlers::dup_socket(Call& n, int fd, UniqueFd& dup, SocketKind& kind) {
  if (int err = dup_guest_fd(n, fd, dup)) return err;
  int domain = 0, type = 0;
  socklen_t len = sizeof domain;
  if (::getsockopt(dup.get(), SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0) return errno;
  len = sizeof type;
  if (::getsockopt(dup.get(), SOL_SOCKET, SO_TYPE, &type, &len) != 0) return errno;
  kind.domain = domain;
  kind.type = type;
  kind.transport = domain == AF_UNIX ? Transport::kUnix : type == SOCK_DGRAM ? Transport::kUdp : Transport::kTcp;
  return 0;
}

int SyscallHandlers::copy_sockaddr(Call& n, uint64_t addr, uint64_t len, sockaddr_storage& out,
                                   socklen_t& out_len) {
  if (len > sizeof out) return EINVAL;
  if (len < sizeof(sa_family_t)) return EINVAL;
  out = {};
  if (int err = memory_.read(static_cast<pid_t>(n.pid), addr, &out, len)) return err;
  out_len = static_cast<socklen_t>(len);
  return 0;
}

int SyscallHandlers::socket_target(Call& n, const SocketKind& kind, const sockaddr_storage& sa,
                                   socklen_t len, bool binding, NetTarget& t) {
  if (sa.ss_family == AF_INET || sa.ss_family == AF_INET6) {
    if (kind.domain != AF_INET && kind.domain != AF_INET6) return EAFNOSUPPORT;
    auto target = inet_target(kind.transport, sa, len);
    if (!target) return EINVAL;
    t = *target;
    return 0;
  }
  if (sa.ss_family != AF_UNIX || kind.domain != AF_UNIX) return EAFNOSUPPORT;
  const auto* un = reinterpret_cast<const sockaddr_un*>(&sa);
  size_t path_len = len - offsetof(sockaddr_un, sun_path);
  t = {};
  t.transport = Transport::kUnix;
  t.family = AF_UNIX;
  if (path_len == 0) {
    // Autobind: the kernel picks an abstract name. Only an explicit grant
    // for the empty abstract name allows it.
    t.abstract = true;
    t.text = "unix:@";  // autobind
    return 0;
  }
  if (un->sun_path[0] == '\0') {
    // Abstract: exactly the bytes the length covers, NULs included.
    t.abstract = true;
    t.path.assign(un->sun_path + 1, path_len - 1);
    t.text = "unix:@" + t.path;
    return 0;
  }
  // A path: it ends at the first NUL within the length (the kernel's rule),
  // so a length that cuts it short names the shorter path, as decided here.
  std::string raw(un->sun_path, strnlen(un->sun_path, path_len));
  std::string joined;
  if (raw.front() == '/') {
    joined = raw;
  } else {
    std::string base;
    if (int err = guest_proc::dir_path(static_cast<pid_t>(n.pid), AT_FDCWD, base)) return err;
    joined = path_text::join(base, raw);
  }
  // bind creates the name (never followed); connect follows symlinks. A
  // path that does not resolve is decided on its text, so a missing path
  // outside the grants gets EACCES like any other (its absence is reported
  // only where the guest may connect).
  std::string canonical;
  if (int err = resolver_.physical(GuestThread(static_cast<pid_t>(n.pid)), joined, !binding, canonical,
                                      PathResolver::Absence::kCallerDecides)) {
    t.path = path_text::normalize(joined);
    t.text = "unix:" + t.path;
    t.unresolved = err;
    return 0;
  }
  t.path = canonical;
  t.text = "unix:" + canonical;
  return 0;
}

int SyscallHandlers::pin_unix_peer(const NetTarget& t, sockaddr_storage& sa, socklen_t& len, UniqueFd& pinned) {
  // The peer's socket inode, reached through our own descriptor of it: the
  // path cannot be swapped between the decision and the kernel's lookup.
  open_how how{};
  how.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC;
  how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  pinned.reset(kernel::openat2(AT_FDCWD, t.path.c_str(), how));
  if (!pinned.valid()) return errno == ENOENT ? ECONNREFUSED : errno;
  auto* un = reinterpret_cast<sockaddr_un*>(&sa);
  std::string via = self_fd_path(pinned.get());
  std::memset(un->sun_path, 0, sizeof un->sun_path);
  std::memcpy(un->sun_path, via.c_str(), via.size());
  len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + via.size() + 1);
  return 0;
}

SyscallHandlers::ProbeHint SyscallHandlers::address_probe(const Call& n, const NetTarget& t) const {
  // glibc's getaddrinfo sorts its answers (RFC 6724) by connecting a UDP
  // socket to each, which sends nothing, to learn the source address. Told
  // apart from a datagram client (glibc's resolver connects too) where it
  // can be: the unspecified address (AI_PASSIVE answers) is no peer, and a
  // program granted TCP to the same address and port is resolving it.
  if (n.data.nr != SYS_connect || t.transport != Transport::kUdp || t.family == AF_UNIX) return {};
  size_t len = t.family == AF_INET ? 4 : 16;
  bool unspecified = std::all_of(t.addr, t.addr + len, [](uint8_t b) { return b == 0; });
  if (unspecified) return {DecisionHint::kAddressProbe, true};
  NetTarget tcp = t;
  tcp.transport = Transport::kTcp;
  NetDecision d = net_.decide_connect(tcp);
  if (d.allowed && !d.audited) return {DecisionHint::kAddressProbe, false};
  return {};
}

Verdict SyscallHandlers::deny_net(Call& n, const NetTarget& t, const NetDecision& d) {
  // glibc asks nscd before reading /etc/passwd and friends, on every
  // lookup: where no nscd runs, say so quietly, as the kernel would.
  // An optional grant whose directory was absent at start is treated alike.
  if (t.transport == Transport::kUnix && !t.abstract && t.unresolved == ENOENT) {
    bool optional = net_.named_absent_socket(t.path);
    for (const auto& q : options_.quiet_absent_sockets) optional = optional || t.path == q;
    if (optional) {
      log_.debug("pid={} {} {}: absent and not granted", n.pid, syscall_name(n.data.nr), t.text);
      return Verdict::error(ENOENT);
    }
  }
  if (!d.reason.empty()) return deny_text(n, t.text, d.reason);
  std::string_view need = d.bind ? "bind" : "connect";
  ProbeHint probe = address_probe(n, t);
  return refuse(n, {.target = t.text,
                    .need = need,
                    .err = EACCES,
                    .missing_kind = need,
                    .missing_target = t.text,
                    .hint = probe.hint,
                    .minor = probe.minor,
                    .storage = false});
}

Verdict SyscallHandlers::on_bind(Call& n) {
  const auto* a = n.data.args;
  UniqueFd sock;
  SocketKind kind;
  if (int err = dup_socket(n, static_cast<int>(a[0]), sock, kind)) return Verdict::error(err);
  sockaddr_storage sa;
  socklen_t len;
  if (int err = copy_sockaddr(n, a[1], a[2], sa, len)) return Verdict::error(err);
  if (kind.domain == AF_NETLINK) {
    // libc binds its netlink route socket to learn the host's addresses;
    // the filter admits no other netlink protocol.
    if (!still_pending(n)) return Verdict::error(ENOENT);
    return ::bind(sock.get(), reinterpret_cast<sockaddr*>(&sa), len) == 0 ? Verdict::value_of(0)
                                                                          : Verdict::error(errno);
  }
  NetTarget t;
  if (int err = socket_target(n, kind, sa, len, true, t)) return Verdict::error(err);
  NetDecision d = note_net(n, t, net_.decide_bind(t), true);
  if (!d.allowed) return deny_net(n, t, d);
  if (t.unresolved) return Verdict::error(t.unresolved);
  if (!still_pending(n)) return Verdict::error(ENOENT);
  if (t.transport != Transport::kUnix || t.abstract) {
    return ::bind(sock.get(), reinterpret_cast<sockaddr*>(&sa), len) == 0 ? Verdict::value_of(0)
                                                                          : Verdict::error(errno);
  }
  // A path: created in the parent directory we resolved, pinned by a
  // descriptor and entered with fchdir, by its bare name, so a directory
  // swapped in meanwhile cannot redirect it. This thread has its own cwd
  // and umask (NotifyThread unshares CLONE_FS): the socket file gets the
  // guest's umask, and the name the kernel records for it (getsockname) is
  // the bare name, which is what the guest wrote whenever it bound in its
  // cwd.
  auto split = path_text::split_last(t.path);
  open_how how{};
  how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
  how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  UniqueFd dir(kernel::openat2(AT_FDCWD, split.parent.c_str(), how));
  if (!dir.valid()) return Verdict::error(errno);
  if (!options_.private_fs) return Verdict::error(EOPNOTSUPP);  // never chdir a shared cwd
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  if (split.name.size() >= sizeof un.sun_path) return Verdict::error(ENAMETOOLONG);
  std::memcpy(un.sun_path, split.name.c_str(), split.name.size() + 1);
  if (::fchdir(dir.get()) != 0) return Verdict::error(errno);
  mode_t old = ::umask(guest_proc::umask_of(static_cast<pid_t>(n.pid)));
  int rc = ::bind(sock.get(), reinterpret_cast<sockaddr*>(&un),
                  static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + split.name.size() + 1));
  int err = errno;
  ::umask(old);
  return rc == 0 ? Verdict::value_of(0) : Verdict::error(err);
}

Verdict SyscallHandlers::on_connect(Call& n) {
  const auto* a = n.data.args;
  auto sock = std::make_shared<UniqueFd>();
  SocketKind kind;
  if (int err = dup_socket(n, static_cast<int>(a[0]), *sock, kind)) return Verdict::error(err);
  sockaddr_storage sa;
  socklen_t len;
  if (int err = copy_sockaddr(n, a[1], a[2], sa, len)) return Verdict::error(err);
  if (sa.ss_family == AF_UNSPEC) {
    // Dissolving a datagram association reaches nobody.
    if (!still_pending(n)) return Verdict::error(ENOENT);
    return ::connect(sock->get(), reinterpret_cast<sockaddr*>(&sa), len) == 0 ? Verdict::value_of(0)
                                                                               : Verdict::error(errno);
  }
  NetTarget t;
  if (int err = socket_target(n, kind, sa, len, false, t)) return Verdict::error(err);
  NetDecision d = note_net(n, t, net_.decide_connect(t), false);
  if (!d.allowed) return deny_net(n, t, d);
  if (t.unresolved) return Verdict::error(t.unresolved);

  UniqueFd pinned;  // a unix socket's inode, reached through our descriptor
  if (t.transport == Transport::kUnix && !t.abstract) {
    if (int err = pin_unix_peer(t, sa, len, pinned)) return Verdict::error(err);
  }
  if (!still_pending(n)) return Verdict::error(ENOENT);
  // A non-blocking socket keeps EINPROGRESS; a datagram "connect" never
  // waits; a blocking stream connect may wait for a slow peer (a unix
  // listener whose backlog is full waits until it accepts), so it goes
  // through the ring and answers when it completes.
  if (nonblocking(sock->get()) || kind.transport == Transport::kUdp) {
    std::optional<PeerIdsAsGuest> peer;
    if (kind.domain == AF_UNIX) peer.emplace();  // what the listener learns of its client
    int rc = ::connect(sock->get(), reinterpret_cast<sockaddr*>(&sa), len);
    return rc == 0 ? Verdict::value_of(0) : Verdict::error(errno);
  }
  uint64_t id = n.id;
  // The ring resolves "/proc/self/fd/N" of a pinned peer in this process
  // too (its workers share our descriptor table): keep N open until then.
  struct Held {
    std::shared_ptr<UniqueFd> sock;
    UniqueFd pinned;
  };
  auto held = std::make_shared<Held>(Held{sock, std::move(pinned)});
  async_.connect(sock->get(), sa, len, held, [this, id](int result) {
    deliver(channel_, id, result < 0 ? Verdict::error(-result) : Verdict::value_of(0));
  });
  return Verdict::deferred();
}

Verdict SyscallHandlers::on_listen(Call& n) {
  const auto* a = n.data.args;
  UniqueFd sock;
  SocketKind kind;
  if (int err = dup_socket(n, static_cast<int>(a[0]), sock, kind)) return Verdict::error(err);
  // listen() on an unbound socket binds it to a port (or abstract name) the
  // kernel picks: a bind no grant was asked about.
  sockaddr_storage sa{};
  socklen_t len = sizeof sa;
  if (::getsockname(sock.get(), reinterpret_cast<sockaddr*>(&sa), &len) != 0) return Verdict::error(errno);
  bool unbound = (sa.ss_family == AF_INET && reinterpret_cast<sockaddr_in*>(&sa)->sin_port == 0) ||
                 (sa.ss_family == AF_INET6 && reinterpret_cast<sockaddr_in6*>(&sa)->sin6_port == 0) ||
                 (sa.ss_family == AF_UNIX && len <= offsetof(sockaddr_un, sun_path));
  if (unbound) return deny_text(n, "an unbound socket", "listen would bind a port no grant covers");
  if (!still_pending(n)) return Verdict::error(ENOENT);
  // Performed on our duplicate: the guest may swap another socket in at
  // that fd number meanwhile.
  // A unix listener's credentials are what its clients see (SO_PEERCRED).
  std::optional<PeerIdsAsGuest> peer;
  if (kind.domain == AF_UNIX) peer.emplace();
  return ::listen(sock.get(), static_cast<int>(a[1])) == 0 ? Verdict::value_of(0) : Verdict::error(errno);
}

Verdict SyscallHandlers::send_owned(Call& n, std::shared_ptr<UniqueFd> sock,
                                    std::shared_ptr<AsyncOps::OwnedMessage> m, int flags) {
  m->seal();
  if (!still_pending(n)) return Verdict::error(ENOENT);
  // The broker never takes SIGPIPE for a guest (it ignores it); the guest
  // sees EPIPE.
  std::optional<PeerIdsAsGuest> peer;
  if (socket_domain(sock->get()) == AF_UNIX) peer.emplace();  // the credentials a receiver may ask for
  ssize_t sent = ::sendmsg(sock->get(), &m->msg, flags | MSG_DONTWAIT | MSG_NOSIGNAL);
  if (sent >= 0) return Verdict::value_of(sent);
  if ((errno != EAGAIN && errno != EWOULDBLOCK) || (flags & MSG_DONTWAIT) || nonblocking(sock->get()))
    return Verdict::error(errno);
  // A blocking send that would wait: through the ring.
  uint64_t id = n.id;
  async_.sendmsg(sock->get(), m, flags | MSG_NOSIGNAL, sock, [this, id](int result) {
    deliver(channel_, id, result < 0 ? Verdict::error(-result) : Verdict::value_of(result));
  });
  return Verdict::deferred();
}

int SyscallHandlers::check_destination(Call& n, const SocketKind& kind, sockaddr_storage& sa,
                                       socklen_t& len, NetTarget& t, NetDecision& d, std::vector<UniqueFd>& held) {
  if (kind.domain == AF_NETLINK) {
    // Only the kernel (pid 0) is a reachable netlink peer.
    const auto* nl = reinterpret_cast<const sockaddr_nl*>(&sa);
    d.allowed = sa.ss_family == AF_NETLINK && len >= static_cast<socklen_t>(sizeof *nl) && nl->nl_pid == 0;
    t.text = "netlink peer";
    d.reason = "netlink messages go to the kernel only";
    return 0;
  }
  if (int err = socket_target(n, kind, sa, len, false, t)) return err;
  d = note_net(n, t, net_.decide_connect(t), false);
  if (!d.allowed) return 0;
  if (t.unresolved) return t.unresolved;
  if (t.transport == Transport::kUnix && !t.abstract) {
    UniqueFd pinned;
    if (int err = pin_unix_peer(t, sa, len, pinned)) return err;
    held.push_back(std::move(pinned));
  }
  return 0;
}

Verdict SyscallHandlers::on_sendto(Call& n) {
  const auto* a = n.data.args;
  int flags = static_cast<int>(a[3]);
  // TCP Fast Open connects from inside a send; refused rather than emulated.
  if (flags & MSG_FASTOPEN) return deny_text(n, "sendto(MSG_FASTOPEN)", "TCP Fast Open is not supported", EOPNOTSUPP);
  auto sock = std::make_shared<UniqueFd>();
  SocketKind kind;
  if (int err = dup_socket(n, static_cast<int>(a[0]), *sock, kind)) return Verdict::error(err);
  auto m = std::make_shared<AsyncOps::OwnedMessage>();
  if (a[4]) {
    if (int err = copy_sockaddr(n, a[4], a[5], m->name, m->name_len)) return Verdict::error(err);
    NetTarget t;
    NetDecision d;
    if (int err = check_destination(n, kind, m->name, m->name_len, t, d, m->held)) return Verdict::error(err);
    if (!d.allowed) return deny_net(n, t, d);
  }
  m->payload.resize(std::min<uint64_t>(a[2], kMaxSendCopy));
  if (int err = memory_.read(static_cast<pid_t>(n.pid), a[1], m->payload.data(), m->payload.size()))
    return Verdict::error(err);
  if (kind.domain == AF_NETLINK && !netlink_queries_only(m->payload))
    return deny_text(n, "netlink message", "only read-only queries (RTM_GET*) reach the kernel", EPERM);
  return send_owned(n, sock, m, flags);
}

int SyscallHandlers::copy_message(Call& n, uint64_t msg_addr, const SocketKind& kind,
                                  AsyncOps::OwnedMessage& m, Verdict* denial) {
  pid_t pid = static_cast<pid_t>(n.pid);
  msghdr hdr{};
  if (int err = memory_.read(pid, msg_addr, &hdr, sizeof hdr)) return err;
  if (hdr.msg_name && hdr.msg_namelen) {
    if (int err = copy_sockaddr(n, reinterpret_cast<uint64_t>(hdr.msg_name), hdr.msg_namelen, m.name, m.name_len))
      return err;
    NetTarget t;
    NetDecision d;
    if (int err = check_destination(n, kind, m.name, m.name_len, t, d, m.held)) return err;
    if (!d.allowed) {
      *denial = deny_net(n, t, d);
      return EACCES;
    }
  }
  // Gather the payload (at most kMaxSendCopy bytes) into one buffer.
  if (hdr.msg_iovlen > 1024) return EMSGSIZE;
  std::vector<iovec> iovs(hdr.msg_iovlen);
  if (!iovs.empty()) {
    if (int err = memory_.read(pid, reinterpret_cast<uint64_t>(hdr.msg_iov), iovs.data(), iovs.size() * sizeof(iovec)))
      return err;
  }
  for (const auto& v : iovs) {
    size_t take = std::min(v.iov_len, kMaxSendCopy - m.payload.size());
    if (take == 0) continue;
    size_t at = m.payload.size();
    m.payload.resize(at + take);
    if (int err = memory_.read(pid, reinterpret_cast<uint64_t>(v.iov_base), m.payload.data() + at, take)) return err;
    if (m.payload.size() == kMaxSendCopy) break;
  }
  // Control messages: descriptors passed with SCM_RIGHTS name the guest's
  // fd table; they are replaced by the broker's duplicates of the same files.
  if (hdr.msg_control && hdr.msg_controllen) {
    if (hdr.msg_controllen > kMaxControl) return ENOBUFS;
    m.control.resize(hdr.msg_controllen);
    if (int err = memory_.read(pid, reinterpret_cast<uint64_t>(hdr.msg_control), m.control.data(), m.control.size()))
      return err;
    msghdr view{};
    view.msg_control = m.control.data();
    view.msg_controllen = m.control.size();
    for (cmsghdr* c = CMSG_FIRSTHDR(&view); c; c = CMSG_NXTHDR(&view, c)) {
      if (c->cmsg_len < CMSG_LEN(0) || c->cmsg_len > m.control.size()) return EINVAL;
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
        // The kernel checks claimed credentials against the sender, which
        // is the broker here: the guest could claim wwjail's pid and ids.
        *denial = deny_text(n, "SCM_CREDENTIALS", "credentials cannot be sent through the broker", EPERM);
        return EACCES;
      }
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      auto* fds = reinterpret_cast<int*>(CMSG_DATA(c));
      for (size_t i = 0; i < count; ++i) {
        UniqueFd dup;
        std::string name;
        if (int err = dup_guest_fd(n, fds[i], dup, name)) return err;
        fds[i] = dup.get();
        m.held.push_back(std::move(dup));
      }
    }
  }
  return 0;
}

Verdict SyscallHandlers::on_sendmsg(Call& n) {
  const auto* a = n.data.args;
  int flags = static_cast<int>(a[2]);
  if (flags & MSG_FASTOPEN) return deny_text(n, "sendmsg(MSG_FASTOPEN)", "TCP Fast Open is not supported", EOPNOTSUPP);
  auto sock = std::make_shared<UniqueFd>();
  SocketKind kind;
  if (int err = dup_socket(n, static_cast<int>(a[0]), *sock, kind)) return Verdict::error(err);
  auto m = std::make_shared<AsyncOps::OwnedMessage>();
  Verdict denial;
  if (int err = copy_message(n, a[1], kind, *m, &denial)) return err == EACCES ? std::move(denial) : Verdict::error(err);
  if (kind.domain == AF_NETLINK && !netlink_queries_only(m->payload))
    return deny_text(n, "netlink message", "only read-only queries (RTM_GET*) reach the kernel", EPERM);
  return send_owned(n, sock, m, flags);
}

Verdict SyscallHandlers::on_sendmmsg(Call& n) {
  // Each message is checked and sent in turn; msg_len is written back for
  // every message sent, and the count returned, as the kernel does. It
  // stops at the first message that fails (reporting the error only when
  // none was sent). Only the first message may wait, and it waits on the
  // ring, never on this thread: later ones get what fits.
  const auto* a = n.data.args;
  pid_t pid = static_cast<pid_t>(n.pid);
  int flags = static_cast<int>(a[3]);
  if (flags & MSG_FASTOPEN) return deny_text(n, "sendmmsg(MSG_FASTOPEN)", "TCP Fast Open is not supported", EOPNOTSUPP);
  auto sock = std::make_shared<UniqueFd>();
  SocketKind kind;
  if (int err = dup_socket(n, static_cast<int>(a[0]), *sock, kind)) return Verdict::error(err);
  unsigned count = static_cast<unsigned>(std::min<uint64_t>(a[2], kMaxMmsg));
  unsigned sent = 0;
  for (; sent < count; ++sent) {
    uint64_t entry = a[1] + sent * sizeof(mmsghdr);
    auto m = std::make_shared<AsyncOps::OwnedMessage>();
    Verdict denial;
    int err = copy_message(n, entry, kind, *m, &denial);
    if (!err && kind.domain == AF_NETLINK && !netlink_queries_only(m->payload)) {
      denial = deny_text(n, "netlink message", "only read-only queries (RTM_GET*) reach the kernel", EPERM);
      err = EACCES;
    }
    if (!err) {
      m->seal();
      if (!still_pending(n)) return Verdict::error(ENOENT);
      std::optional<PeerIdsAsGuest> peer;
      if (kind.domain == AF_UNIX) peer.emplace();
      ssize_t r = ::sendmsg(sock->get(), &m->msg, flags | MSG_NOSIGNAL | MSG_DONTWAIT);
      if (r >= 0) {
        unsigned len = static_cast<unsigned>(r);
        memory_.write(pid, entry + offsetof(mmsghdr, msg_len), &len, sizeof len);
        continue;
      }
      err = errno;
      if (sent == 0 && (err == EAGAIN || err == EWOULDBLOCK) && !(flags & MSG_DONTWAIT) && !nonblocking(sock->get())) {
        // The first message would wait: send it through the ring and
        // answer 1 when it has gone.
        uint64_t id = n.id;
        uint64_t len_addr = entry + offsetof(mmsghdr, msg_len);
        async_.sendmsg(sock->get(), m, flags | MSG_NOSIGNAL, sock, [this, id, pid, len_addr](int result) {
          if (result < 0) return deliver(channel_, id, Verdict::error(-result));
          unsigned len = static_cast<unsigned>(result);
          memory_.write(pid, len_addr, &len, sizeof len);
          deliver(channel_, id, Verdict::value_of(1));
        });
        return Verdict::deferred();
      }
    }
    if (sent == 0) return err == EACCES && denial.err ? std::move(denial) : Verdict::error(err);
    break;
  }
  return Verdict::value_of(sent);
}

}  // namespace wwjail
