// Starting the guest. Everything the child needs is prepared in LaunchPlan
// before fork; the guest child (guest_child.cc) makes syscalls only and
// touches no allocator. The reaper (reaper.cc) does allocate (it lists the
// guest tree into vectors): that is safe because the broker forks it before
// it starts any thread (the notify thread starts only once the guest's
// listener is received, see PendingLaunch), so no lock can be held by a
// thread that does not exist in the child.
//
// Process tree:  wwjail (broker) -- reaper -- guest
// With a view, the reaper is PID 1 of the guest's PID namespace (and the
// guest sees only itself and its descendants in its /proc); the pids the
// broker uses are always its own namespace's: the guest's comes with the
// kernel's SCM_CREDENTIALS on the launch socket, not from the reaper.
// The reaper (shim/reaper.cc) is a child subreaper that is not confined: it
// reaps the whole guest tree, reports the main guest's wait status to the
// broker, and kills every descendant when the main guest exits or when the
// broker dies (its parent-death signal is a catchable SIGHUP). That is what
// makes "the broker died" end the whole tree, not just its first process.
//
// Sequence:  broker            reaper           guest child
//            fork -----------> fork ---------->  pdeathsig, own process group,
//                                            default signals, fds >= 3 cloexec,
//                                            capabilities dropped, no_new_privs,
//                                            Landlock, seccomp
//            pidfd_getfd       <-----------  report the listener's fd number (write)
//            (broker ready) go ------------>  execve(program)   [notified too]
//            EOF on the socket <-----------  exec succeeded (socket is cloexec)
//            or a ChildReport <-----------  exec or setup failed
#pragma once

#include <linux/filter.h>
#include <sys/types.h>

#include <cstdint>

#include <optional>
#include <string>
#include <vector>

#include "sys/unique_fd.h"

namespace wwjail {

struct MountViewPlan;

struct LaunchPlan {
  const char* program = nullptr;  // absolute path
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  const sock_fprog* filter = nullptr;
  int landlock_fd = -1;  // -1: no Landlock
  bool make_foreground = false;  // the guest's process group takes the terminal
  // Removed by the reaper if the broker dies (nullptr: keep). The broker
  // removes it itself on every other exit.
  const char* tmpdir_on_broker_death = nullptr;
  // Sockets wwjail bound for --listen: they become the guest's fds 3, 4, ...
  // (systemd socket activation). `listen_pid_digits` points at the digits
  // of the "LISTEN_PID=" entry in envp, which the child fills in itself.
  static constexpr int kMaxListen = 16;
  const int* listen_fds = nullptr;
  int listen_count = 0;
  // Resource limits set (soft and hard) before the guest is confined.
  struct Limit {
    int resource;
    uint64_t value;
  };
  const Limit* limits = nullptr;
  int limit_count = 0;
  char* listen_pid_digits = nullptr;
  size_t listen_pid_width = 0;
  // Capabilities the guest keeps (bit N: capability N); every other one
  // leaves every set before exec. `cap_last` is the kernel's highest
  // capability (/proc/sys/kernel/cap_last_cap, read before fork).
  uint64_t keep_caps = 0;
  int cap_last = 63;
  // A System V IPC namespace of its own (shared memory, message queues and
  // semaphores are reached by guessable ids, and no Landlock right covers
  // them). Needs CAP_SYS_ADMIN, which the parent checks it has; in a view's
  // user namespace the guest always gets one.
  bool own_ipc_namespace = false;
  // Kernel-first enforcement (shim/mount_view.h): the reaper starts as PID 1
  // of a PID namespace of its own (in a user namespace of its own when
  // `uid_map` is set: the caller's uid and gid mapped to themselves, maps the
  // reaper writes itself), and the guest child builds `view` in a mount
  // namespace before it is confined. When the kernel refuses the namespaces
  // (a container's seccomp profile, a sysctl), the guest starts without a
  // view and with `filter_without_view`; LaunchedGuest::in_view says which.
  const MountViewPlan* view = nullptr;
  // With a view, a network namespace of the guest's own (only a loopback,
  // down) when the policy reaches no network: then /proc/self/net shows
  // nothing of the host's sockets. Sockets wwjail bound for --listen and
  // pathname unix sockets work across network namespaces.
  bool own_net_namespace = false;
  const char* uid_map = nullptr;
  const char* gid_map = nullptr;
  const sock_fprog* filter_without_view = nullptr;
  // The Landlock ruleset then: a view's read rules may carry rights that
  // only its read-only mounts make harmless (shim/landlock_ruleset.h).
  int landlock_fd_without_view = -1;
  // The broker's pidfd: the reaper's test that the broker is alive (in a
  // PID namespace getppid() is 0).
  int broker_pidfd = -1;
};

// What the child writes to the launch socket, twice at most: first
// kListenerReady with the number of its notify listener fd in `value`, later
// (only if exec fails) kExec; or, instead of either, the setup step that
// failed. For every stage but kListenerReady, `value` is an errno.
struct ChildReport {
  enum Stage : int {
    kListenerReady = 0, kSetup, kLimits, kCapabilities, kLandlock, kSeccomp, kSendListener, kExec, kView, kNamespaces,
    kNetNamespace
  };
  Stage stage = kListenerReady;
  int value = 0;
  int view_step = 0;  // kView: which step of building the view (view_step_name)
  bool failed() const { return stage != kListenerReady; }
};

const char* stage_name(ChildReport::Stage stage);

struct LaunchedGuest {
  pid_t pid = -1;         // the main guest
  pid_t reaper_pid = -1;  // its parent, the broker's only child
  UniqueFd pidfd;         // of the main guest, for forwarding signals
  UniqueFd notify_fd;
  UniqueFd control;  // parent's end of the launch socket: send go, then watch for failure/EOF
  UniqueFd status;   // from the reaper: the main guest's wait status (an int) when it exits
  bool in_view = false;  // the guest runs in its view (LaunchPlan::view), its reaper as PID 1
  int clone_errno = 0;   // why the namespaces for a view could not be made (0: they were, or none asked)
  std::string view_failure;  // or why the view could not be built in them (then none was used)
};

// A launch under way: the reaper and the guest child forked, the child
// still building its namespaces and view. The broker prepares its own side
// meanwhile (on a 2-core machine the child's set-up leaves the broker's core
// idle for over a millisecond), then takes the listener with finish().
//
//   PendingLaunch pending(plan);            // forks
//   ... build the session (its tree root: pending.reaper_pid()) ...
//   auto guest = pending.finish();          // waits for the listener
//   if (!guest) { tear the session down; guest = pending.relaunch_without_view(); ... }
//
// When finish() says the view could not be built, whatever the broker made
// meanwhile must go before relaunch_without_view() forks again: nothing of
// it (an io_uring, threads) may cross into the new reaper. Destroyed
// unfinished, it ends and reaps the tree it forked.
class PendingLaunch {
 public:
  // `plan` must outlive this object.
  explicit PendingLaunch(const LaunchPlan& plan);
  ~PendingLaunch();
  PendingLaunch(const PendingLaunch&) = delete;
  PendingLaunch& operator=(const PendingLaunch&) = delete;

