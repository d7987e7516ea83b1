#include "shim/precompiled_filter.h"

#include <vector>

namespace wwjail {

CompiledFilter precompiled_guest_filter(bool landlock_scopes_signals) {
  const sock_filter* p = landlock_scopes_signals ? generated::kFilterSignalsScoped : generated::kFilterSignalsChecked;
  size_t n = landlock_scopes_signals ? generated::kFilterSignalsScopedLen : generated::kFilterSignalsCheckedLen;
  return CompiledFilter(std::vector<sock_filter>(p, p + n));
}

const char* native_syscall_name(int nr) {
  return nr >= 0 && nr < generated::kSyscallNameCount ? generated::kSyscallNames[nr] : nullptr;
}

}  // namespace wwjail
