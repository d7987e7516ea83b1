// Starting the guest. Everything the child needs is prepared in LaunchPlan
// before fork; the child path (guest_child.cc) makes syscalls only, so it is
// safe even if the broker process had other threads.
//
// Sequence:  parent                          child
//            fork ------------------------>  pdeathsig, own process group,
//                                            default signals, fds >= 3 cloexec,
//                                            no_new_privs, Landlock, seccomp
//            receive listener  <-----------  send listener (SCM_RIGHTS)
//            (broker ready) go ------------>  execve(program)   [notified too]
//            EOF on the socket <-----------  exec succeeded (socket is cloexec)
//            or a ChildFailure  <-----------  exec or setup failed
#pragma once

#include <linux/filter.h>
#include <sys/types.h>

#include "sys/unique_fd.h"

namespace wwjail {

struct LaunchPlan {
  const char* program = nullptr;  // absolute path
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  const sock_fprog* filter = nullptr;
  int landlock_fd = -1;  // -1: no Landlock
  bool make_foreground = false;  // the guest's process group takes the terminal
};

// What the child reports when a step fails, instead of exec'ing.
struct ChildFailure {
  enum Stage : int { kNone = 0, kSetup, kLandlock, kSeccomp, kSendListener, kExec } stage = kNone;
  int err = 0;
};

const char* stage_name(ChildFailure::Stage stage);

struct LaunchedGuest {
  pid_t pid = -1;
  UniqueFd pidfd;
  UniqueFd notify_fd;
  UniqueFd control;  // parent's end of the launch socket: send go, then watch for failure/EOF
};

// Forks the guest and receives its notify listener. Throws SetupError (with
// the child's stage and errno) when the child fails before exec.
LaunchedGuest launch_guest(const LaunchPlan& plan);

// Lets the child exec. After this, read `control`: EOF means exec succeeded.
void release_guest(const LaunchedGuest& guest);

// Runs in the forked child; never returns. Defined in guest_child.cc.
[[noreturn]] void run_guest_child(const LaunchPlan& plan, int control_fd, pid_t parent);

}  // namespace wwjail
