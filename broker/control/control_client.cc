#include "broker/control/control_client.h"

#include <capnp/rpc-twoparty.h>
#include <dirent.h>
#include <kj/async-io.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "broker/control/control.capnp.h"
#include "sys/unique_fd.h"

namespace wwjail::control {

namespace schema = wwjail::control::schema;

struct ControlClient::State {
  kj::AsyncIoContext io = kj::setupAsyncIo();
  kj::Own<kj::AsyncIoStream> stream;
  kj::Own<capnp::TwoPartyClient> rpc;
  schema::Jail::Client jail = nullptr;
};

namespace {

// Runs `p` to completion, within `ms`; a failure becomes ControlError.
template <typename T>
T wait_for(ControlClient::State& s, kj::Promise<T> p, uint32_t ms, const char* what) {
  try {
    return s.io.provider->getTimer().timeoutAfter(ms * kj::MILLISECONDS, kj::mv(p)).wait(s.io.waitScope);
  } catch (const kj::Exception& e) {
    bool closed = e.getType() == kj::Exception::Type::DISCONNECTED;
    bool timed_out = e.getType() == kj::Exception::Type::OVERLOADED &&
                     std::string_view(e.getDescription().cStr()).find("timed out") != std::string_view::npos;
    std::string why = timed_out ? "it did not answer within " + std::to_string(ms) + " ms"
                      : closed ? "the jail closed the connection (it refuses this client, its log says why; or its run ended)"
                               : std::string(e.getDescription().cStr());
    throw ControlError(std::string(what) + ": " + why, closed ? ControlError::kClosed : ControlError::kOther);
  }
}

class PrintingSink final : public schema::EventSink::Server {
 public:
  PrintingSink(const std::function<void(const ReceivedEvent&)>& on_event, kj::Own<kj::PromiseFulfiller<void>> done)
      : on_event_(on_event), done_(kj::mv(done)) {}

  kj::Promise<void> push(PushContext context) override {
    auto e = context.getParams().getEvent();
    ReceivedEvent r;
    r.unix_ms = e.getUnixMs();
    r.tid = e.getTid();
    r.syscall = e.getSyscall();
    r.target = e.getTarget();
    r.need = e.getNeed();
    r.kind = e.getKind();
    r.missing = e.getMissing();
    r.reason = e.getReason();
    r.dropped_before = e.getDroppedBefore();
    on_event_(r);
    return kj::READY_NOW;
  }
  kj::Promise<void> done(DoneContext) override {
    done_->fulfill();
    return kj::READY_NOW;
  }

 private:
  const std::function<void(const ReceivedEvent&)>& on_event_;
  kj::Own<kj::PromiseFulfiller<void>> done_;
};

// The kernel's dev_t (MAJOR << 20 | MINOR) as stat(2) encodes it.
dev_t user_dev(uint32_t kdev) {
  uint32_t major = kdev >> 20, minor = kdev & 0xfffff;
  return static_cast<dev_t>((minor & 0xff) | (major << 8) | (static_cast<uint64_t>(minor & ~0xffu) << 12));
}

// The sockfs inodes of the listening unix sockets whose bound file is the
// inode `st` names, asked of the kernel (sock_diag, UNIX_DIAG_VFS): the
// socket really reached through the path, whatever name it was bound
// under and whatever /proc/net/unix lines a process forged with a newline
// in an abstract name.
std::vector<std::string> listening_inodes(const struct stat& st) {
  std::vector<std::string> out;
  UniqueFd nl(::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
  if (!nl.valid()) return out;
  struct {
    nlmsghdr h;
    unix_diag_req r;
  } req{};
  req.h.nlmsg_len = sizeof req;
  req.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.r.sdiag_family = AF_UNIX;
  req.r.udiag_states = 1u << 10;  // TCP_LISTEN
  req.r.udiag_show = UDIAG_SHOW_VFS;
  if (::send(nl.get(), &req, sizeof req, 0) != static_cast<ssize_t>(sizeof req)) return out;
  alignas(nlmsghdr) char buf[16384];
  for (;;) {
    ssize_t n = ::recv(nl.get(), buf, sizeof buf, 0);
    if (n <= 0) return out;
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, static_cast<unsigned>(n)); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) return out;
      auto* m = static_cast<unix_diag_msg*>(NLMSG_DATA(h));
      int len = static_cast<int>(h->nlmsg_len - NLMSG_LENGTH(sizeof *m));
      for (auto* a = reinterpret_cast<rtattr*>(m + 1); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        if (a->rta_type != UNIX_DIAG_VFS || RTA_PAYLOAD(a) < sizeof(unix_diag_vfs)) continue;
        auto* v = static_cast<unix_diag_vfs*>(RTA_DATA(a));
        if (v->udiag_vfs_ino == st.st_ino && user_dev(v->udiag_vfs_dev) == st.st_dev)
          out.push_back(std::to_string(m->udiag_ino));
      }
    }
  }
}

