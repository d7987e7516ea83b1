// The network namespace handed from the reaper to the guest child
// (shim/net_namespace.h). The child must join only a namespace the reaper
// made, and fail on anything else: an error, a message without a
// descriptor, a descriptor that is not a network namespace, no message.
// Each case runs in a forked process, so the test's own namespace stays.
#include "shim/net_namespace.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <functional>

namespace wwjail {
namespace {

// The inode of the calling process's network namespace.
ino_t net_namespace_inode() {
  struct stat st{};
  return ::stat("/proc/self/ns/net", &st) == 0 ? st.st_ino : 0;
}

// The number of network interfaces the calling process sees.
int interface_count() {
  struct if_nameindex* all = ::if_nameindex();
  if (!all) return -1;
  int n = 0;
  while (all[n].if_index != 0) ++n;
  ::if_freenameindex(all);
  return n;
}

// Runs `body` in a child and returns its exit status (or -1).
int in_child(const std::function<int()>& body) {
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(body());
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

// What the child's side returns for a message of `err` (and `fd`, or none)
// sent the way the reaper sends it; exit codes: the errno, or 0.
int join_after(int err, int fd, bool send_anything = true) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) return -1;
  if (send_anything) {
    msghdr msg{};
    iovec iov{&err, sizeof err};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    if (fd >= 0) {
      msg.msg_control = control;
      msg.msg_controllen = sizeof control;
      cmsghdr* c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int));
      std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
    }
    if (::sendmsg(sv[0], &msg, 0) != static_cast<ssize_t>(sizeof err)) return -1;
  }
  ::close(sv[0]);
  ino_t before = net_namespace_inode();
  int rc = in_child([&] {
    int r = join_net_namespace_from_reaper(sv[1]);
    // A failed join leaves the namespace as it was.
    if (r != 0 && net_namespace_inode() != before) return 99;
    return r;
  });
  ::close(sv[1]);
  return rc;
}

TEST(NetNamespaceHandover, TheChildJoinsTheNamespaceTheReaperMade) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
  ino_t host = net_namespace_inode();
  int reaper = in_child([&] { return make_net_namespace_for_child(sv[0]); });
  ::close(sv[0]);
  if (reaper == EPERM) {
    ::close(sv[1]);
    GTEST_SKIP() << "no CAP_SYS_ADMIN for a network namespace here";
  }
  ASSERT_EQ(reaper, 0) << std::strerror(reaper);
  int child = in_child([&] {
    if (join_net_namespace_from_reaper(sv[1]) != 0) return 1;
    if (net_namespace_inode() == host) return 2;
    return interface_count() == 1 ? 0 : 3;  // the loopback only
  });
  ::close(sv[1]);
  EXPECT_EQ(child, 0);
}

TEST(NetNamespaceHandover, TheReapersErrorIsTheChilds) {
  EXPECT_EQ(join_after(ENOSPC, -1), ENOSPC);
}

TEST(NetNamespaceHandover, SuccessWithoutADescriptorIsRefused) {
  EXPECT_EQ(join_after(0, -1), EPROTO);
}

TEST(NetNamespaceHandover, NoMessageIsRefused) {
  EXPECT_EQ(join_after(0, -1, false), EPROTO);
}

TEST(NetNamespaceHandover, ADescriptorThatIsNoNetworkNamespaceIsRefused) {
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(null_fd, 0);
  int user_ns = ::open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(user_ns, 0);
  EXPECT_EQ(join_after(0, null_fd), EINVAL);
  EXPECT_EQ(join_after(0, user_ns), EINVAL);
  ::close(null_fd);
  ::close(user_ns);
}

}  // namespace
}  // namespace wwjail
