#include "shim/net_namespace.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sys/sys_error.h"

namespace wwjail {
namespace {

// What travels over the channel: an errno in the payload, and on success
// exactly one descriptor in the control message.
union FdControl {
  char buf[CMSG_SPACE(sizeof(int))];
  cmsghdr align;
};

int send_result(int channel, int err, int ns_fd) {
  msghdr msg{};
  iovec iov{&err, sizeof err};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  FdControl control{};
  if (ns_fd >= 0) {
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof control.buf;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &ns_fd, sizeof ns_fd);
  }
  ssize_t n = retry_eintr([&] { return ::sendmsg(channel, &msg, MSG_NOSIGNAL); });
  return n == static_cast<ssize_t>(sizeof err) ? 0 : errno;
}

}  // namespace

int make_net_namespace_for_child(int channel) {
  int err = 0;
  int ns_fd = -1;
  if (::unshare(CLONE_NEWNET) != 0 || (ns_fd = ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) < 0) err = errno;
  int sent = send_result(channel, err, ns_fd);
  if (ns_fd >= 0) ::close(ns_fd);
  return err ? err : sent;
}

int join_net_namespace_from_reaper(int channel) {
  int err = EPROTO;
  iovec iov{&err, sizeof err};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  FdControl control{};
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof control.buf;
  ssize_t n = retry_eintr([&] { return ::recvmsg(channel, &msg, MSG_CMSG_CLOEXEC); });
  if (n < 0) return errno;
  int ns_fd = -1;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)))
      std::memcpy(&ns_fd, CMSG_DATA(c), sizeof ns_fd);
  }
  // MSG_CTRUNC: the descriptor could not be installed, in practice because
  // the open-file limit is reached. A short or long message is not the
  // reaper's; neither is a success without a descriptor.
  int result = 0;
  if (msg.msg_flags & MSG_CTRUNC) result = EMFILE;
  else if (n != static_cast<ssize_t>(sizeof err) || (msg.msg_flags & MSG_TRUNC)) result = EPROTO;
  else if (err != 0) result = err;
  else if (ns_fd < 0) result = EPROTO;
  else if (::setns(ns_fd, CLONE_NEWNET) != 0) result = errno;
  if (ns_fd >= 0) ::close(ns_fd);
  return result;
}

}  // namespace wwjail
