// Building the guest's view in the guest child (after fork, before Landlock
// and seccomp). Rules as for guest_child.cc: syscalls on data the broker
// prepared, no allocation, no exceptions. See mount_view.h.
#include <fcntl.h>
#include <linux/landlock.h>
#include <linux/mount.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "shim/mount_view.h"
#include "sys/kernel_abi.h"

namespace wwjail {
namespace {

// Sets `set` on the mount at `fd` (and every mount below it when
// `recursive`); the locked flags of a user namespace stay as they are.
int set_mount_flags(int fd, const char* path, uint64_t set, bool recursive) {
  mount_attr attr{};
  attr.attr_set = set;
  unsigned flags = (path[0] ? 0 : AT_EMPTY_PATH) | (recursive ? AT_RECURSIVE : 0);
  return ::syscall(SYS_mount_setattr, fd, path, flags, &attr, sizeof attr) == 0 ? 0 : errno;
}

// The host's `source` (beneath the old root, no symbolic link on the way)
// bound at `target`, read-only when asked. nosuid always: no_new_privs
// already ignores set-id bits, this says so in the mount table too.
int bind(const MountViewPlan::Entry& e) {
  open_how how{};
  how.flags = O_PATH | O_CLOEXEC | O_NOFOLLOW;
  how.resolve = RESOLVE_NO_SYMLINKS;
  int src = static_cast<int>(::syscall(SYS_openat2, AT_FDCWD, e.source.c_str(), &how, sizeof how));
  if (src < 0) return errno;
  int tree = static_cast<int>(
      ::syscall(SYS_open_tree, src, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE));
  int err = tree < 0 ? errno : 0;
  ::close(src);
  if (err) return err;
  err = set_mount_flags(tree, "", MOUNT_ATTR_NOSUID | (e.read_only ? MOUNT_ATTR_RDONLY : 0), true);
  if (!err && ::syscall(SYS_move_mount, tree, "", AT_FDCWD, e.path.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0)
    err = errno;
  ::close(tree);
  return err;
}

int make_mountpoint(const MountViewPlan::Entry& e) {
  if (e.kind == MountViewPlan::Entry::kBindDir) {
    if (::mkdir(e.path.c_str(), 0755) != 0 && errno != EEXIST) return errno;
    return 0;
  }
  int fd = ::open(e.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return errno == EEXIST ? 0 : errno;
  ::close(fd);
  return 0;
}

// The guest's Landlock ruleset, still open for rules, and the rights it
// handles (a rule may name no other).
struct Ruleset {
  int fd;
  uint64_t handled;
};

// A rule granting `rights` beneath the directory at `path`.
int grant_to_landlock(const Ruleset& ruleset, const char* path, uint64_t rights) {
  rights &= ruleset.handled;
  int landlock_fd = ruleset.fd;
  if (landlock_fd < 0 || rights == 0) return 0;
  int fd = ::open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  landlock_path_beneath_attr rule{};
  rule.allowed_access = rights;
  rule.parent_fd = fd;
  int err = kernel::landlock_add_rule(landlock_fd, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) == 0 ? 0 : errno;
  ::close(fd);
  return err;
}

// A devpts instance of the guest's own: its ptmx usable by everyone in it.
int mount_devpts(const MountViewPlan::Entry& e, const Ruleset& ruleset) {
  if (::mkdir(e.path.c_str(), 0755) != 0 && errno != EEXIST) return errno;
  if (::mount("devpts", e.path.c_str(), "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620") != 0)
    return errno;
  return grant_to_landlock(ruleset, e.path.c_str(),
                           LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_DIR |
                               LANDLOCK_ACCESS_FS_IOCTL_DEV);
}

int add_entry(const MountViewPlan::Entry& e, const Ruleset& ruleset, ViewStep* step) {
  using Entry = MountViewPlan::Entry;
  switch (e.kind) {
    case Entry::kDir:
      *step = ViewStep::kSkeletonDir;
      return ::mkdir(e.path.c_str(), 0755) == 0 || errno == EEXIST ? 0 : errno;
    case Entry::kSymlink:
      *step = ViewStep::kSymlink;
      return ::symlink(e.source.c_str(), e.path.c_str()) == 0 || errno == EEXIST ? 0 : errno;
    case Entry::kDevpts:
      *step = ViewStep::kDevpts;
      return mount_devpts(e, ruleset);
    case Entry::kBindDir:
    case Entry::kBindFile:
      *step = ViewStep::kMountPoint;
      if (int err = make_mountpoint(e)) return err;
      *step = ViewStep::kBind;
      return bind(e);
  }
  return EINVAL;
}

// A procfs of the guest's PID namespace at /proc, readable through Landlock.
int mount_own_proc(const Ruleset& ruleset, ViewStep* step) {
  *step = ViewStep::kProc;
  if (::mkdir("/proc", 0555) != 0 && errno != EEXIST) return errno;
  if (::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=ptraceable,subset=pid") != 0)
    return errno;
  *step = ViewStep::kProcRule;
  return grant_to_landlock(ruleset, "/proc", LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR);
}

// A tmpfs on the stage becomes the root; the host's tree stays reachable at
// old_root_in_view until every grant is bound.
int enter_new_root(const MountViewPlan& plan, ViewStep* step) {
  *step = ViewStep::kUnshare;
  if (::unshare(CLONE_NEWNS) != 0) return errno;
  *step = ViewStep::kPrivate;
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return errno;
  *step = ViewStep::kRoot;
  if (::mount("tmpfs", plan.stage.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m") != 0) return errno;
  if (::mkdir(plan.old_root.c_str(), 0700) != 0) return errno;
  *step = ViewStep::kPivot;
  if (::syscall(SYS_pivot_root, plan.stage.c_str(), plan.old_root.c_str()) != 0) return errno;
  if (::chdir("/") != 0) return errno;
  return 0;
}

}  // namespace

const char* view_step_name(int step) {
  switch (static_cast<ViewStep>(step)) {
    case ViewStep::kSkeletonDir: return "making a directory of the view";
    case ViewStep::kSymlink: return "recreating a granted symbolic link";
    case ViewStep::kMountPoint: return "making a mount point in the view";
    case ViewStep::kBind: return "binding a grant into the view";
    case ViewStep::kProc: return "mounting the guest's /proc";
    case ViewStep::kProcRule: return "granting the guest's /proc to Landlock";
    case ViewStep::kDevpts: return "mounting the guest's own terminals (devpts)";
    case ViewStep::kUnshare: return "making a mount namespace";
    case ViewStep::kPrivate: return "making the mounts private";
    case ViewStep::kRoot: return "mounting the view's root";
    case ViewStep::kPivot: return "entering the view's root (pivot_root)";
    case ViewStep::kLeaveHost: return "leaving the host's tree";
    case ViewStep::kReadOnlyRoot: return "making the view's root read-only";
    case ViewStep::kChdir: return "entering the start directory";
  }
  return "?";
}

int apply_mount_view(const MountViewPlan& plan, int landlock_fd, ViewStep* step) {
  const Ruleset ruleset{landlock_fd, plan.landlock_handled};
  if (int err = enter_new_root(plan, step)) return err;
  for (const auto& e : plan.entries) {
    if (int err = add_entry(e, ruleset, step)) return err;
  }
  if (int err = mount_own_proc(ruleset, step)) return err;
  *step = ViewStep::kLeaveHost;
  if (::umount2(plan.old_root_in_view.c_str(), MNT_DETACH) != 0) return errno;
  if (::rmdir(plan.old_root_in_view.c_str()) != 0) return errno;
  *step = ViewStep::kReadOnlyRoot;
  if (int err = set_mount_flags(AT_FDCWD, "/", MOUNT_ATTR_RDONLY, false)) return err;
  *step = ViewStep::kChdir;
  if (::chdir(plan.cwd.c_str()) != 0 && ::chdir("/") != 0) return errno;
  return 0;
}

}  // namespace wwjail
