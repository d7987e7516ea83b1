#include "shim/seccomp_filter.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "sys/sys_error.h"
#include "sys/unique_fd.h"

namespace wwjail {
namespace {

struct CtxDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};

uint32_t action_of(const SyscallRule& rule) {
  switch (rule.action) {
    case FilterAction::kAllow: return SCMP_ACT_ALLOW;
    case FilterAction::kNotify: return SCMP_ACT_NOTIFY;
    case FilterAction::kErrno: return SCMP_ACT_ERRNO(rule.err);
  }
  return SCMP_ACT_KILL_PROCESS;
}

}  // namespace

CompiledFilter compile_guest_filter(const std::vector<SyscallRule>& rules) {
  const uint32_t default_action = SCMP_ACT_ERRNO(ENOSYS);
  std::unique_ptr<void, CtxDeleter> ctx(seccomp_init(default_action));
  if (!ctx) throw SetupError("libseccomp: seccomp_init failed");
  // A foreign audit arch (i386 int 0x80) ends the whole process.
  seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
  seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0);  // the shim sets no_new_privs itself
  // A binary search over syscall numbers instead of libseccomp's default
  // linear chain (ordered by rule count, so ioctl came ~430 instructions in).
  // libseccomp >= 2.5.0.
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2); rc != 0)
    throw SetupError(std::string("libseccomp: cannot select the binary-tree layout: ") + std::strerror(-rc));

  for (const auto& rule : rules) {
    int nr = seccomp_syscall_resolve_name(rule.name.c_str());
    if (nr == __NR_SCMP_ERROR) nr = rule.number;
    if (nr < 0) continue;  // unknown on this arch and no number given: the default refuses it
    // libseccomp rejects a rule that repeats the default action; it is implied.
    if (action_of(rule) == default_action) continue;
    int rc = seccomp_rule_add_array(ctx.get(), action_of(rule), nr, static_cast<unsigned>(rule.when.size()),
                                    rule.when.empty() ? nullptr : rule.when.data());
    if (rc != 0) throw SetupError("libseccomp: cannot add rule for " + rule.name + ": " + std::strerror(-rc));
  }

  UniqueFd mem(::memfd_create("wwjail-bpf", MFD_CLOEXEC));
  if (!mem.valid()) throw_sys("memfd_create");
  if (int rc = seccomp_export_bpf(ctx.get(), mem.get()); rc != 0)
    throw SetupError(std::string("libseccomp: export failed: ") + std::strerror(-rc));
  off_t size = ::lseek(mem.get(), 0, SEEK_END);
  if (size <= 0 || size % sizeof(sock_filter) != 0) throw SetupError("libseccomp: exported filter has a bad size");
  std::vector<sock_filter> program(static_cast<size_t>(size) / sizeof(sock_filter));
  if (::pread(mem.get(), program.data(), size, 0) != size) throw_sys("reading the exported filter");
  return CompiledFilter(std::move(program));
}

}  // namespace wwjail
