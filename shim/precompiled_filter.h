// The guest filter compiled at build time (shim/filter_gen.cc), so starting a
// guest does not run libseccomp. Four variants: with Landlock signal scoping
// (kill and friends allowed) or without (routed to the broker), each with
// the broker mediating file calls or with the guest in a view where the
// kernel decides them (FilterOptions, shim/syscall_rules.h).
#pragma once

#include <linux/filter.h>

#include <cstddef>

#include "shim/seccomp_filter.h"
#include "shim/syscall_rules.h"

namespace wwjail {

namespace generated {
constexpr int kSyscallNameCount = 512;
// By filter_variant() (shim/syscall_rules.h).
extern const sock_filter* const kFilterPrograms[kFilterVariants];
extern const size_t kFilterLengths[kFilterVariants];
extern const char* const kSyscallNames[kSyscallNameCount];
}  // namespace generated

CompiledFilter precompiled_guest_filter(const FilterOptions& options);

// The native name of syscall `nr`, or nullptr.
const char* native_syscall_name(int nr);

}  // namespace wwjail
