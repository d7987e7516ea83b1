#include "broker/session.h"

#include "broker/notify_thread.h"
#include "sys/sys_error.h"

namespace wwjail {
namespace {

HandlerOptions handler_options(const JailSpec& spec, const LaunchFacts& facts, GuestIdentities* identities) {
  HandlerOptions options;
  options.landlock_active = true;
  options.landlock_abi = facts.landlock_abi;
  options.broker_performs_opens = spec.broker_performs_opens;
  options.tree_root = facts.tree_root;
  options.identities = identities;
  return options;
}

LogOptions log_options(const JailSpec& spec, const LogSinks& logs) {
  LogOptions options;
  options.json = logs.json;
  options.log_allowed = logs.messages->should_log(spdlog::level::info);
  options.audit = spec.audit;
  options.quiet_audit = spec.learning;
  options.context = logs.context;
  return options;
}

}  // namespace

Session::Session(const JailSpec& spec, const GrantRoots& roots, const LaunchFacts& facts, LogSinks& logs,
                 DecisionObserver* observer, DecisionObserver* watcher)
    : spec_(spec),
      log_(*logs.messages),
      loop_(make_event_loop(log_)),
      identities_(GuestIdentities::for_this_broker(facts.kept_capabilities)),
      async_(*loop_),
      decisions_(logs.decisions, log_options(spec, logs), observer, watcher),
      handlers_(spec.storage, roots, channel_, memory_, async_, log_, handler_options(spec, facts, &identities_), &spec.net,
                &decisions_) {
  notifier_.emplace(channel_, handlers_, log_);
  log_.debug("acting as the guest for what the broker performs: {}",
             identities_.active() ? "yes (wwjail holds credentials the guest does not)"
                                  : "not needed (wwjail holds nothing the guest lacks)");
}

void Session::serve(UniqueFd notify_fd, const std::function<void()>& release, const std::function<bool()>& done,
                    const std::function<void()>& failed) {
  if (!notifier_) throw SysError("a session serves once", EINVAL);
  channel_.attach(std::move(notify_fd));
  if (channel_.enable_sync_wakeup()) log_.debug("seccomp notify: synchronous wake-up enabled");
  notifier_->serve();
  release();
  loop_->run([&] { return done() || notifier_->failed(); });
  bool notifier_failed = notifier_->failed();
  notifier_.reset();  // stopped and joined, as the run is over
  if (!notifier_failed) return;
  failed();
  throw SysError("the broker's notify thread failed", EIO);
}

void Session::finish(int exit_status) {
  decisions_.finish();  // the totals of repeated denials, before any summary
  if (spec_.audit) decisions_.summary(spec_.learning ? "learn" : "audit", exit_status);
}

}  // namespace wwjail
