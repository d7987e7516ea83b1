// The guest's syscall policy as typed data. shim/seccomp_filter.cc compiles
// it with libseccomp; tests read it to check that every path-carrying syscall
// is routed to the broker. Anything not listed here fails with ENOSYS, so a
// syscall added to a future kernel is refused until someone reviews it.
#pragma once

#include <seccomp.h>

#include <cstdint>
#include <string>
#include <vector>

namespace wwjail {

enum class FilterAction : uint8_t {
  kAllow,   // decided by registers alone, or harmless
  kNotify,  // the broker decides (paths, pids, fds that reach new objects)
  kErrno,   // refused with `err`
};

struct SyscallRule {
  std::string name;     // libseccomp's name for the syscall
  int number = -1;      // x86_64 number, used when libseccomp 2.5 does not know the name
  FilterAction action = FilterAction::kErrno;
  int err = 0;
  // Conditions on register arguments, all of which must hold (AND).
  std::vector<scmp_arg_cmp> when;
};

struct FilterOptions {
  // Landlock scopes signals to the guest's own domain (ABI 6), so kill()
  // needs no broker check. Without it the broker checks every target pid.
  bool landlock_scopes_signals = false;
  // The guest runs in its own view of the file system (shim/mount_view.h):
  // what is not granted does not exist there, and Landlock decides access
  // to what does. The path calls the view and Landlock decide together are
  // allowed in the kernel (kKernelDecided in syscall_rules.cc); the broker
  // keeps metadata writes, exec and everything with an address.
  bool kernel_decides_files = false;
  // ... without a view ([storage] metadata = "visible" where no namespace
  // can be made): everything outside the grants exists there, so only the
  // calls that reveal metadata (stat, readlink, statfs) and those Landlock
  // decides go to the kernel; xattr reads (values are data) and inotify
  // watches (they report the names created in a directory) stay the broker's.
  bool without_view = false;
};

// The syscalls that move from the broker to the kernel in a view, and
// those of them that do without one.
bool kernel_decided_in_view(const std::string& name);
bool kernel_decided_without_view(const std::string& name);

// The filters compiled at build time (shim/filter_gen.cc), one per variant
// of the options that matter: signals scoped or not, times the broker, the
// kernel in a view, or the kernel without one.
constexpr int kFilterVariants = 6;
int filter_variant(const FilterOptions& options);
FilterOptions filter_variant_options(int variant);

std::vector<SyscallRule> guest_syscall_rules(const FilterOptions& options);

}  // namespace wwjail
