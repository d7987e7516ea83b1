#include "shim/precompiled_filter.h"

#include <vector>

namespace wwjail {

CompiledFilter precompiled_guest_filter(const FilterOptions& options) {
  int v = filter_variant(options);
  const sock_filter* program = generated::kFilterPrograms[v];
  return CompiledFilter(std::vector<sock_filter>(program, program + generated::kFilterLengths[v]));
}

const char* native_syscall_name(int nr) {
  return nr >= 0 && nr < generated::kSyscallNameCount ? generated::kSyscallNames[nr] : nullptr;
}

}  // namespace wwjail
