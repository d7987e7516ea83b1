// The reaper: the guest tree's init, between the broker and the guest.
//
// It is a child subreaper, so every orphan in the tree re-parents to it and
// the tree is always "the reaper's descendants". It is not confined (it runs
// before Landlock and seccomp are applied in the guest child), and the guest
// cannot signal it: Landlock scopes signals to the guest's domain (ABI 6), and
// without that the broker refuses signals to anything outside the tree.
//
// It ends the tree in both ways a run can end:
//  * the main guest exits: report its wait status, kill the rest, reap, exit;
//  * the broker dies: its parent-death signal (SIGHUP, caught) says so; kill
//    everything, reap, exit. A dead broker cannot answer notifications, so
//    the guests' intercepted syscalls already fail (ENOSYS); now they stop.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "shim/guest_launch.h"
#include "shim/net_namespace.h"
#include "sys/proc_stat.h"
#include "sys/remove_tree.h"

namespace wwjail {
namespace {

// True while the reaper has any child at all. Every descendant either has a
// living parent in the tree or was re-parented to the reaper, so no children
// means no descendants.
bool has_children() {
  siginfo_t si{};
  return ::waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == 0;
}

void kill_descendants(pid_t self, bool pid_namespace) {
  if (pid_namespace) {
    // PID 1 of the guest's namespace: kill(-1) reaches every other process
    // in it, and nothing outside.
    ::kill(-1, SIGKILL);
    return;
  }
  // Processes can fork while we scan; SIGKILLed ones cannot, so a few
  // rounds reach a fixed point.
  for (int round = 0; round < 32 && has_children(); ++round) {
    auto pids = descendants_of(self);
    if (pids.empty()) return;
    for (pid_t p : pids) ::kill(p, SIGKILL);
  }
}

}  // namespace

namespace {

// Children of `pid`, from /proc/PID/task/*/children (Linux 3.5+ with
// CONFIG_PROC_CHILDREN). False when that interface is missing.
bool children_of(pid_t pid, std::vector<pid_t>& out) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/task", pid);
  DIR* tasks = ::opendir(path);
  if (!tasks) return false;
  bool ok = true;
  while (dirent* t = ::readdir(tasks)) {
    if (t->d_name[0] == '.') continue;
    char cpath[96];
    std::snprintf(cpath, sizeof cpath, "/proc/%d/task/%s/children", pid, t->d_name);
    FILE* f = std::fopen(cpath, "re");
    if (!f) {
      ok = errno != ENOENT;
      continue;
    }
    int child;
    while (std::fscanf(f, "%d", &child) == 1) out.push_back(child);
    std::fclose(f);
  }
  ::closedir(tasks);
  return ok;
}

}  // namespace

std::vector<pid_t> descendants_of(pid_t root) {
  std::vector<pid_t> out;
  // Walk down from root: touches only the tree itself.
  std::vector<pid_t> frontier{root};
  bool walkable = true;
  while (!frontier.empty() && walkable) {
    pid_t p = frontier.back();
    frontier.pop_back();
    std::vector<pid_t> kids;
    walkable = children_of(p, kids) || p != root;
    for (pid_t k : kids) {
      out.push_back(k);
      frontier.push_back(k);
    }
  }
  if (walkable) return out;
  // No children interface: scan every process and walk its ancestry.
  out.clear();
  DIR* d = ::opendir("/proc");
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    char* end;
    long pid = std::strtol(e->d_name, &end, 10);
    if (*end != 0 || pid <= 1 || pid == root) continue;
    pid_t p = static_cast<pid_t>(pid);
    for (int depth = 0; depth < 256 && p > 1; ++depth) {
      p = parent_pid(p);
      if (p == root) {
        out.push_back(static_cast<pid_t>(pid));
        break;
      }
    }
  }
  ::closedir(d);
  return out;
}

namespace {

// Writes `text` to /proc/self/`file`; false on failure.
bool write_self_file(const char* file, const char* text) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/self/%s", file);
  int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  size_t len = std::strlen(text);
  bool ok = ::write(fd, text, len) == static_cast<ssize_t>(len);
  ::close(fd);
  return ok;
}

// In a user namespace of its own, the reaper maps its uid and gid to
// themselves (an unprivileged process may map exactly its own ids, once
// setgroups is denied), so the guest's ids inside equal its ids outside.
bool map_own_ids(const LaunchPlan& plan) {
  if (!plan.uid_map) return true;
  return write_self_file("setgroups", "deny") && write_self_file("uid_map", plan.uid_map) &&
         write_self_file("gid_map", plan.gid_map);
}

