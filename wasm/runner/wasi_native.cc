#include "wasm/runner/wasi_native.h"

#include <fcntl.h>
#include <sys/socket.h>

#include <iterator>

#include "sys/kernel_abi.h"

namespace wwjail::wasi {

namespace {

struct ErrnoPair {
  int native;
  Errno wasi;
};
constexpr ErrnoPair kErrnos[] = {
    {E2BIG, k2Big},
    {EACCES, kAcces},
    {EADDRINUSE, kAddrInUse},
    {EADDRNOTAVAIL, kAddrNotAvail},
    {EAFNOSUPPORT, kAfNoSupport},
    {EAGAIN, kAgain},
    {EALREADY, kAlready},
    {EBADF, kBadf},
    {EBUSY, kBusy},
    {ECONNABORTED, kConnAborted},
    {ECONNREFUSED, kConnRefused},
    {ECONNRESET, kConnReset},
    {EDQUOT, kDquot},
    {EEXIST, kExist},
    {EFAULT, kFault},
    {EFBIG, kFbig},
    {EHOSTUNREACH, kHostUnreach},
    {EINPROGRESS, kInProgress},
    {EINTR, kIntr},
    {EINVAL, kInval},
    {EIO, kIo},
    {EISCONN, kIsConn},
    {EISDIR, kIsDir},
    {ELOOP, kLoop},
    {EMFILE, kMfile},
    {EMLINK, kMlink},
    {EMSGSIZE, kMsgSize},
    {ENAMETOOLONG, kNameTooLong},
    {ENETDOWN, kNetDown},
    {ENETUNREACH, kNetUnreach},
    {ENFILE, kNfile},
    {ENOBUFS, kNoBufs},
    {ENODEV, kNoDev},
    {ENOENT, kNoent},
    {ENOEXEC, kNoExec},
    {ENOMEM, kNoMem},
    {ENOSPC, kNoSpc},
    {ENOSYS, kNoSys},
    {ENOTCONN, kNotConn},
    {ENOTDIR, kNotDir},
    {ENOTEMPTY, kNotEmpty},
    {ENOTSOCK, kNotSock},
    {EOPNOTSUPP, kNotSup},
    {ENOTTY, kNotTy},
    {ENXIO, kNxio},
    {EOVERFLOW, kOverflow},
    {EPERM, kPerm},
    {EPIPE, kPipe},
    {ERANGE, kRange},
    {EROFS, kRofs},
    {ESPIPE, kSpipe},
    {ESRCH, kSrch},
    {ETIMEDOUT, kTimedOut},
    {ETXTBSY, kTxtBsy},
    // A path that would leave the directory it is relative to.
    {EXDEV, kNotCapable},
};

}  // namespace

Errno from_errno(int err) {
  if (err == 0) return kSuccess;
  for (const ErrnoPair& p : kErrnos) {
    if (p.native == err) return p.wasi;
  }
  return kIo;
}

Filetype filetype_of(const struct stat& st, int fd) {
  switch (st.st_mode & S_IFMT) {
    case S_IFREG: return kRegularFile;
    case S_IFDIR: return kDirectory;
    case S_IFCHR: return kCharDevice;
    case S_IFBLK: return kBlockDevice;
    case S_IFLNK: return kSymlink;
    case S_IFSOCK: {
      int type = 0;
      socklen_t len = sizeof type;
      if (fd >= 0 && ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_DGRAM)
        return kSocketDgram;
      return kSocketStream;
    }
    default: return kUnknown;
  }
}

bool clock_of(uint32_t id, clockid_t& out) {
  switch (id) {
    case kRealtime: out = CLOCK_REALTIME; return true;
    case kMonotonic: out = CLOCK_MONOTONIC; return true;
    case kProcessCpu: out = CLOCK_PROCESS_CPUTIME_ID; return true;
    case kThreadCpu: out = CLOCK_THREAD_CPUTIME_ID; return true;
    default: return false;
  }
}

bool times_of(uint64_t atim, uint64_t mtim, uint32_t flags, struct timespec ts[2]) {
  if (((flags & kAtim) && (flags & kAtimNow)) || ((flags & kMtim) && (flags & kMtimNow))) return false;
  if (flags & ~uint32_t{kAtim | kAtimNow | kMtim | kMtimNow}) return false;
  ts[0] = (flags & kAtimNow) ? timespec{0, UTIME_NOW} : (flags & kAtim) ? to_timespec(atim) : timespec{0, UTIME_OMIT};
  ts[1] = (flags & kMtimNow) ? timespec{0, UTIME_NOW} : (flags & kMtim) ? to_timespec(mtim) : timespec{0, UTIME_OMIT};
  return true;
}

int openat2_beneath(int dirfd, const std::string& path, uint64_t flags, uint64_t mode) {
  open_how how{};
  how.flags = flags | O_CLOEXEC;
  how.mode = (flags & O_CREAT) ? mode : 0;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  return kernel::openat2(dirfd, path.c_str(), how);
}

}  // namespace wwjail::wasi
