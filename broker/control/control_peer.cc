#include "broker/control/control_peer.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <dirent.h>

#include <cerrno>
#include <cstring>

#include "sys/kernel_abi.h"
#include "sys/proc_stat.h"
#include "sys/unique_fd.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

namespace wwjail::control {
namespace {

// EPERM: alive, but not ours to signal (root's, PID 1 for a user's server).
bool alive(const UniqueFd& pidfd) {
  return ::syscall(SYS_pidfd_send_signal, pidfd.get(), 0, nullptr, 0) == 0 || errno == EPERM;
}

// The peer's pinned process, or an invalid fd where the kernel has no
// SO_PEERPIDFD (before 6.5) and pid reuse is then the residual doubt.
UniqueFd peer_pidfd(int fd) {
  int pidfd = -1;
  socklen_t len = sizeof pidfd;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) != 0) return UniqueFd();
  return UniqueFd(pidfd);
}

// Whether `pid` holds a seccomp user-notification listener: it supervises
// guests (a wwjail broker, or another sandbox's), and what it connects it
// may connect for them. Unreadable counts as holding one.
bool supervises_guests(pid_t pid) {
  std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = ::opendir(dir.c_str());
  if (!d) return true;
  bool found = false;
  char link[64];
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    ssize_t n = ::readlinkat(::dirfd(d), e->d_name, link, sizeof link - 1);
    if (n <= 0) continue;
    link[n] = '\0';
    if (std::strcmp(link, "anon_inode:seccomp notify") == 0) {
      found = true;
      break;
    }
  }
  ::closedir(d);
  return found;
}

}  // namespace

std::string peer_refusal(int fd, pid_t tree_root) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return "its credentials cannot be read";
  if (cred.uid != ::geteuid() && cred.uid != 0) return "uid " + std::to_string(cred.uid) + " is not this run's user";
  if (cred.pid <= 0) return "it is in a PID namespace this jail cannot see";
  UniqueFd pinned = peer_pidfd(fd);
  if (!pinned.valid() && errno != ENOPROTOOPT && errno != EINVAL) return "it has exited";
  // A broker connects for its guests, with its own pid: this one's, or
  // another jail's whose guest was granted a connect here.
  if (supervises_guests(cred.pid)) return "it supervises guests (a broker connecting for one)";
  if (pinned.valid() && !alive(pinned)) return "it has exited";
  pid_t pid = cred.pid;
  for (int depth = 0; depth < 4096; ++depth) {
    if (pid == tree_root) return "it is one of this jail's guests";
    if (pid <= 1) return pinned.valid() && !alive(pinned) ? "it has exited" : "";
    pid_t parent = parent_pid(pid);
    if (parent < 0) return "it has exited";
    // Pin the parent, then check it is still the parent of the (pinned)
    // child: the link was real at that instant.
    UniqueFd parent_fd(kernel::pidfd_open(parent));
    if (parent > 1 && !parent_fd.valid()) return "its ancestry changed while it was checked";
    if (parent_pid(pid) != parent || (pinned.valid() && !alive(pinned)))
      return "its ancestry changed while it was checked";
    pid = parent;
    pinned = std::move(parent_fd);
  }
  return "its ancestry is too deep";
}

}  // namespace wwjail::control