// In a PID namespace getppid() is 0: the broker's pidfd says whether it
// lives. It polls readable once the broker has exited, zombie or not (a
// signal to a zombie still succeeds, so that is no test).
bool broker_gone(const LaunchPlan& plan, pid_t broker) {
  if (!plan.view) return ::getppid() != broker;
  pollfd p{plan.broker_pidfd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1;
}

}  // namespace

namespace {

// The parent-death signal is sent before the broker's pidfd turns
// readable (exit_notify), so in a PID namespace the pidfd is given a moment
// (a second at most, for a SIGHUP that did not come from the broker's death).
bool broker_gone_after_sighup(const LaunchPlan& plan, pid_t broker) {
  if (!plan.view) return broker_gone(plan, broker);
  pollfd p{plan.broker_pidfd, POLLIN, 0};
  int n;
  do n = ::poll(&p, 1, 1000); while (n < 0 && errno == EINTR);
  return n == 1;
}

// A step before the guest child runs failed: the broker reads why on the
// launch socket, as it would the child's own report.
[[noreturn]] void report_and_exit(int control_fd, ChildReport::Stage stage, int err) {
  ChildReport f{stage, err};
  (void)!::write(control_fd, &f, sizeof f);
  ::_exit(125);
}

}  // namespace

void run_reaper(const LaunchPlan& plan, int control_fd, int status_fd, pid_t broker) {
  // SIGCHLD and the forwarded signals are blocked (inherited from the
  // broker); SIGHUP joins them so it can be waited for too.
  sigset_t wait_set;
  sigemptyset(&wait_set);
  sigaddset(&wait_set, SIGCHLD);
  sigaddset(&wait_set, SIGHUP);
  ::sigprocmask(SIG_BLOCK, &wait_set, nullptr);
  if (::prctl(PR_SET_PDEATHSIG, SIGHUP) != 0 || broker_gone(plan, broker)) ::_exit(125);
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) ::_exit(125);
  ::prctl(PR_SET_NAME, "wwjail-reaper");
  if (!map_own_ids(plan)) report_and_exit(control_fd, ChildReport::kNamespaces, errno);

  // The guest's network namespace is made here while the child builds
  // its view (shim/net_namespace.h).
  int net_channel[2] = {-1, -1};
  bool make_net = plan.view && plan.own_net_namespace;
  if (make_net && ::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, net_channel) != 0)
    report_and_exit(control_fd, ChildReport::kSetup, errno);
  pid_t self = ::getpid();
  pid_t guest = ::fork();
  if (guest < 0) report_and_exit(control_fd, ChildReport::kSetup, errno);
  if (guest == 0) {
    ::close(status_fd);
    if (make_net) ::close(net_channel[0]);
    run_guest_child(plan, control_fd, self, net_channel[1]);
  }
  ::close(control_fd);
  (void)!::write(status_fd, &guest, sizeof guest);
  if (make_net) {
    ::close(net_channel[1]);
    // A failure is the child's to report: it receives the errno and stops.
    make_net_namespace_for_child(net_channel[0]);
    ::close(net_channel[0]);
  }

  bool guest_done = false;
  for (;;) {
    siginfo_t si;
    int sig = ::sigwaitinfo(&wait_set, &si);
    if (sig == SIGHUP && broker_gone_after_sighup(plan, broker)) {
      // The broker is gone: nobody can answer the guests any more.
      kill_descendants(self, plan.view);
    }
    for (;;) {
      int status;
      pid_t p = ::waitpid(-1, &status, WNOHANG | __WALL);
      if (p == 0) break;
      if (p < 0) {
        if (errno == EINTR) continue;
        // No children left: the tree is gone.
        if (broker_gone(plan, broker)) {
          // Nothing is left to clean up after the broker but its temp dir.
          if (plan.tmpdir_on_broker_death) remove_tree_at(AT_FDCWD, plan.tmpdir_on_broker_death);
          ::_exit(0);
        }
        if (guest_done) ::_exit(0);
        break;
      }
      if (p == guest && !guest_done) {
        guest_done = true;
        (void)!::write(status_fd, &status, sizeof status);
        // The main guest is gone, so is the run: whatever it left behind
        // (daemonised grandchildren) is still a guest and stops now.
        kill_descendants(self, plan.view);
      }
    }
  }
}

}  // namespace wwjail
