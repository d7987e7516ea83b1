#include "broker/control/control_server.h"

#include <capnp/message.h>
#include <capnp/rpc-twoparty.h>
#include <kj/async-io.h>
#include <kj/async-unix.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <memory>

#include "broker/control/control.capnp.h"
#include "broker/control/control_dir.h"
#include "broker/control/control_peer.h"
#include "sys/sys_error.h"

namespace wwjail::control {

struct ControlServer::Shared {
  ControlFacts facts;
  EventFeed& feed;
  StopRequests& stops;
  std::function<DecisionLog::Counts()> counts;
  spdlog::logger& log;
};

namespace {

namespace schema = wwjail::control::schema;

// A sink may have this many pushes unanswered; past it, its events are
// dropped and counted (the guests never wait for a subscriber).
constexpr int kMaxInFlight = 64;
// Subscriptions at once, over all connections.
constexpr size_t kMaxSubscribers = 16;
// Replies a connection may leave unread, in words: past it the server
// reads no more of its calls (RpcSystem::setFlowLimit).
constexpr size_t kFlowLimitWords = 1 << 16;
// Replies a client leaves unread queue up in the server; past this many
// bytes the server answers none of its calls more and drops it.
constexpr size_t kMaxQueuedBytes = 256 << 10;

// One connection's outgoing queue, as its calls see it.
struct Backlog {
  capnp::TwoPartyVatNetwork* network = nullptr;
  kj::Own<kj::PromiseFulfiller<void>> drop;
  // True (and the connection to be dropped) when the client reads too
  // little of what it asks for.
  bool over() {
    if (!network || network->getCurrentQueueSize() <= kMaxQueuedBytes) return false;
    if (drop->isWaiting()) drop->fulfill();
    return true;
  }
};

class LoggingErrors final : public kj::TaskSet::ErrorHandler {
 public:
  explicit LoggingErrors(spdlog::logger& log) : log_(log) {}
  void taskFailed(kj::Exception&& e) override {
    if (e.getType() != kj::Exception::Type::DISCONNECTED) log_.debug("control: {}", e.getDescription().cStr());
  }

 private:
  spdlog::logger& log_;
};

// The subscribers of events, on the control thread only.
class Fanout {
 public:
  explicit Fanout(EventFeed& feed) : feed_(feed) {}
  // Where pushes are kept until answered (made after the fanout, gone
  // before it).
  void use(kj::TaskSet& tasks) { tasks_ = &tasks; }

  bool full() const { return subs_.size() >= kMaxSubscribers; }
  uint64_t add(schema::EventSink::Client sink) {
    uint64_t id = next_++;
    subs_.emplace(id, Subscriber{kj::mv(sink)});
    feed_.subscribe(true);
    return id;
  }
  void remove(uint64_t id) {
    subs_.erase(id);
    if (subs_.empty()) feed_.subscribe(false);
  }

  void deliver(EventFeed::Batch batch) {
    for (auto& [id, sub] : subs_) {
      sub.dropped += batch.dropped;
      for (const FeedEvent& e : batch.events) push(id, sub, e);
    }
  }

  // Every subscriber told the run is over; resolves when all answered.
  kj::Promise<void> finish() {
    kj::Vector<kj::Promise<void>> done;
    for (auto& [id, sub] : subs_) done.add(sub.sink.doneRequest().send().ignoreResult());
    return kj::joinPromises(done.releaseAsArray());
  }

 private:
  struct Subscriber {
    schema::EventSink::Client sink;
    uint64_t dropped = 0;
    int in_flight = 0;
  };

  void push(uint64_t id, Subscriber& sub, const FeedEvent& e) {
    if (sub.in_flight >= kMaxInFlight) {
      ++sub.dropped;
      return;
    }
    auto req = sub.sink.pushRequest();
    auto ev = req.initEvent();
    ev.setUnixMs(e.unix_ms);
    ev.setTid(e.tid);
    ev.setSyscall(e.syscall);
    ev.setTarget(e.target);
    ev.setNeed(e.need);
    ev.setKind(e.kind);
    ev.setMissing(e.missing);
    ev.setReason(e.reason);
    ev.setDroppedBefore(sub.dropped);
    sub.dropped = 0;
    ++sub.in_flight;
    tasks_->add(req.send().then(
        [this, id] {
          if (auto it = subs_.find(id); it != subs_.end()) --it->second.in_flight;
        },
        [this, id](kj::Exception&&) { remove(id); }));
  }

  EventFeed& feed_;
  kj::TaskSet* tasks_ = nullptr;
  std::map<uint64_t, Subscriber> subs_;
  uint64_t next_ = 1;
};

class SubscriptionImpl final : public schema::Subscription::Server {
 public:
  SubscriptionImpl(Fanout& fanout, uint64_t id) : fanout_(fanout), id_(id) {}
  ~SubscriptionImpl() { fanout_.remove(id_); }

