// Worker threads for the operations the epoll loop (broker/epoll_loop.h)
// must not perform on its own thread because they can block: an open of a
// FIFO waiting for its peer, a lookup on a slow filesystem, a connect to a
// full listener, a send into a full socket.
//
// One blocked job never delays another: every queued job has a worker of
// its own waiting for it. A worker that takes a job first makes sure
// another worker is free, starting one if needed; the pool grows on demand.
// The guest bounds that growth: each guest thread has at most one
// notification in flight, so concurrent blocking jobs never exceed the
// guest's thread count (itself bounded by its limits). Workers beyond
// `spare` that stay idle for `idle_exit` end.
//
// At the sanity cap `max_threads`, or when no thread can be started, a job
// that would have to wait for a busy worker is not queued: it is answered
// at once with -EAGAIN (its `then` runs on the submitting thread, or on the
// worker that found it could not start another). A guest that blocks that
// many operations sees its further ones fail with "try again" (which
// connect and openat2 return in cases of their own too), and the broker
// stays live for every other; a queue behind blocked jobs could wait
// forever.
//
// Credentials (broker/guest_identity.h). The kernel checks an open or a
// connect against the credentials of the thread that performs it, and
// those are per thread: a worker takes, for each job, the identity the
// submitting thread acted with (ActingAs, and PeerIdsAsGuest when the
// submitter had the guest's real and effective ids too) and drops it
// afterwards. A job whose identity cannot be taken is not performed; it
// fails with that errno. Workers are only ever started by a thread holding
// the broker's own credentials (the constructor's thread, or a worker
// between jobs): a thread inherits its creator's credentials, and must not
// inherit a guest's as its "own".
//
// Signals: workers block every signal but the wake signal (SIGRTMIN + 1),
// which the destructor sends to interrupt jobs still blocked (FIFO opens,
// connects and sends wait interruptibly), as io_uring cancels its workers'
// work when the ring is torn down.
#pragma once

#include <pthread.h>
#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "broker/guest_identity.h"

namespace wwjail {

// A thread's real and effective ids (per thread in the kernel).
struct ThreadIds {
  uid_t ruid = 0, euid = 0;
  gid_t rgid = 0, egid = 0;
  static ThreadIds of_caller();
  bool operator==(const ThreadIds&) const = default;
};

// Whom a job is performed as.
struct JobIdentity {
  std::optional<GuestIdentity> who;  // nullopt: as the broker
  bool peer_ids = false;             // also the guest's real and effective ids
  // The calling thread's: whom it acts for, and whether it holds the
  // guest's real and effective ids too (its ids differ from `own`, the
  // broker's, only inside PeerIdsAsGuest).
  static JobIdentity of_caller(const ThreadIds& own);
};

class BlockingPool {
 public:
  struct Limits {
    unsigned spare = 1;
    unsigned max_threads = 4096;  // sanity cap: beyond it, EAGAIN
    std::chrono::milliseconds idle_exit{10000};
  };
  // A job: `op` runs on a worker as `as`, returns a result (-errno on
  // failure); `then` receives it, on the worker.
  struct Job {
    JobIdentity as;
    std::function<int()> op;
    std::function<void(int)> then;
  };

  // Starts `spare` workers. Call it from a thread with the broker's own
  // credentials.
  explicit BlockingPool(Limits limits);
  ~BlockingPool();  // interrupts blocked jobs, drops queued ones, joins
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  void submit(Job job);  // any thread
  size_t threads() const;

 private:
  struct Worker {
    std::thread thread;
    pthread_t handle{};
    bool busy = false;
    bool exited = false;
  };
  using WorkerIt = std::list<Worker>::iterator;
  // True when a worker was started (or the pool is stopping).
  bool start_worker_locked();
  // Queued jobs beyond the free workers, to be answered with -EAGAIN.
  std::vector<Job> take_unservable_locked();
  void join_exited_locked();
  void worker_main(WorkerIt self);
  // Waits for a job; false when this worker should end.
  bool wait_for_job(std::unique_lock<std::mutex>& lock, WorkerIt self);

  const Limits limits_;
  mutable std::mutex mu_;
  std::condition_variable work_;
  std::condition_variable gone_;
  std::deque<Job> queue_;
  std::list<Worker> workers_;
  size_t live_ = 0, idle_ = 0;
  size_t busy_ = 0;  // workers holding a job
  bool starved_ = false;  // the last start failed: no growth until one ends
  bool stopping_ = false;
};

// Runs a job's operation as its identity (on the calling thread).
int perform_as(const JobIdentity& as, const std::function<int()>& op);

}  // namespace wwjail
