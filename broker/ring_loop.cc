#include "broker/ring_loop.h"

#include <poll.h>

#include <cerrno>
#include <vector>

#include "broker/guest_identity.h"
#include "broker/io_uring_refusal.h"
#include "sys/sys_error.h"

namespace wwjail {

RingUnavailable::RingUnavailable(int err) : SetupError(io_uring_refusal(err)), err_(err) {}

RingLoop::RingLoop(unsigned entries) {
  // By default io_uring runs completion work on the submitting thread with
  // TWA_SIGNAL, which interrupts that thread's interruptible sleeps. The
  // broker sleeps in SECCOMP_IOCTL_NOTIF_ADDFD with SECCOMP_ADDFD_FLAG_SEND,
  // and an interrupted ADDFD+SEND leaves the notification answered with 0
  // and no fd: the guest's open() would return 0, its stdin. DEFER_TASKRUN
  // (Linux 6.1, needs SINGLE_ISSUER) runs completion work only when we wait
  // for completions; COOP_TASKRUN (5.19) at least never signals.
  const unsigned attempts[] = {IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN, IORING_SETUP_COOP_TASKRUN};
  int rc = -EINVAL;
  for (unsigned flags : attempts) {
    io_uring_params params{};
    params.flags = flags;
    rc = io_uring_queue_init_params(entries, &ring_, &params);
    if (rc == 0) {
      setup_flags_ = flags;
      return;
    }
    if (rc != -EINVAL) break;
  }
  throw RingUnavailable(-rc);
}

RingLoop::~RingLoop() { io_uring_queue_exit(&ring_); }

io_uring_sqe* RingLoop::next_sqe() {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (!sqe) {
    io_uring_submit(&ring_);
    sqe = io_uring_get_sqe(&ring_);
    if (!sqe) throw SysError("io_uring_get_sqe", EBUSY);
  }
  return sqe;
}

int RingLoop::personality_for_caller() {
  if (!ActingAs::current()) return 0;
  // Registers the calling thread's credentials, which are the guest's now.
  int id = io_uring_register_personality(&ring_);
  if (id < 0) throw SysError("io_uring_register_personality", -id);
  return id;
}

uint64_t RingLoop::add_op(std::unique_ptr<Op> op) {
  uint64_t id = next_id_++;
  ops_.emplace(id, std::move(op));
  return id;
}

void RingLoop::arm_poll(int fd, std::shared_ptr<std::function<bool(uint32_t)>> cb) {
  auto op = std::make_unique<Op>();
  op->on_complete = [this, fd, cb](int res) {
    if (res < 0 && res != -EINTR) {
      (*cb)(POLLERR);
      return;
    }
    if (res < 0 || (*cb)(static_cast<uint32_t>(res))) arm_poll(fd, cb);
  };
  uint64_t id = add_op(std::move(op));
  io_uring_sqe* sqe = next_sqe();
  io_uring_prep_poll_add(sqe, fd, POLLIN);
  io_uring_sqe_set_data64(sqe, id);
}

void RingLoop::watch_readable(int fd, std::function<bool(uint32_t)> cb) {
  arm_poll(fd, std::make_shared<std::function<bool(uint32_t)>>(std::move(cb)));
}

// Queues `op` with the caller's personality: `prep` fills the entry (it
// clears the personality field, so that is set after it).
template <class Prep>
void RingLoop::submit_as_caller(std::unique_ptr<Op> op, Prep&& prep) {
  op->personality = personality_for_caller();
  Op* raw = op.get();
  uint64_t id = add_op(std::move(op));
  io_uring_sqe* sqe = next_sqe();
  prep(sqe, *raw);
  sqe->personality = static_cast<uint16_t>(raw->personality);
  io_uring_sqe_set_data64(sqe, id);
}

void RingLoop::openat2(int dirfd, std::string path, open_how how, std::function<void(int)> done) {
  auto op = std::make_unique<Op>();
  op->path = std::move(path);
  op->how = how;
  op->on_complete = std::move(done);
  submit_as_caller(std::move(op), [&](io_uring_sqe* sqe, Op& o) {
    io_uring_prep_openat2(sqe, dirfd, o.path.c_str(), &o.how);
  });
}

void RingLoop::connect(int fd, sockaddr_storage addr, socklen_t len, std::shared_ptr<void> keep,
                       std::function<void(int)> done) {
  auto op = std::make_unique<Op>();
  op->addr = addr;
  op->keep = std::move(keep);
  op->on_complete = std::move(done);
  submit_as_caller(std::move(op), [&](io_uring_sqe* sqe, Op& o) {
    io_uring_prep_connect(sqe, fd, reinterpret_cast<sockaddr*>(&o.addr), len);
  });
}

void RingLoop::sendmsg(int fd, std::shared_ptr<OwnedMessage> message, int flags, std::shared_ptr<void> keep,
                       std::function<void(int)> done) {
  auto op = std::make_unique<Op>();
  op->message = std::move(message);
  op->keep = std::move(keep);
  op->on_complete = std::move(done);
  submit_as_caller(std::move(op), [&](io_uring_sqe* sqe, Op& o) {
    io_uring_prep_sendmsg(sqe, fd, &o.message->msg, static_cast<unsigned>(flags));
  });
}

void RingLoop::run(const std::function<bool()>& stop) {
  while (!stop()) {
    io_uring_cqe* cqe = nullptr;
    int rc = io_uring_submit_and_wait(&ring_, 1);
    if (rc < 0 && rc != -EINTR && rc != -ETIME) throw SysError("io_uring_submit_and_wait", -rc);
    // Take the batch out of the ring first: callbacks queue new SQEs.
    std::vector<std::pair<uint64_t, int>> done;
    unsigned head;
    io_uring_for_each_cqe(&ring_, head, cqe) { done.emplace_back(io_uring_cqe_get_data64(cqe), cqe->res); }
    io_uring_cq_advance(&ring_, static_cast<unsigned>(done.size()));
    for (auto [id, res] : done) {
      auto it = ops_.find(id);
      if (it == ops_.end()) continue;
      std::unique_ptr<Op> op = std::move(it->second);
      ops_.erase(it);
      if (op->personality) io_uring_unregister_personality(&ring_, op->personality);
      op->on_complete(res);
    }
  }
}

}  // namespace wwjail
