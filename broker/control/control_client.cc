#include "broker/control/control_client.h"

#include <capnp/rpc-twoparty.h>
#include <dirent.h>
#include <kj/async-io.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

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
    std::string why = e.getType() == kj::Exception::Type::OVERLOADED ? "it did not answer within " + std::to_string(ms) + " ms"
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

}  // namespace

ControlClient::ControlClient(const std::string& path, uint32_t timeout_ms)
    : state_(std::make_unique<State>()), timeout_ms_(timeout_ms) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  if (path.size() >= sizeof un.sun_path)
    throw ControlError(path + ": the path is too long for a socket", ControlError::kOther);
  std::memcpy(un.sun_path, path.c_str(), path.size() + 1);
  if (!fd.valid() || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&un), sizeof un) != 0) {
    int err = errno;
    bool absent = err == ENOENT || err == ECONNREFUSED;
    throw ControlError(path + ": " + (absent ? std::string("no jail is running there") : std::strerror(err)),
                       absent ? ControlError::kAbsent : ControlError::kOther);
  }
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
      (cred.uid != ::geteuid() && cred.uid != 0))
    throw ControlError(path + ": the socket belongs to uid " + std::to_string(cred.uid) + ", not to this user",
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
