// The filter's rules and the broker's routes are one contract: every
// syscall a rule sends to the broker has a handler, and every handler
// serves a syscall some rule sends. A notified syscall without a route
// would be refused with ENOSYS at run time; this fails first.
#include <gtest/gtest.h>
#include <seccomp.h>

#include <set>
#include <string>

#include "broker/syscall_handlers.h"
#include "shim/syscall_rules.h"

namespace wwjail {
namespace {

int number_of(const SyscallRule& r) {
  return r.number >= 0 ? r.number : seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, r.name.c_str());
}

std::set<int> notified(bool landlock_scopes_signals) {
  std::set<int> out;
  for (const auto& r : guest_syscall_rules(FilterOptions{.landlock_scopes_signals = landlock_scopes_signals})) {
    if (r.action == FilterAction::kNotify) out.insert(number_of(r));
  }
  return out;
}

TEST(SyscallRoutes, EveryNotifiedSyscallHasAHandler) {
  for (bool scoped : {false, true}) {
    std::set<int> nrs = notified(scoped);
    EXPECT_GT(nrs.size(), 50u) << "positive control: the rules notify the path calls";
    for (int nr : nrs) {
      EXPECT_GT(nr, 0);
      EXPECT_TRUE(SyscallHandlers::has_route(nr)) << SyscallHandlers::syscall_name(nr) << " (" << nr
                                                  << ") is notified but has no handler";
    }
  }
}

TEST(SyscallRoutes, EveryHandlerServesANotifiedSyscall) {
  std::set<int> nrs = notified(false);
  for (int nr : notified(true)) nrs.insert(nr);
  for (int nr = 0; nr < 512; ++nr) {
    if (!SyscallHandlers::has_route(nr)) continue;
    EXPECT_TRUE(nrs.count(nr)) << SyscallHandlers::syscall_name(nr) << " (" << nr
                               << ") has a handler but no rule notifies it";
  }
  EXPECT_FALSE(SyscallHandlers::has_route(SYS_getpid)) << "control: an allowed syscall has no route";
}

}  // namespace
}  // namespace wwjail
