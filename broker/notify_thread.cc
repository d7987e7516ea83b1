#include "broker/notify_thread.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <exception>

namespace wwjail {
namespace {

// Interrupts the blocking receive when the run is over. No SA_RESTART, so
// the ioctl returns EINTR and the loop sees the stop flag.
int wake_signal() { return SIGRTMIN; }
void on_wake(int) {}

}  // namespace

NotifyThread::NotifyThread(KernelNotifyChannel& channel, SyscallHandlers& handlers, spdlog::logger& log)
    : channel_(channel), handlers_(handlers), log_(log) {
  struct sigaction sa{};
  sa.sa_handler = on_wake;
  sigemptyset(&sa.sa_mask);
  ::sigaction(wake_signal(), &sa, &previous_wake_action_);
  thread_ = std::thread([this] { run(); });
  fs_ready_.wait(false);
}

void NotifyThread::serve() {
  serving_ = true;
  serving_.notify_all();
}

NotifyThread::~NotifyThread() {
  stop_ = true;
  serving_ = true;
  serving_.notify_all();  // a thread never served waits on this
  // A thread in the blocking receive needs the signal. It may land just
  // before the thread enters the ioctl, which then blocks: so it is sent
  // again each millisecond until the thread says it has exited. Usually the
  // first one does it and the wait ends as soon as the thread does.
  std::unique_lock lock(exit_mutex_);
  while (!exited_) {
    ::pthread_kill(thread_.native_handle(), wake_signal());
    exit_cv_.wait_for(lock, std::chrono::milliseconds(1));
  }
  lock.unlock();
  thread_.join();
  // As it was: a process forked after this one (a launch again without a
  // view) inherits nothing of the thread.
  ::sigaction(wake_signal(), &previous_wake_action_, nullptr);
}

void NotifyThread::run() {
  // A cwd and umask of this thread's own (see HandlerOptions::private_fs);
  // the constructor waits for this so handlers can rely on it.
  // The umask is 0 for the same reason as the broker's (it applies the
  // guest's own explicitly), which the main thread sets only later.
  private_fs_ = ::unshare(CLONE_FS) == 0;
  if (private_fs_) ::umask(0);
  handlers_.set_private_fs(private_fs_);
  fs_ready_ = true;
  fs_ready_.notify_all();
  sigset_t wake;
  sigemptyset(&wake);
  sigaddset(&wake, wake_signal());
  ::pthread_sigmask(SIG_UNBLOCK, &wake, nullptr);
  try {
    // Between calls the thread rests as the guests' launch identity, so a
    // call made with it switches no credentials (broker/guest_identity.h).
    // Nothing it does between calls (receiving, answering, adding fds)
    // is checked against credentials.
    std::optional<ActingAs> resting;
    if (auto who = handlers_.resting_identity()) resting.emplace(*who);
    serving_.wait(false);
    while (!stop_) {
      seccomp_notif n{};
      if (!channel_.receive(n)) {  // vanished, or woken to stop
        // With no guest left every receive fails at once, and none can
        // come back (only a guest's children inherit its filter): the
        // thread's work is done, and the run's end need not wait for it.
        if (channel_.guests_gone()) break;
        continue;
      }
      deliver(channel_, n.id, handlers_.handle(n));
    }
  } catch (const std::exception& e) {
    // A broker failure: the guests cannot be served any more. The main
    // thread sees failed() and ends the run (the reaper kills the tree).
    log_.error("notify thread: {}", e.what());
    failed_ = true;
  }
  std::lock_guard lock(exit_mutex_);
  exited_ = true;
  exit_cv_.notify_all();
}

}  // namespace wwjail
