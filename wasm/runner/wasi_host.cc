#include "wasm/runner/wasi_host.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <wasm-rt.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <stdexcept>

namespace wwjail {

using namespace wasi;

namespace wasi {

Errno from_errno(int err) {
  switch (err) {
    case 0: return kSuccess;
    case E2BIG: return k2Big;
    case EACCES: return kAcces;
    case EADDRINUSE: return kAddrInUse;
    case EADDRNOTAVAIL: return kAddrNotAvail;
    case EAFNOSUPPORT: return kAfNoSupport;
    case EAGAIN: return kAgain;
    case EALREADY: return kAlready;
    case EBADF: return kBadf;
    case EBUSY: return kBusy;
    case ECONNABORTED: return kConnAborted;
    case ECONNREFUSED: return kConnRefused;
    case ECONNRESET: return kConnReset;
    case EDQUOT: return kDquot;
    case EEXIST: return kExist;
    case EFAULT: return kFault;
    case EFBIG: return kFbig;
    case EHOSTUNREACH: return kHostUnreach;
    case EINPROGRESS: return kInProgress;
    case EINTR: return kIntr;
    case EINVAL: return kInval;
    case EIO: return kIo;
    case EISCONN: return kIsConn;
    case EISDIR: return kIsDir;
    case ELOOP: return kLoop;
    case EMFILE: return kMfile;
    case EMLINK: return kMlink;
    case EMSGSIZE: return kMsgSize;
    case ENAMETOOLONG: return kNameTooLong;
    case ENETDOWN: return kNetDown;
    case ENETUNREACH: return kNetUnreach;
    case ENFILE: return kNfile;
    case ENOBUFS: return kNoBufs;
    case ENODEV: return kNoDev;
    case ENOENT: return kNoent;
    case ENOEXEC: return kNoExec;
    case ENOMEM: return kNoMem;
    case ENOSPC: return kNoSpc;
    case ENOSYS: return kNoSys;
    case ENOTCONN: return kNotConn;
    case ENOTDIR: return kNotDir;
    case ENOTEMPTY: return kNotEmpty;
    case ENOTSOCK: return kNotSock;
    case EOPNOTSUPP: return kNotSup;
    case ENOTTY: return kNotTy;
    case ENXIO: return kNxio;
    case EOVERFLOW: return kOverflow;
    case EPERM: return kPerm;
    case EPIPE: return kPipe;
    case ERANGE: return kRange;
    case EROFS: return kRofs;
    case ESPIPE: return kSpipe;
    case ESRCH: return kSrch;
    case ETIMEDOUT: return kTimedOut;
    case ETXTBSY: return kTxtBsy;
    // A path that would leave the directory it is relative to.
    case EXDEV: return kNotCapable;
    default: return kIo;
  }
}

}  // namespace wasi

namespace {

Errno last_error() { return from_errno(errno); }

Filetype filetype_of(const struct stat& st, int fd = -1) {
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

uint64_t nanos(const struct timespec& ts) {
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

struct timespec to_timespec(uint64_t ns) {
  return {static_cast<time_t>(ns / 1000000000ull), static_cast<long>(ns % 1000000000ull)};
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

// WASI's fstflags as the two timespecs utimensat and futimens take.
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
  return static_cast<int>(::syscall(SYS_openat2, dirfd, path.c_str(), &how, sizeof how));
}

// Closes a descriptor on scope exit.
struct Closer {
  int fd;
  ~Closer() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

WasiHost::WasiHost(const WasiConfig& config) : args_(config.args), env_(config.env) {
  for (int stdio = 0; stdio < 3; ++stdio) fds_.push_back(make_fd(stdio));
  for (const auto& p : config.preopens) {
    int fd = ::open(p.host.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error("preopen " + p.host + ": " + std::strerror(errno));
    fds_.push_back(make_fd(fd, true, p.guest));
  }
  first_socket_ = static_cast<uint32_t>(fds_.size());
  for (int s : config.sockets) fds_.push_back(make_fd(s));
}

WasiHost::Fd WasiHost::make_fd(int host, bool preopen, std::string name) {
  struct stat st{};
  Fd f{host, preopen, std::move(name)};
  f.directory = ::fstat(host, &st) == 0 && S_ISDIR(st.st_mode);
  return f;
}

WasiHost::Fd* WasiHost::lookup(uint32_t fd) {
  if (fd >= fds_.size() || !fds_[fd]) return nullptr;
  return &*fds_[fd];
}

uint32_t WasiHost::add_fd(int host) {
  for (uint32_t i = 3; i < fds_.size(); ++i) {
    if (!fds_[i]) {
      fds_[i] = make_fd(host);
      return i;
    }
  }
  fds_.push_back(make_fd(host));
  return static_cast<uint32_t>(fds_.size() - 1);
}

bool WasiHost::in_bounds(uint32_t ptr, uint64_t len) const {
  // From the page count: `size` is 32 bits and reads 0 at exactly 4 GiB.
  return memory_ && static_cast<uint64_t>(ptr) + len <= uint64_t{memory_->pages} * 65536;
}

uint8_t* WasiHost::at(uint32_t ptr) const { return memory_->data + ptr; }

template <typename T>
bool WasiHost::store(uint32_t ptr, T value) {
  if (!in_bounds(ptr, sizeof value)) return false;
  std::memcpy(at(ptr), &value, sizeof value);  // both little-endian
  return true;
}

template <typename T>
bool WasiHost::load(uint32_t ptr, T& value) const {
  if (!in_bounds(ptr, sizeof value)) return false;
  std::memcpy(&value, at(ptr), sizeof value);
  return true;
}

bool WasiHost::iovecs(uint32_t iovs, uint32_t count, std::vector<struct iovec>& out) const {
  if (count > IOV_MAX || !in_bounds(iovs, uint64_t{count} * layout::kIovec)) return false;  // EFAULT either way
  out.resize(count);
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t buf = 0, len = 0;
    load(iovs + i * layout::kIovec, buf);
    load(iovs + i * layout::kIovec + 4, len);
    if (!in_bounds(buf, len)) return false;
    out[i] = {at(buf), len};
  }
  return true;
}

Errno WasiHost::path_arg(uint32_t ptr, uint32_t len, std::string& out) const {
  if (!in_bounds(ptr, len)) return kFault;
  // Checked before anything is copied: a guest's 1 GiB "path" would be a
  // second gigabyte here, outside --max-memory.
  if (len >= PATH_MAX) return kNameTooLong;
  if (std::memchr(at(ptr), '\0', len)) return kInval;
  out.assign(reinterpret_cast<const char*>(at(ptr)), len);
  return kSuccess;
}

Errno WasiHost::parent_of(uint32_t fd, const std::string& path, int& parent, std::string& name) {
  Fd* f = lookup(fd);
  if (!f) return kBadf;
  if (path.empty()) return kNoent;
  if (path.front() == '/') return kNotCapable;
  std::string trimmed = path;
  bool trailing = trimmed.size() > 1 && trimmed.back() == '/';
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
  auto slash = trimmed.find_last_of('/');
  std::string dir = slash == std::string::npos ? "." : trimmed.substr(0, slash + 1);
  name = slash == std::string::npos ? trimmed : trimmed.substr(slash + 1);
  if (name == "..") return kNotCapable;
  parent = openat2_beneath(f->host, dir, O_PATH | O_DIRECTORY, 0);
  if (parent < 0) return last_error();
  // "f/" wants a directory: the kernel says so when it sees the slash.
  if (trailing && name != ".") name += '/';
  return kSuccess;
}

Errno WasiHost::open_path(uint32_t fd, const std::string& path, bool follow, int& out) {
  Fd* f = lookup(fd);
  if (!f) return kBadf;
  if (path.empty()) return kNoent;
  if (path.front() == '/') return kNotCapable;
  out = openat2_beneath(f->host, path, O_PATH | (follow ? 0 : O_NOFOLLOW), 0);
  return out < 0 ? last_error() : kSuccess;
}

Errno WasiHost::write_filestat(uint32_t out, const struct stat& st) {
  if (!in_bounds(out, layout::kFilestat)) return kFault;
  std::memset(at(out), 0, layout::kFilestat);
  store<uint64_t>(out + 0, st.st_dev);
  store<uint64_t>(out + 8, st.st_ino);
  store<uint8_t>(out + 16, filetype_of(st));
  store<uint64_t>(out + 24, st.st_nlink);
  store<uint64_t>(out + 32, static_cast<uint64_t>(st.st_size));
  store<uint64_t>(out + 40, nanos(st.st_atim));
  store<uint64_t>(out + 48, nanos(st.st_mtim));
  store<uint64_t>(out + 56, nanos(st.st_ctim));
  return kSuccess;
}

// --- args, environ, clocks, random -----------------------------------------

uint32_t WasiHost::put_strings(const std::vector<std::string>& items, uint32_t ptrs, uint32_t buf) {
  uint64_t total = 0;
  for (const auto& s : items) total += s.size() + 1;
  if (!in_bounds(ptrs, uint64_t{items.size()} * 4) || !in_bounds(buf, total)) return kFault;
  uint32_t next = buf;
  for (size_t i = 0; i < items.size(); ++i) {
    store<uint32_t>(ptrs + static_cast<uint32_t>(i) * 4, next);
    std::memcpy(at(next), items[i].c_str(), items[i].size() + 1);
    next += static_cast<uint32_t>(items[i].size() + 1);
  }
  return kSuccess;
}

uint32_t WasiHost::args_get(uint32_t argv, uint32_t buf) {
  return put_strings(args_, argv, buf);
}

uint32_t WasiHost::args_sizes_get(uint32_t argc_out, uint32_t size_out) {
  uint32_t size = 0;
  for (const auto& a : args_) size += static_cast<uint32_t>(a.size() + 1);
  if (!store<uint32_t>(argc_out, static_cast<uint32_t>(args_.size())) || !store<uint32_t>(size_out, size))
    return kFault;
  return kSuccess;
}

uint32_t WasiHost::environ_get(uint32_t env, uint32_t buf) {
  return put_strings(env_, env, buf);
}

uint32_t WasiHost::environ_sizes_get(uint32_t count_out, uint32_t size_out) {
  uint32_t size = 0;
  for (const auto& e : env_) size += static_cast<uint32_t>(e.size() + 1);
  if (!store<uint32_t>(count_out, static_cast<uint32_t>(env_.size())) || !store<uint32_t>(size_out, size))
    return kFault;
  return kSuccess;
}

uint32_t WasiHost::clock_res_get(uint32_t id, uint32_t out) {
  clockid_t c;
  if (!clock_of(id, c)) return kInval;
  struct timespec ts;
  if (::clock_getres(c, &ts) != 0) return last_error();
  return store<uint64_t>(out, nanos(ts)) ? kSuccess : kFault;
}

uint32_t WasiHost::clock_time_get(uint32_t id, uint64_t, uint32_t out) {
  clockid_t c;
  if (!clock_of(id, c)) return kInval;
  struct timespec ts;
  if (::clock_gettime(c, &ts) != 0) return last_error();
  return store<uint64_t>(out, nanos(ts)) ? kSuccess : kFault;
}

uint32_t WasiHost::random_get(uint32_t buf, uint32_t len) {
  if (!in_bounds(buf, len)) return kFault;
  uint32_t done = 0;
  while (done < len) {
    ssize_t n = ::getrandom(at(buf + done), len - done, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return last_error();
    done += static_cast<uint32_t>(n);
  }
  return kSuccess;
}

uint32_t WasiHost::sched_yield() {
  ::sched_yield();
  return kSuccess;
}

void WasiHost::proc_exit(uint32_t code) { ::_exit(static_cast<int>(code)); }

uint32_t WasiHost::proc_raise(uint32_t sig) {
  // WASI's signal numbers, in order, as Linux's.
  static const int kSignals[] = {0,       SIGHUP,  SIGINT,  SIGQUIT, SIGILL,    SIGTRAP,   SIGABRT, SIGBUS,
                                 SIGFPE,  SIGKILL, SIGUSR1, SIGSEGV, SIGUSR2,   SIGPIPE,   SIGALRM, SIGTERM,
                                 SIGCHLD, SIGCONT, SIGSTOP, SIGTSTP, SIGTTIN,   SIGTTOU,   SIGURG,  SIGXCPU,
                                 SIGXFSZ, SIGVTALRM, SIGPROF, SIGWINCH, SIGPOLL, SIGPWR, SIGSYS};
  if (sig == 0 || sig >= sizeof kSignals / sizeof kSignals[0]) return kInval;
  // A stopped runner is a stopped run: wwjail waits for it and forwards
  // SIGTERM and SIGINT, which a stopped process does not act on until
  // someone sends SIGCONT. A guest does not stop itself.
  int native = kSignals[sig];
  if (native == SIGSTOP || native == SIGTSTP || native == SIGTTIN || native == SIGTTOU) return kNotSup;
  return ::raise(native) == 0 ? kSuccess : last_error();
}

// --- descriptors ----------------------------------------------------------

uint32_t WasiHost::fd_advise(uint32_t fd, uint64_t offset, uint64_t len, uint32_t advice) {
  Fd* f = lookup(fd);
  if (!f) return kBadf;
  static const int kAdvice[] = {POSIX_FADV_NORMAL,   POSIX_FADV_SEQUENTIAL, POSIX_FADV_RANDOM,
                                POSIX_FADV_WILLNEED, POSIX_FADV_DONTNEED,   POSIX_FADV_NOREUSE};
  if (advice >= 6) return kInval;
  int rc = ::posix_fadvise(f->host, static_cast<off_t>(offset), static_cast<off_t>(len), kAdvice[advice]);
  return from_errno(rc);
}

uint32_t WasiHost::fd_allocate(uint32_t fd, uint64_t offset, uint64_t len) {
  Fd* f = lookup(fd);
  if (!f) return kBadf;
  return from_errno(::posix_fallocate(f->host, static_cast<off_t>(offset), static_cast<off_t>(len)));
}

uint32_t WasiHost::fd_close(uint32_t fd) {
  Fd* f = lookup(fd);
  if (!f) return kBadf;
  int host = f->host;
  fds_[fd].reset();
  return ::close(host) == 0 ? kSuccess : last_error();
}

uint32_t WasiHost::fd_datasync(uint32_t fd) {
  Fd* f = lookup(fd);
  if (!f) return kBadf;
  return ::fdatasync(f->host) == 0 ? kSuccess : last_error();
}

uint32_t WasiHost::fd_sync(uint32_t fd) {
  Fd* f = lookup(fd);
  if (!f) return kBadf;
  return ::fsync(f->host) == 0 ? kSuccess : last_error();
}

uint32_t WasiHost::fd_fdstat_get(uint32_t fd, uint32_t out) {
  Fd* f = lookup(fd);
  if (!f) return kBadf;
  struct stat st;
  if (::fstat(f->host, &st) != 0) return last_error();
  int fl = ::fcntl(f->host, F_GETFL);
  uint16_t flags = 0;
  if (fl >= 0) {
    if (fl & O_APPEND) flags |= kFdAppend;
    if (fl & O_NONBLOCK) flags |= kFdNonblock;
    if ((fl & O_SYNC) == O_SYNC) flags |= kFdSync;
    else if (fl & O_DSYNC) flags |= kFdDsync;
  }
  if (!in_bounds(out, layout::kFdstat)) return kFault;
  // Rights describe the descriptor as it is (wasi-libc derives O_ACCMODE
  // and isatty from them); they never grant anything: the broker decides.
  uint64_t rights = kAllRights;
  if (fl >= 0 && (fl & O_ACCMODE) == O_RDONLY) rights &= ~(kRightFdWrite | kRightFdAllocate | kRightFdFilestatSetSize);
  if (fl >= 0 && (fl & O_ACCMODE) == O_WRONLY) rights &= ~(kRightFdRead | kRightFdReaddir);
  if (S_ISCHR(st.st_mode) && ::isatty(f->host)) rights &= ~(kRightFdSeek | kRightFdTell);
  // A directory is neither seeked nor truncated, nor are files truncated
  // through it by path (preview 1 has no call for it).
  if (S_ISDIR(st.st_mode))
    rights &= ~(kRightFdSeek | kRightFdTell | kRightFdFilestatSetSize | kRightPathFilestatSetSize);
  std::memset(at(out), 0, layout::kFdstat);
  store<uint8_t>(out, filetype_of(st, f->host));
  store<uint16_t>(out + 2, flags);
  store<uint64_t>(out + 8, rights);
  store<uint64_t>(out + 16, kAllRights);
  return kSuccess;
}

uint32_t WasiHost::fd_fdstat_set_flags(uint32_t fd, uint32_t flags) {
  Fd* f = lookup(fd);
  if (!f) return kBadf;
  if (flags & ~uint32_t{kFdAppend | kFdNonblock}) return kNotSup;  // sync modes are fixed at open
  int fl = ::fcntl(f->host, F_GETFL);
  if (fl < 0) return last_error();
  fl &= ~(O_APPEND | O_NONBLOCK);
  if (flags & kFdAppend) fl |= O_APPEND;
  if (flags & kFdNonblock) fl |= O_NONBLOCK;
  return ::fcntl(f->host, F_SETFL, fl) == 0 ? kSuccess : last_error();
}

uint32_t WasiHost::fd_fdstat_set_rights(uint32_t fd, uint64_t, uint64_t) {
  // Rights describe a descriptor and grant nothing (the broker decides
  // every call), so they cannot be narrowed either: saying yes would be a
  // promise not kept. ENOTSUP, as wasmtime answers.
  return lookup(fd) ? kNotSup : kBadf;
}

uint32_t WasiHost::fd_filestat_get(uint32_t fd, uint32_t out) {
  Fd* f = lookup(fd);
  if (!f) return kBadf;
  struct stat st;
  if (::fstat(f->host, &st) != 0) return last_error();
  return write_filestat(out, st);
}

uint32_t WasiHost::fd_filestat_set_size(uint32_t fd, uint64_t size) {
  Fd* f = lookup(fd);
  if (!f) return kBadf;
  if (size > static_cast<uint64_t>(INT64_MAX)) return kInval;
  return ::ftruncate(f->host, static_cast<off_t>(size)) == 0 ? kSuccess : last_error();
}

uint32_t WasiHost::fd_filestat_set_times(uint32_t fd, uint64_t atim, uint64_t mtim, uint32_t flags) {
  Fd* f = lookup(fd);
  if (!f) return kBadf;
  struct timespec ts[2];
  if (!times_of(atim, mtim, flags, ts)) return kInval;
  return ::futimens(f->host, ts) == 0 ? kSuccess : last_error();
}

uint32_t WasiHost::fd_read(uint32_t fd, uint32_t iovs, uint32_t count, uint32_t out) {
  Fd* f = lookup(fd);
  if (!f) return kBadf;
  std::vector<struct iovec> v;
  if (!iovecs(iovs, count, v) || !in_bounds(out, 4)) return kFault;
  ssize_t n = ::readv(f->host, v.data(), static_cast<int>(v.size()));
  if (n < 0) return last_error();
  store<uint32_t>(out, static_cast<uint32_t>(n));
  return kSuccess;
}

uint32_t WasiHost::fd_write(uint32_t fd, uint32_t iovs, uint32_t count, uint32_t out) {
  Fd* f = lookup(fd);
  if (!f) return kBadf;
  std::vector<struct iovec> v;
  if (!iovecs(iovs, count, v) || !in_bounds(out, 4)) return kFault;
  ssize_t n = ::writev(f->host, v.data(), static_cast<int>(v.size()));
  if (n < 0) return last_error();
  store<uint32_t>(out, static_cast<uint32_t>(n));
  return kSuccess;
}

uint32_t WasiHost::fd_pread(uint32_t fd, uint32_t iovs, uint32_t count, uint64_t offset, uint32_t out) {
  Fd* f = lookup(fd);
  if (!f) return kBadf;
  std::vector<struct iovec> v;
  if (!iovecs(iovs, count, v) || !in_bounds(out, 4)) return kFault;
  if (offset > static_cast<uint64_t>(INT64_MAX)) return kInval;
  ssize_t n = ::preadv(f->host, v.data(), static_cast<int>(v.size()), static_cast<off_t>(offset));
  if (n < 0) return last_error();
  store<uint32_t>(out, static_cast<uint32_t>(n));
  return kSuccess;
}

uint32_t WasiHost::fd_pwrite(uint32_t fd, uint32_t iovs, uint32_t count, uint64_t offset, uint32_t out) {
  Fd* f = lookup(fd);
  if (!f) return kBadf;
  std::vector<struct iovec> v;
  if (!iovecs(iovs, count, v) || !in_bounds(out, 4)) return kFault;
  if (offset > static_cast<uint64_t>(INT64_MAX)) return kInval;
  ssize_t n = ::pwritev(f->host, v.data(), static_cast<int>(v.size()), static_cast<off_t>(offset));
  if (n < 0) return last_error();
  store<uint32_t>(out, static_cast<uint32_t>(n));
  return kSuccess;
}

uint32_t WasiHost::fd_prestat_get(uint32_t fd, uint32_t out) {
  Fd* f = lookup(fd);
  if (!f || !f->preopen) return kBadf;
  if (!in_bounds(out, layout::kPrestat)) return kFault;
  std::memset(at(out), 0, layout::kPrestat);
  store<uint8_t>(out, kPreopenDir);
  store<uint32_t>(out + 4, static_cast<uint32_t>(f->name.size()));
  return kSuccess;
}

uint32_t WasiHost::fd_prestat_dir_name(uint32_t fd, uint32_t path, uint32_t len) {
  Fd* f = lookup(fd);
  if (!f || !f->preopen) return kBadf;
  if (len < f->name.size()) return kNameTooLong;
  if (!in_bounds(path, f->name.size())) return kFault;
  std::memcpy(at(path), f->name.data(), f->name.size());
  return kSuccess;
}

uint32_t WasiHost::fd_readdir(uint32_t fd, uint32_t buf, uint32_t len, uint64_t cookie, uint32_t out) {
  Fd* f = lookup(fd);
  if (!f) return kBadf;
  if (!in_bounds(buf, len) || !in_bounds(out, 4)) return kFault;
  if (cookie == 0 || !f->listing) {
    // A fresh descriptor of the directory: the guest's own keeps no hidden
    // position, and the whole listing is read once (not once per call).
    int dfd = ::openat(f->host, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return last_error();
    DIR* dir = ::fdopendir(dfd);
    if (!dir) {
      ::close(dfd);
      return last_error();
    }
    auto listing = std::make_shared<std::vector<Dirent>>();
    errno = 0;
    while (struct dirent* de = ::readdir(dir)) {
      uint8_t type = de->d_type == DT_REG ? kRegularFile : de->d_type == DT_DIR ? kDirectory
                     : de->d_type == DT_LNK ? kSymlink : de->d_type == DT_CHR ? kCharDevice
                     : de->d_type == DT_BLK ? kBlockDevice : de->d_type == DT_SOCK ? kSocketStream : kUnknown;
      listing->push_back({de->d_ino, type, de->d_name});
    }
    int err = errno;
    ::closedir(dir);
    if (err) return from_errno(err);
    f->listing = std::move(listing);
  }
  uint32_t used = 0;
  for (uint64_t index = cookie; index < f->listing->size() && used < len; ++index) {
    const Dirent& e = (*f->listing)[index];
    uint32_t namlen = static_cast<uint32_t>(e.name.size());
    uint8_t header[layout::kDirent] = {};
    uint64_t next = index + 1;
    std::memcpy(header, &next, 8);
    std::memcpy(header + 8, &e.ino, 8);
    std::memcpy(header + 16, &namlen, 4);
    header[20] = e.type;
    // Entries are written whole while they fit, the last one truncated:
    // a guest seeing bufused == len asks again from its cookie.
    uint32_t take = std::min<uint32_t>(layout::kDirent, len - used);
    std::memcpy(at(buf + used), header, take);
    used += take;
    uint32_t name_take = std::min<uint32_t>(namlen, len - used);
    std::memcpy(at(buf + used), e.name.data(), name_take);
    used += name_take;
  }
  store<uint32_t>(out, used);
  return kSuccess;
}

uint32_t WasiHost::fd_renumber(uint32_t from, uint32_t to) {
  Fd* f = lookup(from);
  Fd* t = lookup(to);
  if (!f || !t) return kBadf;
  if (from == to) return kSuccess;
  ::close(t->host);
  fds_[to] = *f;
  fds_[from].reset();
  return kSuccess;
}

uint32_t WasiHost::fd_seek(uint32_t fd, uint64_t offset, uint32_t whence, uint32_t out) {
  Fd* f = lookup(fd);
  // Linux seeks a directory (it rewinds readdir); WASI's fd_readdir has
  // cookies for that, and a directory is not seekable (nor tellable).
  if (!f || f->directory) return kBadf;
  int w = whence == kSet ? SEEK_SET : whence == kCur ? SEEK_CUR : whence == kEnd ? SEEK_END : -1;
  if (w < 0) return kInval;
  if (!in_bounds(out, 8)) return kFault;
  off_t pos = ::lseek(f->host, static_cast<off_t>(offset), w);
  if (pos < 0) return last_error();
  store<uint64_t>(out, static_cast<uint64_t>(pos));
  return kSuccess;
}

uint32_t WasiHost::fd_tell(uint32_t fd, uint32_t out) { return fd_seek(fd, 0, kCur, out); }

// --- paths ----------------------------------------------------------------

uint32_t WasiHost::path_open(uint32_t fd, uint32_t dirflags, uint32_t path, uint32_t len, uint32_t oflags,
                             uint64_t rights, uint64_t, uint32_t fdflags, uint32_t out) {
  Fd* f = lookup(fd);
  if (!f) return kBadf;
  std::string p;
  if (Errno e = path_arg(path, len, p)) return e;
  if (p.empty()) return kNoent;
  if (p.front() == '/') return kNotCapable;
  if (!in_bounds(out, 4)) return kFault;
  bool read = rights & (kRightFdRead | kRightFdReaddir);
  bool write = rights & (kRightFdWrite | kRightFdAllocate | kRightFdFilestatSetSize);
  uint64_t flags = O_NOCTTY;
  flags |= write ? (read ? O_RDWR : O_WRONLY) : O_RDONLY;
  if (oflags & kOCreat) flags |= O_CREAT;
  if (oflags & kODirectory) flags |= O_DIRECTORY;
  if (oflags & kOExcl) flags |= O_EXCL;
  if (oflags & kOTrunc) flags |= O_TRUNC;
  if (fdflags & kFdAppend) flags |= O_APPEND;
  if (fdflags & kFdNonblock) flags |= O_NONBLOCK;
  if (fdflags & kFdDsync) flags |= O_DSYNC;
  if (fdflags & (kFdSync | kFdRsync)) flags |= O_SYNC;
  if (!(dirflags & kLookupFollow)) flags |= O_NOFOLLOW;
  if ((oflags & kODirectory) && write) return kIsDir;
  int host = openat2_beneath(f->host, p, flags, 0666);
  if (host < 0 && errno == EISDIR && !(oflags & kODirectory) && !write) {
    host = openat2_beneath(f->host, p, (flags & ~uint64_t{O_ACCMODE}) | O_RDONLY | O_DIRECTORY, 0);
  }
  if (host < 0) return last_error();
  store<uint32_t>(out, add_fd(host));
  return kSuccess;
}

uint32_t WasiHost::path_create_directory(uint32_t fd, uint32_t path, uint32_t len) {
  std::string p, name;
  if (Errno e = path_arg(path, len, p)) return e;
  int parent;
  if (Errno e = parent_of(fd, p, parent, name)) return e;
  Closer c{parent};
  if (name == ".") return kExist;
  return ::mkdirat(parent, name.c_str(), 0777) == 0 ? kSuccess : last_error();
}

uint32_t WasiHost::path_filestat_get(uint32_t fd, uint32_t flags, uint32_t path, uint32_t len, uint32_t out) {
  std::string p;
  if (Errno e = path_arg(path, len, p)) return e;
  struct stat st;
  // The entry itself in its (beneath-resolved) parent; when following, a
  // symlink's target is looked up the same way, hop by hop, so FIFOs,
  // sockets and unreadable files can be looked at too, and an absolute or
  // escaping target is ENOTCAPABLE as anywhere else.
  for (int hops = 0; hops <= 40; ++hops) {
    int parent;
    std::string name;
    if (Errno e = parent_of(fd, p, parent, name)) return e;
    Closer c{parent};
    if (::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return last_error();
    if (!(flags & kLookupFollow) || !S_ISLNK(st.st_mode)) return write_filestat(out, st);
    char target[PATH_MAX];
    ssize_t n = ::readlinkat(parent, name.c_str(), target, sizeof target - 1);
    if (n < 0) return last_error();
    target[n] = 0;
    if (target[0] == '/') return kNotCapable;
    auto slash = p.find_last_of('/');
    p = (slash == std::string::npos ? std::string() : p.substr(0, slash + 1)) + target;
  }
  return kLoop;
}

uint32_t WasiHost::path_filestat_set_times(uint32_t fd, uint32_t flags, uint32_t path, uint32_t len, uint64_t atim,
                                           uint64_t mtim, uint32_t fst_flags) {
  std::string p;
  if (Errno e = path_arg(path, len, p)) return e;
  struct timespec ts[2];
  if (!times_of(atim, mtim, fst_flags, ts)) return kInval;
  if (flags & kLookupFollow) {
    // Resolved beneath the directory first; the times are then set on what
    // was found, named through our descriptor of it.
    int target;
    if (Errno e = open_path(fd, p, true, target)) return e;
    Closer c{target};
    std::string via = "/proc/self/fd/" + std::to_string(target);
    return ::utimensat(AT_FDCWD, via.c_str(), ts, 0) == 0 ? kSuccess : last_error();
  }
  int parent;
  std::string name;
  if (Errno e = parent_of(fd, p, parent, name)) return e;
  Closer c{parent};
  return ::utimensat(parent, name.c_str(), ts, AT_SYMLINK_NOFOLLOW) == 0 ? kSuccess : last_error();
}

uint32_t WasiHost::path_link(uint32_t old_fd, uint32_t old_flags, uint32_t old_path, uint32_t old_len,
                             uint32_t new_fd, uint32_t new_path, uint32_t new_len) {
  std::string op, np, oname, nname;
  if (Errno e = path_arg(old_path, old_len, op)) return e;
  if (Errno e = path_arg(new_path, new_len, np)) return e;
  if (old_flags & kLookupFollow) {
    // Linking what a symlink points at: found beneath the directory, then
    // linked by our descriptor of it.
    int target;
    if (Errno e = open_path(old_fd, op, true, target)) return e;
    Closer c{target};
    int nparent;
    if (Errno e = parent_of(new_fd, np, nparent, nname)) return e;
    Closer cn{nparent};
    return ::linkat(target, "", nparent, nname.c_str(), AT_EMPTY_PATH) == 0 ? kSuccess : last_error();
  }
  int oparent, nparent;
  if (Errno e = parent_of(old_fd, op, oparent, oname)) return e;
  Closer co{oparent};
  if (Errno e = parent_of(new_fd, np, nparent, nname)) return e;
  Closer cn{nparent};
  return ::linkat(oparent, oname.c_str(), nparent, nname.c_str(), 0) == 0 ? kSuccess : last_error();
}

uint32_t WasiHost::path_readlink(uint32_t fd, uint32_t path, uint32_t len, uint32_t buf, uint32_t buf_len,
                                 uint32_t out) {
  std::string p, name;
  if (Errno e = path_arg(path, len, p)) return e;
  if (!in_bounds(buf, buf_len) || !in_bounds(out, 4)) return kFault;
  int parent;
  if (Errno e = parent_of(fd, p, parent, name)) return e;
  Closer c{parent};
  char target[PATH_MAX];
  ssize_t n = ::readlinkat(parent, name.c_str(), target, sizeof target);
  if (n < 0) return last_error();
  uint32_t take = std::min<uint32_t>(static_cast<uint32_t>(n), buf_len);
  std::memcpy(at(buf), target, take);
  store<uint32_t>(out, take);
  return kSuccess;
}

uint32_t WasiHost::path_remove_directory(uint32_t fd, uint32_t path, uint32_t len) {
  std::string p, name;
  if (Errno e = path_arg(path, len, p)) return e;
  int parent;
  if (Errno e = parent_of(fd, p, parent, name)) return e;
  Closer c{parent};
  if (name == ".") return kInval;
  return ::unlinkat(parent, name.c_str(), AT_REMOVEDIR) == 0 ? kSuccess : last_error();
}

uint32_t WasiHost::path_rename(uint32_t fd, uint32_t old_path, uint32_t old_len, uint32_t new_fd, uint32_t new_path,
                               uint32_t new_len) {
  std::string op, np, oname, nname;
  if (Errno e = path_arg(old_path, old_len, op)) return e;
  if (Errno e = path_arg(new_path, new_len, np)) return e;
  int oparent, nparent;
  if (Errno e = parent_of(fd, op, oparent, oname)) return e;
  Closer co{oparent};
  if (Errno e = parent_of(new_fd, np, nparent, nname)) return e;
  Closer cn{nparent};
  if (oname == "." || nname == ".") return kInval;
  return ::renameat(oparent, oname.c_str(), nparent, nname.c_str()) == 0 ? kSuccess : last_error();
}

uint32_t WasiHost::path_symlink(uint32_t old_path, uint32_t old_len, uint32_t fd, uint32_t new_path,
                                uint32_t new_len) {
  std::string target, np, name;
  if (Errno e = path_arg(old_path, old_len, target)) return e;
  if (Errno e = path_arg(new_path, new_len, np)) return e;
  // Every later lookup through a link stays beneath its directory, so an
  // absolute target could only ever fail; it is refused when made, as other
  // runtimes do.
  if (!target.empty() && target.front() == '/') return kPerm;
  int parent;
  if (Errno e = parent_of(fd, np, parent, name)) return e;
  Closer c{parent};
  return ::symlinkat(target.c_str(), parent, name.c_str()) == 0 ? kSuccess : last_error();
}

uint32_t WasiHost::path_unlink_file(uint32_t fd, uint32_t path, uint32_t len) {
  std::string p, name;
  if (Errno e = path_arg(path, len, p)) return e;
  int parent;
  if (Errno e = parent_of(fd, p, parent, name)) return e;
  Closer c{parent};
  if (name == ".") return kIsDir;
  return ::unlinkat(parent, name.c_str(), 0) == 0 ? kSuccess : last_error();
}

// --- poll_oneoff -----------------------------------------------------------

uint32_t WasiHost::poll_oneoff(uint32_t in, uint32_t out, uint32_t count, uint32_t nevents_out) {
  if (count == 0) return kInval;
  if (!in_bounds(in, uint64_t{count} * layout::kSubscription) || !in_bounds(out, uint64_t{count} * layout::kEvent) ||
      !in_bounds(nevents_out, 4))
    return kFault;
  struct Sub {
    uint64_t userdata;
    uint8_t tag;
    uint64_t deadline;  // clock: monotonic deadline in ns
    uint32_t fd;
  };
  std::vector<Sub> subs(count, Sub{0, 0, 0, 0});
  std::vector<struct pollfd> pfds;
  std::vector<uint32_t> pfd_sub;
  uint32_t nevents = 0;
  auto event = [&](uint64_t userdata, uint16_t error, uint8_t type, uint64_t nbytes, uint16_t flags) {
    uint32_t e = out + nevents * layout::kEvent;
    std::memset(at(e), 0, layout::kEvent);
    store<uint64_t>(e, userdata);
    store<uint16_t>(e + 8, error);
    store<uint8_t>(e + 10, type);
    store<uint64_t>(e + 16, nbytes);
    store<uint16_t>(e + 24, flags);
    ++nevents;
  };
  struct timespec now_ts;
  ::clock_gettime(CLOCK_MONOTONIC, &now_ts);
  uint64_t now = nanos(now_ts);
  uint64_t earliest = UINT64_MAX;
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t s = in + i * layout::kSubscription;
    Sub& sub = subs[i];
    load(s, sub.userdata);
    load(s + 8, sub.tag);
    if (sub.tag == kEventClock) {
      uint32_t id = 0;
      uint64_t timeout = 0;
      uint16_t flags = 0;
      load(s + 16, id);
      load(s + 24, timeout);
      load(s + 40, flags);
      clockid_t c;
      if (!clock_of(id, c)) {
        event(sub.userdata, kInval, kEventClock, 0, 0);
        sub.tag = 0xff;
        continue;
      }
      uint64_t relative = timeout;
      if (flags & kSubclockAbstime) {
        struct timespec t;
        ::clock_gettime(c, &t);
        relative = timeout > nanos(t) ? timeout - nanos(t) : 0;
      }
      sub.deadline = relative > UINT64_MAX - now ? UINT64_MAX : now + relative;  // "never" stays never
      earliest = std::min(earliest, sub.deadline);
    } else if (sub.tag == kEventFdRead || sub.tag == kEventFdWrite) {
      load(s + 16, sub.fd);
      Fd* f = lookup(sub.fd);
      if (!f) {
        event(sub.userdata, kBadf, sub.tag, 0, 0);
        sub.tag = 0xff;
        continue;
      }
      pfds.push_back({f->host, static_cast<short>(sub.tag == kEventFdRead ? POLLIN : POLLOUT), 0});
      pfd_sub.push_back(i);
    } else {
      event(sub.userdata, kInval, sub.tag, 0, 0);
      sub.tag = 0xff;
    }
  }
  if (nevents == 0) {
    int timeout_ms = -1;
    if (earliest != UINT64_MAX) {
      uint64_t wait = earliest > now ? earliest - now : 0;
      timeout_ms = static_cast<int>(std::min<uint64_t>((wait + 999999) / 1000000, INT32_MAX));
    }
    if (pfds.empty()) {
      if (earliest > now) {
        struct timespec until = to_timespec(earliest);
        while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, nullptr) == EINTR) {
        }
      }
    } else {
      int rc;
      do rc = ::poll(pfds.data(), pfds.size(), timeout_ms);
      while (rc < 0 && errno == EINTR);
      if (rc < 0) return last_error();
      for (size_t k = 0; k < pfds.size(); ++k) {
        if (!pfds[k].revents) continue;
        const Sub& sub = subs[pfd_sub[k]];
        uint16_t flags = (pfds[k].revents & POLLHUP) ? kEventHangup : 0;
        uint16_t err = (pfds[k].revents & POLLNVAL) ? kBadf : 0;
        uint64_t nbytes = 0;
        if (sub.tag == kEventFdRead) {
          int avail = 0;
          if (::ioctl(pfds[k].fd, FIONREAD, &avail) == 0 && avail > 0) nbytes = static_cast<uint64_t>(avail);
        }
        event(sub.userdata, err, sub.tag, nbytes, flags);
      }
    }
    ::clock_gettime(CLOCK_MONOTONIC, &now_ts);
    now = nanos(now_ts);
    for (const auto& sub : subs) {
      if (sub.tag == kEventClock && sub.deadline <= now) event(sub.userdata, kSuccess, kEventClock, 0, 0);
    }
  }
  store<uint32_t>(nevents_out, nevents);
  return kSuccess;
}

// --- sockets ----------------------------------------------------------------

uint32_t WasiHost::sock_accept(uint32_t fd, uint32_t flags, uint32_t out) {
  Fd* f = lookup(fd);
  if (!f) return kBadf;
  if (flags & ~uint32_t{kFdNonblock}) return kInval;
  if (!in_bounds(out, 4)) return kFault;
  int s = ::accept4(f->host, nullptr, nullptr, SOCK_CLOEXEC | ((flags & kFdNonblock) ? SOCK_NONBLOCK : 0));
  if (s < 0) return last_error();
  store<uint32_t>(out, add_fd(s));
  return kSuccess;
}

uint32_t WasiHost::sock_recv(uint32_t fd, uint32_t iovs, uint32_t count, uint32_t flags, uint32_t len_out,
                             uint32_t flags_out) {
  Fd* f = lookup(fd);
  if (!f) return kBadf;
  std::vector<struct iovec> v;
  if (!iovecs(iovs, count, v) || !in_bounds(len_out, 4) || !in_bounds(flags_out, 2)) return kFault;
  if (flags & ~uint32_t{kRecvPeek | kRecvWaitall}) return kInval;
  struct msghdr m{};
  m.msg_iov = v.data();
  m.msg_iovlen = v.size();
  int native = ((flags & kRecvPeek) ? MSG_PEEK : 0) | ((flags & kRecvWaitall) ? MSG_WAITALL : 0);
  ssize_t n = ::recvmsg(f->host, &m, native);
  if (n < 0) return last_error();
  store<uint32_t>(len_out, static_cast<uint32_t>(n));
  store<uint16_t>(flags_out, (m.msg_flags & MSG_TRUNC) ? kRecvDataTruncated : 0);
  return kSuccess;
}

uint32_t WasiHost::sock_send(uint32_t fd, uint32_t iovs, uint32_t count, uint32_t flags, uint32_t len_out) {
  Fd* f = lookup(fd);
  if (!f) return kBadf;
  if (flags != 0) return kInval;  // siflags has no flags defined
  std::vector<struct iovec> v;
  if (!iovecs(iovs, count, v) || !in_bounds(len_out, 4)) return kFault;
  struct msghdr m{};
  m.msg_iov = v.data();
  m.msg_iovlen = v.size();
  ssize_t n = ::sendmsg(f->host, &m, MSG_NOSIGNAL);
  if (n < 0) return last_error();
  store<uint32_t>(len_out, static_cast<uint32_t>(n));
  return kSuccess;
}

uint32_t WasiHost::sock_shutdown(uint32_t fd, uint32_t how) {
  Fd* f = lookup(fd);
  if (!f) return kBadf;
  int h = how == kShutRd ? SHUT_RD : how == kShutWr ? SHUT_WR : how == (kShutRd | kShutWr) ? SHUT_RDWR : -1;
  if (h < 0) return kInval;
  return ::shutdown(f->host, h) == 0 ? kSuccess : last_error();
}

}  // namespace wwjail