  pid_t reaper_pid() const { return guest_.reaper_pid; }

  // The guest with its listener; or nullopt when the namespaces were made
  // but the view could not be built in them (that tree is reaped). Throws
  // SetupError (with the child's stage and errno) on any other failure
  // before exec.
  std::optional<LaunchedGuest> finish();
  // After finish() gave nullopt: the same plan without a view. Throws
  // SetupError as finish() does.
  LaunchedGuest relaunch_without_view();

 private:
  void start(const LaunchPlan& plan);
  bool receive();
  void end_tree();

  const LaunchPlan& plan_;
  LaunchedGuest guest_;
  // The launch socket: held while the tree is pending, handed to the guest
  // once received, closed once the tree is reaped.
  UniqueFd parent_end_;
  UniqueFd status_read_;  // the reaper's status pipe
  ChildReport failure_;
};

// Forks the guest and receives its notify listener, falling back to no view
// as PendingLaunch does. Throws SetupError (with the child's stage and
// errno) when the child fails before exec.
LaunchedGuest launch_guest(const LaunchPlan& plan);

// Lets the child exec. After this, read `control`: EOF means exec succeeded.
void release_guest(const LaunchedGuest& guest);

// Runs in the forked child; never returns. Defined in guest_child.cc.
// `net_channel` (or -1): where the reaper sends the network namespace it
// made for the child (shim/net_namespace.h).
[[noreturn]] void run_guest_child(const LaunchPlan& plan, int control_fd, pid_t parent, int net_channel);

// Runs in the reaper; never returns. Defined in reaper.cc. Writes the main
// guest's pid, then its wait status, to `status_fd`.
[[noreturn]] void run_reaper(const LaunchPlan& plan, int control_fd, int status_fd, pid_t broker);

// Every live process below `root` (found through /proc ancestry).
std::vector<pid_t> descendants_of(pid_t root);

}  // namespace wwjail