 private:
  Fanout& fanout_;
  uint64_t id_;
};

// The run's one kill timer, the earliest any stop asked for: repeated stops
// cost nothing and are logged once.
class Stopper {
 public:
  Stopper(kj::Timer& timer, StopRequests& stops, spdlog::logger& log) : timer_(timer), stops_(stops), log_(log) {}

  void stop(uint32_t grace_ms) {
    kj::TimePoint at = timer_.now() + grace_ms * kj::MILLISECONDS;
    KJ_IF_MAYBE(earlier, kill_at_) {
      if (*earlier <= at) return;
    } else {
      log_.warn("stop asked for over the control socket (grace {} ms)", grace_ms);
    }
    kill_at_ = at;
    stops_.ask(StopRequests::kTerminate);
    StopRequests& stops = stops_;
    timer_promise_ = timer_.atTime(at).then([&stops] { stops.ask(StopRequests::kKill); }).eagerlyEvaluate(nullptr);
  }

 private:
  kj::Timer& timer_;
  StopRequests& stops_;
  spdlog::logger& log_;
  kj::Maybe<kj::TimePoint> kill_at_;
  kj::Maybe<kj::Promise<void>> timer_promise_;
};

class JailImpl final : public schema::Jail::Server {
 public:
  JailImpl(ControlServer::Shared& shared, Fanout& fanout, Stopper& stopper, std::shared_ptr<Backlog> backlog)
      : s_(shared), fanout_(fanout), stopper_(stopper), backlog_(std::move(backlog)) {}

  kj::Promise<void> info(InfoContext context) override {
    if (backlog_->over()) return kj::NEVER_DONE;
    auto info = context.getResults().initInfo();
    const ControlFacts& f = s_.facts;
    info.setName(f.name);
    info.setRunId(f.run_id);
    info.setWwjailPid(::getpid());
    info.setMainPid(f.main_pid);
    info.setProgram(f.program);
    auto args = info.initArgs(static_cast<unsigned>(f.args.size()));
    for (unsigned i = 0; i < f.args.size(); ++i) args.set(i, f.args[i]);
    info.setStartedUnixMs(f.started_unix_ms);
    info.setUid(::geteuid());
    info.setMode(f.mode);
    DecisionLog::Counts c = s_.counts();
    info.setAllowed(c.allow);
    info.setAudited(c.audit);
    info.setDenied(c.deny);
    info.setStopping(s_.stops.asked());
    return kj::READY_NOW;
  }

  kj::Promise<void> stop(StopContext context) override {
    if (backlog_->over()) return kj::NEVER_DONE;
    stopper_.stop(context.getParams().getGraceMs());
    return kj::READY_NOW;
  }

  kj::Promise<void> events(EventsContext context) override {
    if (backlog_->over()) return kj::NEVER_DONE;
    if (fanout_.full()) return KJ_EXCEPTION(OVERLOADED, "too many event subscriptions");
    uint64_t id = fanout_.add(context.getParams().getSink());
    context.getResults().setSubscription(kj::heap<SubscriptionImpl>(fanout_, id));
    return kj::READY_NOW;
  }

 private:
  ControlServer::Shared& s_;
  Fanout& fanout_;
  Stopper& stopper_;
  std::shared_ptr<Backlog> backlog_;
};

// One accepted client: its stream and its RPC system.
struct Connection {
  Connection(kj::Own<kj::AsyncIoStream> s, capnp::Capability::Client bootstrap, int* count)
      : stream(kj::mv(s)),
        network(*stream, capnp::rpc::twoparty::Side::SERVER, reader_options()),
        rpc(capnp::makeRpcServer(network, kj::mv(bootstrap))),
        live(count) {
    rpc.setFlowLimit(kFlowLimitWords);
    ++*live;
  }
  ~Connection() { --*live; }
  static capnp::ReaderOptions reader_options() {
    capnp::ReaderOptions o;
    o.traversalLimitInWords = ControlServer::kMaxMessageWords;
    o.nestingLimit = 32;
    return o;
  }
  kj::Own<kj::AsyncIoStream> stream;
  capnp::TwoPartyVatNetwork network;
  capnp::RpcSystem<capnp::rpc::twoparty::VatId> rpc;
  int* live;
};

// Whether a socket at `path` answers: a live jail holds the name.
// (Non-blocking: a full backlog is someone listening, not a reason to wait.)
bool answers(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  std::memcpy(un.sun_path, path.c_str(), path.size() + 1);
  return fd.valid() && (::connect(fd.get(), reinterpret_cast<sockaddr*>(&un), sizeof un) == 0 || errno == EAGAIN);
}

}  // namespace

ControlServer::ControlServer(const std::string& dir, ControlFacts facts, EventFeed& feed, StopRequests& stops,
                             std::function<DecisionLog::Counts()> counts, spdlog::logger& log)
    : path_(control::socket_path(dir, facts.name)),
      quit_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      shared_(new Shared{std::move(facts), feed, stops, std::move(counts), log}) {
  if (!quit_.valid()) throw_sys("eventfd (the control thread's quit)");
  make_control_dir(dir);
  listen_fd_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!listen_fd_.valid()) throw_sys("socket (the control socket)");
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  std::memcpy(un.sun_path, path_.c_str(), path_.size() + 1);
  auto bind_it = [&] { return ::bind(listen_fd_.get(), reinterpret_cast<sockaddr*>(&un), sizeof un); };
  if (bind_it() != 0) {
    if (errno != EADDRINUSE)
      throw SetupError("cannot bind the control socket " + path_ + ": " + std::strerror(errno));
    if (answers(path_))
      throw SetupError("a jail named " + shared_->facts.name + " is running (" + path_ +
                       "): give this one another --name");
    ::unlink(path_.c_str());  // left by a run that died
    if (bind_it() != 0) throw SetupError("cannot bind the control socket " + path_ + ": " + std::strerror(errno));
  }
  struct stat st{};
  if (::chmod(path_.c_str(), 0600) != 0 || ::stat(path_.c_str(), &st) != 0 || ::listen(listen_fd_.get(), 16) != 0) {
    int err = errno;
    ::unlink(path_.c_str());
    throw SetupError("cannot listen on the control socket " + path_ + ": " + std::strerror(err));
  }
  socket_inode_ = st.st_ino;
}

