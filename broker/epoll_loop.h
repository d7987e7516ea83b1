// The broker's event loop on epoll, for where io_uring cannot be set up
// (broker/event_loop.h says when). Readiness is epoll's; the operations
// that can block are performed by a BlockingPool (broker/blocking_pool.h),
// whose workers hand each result back through an eventfd, so completions
// run on the loop's thread, like the ring's.
//
// Same semantics as RingLoop where it matters to a guest:
//  * an operation is performed as the guest the submitting thread acts for,
//    with the same ids the ring's personality would carry (fs ids, groups,
//    effective capabilities, and the real and effective ids when the
//    submitter held them: PeerIdsAsGuest);
//  * an open is the blocking openat2 io_uring's worker makes (a FIFO opened
//    for O_CREAT waits for its peer there too);
//  * descriptors named by number (a dirfd, a "/proc/self/fd/N" path, the
//    socket) resolve in this process: the workers share its descriptor
//    table, and its cwd and umask (they are started by the loop's thread or
//    by one another, never by the notify thread, which has its own).
//
// The operations may be submitted from any thread (submits_from_any_thread):
// the notify thread hands them to a worker directly, with no stop on the
// loop's thread on the way there.
//
// Watches are level-triggered: a callback that leaves data unread is called
// again on the next round, as the ring's re-armed one-shot polls are.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "broker/blocking_pool.h"
#include "broker/event_loop.h"
#include "sys/unique_fd.h"

namespace wwjail {

class EpollLoop final : public EventLoop {
 public:
  explicit EpollLoop(BlockingPool::Limits limits = {});
  ~EpollLoop() override;  // interrupts and joins the workers; pending completions are dropped
  EpollLoop(const EpollLoop&) = delete;
  EpollLoop& operator=(const EpollLoop&) = delete;

  void watch_readable(int fd, std::function<bool(uint32_t revents)> cb) override;
  void openat2(int dirfd, std::string path, open_how how, std::function<void(int)> done) override;
  void connect(int fd, sockaddr_storage addr, socklen_t len, std::shared_ptr<void> keep,
               std::function<void(int)> done) override;
  void sendmsg(int fd, std::shared_ptr<OwnedMessage> message, int flags, std::shared_ptr<void> keep,
               std::function<void(int)> done) override;
  void run(const std::function<bool()>& stop) override;
  const char* name() const override { return "epoll"; }
  bool submits_from_any_thread() const override { return true; }

  size_t workers() const { return pool_->threads(); }

 private:
  struct Watch {
    int fd;
    std::shared_ptr<std::function<bool(uint32_t)>> cb;
  };
  // What an operation needs until its completion ran: held by the job,
  // then by the result on its way back to the loop's thread.
  struct Op {
    std::function<void(int)> done;
    std::string path;
    open_how how{};
    sockaddr_storage addr{};
    std::shared_ptr<OwnedMessage> message;
    std::shared_ptr<void> keep;
  };
  // Hands `op` (performed on a worker, returning -errno on failure) to the
  // pool as the calling thread's guest. Any thread.
  void submit(std::shared_ptr<Op> state, std::function<int(Op&)> op);
  void dispatch(uint64_t token, uint32_t events);
  void drain_completions();  // loop thread

  UniqueFd epoll_;
  UniqueFd wake_;  // eventfd the workers write after each result
  ThreadIds own_ids_;
  std::unordered_map<uint64_t, Watch> watches_;  // loop thread only
  uint64_t next_token_ = 1;
  std::mutex done_mu_;
  std::vector<std::pair<std::shared_ptr<Op>, int>> done_;  // results not yet delivered
  // Last: destroyed first, so no worker outlives the state it writes.
  std::unique_ptr<BlockingPool> pool_;
};

}  // namespace wwjail
