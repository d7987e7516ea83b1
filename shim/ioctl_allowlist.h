// The ioctl commands a guest may issue, as data. The seccomp filter
// (shim/syscall_rules.cc) allows exactly these on registers alone; every
// other command is sent to the broker, which refuses it with EPERM and logs
// it (broker/handlers/ioctl.cc). Commands not listed include every
// filesystem-changing one (FS_IOC_SETFLAGS, FS_IOC_SETVERSION, FIFREEZE, ...),
// every network configuration write (SIOCS*, SIOCADDRT) and every device
// class (VT, sound, DRM, block, tun): a guest that needs one is a program
// this jail does not serve yet, and the log line says which command it was.
//
// The kernel declares ioctl's command as `unsigned int`: the upper 32 bits
// of the register are dropped before any driver sees them, so every check
// here and in the filter looks at the low 32 bits only.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace wwjail {

struct IoctlCommand {
  uint32_t cmd;
  const char* name;
};

// The allow-list, grouped by family (see the .cc for why each one).
std::span<const IoctlCommand> allowed_ioctls();

// The allow-list entry for the command in register `reg`, or nullptr.
const IoctlCommand* allowed_ioctl(uint64_t reg);

// For log lines: the low 32 bits in hex, then the command's name when
// wwjail knows it ("0x40086602 FS_IOC_SETFLAGS").
std::string describe_ioctl(uint64_t reg);

}  // namespace wwjail
