// WASI host calls on a descriptor: reading and writing, seeking, its
// flags and metadata, directory listings, and the preopens' names.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "wasm/runner/wasi_host.h"
#include "wasm/runner/wasi_native.h"

namespace wwjail {

using namespace wasi;

uint32_t WasiHost::fd_advise(uint32_t fd, uint64_t offset, uint64_t len, uint32_t advice) {
  Fd* f = lookup(fd);
  if (!f) return kBadf;
  static const int kAdvice[] = {POSIX_FADV_NORMAL,   POSIX_FADV_SEQUENTIAL, POSIX_FADV_RANDOM,
                                POSIX_FADV_WILLNEED, POSIX_FADV_DONTNEED,   POSIX_FADV_NOREUSE};
  if (advice >= 6) return kInval;
  int rc = ::posix_fadvise(f->host.get(), static_cast<off_t>(offset), static_cast<off_t>(len), kAdvice[advice]);
  return from_errno(rc);
}

uint32_t WasiHost::fd_allocate(uint32_t fd, uint64_t offset, uint64_t len) {
  Fd* f = lookup(fd);
  if (!f) return kBadf;
  return from_errno(::posix_fallocate(f->host.get(), static_cast<off_t>(offset), static_cast<off_t>(len)));
}

uint32_t WasiHost::fd_close(uint32_t fd) {
  Fd* f = lookup(fd);
  if (!f) return kBadf;
  int host = f->host.release();
  fds_[fd].reset();
  return ::close(host) == 0 ? kSuccess : last_error();
}

uint32_t WasiHost::fd_datasync(uint32_t fd) {
  Fd* f = lookup(fd);
  if (!f) return kBadf;
  return ::fdatasync(f->host.get()) == 0 ? kSuccess : last_error();
}

uint32_t WasiHost::fd_sync(uint32_t fd) {
  Fd* f = lookup(fd);
  if (!f) return kBadf;
  return ::fsync(f->host.get()) == 0 ? kSuccess : last_error();
}

uint32_t WasiHost::fd_fdstat_get(uint32_t fd, uint32_t out) {
  Fd* f = lookup(fd);
  if (!f) return kBadf;
  struct stat st;
  if (::fstat(f->host.get(), &st) != 0) return last_error();
  int fl = ::fcntl(f->host.get(), F_GETFL);
  uint16_t flags = 0;
  if (fl >= 0) {
    if (fl & O_APPEND) flags |= kFdAppend;
    if (fl & O_NONBLOCK) flags |= kFdNonblock;
    if ((fl & O_SYNC) == O_SYNC) flags |= kFdSync;
    else if (fl & O_DSYNC) flags |= kFdDsync;
  }
  if (!mem_.in_bounds(out, layout::kFdstat)) return kFault;
  // Rights describe the descriptor as it is (wasi-libc derives O_ACCMODE
  // and isatty from them); they never grant anything: the broker decides.
  uint64_t rights = kAllRights;
  if (fl >= 0 && (fl & O_ACCMODE) == O_RDONLY) rights &= ~(kRightFdWrite | kRightFdAllocate | kRightFdFilestatSetSize);
  if (fl >= 0 && (fl & O_ACCMODE) == O_WRONLY) rights &= ~(kRightFdRead | kRightFdReaddir);
  if (S_ISCHR(st.st_mode) && ::isatty(f->host.get())) rights &= ~(kRightFdSeek | kRightFdTell);
  // A directory is neither seeked nor truncated, nor are files truncated
  // through it by path (preview 1 has no call for it).
  if (S_ISDIR(st.st_mode))
    rights &= ~(kRightFdSeek | kRightFdTell | kRightFdFilestatSetSize | kRightPathFilestatSetSize);
  std::memset(mem_.at(out), 0, layout::kFdstat);
  mem_.store<uint8_t>(out, filetype_of(st, f->host.get()));
  mem_.store<uint16_t>(out + 2, flags);
  mem_.store<uint64_t>(out + 8, rights);
  mem_.store<uint64_t>(out + 16, kAllRights);
  return kSuccess;
}

uint32_t WasiHost::fd_fdstat_set_flags(uint32_t fd, uint32_t flags) {
  Fd* f = lookup(fd);
  if (!f) return kBadf;
  if (flags & ~uint32_t{kFdAppend | kFdNonblock}) return kNotSup;  // sync modes are fixed at open
  int fl = ::fcntl(f->host.get(), F_GETFL);
  if (fl < 0) return last_error();
  fl &= ~(O_APPEND | O_NONBLOCK);
  if (flags & kFdAppend) fl |= O_APPEND;
  if (flags & kFdNonblock) fl |= O_NONBLOCK;
  return ::fcntl(f->host.get(), F_SETFL, fl) == 0 ? kSuccess : last_error();
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
  if (::fstat(f->host.get(), &st) != 0) return last_error();
  return write_filestat(out, st);
}

uint32_t WasiHost::fd_filestat_set_size(uint32_t fd, uint64_t size) {
  Fd* f = lookup(fd);
  if (!f) return kBadf;
  if (size > static_cast<uint64_t>(INT64_MAX)) return kInval;
  return ::ftruncate(f->host.get(), static_cast<off_t>(size)) == 0 ? kSuccess : last_error();
}

uint32_t WasiHost::fd_filestat_set_times(uint32_t fd, uint64_t atim, uint64_t mtim, uint32_t flags) {
  Fd* f = lookup(fd);
  if (!f) return kBadf;
  struct timespec ts[2];
  if (!times_of(atim, mtim, flags, ts)) return kInval;
  return ::futimens(f->host.get(), ts) == 0 ? kSuccess : last_error();
}

uint32_t WasiHost::vector_io(uint32_t fd, uint32_t iovs, uint32_t count, uint32_t out,
                             std::optional<uint64_t> offset, VectorIo io) {
  Fd* f = lookup(fd);
  if (!f) return kBadf;
  std::vector<struct iovec> v;
  if (!mem_.iovecs(iovs, count, v) || !mem_.in_bounds(out, 4)) return kFault;
  if (offset && *offset > static_cast<uint64_t>(INT64_MAX)) return kInval;
  ssize_t n = io(f->host.get(), v.data(), static_cast<int>(v.size()), static_cast<off_t>(offset.value_or(0)));
  if (n < 0) return last_error();
  mem_.store<uint32_t>(out, static_cast<uint32_t>(n));
  return kSuccess;
}

uint32_t WasiHost::fd_read(uint32_t fd, uint32_t iovs, uint32_t count, uint32_t out) {
  return vector_io(fd, iovs, count, out, std::nullopt,
                   [](int host, const struct iovec* v, int n, off_t) { return ::readv(host, v, n); });
}

uint32_t WasiHost::fd_write(uint32_t fd, uint32_t iovs, uint32_t count, uint32_t out) {
  return vector_io(fd, iovs, count, out, std::nullopt,
                   [](int host, const struct iovec* v, int n, off_t) { return ::writev(host, v, n); });
}

uint32_t WasiHost::fd_pread(uint32_t fd, uint32_t iovs, uint32_t count, uint64_t offset, uint32_t out) {
  return vector_io(fd, iovs, count, out, offset, [](int host, const struct iovec* v, int n, off_t at) {
    return ::preadv(host, v, n, at);
  });
}

uint32_t WasiHost::fd_pwrite(uint32_t fd, uint32_t iovs, uint32_t count, uint64_t offset, uint32_t out) {
  return vector_io(fd, iovs, count, out, offset, [](int host, const struct iovec* v, int n, off_t at) {
    return ::pwritev(host, v, n, at);
  });
}

uint32_t WasiHost::fd_prestat_get(uint32_t fd, uint32_t out) {
  Fd* f = lookup(fd);
  if (!f || !f->preopen) return kBadf;
  if (!mem_.in_bounds(out, layout::kPrestat)) return kFault;
  std::memset(mem_.at(out), 0, layout::kPrestat);
  mem_.store<uint8_t>(out, kPreopenDir);
  mem_.store<uint32_t>(out + 4, static_cast<uint32_t>(f->name.size()));
  return kSuccess;
}

uint32_t WasiHost::fd_prestat_dir_name(uint32_t fd, uint32_t path, uint32_t len) {
  Fd* f = lookup(fd);
  if (!f || !f->preopen) return kBadf;
  if (len < f->name.size()) return kNameTooLong;
  if (!mem_.in_bounds(path, f->name.size())) return kFault;
  std::memcpy(mem_.at(path), f->name.data(), f->name.size());
  return kSuccess;
}

Errno WasiHost::read_listing(int dir_fd, std::vector<Dirent>& out) {
  // A fresh descriptor of the directory: the guest's own keeps no hidden
  // position, and the whole listing is read once (not once per call).
  UniqueFd fresh(::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fresh.valid()) return last_error();
  DIR* dir = ::fdopendir(fresh.get());
  if (!dir) return last_error();
  fresh.release();  // the DIR owns it now
  errno = 0;
  while (struct dirent* de = ::readdir(dir)) {
    uint8_t type = de->d_type == DT_REG ? kRegularFile : de->d_type == DT_DIR ? kDirectory
                   : de->d_type == DT_LNK ? kSymlink : de->d_type == DT_CHR ? kCharDevice
                   : de->d_type == DT_BLK ? kBlockDevice : de->d_type == DT_SOCK ? kSocketStream : kUnknown;
    out.push_back({de->d_ino, type, de->d_name});
  }
  int err = errno;
  ::closedir(dir);
  return from_errno(err);
}

uint32_t WasiHost::fd_readdir(uint32_t fd, uint32_t buf, uint32_t len, uint64_t cookie, uint32_t out) {
  Fd* f = lookup(fd);
  if (!f) return kBadf;
  if (!mem_.in_bounds(buf, len) || !mem_.in_bounds(out, 4)) return kFault;
  if (cookie == 0 || !f->listing) {
    auto listing = std::make_shared<std::vector<Dirent>>();
    if (Errno e = read_listing(f->host.get(), *listing)) return e;
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
    std::memcpy(mem_.at(buf + used), header, take);
    used += take;
    uint32_t name_take = std::min<uint32_t>(namlen, len - used);
    std::memcpy(mem_.at(buf + used), e.name.data(), name_take);
    used += name_take;
  }
  mem_.store<uint32_t>(out, used);
  return kSuccess;
}

uint32_t WasiHost::fd_renumber(uint32_t from, uint32_t to) {
  Fd* f = lookup(from);
  Fd* t = lookup(to);
  if (!f || !t) return kBadf;
  if (from == to) return kSuccess;
  fds_[to] = std::move(fds_[from]);  // closes the descriptor `to` held
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
  if (!mem_.in_bounds(out, 8)) return kFault;
  off_t pos = ::lseek(f->host.get(), static_cast<off_t>(offset), w);
  if (pos < 0) return last_error();
  mem_.store<uint64_t>(out, static_cast<uint64_t>(pos));
  return kSuccess;
}

uint32_t WasiHost::fd_tell(uint32_t fd, uint32_t out) { return fd_seek(fd, 0, kCur, out); }

}  // namespace wwjail
