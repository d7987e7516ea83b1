#include "shim/precompiled_filter.h"

#include <vector>

namespace wwjail {

CompiledFilter precompiled_guest_filter(const FilterOptions& options) {
  struct Variant {
    const sock_filter* program;
    size_t len;
  };
  using namespace generated;
  const Variant variants[] = {
      {kFilterSignalsChecked, kFilterSignalsCheckedLen},
      {kFilterSignalsScoped, kFilterSignalsScopedLen},
      {kFilterSignalsCheckedView, kFilterSignalsCheckedViewLen},
      {kFilterSignalsScopedView, kFilterSignalsScopedViewLen},
  };
  const Variant& v = variants[(options.landlock_scopes_signals ? 1 : 0) + (options.kernel_decides_files ? 2 : 0)];
  return CompiledFilter(std::vector<sock_filter>(v.program, v.program + v.len));
}

const char* native_syscall_name(int nr) {
  return nr >= 0 && nr < generated::kSyscallNameCount ? generated::kSyscallNames[nr] : nullptr;
}

}  // namespace wwjail
