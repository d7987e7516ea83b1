#include "shim/ioctl_allowlist.h"

// Kernel headers only: <asm/termbits.h> gives struct termios2 (the size in
// TCGETS2) and would clash with glibc's <termios.h>.
#include <asm/ioctls.h>
#include <asm/termbits.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <linux/sockios.h>

#include <cstdio>

namespace wwjail {
namespace {

// Each entry costs one BPF comparison on every ioctl a guest makes, so the
// list holds what common programs use (glibc, coreutils, Python, libuv,
// shells, editors, pagers, nginx), not everything harmless.
constexpr IoctlCommand kAllowed[] = {
    // Terminals: the POSIX termios API whole (tcgetattr/tcsetattr,
    // tcdrain/tcsendbreak, tcflush, tcflow, tcgetpgrp/tcsetpgrp, tcgetsid,
    // tcgetwinsize/tcsetwinsize), since isatty, readline, editors, pagers
    // and job-control shells are built on it. Each acts on a terminal the
    // guest already holds open and the tty layer checks it: TIOCSPGRP only
    // names a process group of the caller's own session on its controlling
    // terminal; TIOCSWINSZ signals that terminal's foreground group.
    // termios2 (TCGETS2 ...) is what newer glibc uses for arbitrary speeds.
    {TCGETS, "TCGETS"},
    {TCSETS, "TCSETS"},
    {TCSETSW, "TCSETSW"},
    {TCSETSF, "TCSETSF"},
    {TCGETS2, "TCGETS2"},
    {TCSETS2, "TCSETS2"},
    {TCSETSW2, "TCSETSW2"},
    {TCSETSF2, "TCSETSF2"},
    {TCSBRK, "TCSBRK"},
    {TCSBRKP, "TCSBRKP"},
    {TCFLSH, "TCFLSH"},
    {TCXONC, "TCXONC"},
    {TIOCGWINSZ, "TIOCGWINSZ"},
    {TIOCSWINSZ, "TIOCSWINSZ"},
    {TIOCGPGRP, "TIOCGPGRP"},
    {TIOCSPGRP, "TIOCSPGRP"},
    {TIOCGSID, "TIOCGSID"},
    // Queue sizes (TIOCOUTQ is also SIOCOUTQ; TIOCINQ is FIONREAD below)
    // and the reads of the exclusive flag and the modem lines. TIOCEXCL and
    // TIOCNXCL are not here: the flag outlives the guest and locks the
    // user out of reopening their own terminal; nor are TIOCMSET/BIS/BIC,
    // which drive a serial device's control lines (DTR resets many boards).
    {TIOCOUTQ, "TIOCOUTQ"},
    {TIOCGEXCL, "TIOCGEXCL"},
    {TIOCMGET, "TIOCMGET"},
    // Sessions and pseudo-terminals the guest creates: openpty/forkpty
    // (script, tmux, expect, Python's pty) open /dev/ptmx (a notified
    // open), unlock and name the peer, and make it the controlling
    // terminal of a new session. TIOCGPTPEER opens the peer of a master the
    // guest holds, never anything else. TIOCSCTTY takes any argument:
    // util-linux (script, su --pty) passes 1 on its fresh pty, where 1 means
    // what 0 does; only on a terminal that is already another session's
    // does 1 steal it, and the kernel allows that to CAP_SYS_ADMIN alone
    // (the filter cannot see capabilities; the guest's are dropped).
    // TIOCNOTTY detaches the caller from its terminal.
    {TIOCSCTTY, "TIOCSCTTY"},
    {TIOCNOTTY, "TIOCNOTTY"},
    {TIOCGPTN, "TIOCGPTN"},
    {TIOCSPTLCK, "TIOCSPTLCK"},
    {TIOCGPTLCK, "TIOCGPTLCK"},
    {TIOCGPTPEER, "TIOCGPTPEER"},
    // Generic descriptor ioctls: the same as fcntl's F_SETFD, F_SETFL
    // O_NONBLOCK / O_ASYNC (fcntl is allowed), used instead of fcntl by
    // Python, libuv and Rust's std (FIOCLEX), nginx (FIONBIO, FIOASYNC).
    // FIONREAD (= TIOCINQ = SIOCINQ) counts bytes queued on a pipe, socket,
    // terminal or inotify fd; FIOQSIZE and FIGETBSZ read a file's size and
    // block size, as fstat and lseek would. FIBMAP (block numbers, raw
    // disk layout) needs CAP_SYS_RAWIO and is not here.
    {FIONREAD, "FIONREAD"},
    {FIONBIO, "FIONBIO"},
    {FIOASYNC, "FIOASYNC"},
    {FIOCLEX, "FIOCLEX"},
    {FIONCLEX, "FIONCLEX"},
    {FIOQSIZE, "FIOQSIZE"},
    {FIGETBSZ, "FIGETBSZ"},
    // Socket queries on a socket the guest holds: interface list, index,
    // name, flags, addresses, MTU and MAC (if_nametoindex, if_indextoname,
    // getifaddrs fallbacks, net-tools). The same facts are readable over
    // NETLINK_ROUTE, which the filter allows for glibc, so they reveal
    // nothing new. Every SIOCS* write and the routing table calls
    // (SIOCADDRT, SIOCDELRT) are left out: they reconfigure the host.
    {SIOCGIFCONF, "SIOCGIFCONF"},
    {SIOCGIFINDEX, "SIOCGIFINDEX"},
    {SIOCGIFNAME, "SIOCGIFNAME"},
    {SIOCGIFFLAGS, "SIOCGIFFLAGS"},
    {SIOCGIFADDR, "SIOCGIFADDR"},
    {SIOCGIFNETMASK, "SIOCGIFNETMASK"},
    {SIOCGIFBRDADDR, "SIOCGIFBRDADDR"},
    {SIOCGIFMTU, "SIOCGIFMTU"},
    {SIOCGIFHWADDR, "SIOCGIFHWADDR"},
    // Per-socket state: the urgent-data mark, unsent and unacknowledged
    // bytes, the last packet's timestamp (x86_64 headers give the _OLD
    // numbers, which carry 64-bit times here).
    {SIOCATMARK, "SIOCATMARK"},
    {SIOCOUTQNSD, "SIOCOUTQNSD"},
    {SIOCGSTAMP, "SIOCGSTAMP"},
    {SIOCGSTAMPNS, "SIOCGSTAMPNS"},
    // File reads on a descriptor the guest opened: the inode flags
    // (lsattr, systemd), the extended flags (xfs_io, newer lsattr) and the
    // extent map (filefrag, cp before coreutils 9). Their writes,
    // FS_IOC_SETFLAGS and FS_IOC_FSSETXATTR, set immutable and append-only
    // and are checked by the kernel against inode ownership, not against
    // how the descriptor was opened: on a read-only grant they would be a
    // write. FS_IOC_GETVERSION (the inode generation, half of an NFS file
    // handle; the other half is refused with open_by_handle_at) has no
    // common user and is left out with FS_IOC_SETVERSION.
    {FS_IOC_GETFLAGS, "FS_IOC_GETFLAGS"},
    {FS_IOC_FSGETXATTR, "FS_IOC_FSGETXATTR"},
    {FS_IOC_FIEMAP, "FS_IOC_FIEMAP"},
    // Data between two descriptors the guest holds, as copy_file_range
    // (allowed) does: cp --reflink=auto (coreutils' default since 9.0)
    // tries FICLONE first. The kernel requires the source open for reading
    // and the destination open for writing and not O_APPEND, on one
    // filesystem, so a read-only grant cannot be the destination.
    // FIDEDUPERANGE may also target a file opened read-only when the caller
    // owns it or may write it, but only shares extents whose bytes the
    // kernel has compared equal: no byte of the file changes.
    {FICLONE, "FICLONE"},
    {FICLONERANGE, "FICLONERANGE"},
    {FIDEDUPERANGE, "FIDEDUPERANGE"},
};

// Names for log lines only: refused commands worth recognising at a glance.
constexpr IoctlCommand kNamedRefusals[] = {
    {FS_IOC_SETFLAGS, "FS_IOC_SETFLAGS"},
    {FS_IOC_FSSETXATTR, "FS_IOC_FSSETXATTR"},
    {FS_IOC_GETVERSION, "FS_IOC_GETVERSION"},
    {FS_IOC_SETVERSION, "FS_IOC_SETVERSION"},
    {FIFREEZE, "FIFREEZE"},
    {FITHAW, "FITHAW"},
    {FITRIM, "FITRIM"},
    {FIBMAP, "FIBMAP"},
    {TIOCSTI, "TIOCSTI"},
    {TIOCLINUX, "TIOCLINUX"},
    {TIOCCONS, "TIOCCONS"},
    {TIOCSETD, "TIOCSETD"},
    {TIOCVHANGUP, "TIOCVHANGUP"},
    {TIOCEXCL, "TIOCEXCL"},
    {TIOCNXCL, "TIOCNXCL"},
    {SIOCADDRT, "SIOCADDRT"},
    {SIOCDELRT, "SIOCDELRT"},
    {SIOCSIFFLAGS, "SIOCSIFFLAGS"},
    {SIOCSIFADDR, "SIOCSIFADDR"},
    {SIOCSIFMTU, "SIOCSIFMTU"},
    {SIOCSIFHWADDR, "SIOCSIFHWADDR"},
};

}  // namespace

std::span<const IoctlCommand> allowed_ioctls() { return kAllowed; }

const IoctlCommand* allowed_ioctl(uint64_t reg) {
  auto cmd = static_cast<uint32_t>(reg);
  for (const auto& c : kAllowed)
    if (c.cmd == cmd) return &c;
  return nullptr;
}

std::string describe_ioctl(uint64_t reg) {
  auto cmd = static_cast<uint32_t>(reg);
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%08x", cmd);
  std::string out = hex;
  for (std::span<const IoctlCommand> table : {std::span<const IoctlCommand>(kAllowed), std::span<const IoctlCommand>(kNamedRefusals)}) {
    for (const auto& c : table)
      if (c.cmd == cmd) return out + " " + c.name;
  }
  return out;
}

}  // namespace wwjail
