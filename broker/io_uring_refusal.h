// Why io_uring_setup failed, in words that name the real cause. The same
// errno has several origins, told apart by what the kernel shows:
//  * ENOSYS: a seccomp filter around wwjail refused the syscall (the
//    default profiles of Docker >= 25, Podman and Kubernetes do; "Seccomp:
//    2" in /proc/self/status), or the kernel was built without io_uring;
//  * EPERM: kernel.io_uring_disabled (Linux 6.6) is 2, or 1 while wwjail is
//    neither in kernel.io_uring_group nor holds CAP_SYS_ADMIN; or a seccomp
//    filter that answers EPERM (older Docker profiles);
//  * EINVAL: the kernel predates the setup flags the ring asks for (5.19);
//  * ENOMEM: the locked-memory limit (RLIMIT_MEMLOCK, before 5.12).
#pragma once

#include <optional>
#include <string>

namespace wwjail {

// "io_uring_setup: <strerror>: <cause>", read from the sysctl and the
// seccomp mode at the time of the call.
std::string io_uring_refusal(int err);
// The same from given facts: the sysctl's value (nullopt: absent, before
// Linux 6.6) and whether a seccomp filter is in force.
std::string io_uring_refusal(int err, std::optional<int> disabled, bool filtered);

}  // namespace wwjail
