// BlockingPool (broker/blocking_pool.h): jobs blocked in their operation
// never hold up a later one; at the sanity cap a job is answered with
// -EAGAIN instead of waiting behind blocked ones.
#include "broker/blocking_pool.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <condition_variable>
#include <future>
#include <mutex>
#include <vector>

namespace wwjail {
namespace {

// A gate the blocked jobs wait on until the test opens it.
class Gate {
 public:
  void wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return open_; });
  }
  void open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

BlockingPool::Job job(std::function<int()> op, std::function<void(int)> then) {
  BlockingPool::Job j;
  j.op = std::move(op);
  j.then = std::move(then);
  return j;
}

// Submits `n` jobs that block on `gate`; returns once all of them run.
void block(BlockingPool& pool, Gate& gate, int n) {
  std::vector<std::promise<void>> started(n);
  for (auto& s : started) {
    pool.submit(job([&gate, &s] { s.set_value(); gate.wait(); return 0; }, [](int) {}));
  }
  for (auto& s : started) s.get_future().wait();
}

TEST(BlockingPool, ManyBlockedJobsHoldUpNoLaterOne) {
  Gate gate;
  BlockingPool pool({.spare = 1, .max_threads = 4096, .idle_exit = std::chrono::milliseconds(10000)});
  block(pool, gate, 100);  // more than the old fixed bound of 64 workers
  std::promise<int> done;
  pool.submit(job([] { return 7; }, [&done](int r) { done.set_value(r); }));
  EXPECT_EQ(done.get_future().get(), 7);  // hangs on a pool that queues behind them
  EXPECT_GE(pool.threads(), 101u);
  gate.open();
}

TEST(BlockingPool, AtTheCapAJobIsAnsweredWithEagain) {
  Gate gate;
  BlockingPool pool({.spare = 1, .max_threads = 3, .idle_exit = std::chrono::milliseconds(10000)});
  block(pool, gate, 3);
  std::promise<int> done;
  pool.submit(job([] { return 7; }, [&done](int r) { done.set_value(r); }));
  EXPECT_EQ(done.get_future().get(), -EAGAIN);
  EXPECT_EQ(pool.threads(), 3u);
  gate.open();
}

TEST(BlockingPool, BelowTheCapJobsRun) {  // positive control for the cap
  Gate gate;
  BlockingPool pool({.spare = 1, .max_threads = 3, .idle_exit = std::chrono::milliseconds(10000)});
  block(pool, gate, 2);
  std::promise<int> done;
  pool.submit(job([] { return 7; }, [&done](int r) { done.set_value(r); }));
  EXPECT_EQ(done.get_future().get(), 7);
  gate.open();
}

}  // namespace
}  // namespace wwjail
