// WASI host calls on sockets: the listening sockets wwjail passed in, and
// the connections accepted on them. Preview 1 has no bind or connect: every
// address was decided by the broker when wwjail bound the sockets.
#include <sys/socket.h>

#include "wasm/runner/wasi_host.h"
#include "wasm/runner/wasi_native.h"

namespace wwjail {

using namespace wasi;

uint32_t WasiHost::sock_accept(uint32_t fd, uint32_t flags, uint32_t out) {
  Fd* f = lookup(fd);
  if (!f) return kBadf;
  if (flags & ~uint32_t{kFdNonblock}) return kInval;
  if (!mem_.in_bounds(out, 4)) return kFault;
  UniqueFd s(::accept4(f->host.get(), nullptr, nullptr, SOCK_CLOEXEC | ((flags & kFdNonblock) ? SOCK_NONBLOCK : 0)));
  if (!s.valid()) return last_error();
  mem_.store<uint32_t>(out, add_fd(std::move(s)));
  return kSuccess;
}

uint32_t WasiHost::sock_recv(uint32_t fd, uint32_t iovs, uint32_t count, uint32_t flags, uint32_t len_out,
                             uint32_t flags_out) {
  Fd* f = lookup(fd);
  if (!f) return kBadf;
  std::vector<struct iovec> v;
  if (!mem_.iovecs(iovs, count, v) || !mem_.in_bounds(len_out, 4) || !mem_.in_bounds(flags_out, 2)) return kFault;
  if (flags & ~uint32_t{kRecvPeek | kRecvWaitall}) return kInval;
  struct msghdr m{};
  m.msg_iov = v.data();
  m.msg_iovlen = v.size();
  int native = ((flags & kRecvPeek) ? MSG_PEEK : 0) | ((flags & kRecvWaitall) ? MSG_WAITALL : 0);
  ssize_t n = ::recvmsg(f->host.get(), &m, native);
  if (n < 0) return last_error();
  mem_.store<uint32_t>(len_out, static_cast<uint32_t>(n));
  mem_.store<uint16_t>(flags_out, (m.msg_flags & MSG_TRUNC) ? kRecvDataTruncated : 0);
  return kSuccess;
}

uint32_t WasiHost::sock_send(uint32_t fd, uint32_t iovs, uint32_t count, uint32_t flags, uint32_t len_out) {
  Fd* f = lookup(fd);
  if (!f) return kBadf;
  if (flags != 0) return kInval;  // siflags has no flags defined
  std::vector<struct iovec> v;
  if (!mem_.iovecs(iovs, count, v) || !mem_.in_bounds(len_out, 4)) return kFault;
  struct msghdr m{};
  m.msg_iov = v.data();
  m.msg_iovlen = v.size();
  ssize_t n = ::sendmsg(f->host.get(), &m, MSG_NOSIGNAL);
  if (n < 0) return last_error();
  mem_.store<uint32_t>(len_out, static_cast<uint32_t>(n));
  return kSuccess;
}

uint32_t WasiHost::sock_shutdown(uint32_t fd, uint32_t how) {
  Fd* f = lookup(fd);
  if (!f) return kBadf;
  int h = how == kShutRd ? SHUT_RD : how == kShutWr ? SHUT_WR : how == (kShutRd | kShutWr) ? SHUT_RDWR : -1;
  if (h < 0) return kInval;
  return ::shutdown(f->host.get(), h) == 0 ? kSuccess : last_error();
}

}  // namespace wwjail
