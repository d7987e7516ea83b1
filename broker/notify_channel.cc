#include "broker/notify_channel.h"

#include <poll.h>

#include <sys/ioctl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "sys/kernel_abi.h"
#include "sys/sys_error.h"

namespace wwjail {

KernelNotifyChannel::KernelNotifyChannel() {
  seccomp_notif_sizes sizes{};
  if (kernel::seccomp(SECCOMP_GET_NOTIF_SIZES, 0, &sizes) != 0) throw_sys("SECCOMP_GET_NOTIF_SIZES");
  notif_buf_.resize(std::max<size_t>(sizes.seccomp_notif, sizeof(seccomp_notif)));
  resp_size_ = std::max<size_t>(sizes.seccomp_notif_resp, sizeof(seccomp_notif_resp));
}

void KernelNotifyChannel::attach(UniqueFd fd) {
  if (fd_.valid()) throw SysError("the notify channel already has a listener", EBUSY);
  fd_ = std::move(fd);
}

bool KernelNotifyChannel::enable_sync_wakeup() {
  return ::ioctl(fd_.get(), SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) == 0;
}

bool KernelNotifyChannel::receive(seccomp_notif& out) {
  // The kernel refuses a receive buffer that is not zeroed.
  std::fill(notif_buf_.begin(), notif_buf_.end(), 0);
  int rc = ::ioctl(fd_.get(), SECCOMP_IOCTL_NOTIF_RECV, notif_buf_.data());
  if (rc != 0) {
    // ENOENT: the notification vanished; EINTR: the caller was woken.
    if (errno == ENOENT || errno == EINTR) return false;
    throw_sys("SECCOMP_IOCTL_NOTIF_RECV");
  }
  std::memcpy(&out, notif_buf_.data(), sizeof out);
  return true;
}

bool KernelNotifyChannel::guests_gone() const {
  pollfd p{fd_.get(), POLLIN, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & POLLHUP);
}

void KernelNotifyChannel::respond(const seccomp_notif_resp& resp) {
  // Answers come from two threads: each call has its own buffer.
  unsigned char local[256];
  std::vector<unsigned char> large;
  unsigned char* buf = local;
  if (resp_size_ > sizeof local) {
    large.resize(resp_size_);
    buf = large.data();
  }
  std::memset(buf, 0, resp_size_);
  std::memcpy(buf, &resp, sizeof resp);
  int rc = retry_eintr([&] { return ::ioctl(fd_.get(), SECCOMP_IOCTL_NOTIF_SEND, buf); });
  // ENOENT: the guest thread is gone. EINPROGRESS: already answered.
  if (rc != 0 && errno != ENOENT && errno != EINPROGRESS) throw_sys("SECCOMP_IOCTL_NOTIF_SEND");
}

bool KernelNotifyChannel::id_valid(uint64_t id) {
  return ::ioctl(fd_.get(), SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

int KernelNotifyChannel::add_fd(const seccomp_notif_addfd& addfd) {
  int rc = retry_eintr([&] { return ::ioctl(fd_.get(), SECCOMP_IOCTL_NOTIF_ADDFD, &addfd); });
  return rc < 0 ? -errno : rc;
}

}  // namespace wwjail
