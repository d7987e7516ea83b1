#include "broker/blocking_pool.h"

#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <iterator>
#include <system_error>

#include "sys/sys_error.h"

namespace wwjail {
namespace {

int wake_signal() { return SIGRTMIN + 1; }
void on_wake(int) {}

// No SA_RESTART: the interrupted job returns EINTR.
void install_wake_handler() {
  struct sigaction sa{};
  sa.sa_handler = on_wake;
  sigemptyset(&sa.sa_mask);
  ::sigaction(wake_signal(), &sa, nullptr);
}

void block_all_but_wake() {
  sigset_t set;
  sigfillset(&set);
  sigdelset(&set, wake_signal());
  ::pthread_sigmask(SIG_SETMASK, &set, nullptr);
}

}  // namespace

ThreadIds ThreadIds::of_caller() {
  // The raw syscalls report this thread's ids (credentials are per thread).
  ThreadIds t;
  uid_t suid;
  gid_t sgid;
  ::syscall(SYS_getresuid, &t.ruid, &t.euid, &suid);
  ::syscall(SYS_getresgid, &t.rgid, &t.egid, &sgid);
  return t;
}

JobIdentity JobIdentity::of_caller(const ThreadIds& own) {
  JobIdentity j;
  j.who = ActingAs::current();
  j.peer_ids = j.who && !(ThreadIds::of_caller() == own);
  return j;
}

int perform_as(const JobIdentity& as, const std::function<int()>& op) {
  std::optional<ActingAs> acting;
  std::optional<PeerIdsAsGuest> peer;
  try {
    if (as.who) acting.emplace(*as.who);
    if (as.who && as.peer_ids) peer.emplace();
  } catch (const SysError& e) {
    return -e.error();  // never performed with the wrong credentials
  }
  return op();
}

BlockingPool::BlockingPool(Limits limits) : limits_(limits) {
  install_wake_handler();
  std::lock_guard<std::mutex> lock(mu_);
  for (unsigned i = 0; i < limits_.spare; ++i) start_worker_locked();
}

BlockingPool::~BlockingPool() {
  std::unique_lock<std::mutex> lock(mu_);
  stopping_ = true;
  queue_.clear();
  work_.notify_all();
  // A signal may land just before a job enters its syscall: repeat until
  // every worker has seen the flag.
  while (live_ > 0) {
    for (Worker& w : workers_) {
      if (w.busy && !w.exited) ::pthread_kill(w.handle, wake_signal());
    }
    gone_.wait_for(lock, std::chrono::milliseconds(1));
  }
  for (Worker& w : workers_) w.thread.join();
}

bool BlockingPool::start_worker_locked() {
  join_exited_locked();
  workers_.emplace_back();
  WorkerIt it = std::prev(workers_.end());
  try {
    it->thread = std::thread([this, it] { worker_main(it); });
  } catch (const std::system_error&) {
    workers_.erase(it);
    if (live_ == 0) throw;  // no worker at all: the loop cannot serve
    starved_ = true;        // jobs beyond the free workers get EAGAIN
    return false;
  }
  it->handle = it->thread.native_handle();
  ++live_;
  return true;
}

std::vector<BlockingPool::Job> BlockingPool::take_unservable_locked() {
  // A free worker that takes a job starts another, so while one is free
  // the pool can still grow to the cap; with none free, nothing starts one.
  size_t free = live_ - busy_;
  size_t growth = (free == 0 || starved_) ? 0 : limits_.max_threads - std::min<size_t>(live_, limits_.max_threads);
  std::vector<Job> refused;
  while (queue_.size() > free + growth) {
    refused.push_back(std::move(queue_.back()));
    queue_.pop_back();
  }
  return refused;
}

void BlockingPool::join_exited_locked() {
  // An exited worker set `exited` as its last step under the lock, which it
  // released before ending: joining it here cannot wait on us.
  for (auto it = workers_.begin(); it != workers_.end();) {
    if (!it->exited) {
      ++it;
      continue;
    }
    it->thread.join();
    it = workers_.erase(it);
  }
}

void BlockingPool::submit(Job job) {
  std::vector<Job> refused;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    queue_.push_back(std::move(job));
    refused = take_unservable_locked();
  }
  work_.notify_one();
  for (Job& j : refused) j.then(-EAGAIN);  // at the cap: answered, not queued
}

size_t BlockingPool::threads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return live_;
}

bool BlockingPool::wait_for_job(std::unique_lock<std::mutex>& lock, WorkerIt) {
  while (queue_.empty()) {
    if (stopping_) return false;
    ++idle_;
    bool timed_out = work_.wait_for(lock, limits_.idle_exit) == std::cv_status::timeout;
    --idle_;
    if (timed_out && queue_.empty() && live_ > limits_.spare) return false;
  }
  return !stopping_;
}

void BlockingPool::worker_main(WorkerIt self) {
  block_all_but_wake();
  std::unique_lock<std::mutex> lock(mu_);
  while (wait_for_job(lock, self)) {
    Job job = std::move(queue_.front());
    queue_.pop_front();
    self->busy = true;
    ++busy_;
    // Not acting as anyone here: a worker started now gets the broker's
    // credentials. Another free worker takes the next job while this one
    // may block; if none can be started, jobs beyond the free ones fail.
    std::vector<Job> refused;
    if (live_ == busy_ && !(live_ < limits_.max_threads && !starved_ && start_worker_locked())) {
      refused = take_unservable_locked();
    }
    lock.unlock();
    for (Job& j : refused) j.then(-EAGAIN);
    refused.clear();
    int result = perform_as(job.as, job.op);
    job.then(result);
    job = Job{};
    lock.lock();
    self->busy = false;
    --busy_;
    starved_ = false;  // a worker is free again: let a later start be tried
  }
  starved_ = false;
  --live_;
  self->exited = true;
  gone_.notify_all();
}

}  // namespace wwjail
