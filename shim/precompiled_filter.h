// The guest filter compiled at build time (shim/filter_gen.cc), so starting a
// guest does not run libseccomp. Two variants: with Landlock signal scoping
// (kill and friends allowed) and without (routed to the broker).
#pragma once

#include <linux/filter.h>

#include <cstddef>

#include "shim/seccomp_filter.h"

namespace wwjail {

namespace generated {
constexpr int kSyscallNameCount = 512;
extern const sock_filter kFilterSignalsScoped[];
extern const size_t kFilterSignalsScopedLen;
extern const sock_filter kFilterSignalsChecked[];
extern const size_t kFilterSignalsCheckedLen;
extern const char* const kSyscallNames[kSyscallNameCount];
}  // namespace generated

CompiledFilter precompiled_guest_filter(bool landlock_scopes_signals);

// The native name of syscall `nr`, or nullptr.
const char* native_syscall_name(int nr);

}  // namespace wwjail
