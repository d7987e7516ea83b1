// Compiles the guest's syscall rules (shim/syscall_rules.h) to a classic BPF
// program with libseccomp. Done before fork: the child only hands the finished
// program to seccomp(2), because libseccomp allocates and the post-fork path
// must not.
#pragma once

#include <linux/filter.h>

#include <vector>

#include "shim/syscall_rules.h"

namespace wwjail {

class CompiledFilter {
 public:
  explicit CompiledFilter(std::vector<sock_filter> program) : program_(std::move(program)) {
    fprog_.len = static_cast<unsigned short>(program_.size());
    fprog_.filter = program_.data();
  }
  CompiledFilter(const CompiledFilter&) = delete;
  CompiledFilter& operator=(const CompiledFilter&) = delete;
  // fprog_ points into program_: a move takes the buffer and points at it.
  CompiledFilter(CompiledFilter&& other) noexcept : program_(std::move(other.program_)) {
    fprog_.len = static_cast<unsigned short>(program_.size());
    fprog_.filter = program_.data();
  }
  const sock_fprog* fprog() const { return &fprog_; }
  const std::vector<sock_filter>& program() const { return program_; }

 private:
  std::vector<sock_filter> program_;
  sock_fprog fprog_{};
};

// Only the native architecture is accepted: other audit arches (i386 via
// int 0x80) kill the process, and x32 numbers (nr | 0x40000000), which share
// the x86_64 audit arch, are rejected by libseccomp's x86_64 prologue.
// Throws SetupError when a rule does not compile.
CompiledFilter compile_guest_filter(const std::vector<SyscallRule>& rules);

}  // namespace wwjail