ControlServer::~ControlServer() {
  if (thread_.joinable()) {
    uint64_t one = 1;
    (void)!::write(quit_.get(), &one, sizeof one);
    thread_.join();
  }
  // Removed only while it is still ours (not a later run's of the same name).
  struct stat st{};
  if (::stat(path_.c_str(), &st) == 0 && st.st_ino == socket_inode_) ::unlink(path_.c_str());
}

void ControlServer::start(pid_t main_pid, pid_t tree_root) {
  shared_->facts.main_pid = main_pid;
  shared_->facts.tree_root = tree_root;
  thread_ = std::thread([this] { serve(); });
}

void ControlServer::serve() {
  spdlog::logger& log = shared_->log;
  try {
    // Declared in the order they may go: the tasks (promises into all the
    // rest) are destroyed first.
    kj::AsyncIoContext io = kj::setupAsyncIo();
    kj::Timer& timer = io.provider->getTimer();
    LoggingErrors errors(log);
    kj::Own<kj::ConnectionReceiver> listener = io.lowLevelProvider->wrapListenSocketFd(
        listen_fd_.get(), kj::LowLevelAsyncIoProvider::ALREADY_CLOEXEC | kj::LowLevelAsyncIoProvider::ALREADY_NONBLOCK);
    using Observer = kj::UnixEventPort::FdObserver;
    Observer feed_ready(io.unixEventPort, shared_->feed.fd(), Observer::OBSERVE_READ);
    Observer quit(io.unixEventPort, quit_.get(), Observer::OBSERVE_READ);
    Fanout fanout(shared_->feed);
    Stopper stopper(timer, shared_->stops, log);
    int live = 0;
    uint64_t refused = 0;
    std::function<kj::Promise<void>()> accept_loop, feed_loop;
    kj::TaskSet tasks(errors);
    fanout.use(tasks);

    accept_loop = [&]() -> kj::Promise<void> {
      return listener->accept().then([&](kj::Own<kj::AsyncIoStream> stream) {
        int fd = -1;
        KJ_IF_MAYBE(f, stream->getFd()) { fd = *f; }
        std::string why = fd < 0 ? "no descriptor" : peer_refusal(fd, shared_->facts.tree_root);
        if (why.empty() && live >= kMaxConnections) why = "too many control connections";
        if (!why.empty()) {
          if (++refused <= 10 || refused % 1000 == 0) log.warn("control: refused a connection: {}", why);
        } else {
          auto backlog = std::make_shared<Backlog>();
          auto dropped = kj::newPromiseAndFulfiller<void>();
          backlog->drop = kj::mv(dropped.fulfiller);
          auto c = kj::heap<Connection>(kj::mv(stream), kj::heap<JailImpl>(*shared_, fanout, stopper, backlog), &live);
          backlog->network = &c->network;
          auto ended = c->network.onDisconnect().exclusiveJoin(kj::mv(dropped.promise));
          tasks.add(ended.attach(kj::mv(c), kj::defer([backlog] { backlog->network = nullptr; })));
        }
        return accept_loop();
      });
    };
    feed_loop = [&]() -> kj::Promise<void> {
      return feed_ready.whenBecomesReadable().then([&] {
        fanout.deliver(shared_->feed.drain());
        return feed_loop();
      });
    };
    tasks.add(accept_loop());
    tasks.add(feed_loop());

    quit.whenBecomesReadable().wait(io.waitScope);
    // The run is over: the last decisions, then done() to every
    // subscriber, waited for briefly.
    fanout.deliver(shared_->feed.drain());
    timer.timeoutAfter(500 * kj::MILLISECONDS, fanout.finish()).then([] {}, [](kj::Exception&&) {}).wait(io.waitScope);
  } catch (const kj::Exception& e) {
    log.error("the control server failed: {}", e.getDescription().cStr());
  } catch (const std::exception& e) {
    log.error("the control server failed: {}", e.what());
  }
}

}  // namespace wwjail::control