// Whether process `pid` holds a descriptor of one of `inodes`: the process
// that listened (SO_PEERCRED) still holds the socket, as a jail's broker
// does. A broker that bound and listened for a guest closed its duplicate:
// the guest holds that socket, and would be the one answering.
bool holds_socket(pid_t pid, const std::vector<std::string>& inodes) {
  std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = ::opendir(dir.c_str());
  if (!d) return false;
  bool found = false;
  char link[64];
  for (dirent* e; !found && (e = ::readdir(d));) {
    ssize_t n = ::readlinkat(::dirfd(d), e->d_name, link, sizeof link - 1);
    if (n <= 0) continue;
    std::string l(link, static_cast<size_t>(n));
    for (const auto& i : inodes) found = found || l == "socket:[" + i + "]";
  }
  ::closedir(d);
  return found;
}

}  // namespace

ControlClient::ControlClient(const std::string& path, uint32_t timeout_ms)
    : state_(std::make_unique<State>()), timeout_ms_(timeout_ms) {
  // A socket of the user's (or root's), never a link to one elsewhere.
  struct stat st{};
  if (::lstat(path.c_str(), &st) == 0 && (!S_ISSOCK(st.st_mode) || (st.st_uid != ::geteuid() && st.st_uid != 0)))
    throw ControlError(path + ": not a socket of this user's (a link, a file, or another user's)", ControlError::kOther);
  // Non-blocking: a listener that never accepts fills its backlog, and a
  // blocking connect would then wait for ever.
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  if (path.size() >= sizeof un.sun_path)
    throw ControlError(path + ": the path is too long for a socket", ControlError::kOther);
  std::memcpy(un.sun_path, path.c_str(), path.size() + 1);
  if (!fd.valid() || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&un), sizeof un) != 0) {
    int err = errno;
    bool absent = err == ENOENT || err == ECONNREFUSED;
    std::string why = absent ? "no jail is running there"
                      : err == EAGAIN ? "it accepts no connections (its backlog is full)"
                                      : std::strerror(err);
    throw ControlError(path + ": " + why, absent ? ControlError::kAbsent : ControlError::kOther);
  }
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
      (cred.uid != ::geteuid() && cred.uid != 0))
    throw ControlError(path + ": the socket belongs to uid " + std::to_string(cred.uid) + ", not to this user",
                       ControlError::kOther);
  // The file connected to must still be the one looked at (the directory
  // is the user's, but a guest with a write grant on it could swap it).
  struct stat after{};
  if (::lstat(path.c_str(), &after) != 0 || after.st_ino != st.st_ino || after.st_dev != st.st_dev)
    throw ControlError(path + ": the socket changed while it was connected to", ControlError::kOther);
  if (!holds_socket(cred.pid, listening_inodes(st)))
    throw ControlError(path + ": the process that listens there does not hold the socket: a guest of some jail "
                       "answers it, not a jail's control server",
                       ControlError::kOther);
  state_->stream = state_->io.lowLevelProvider->wrapSocketFd(fd.release(), kj::LowLevelAsyncIoProvider::TAKE_OWNERSHIP |
                                                                            kj::LowLevelAsyncIoProvider::ALREADY_CLOEXEC);
  state_->rpc = kj::heap<capnp::TwoPartyClient>(*state_->stream);
  state_->jail = state_->rpc->bootstrap().castAs<schema::Jail>();
}

ControlClient::~ControlClient() = default;

JailSummary ControlClient::info() {
  auto resp = wait_for(*state_, state_->jail.infoRequest().send(), timeout_ms_, "info");
  auto i = resp.getInfo();
  JailSummary s;
  s.name = i.getName();
  s.run_id = i.getRunId();
  s.program = i.getProgram();
  s.mode = i.getMode();
  for (auto a : i.getArgs()) s.args.emplace_back(a);
  s.wwjail_pid = i.getWwjailPid();
  s.main_pid = i.getMainPid();
  s.started_unix_ms = i.getStartedUnixMs();
  s.uid = i.getUid();
  s.allowed = i.getAllowed();
  s.audited = i.getAudited();
  s.denied = i.getDenied();
  s.stopping = i.getStopping();
  return s;
}

void ControlClient::stop(uint32_t grace_ms) {
  auto req = state_->jail.stopRequest();
  req.setGraceMs(grace_ms);
  wait_for(*state_, req.send().ignoreResult(), timeout_ms_, "stop");
}

bool ControlClient::wait_closed(uint32_t timeout_ms) {
  try {
    wait_for(*state_, state_->rpc->onDisconnect(), timeout_ms, "waiting for the run to end");
    return true;
  } catch (const ControlError& e) {
    return e.kind() == ControlError::kClosed;
  }
}

bool ControlClient::events(const std::function<void(const ReceivedEvent&)>& on_event) {
  auto paf = kj::newPromiseAndFulfiller<void>();
  auto req = state_->jail.eventsRequest();
  req.setSink(kj::heap<PrintingSink>(on_event, kj::mv(paf.fulfiller)));
  auto resp = wait_for(*state_, req.send(), timeout_ms_, "events");
  schema::Subscription::Client keep = resp.getSubscription();
  try {
    paf.promise.exclusiveJoin(state_->rpc->onDisconnect().then([] {
      kj::throwFatalException(KJ_EXCEPTION(DISCONNECTED, "closed"));
    })).wait(state_->io.waitScope);
    return true;
  } catch (const kj::Exception&) {
    return false;
  }
}

std::vector<std::string> socket_names(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return names;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n.size() > 5 && n.compare(n.size() - 5, 5, ".sock") == 0) names.push_back(n.substr(0, n.size() - 5));
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace wwjail::control
