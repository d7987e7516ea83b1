// WASI host calls on a path beneath a descriptor the guest holds. Each
// resolves the path with openat2 RESOLVE_BENEATH (wasi_native.h) to the
// parent directory or the entry itself, and acts through that descriptor:
// a path never leaves the directory it is relative to.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstring>

#include "wasm/runner/wasi_host.h"
#include "wasm/runner/wasi_native.h"
#include "sys/self_fd.h"

namespace wwjail {

using namespace wasi;

uint32_t WasiHost::path_open(uint32_t fd, uint32_t dirflags, uint32_t path, uint32_t len, uint32_t oflags,
                             uint64_t rights, uint64_t, uint32_t fdflags, uint32_t out) {
  Fd* f = lookup(fd);
  if (!f) return kBadf;
  std::string p;
  if (Errno e = mem_.path_arg(path, len, p)) return e;
  if (p.empty()) return kNoent;
  if (p.front() == '/') return kNotCapable;
  if (!mem_.in_bounds(out, 4)) return kFault;
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
  UniqueFd host(openat2_beneath(f->host.get(), p, flags, 0666));
  if (!host.valid() && errno == EISDIR && !(oflags & kODirectory) && !write) {
    host.reset(openat2_beneath(f->host.get(), p, (flags & ~uint64_t{O_ACCMODE}) | O_RDONLY | O_DIRECTORY, 0));
  }
  if (!host.valid()) return last_error();
  mem_.store<uint32_t>(out, add_fd(std::move(host)));
  return kSuccess;
}

uint32_t WasiHost::path_create_directory(uint32_t fd, uint32_t path, uint32_t len) {
  UniqueFd parent;
  std::string name;
  if (Errno e = entry_at(fd, path, len, parent, name)) return e;
  if (name == ".") return kExist;
  return ::mkdirat(parent.get(), name.c_str(), 0777) == 0 ? kSuccess : last_error();
}

uint32_t WasiHost::path_filestat_get(uint32_t fd, uint32_t flags, uint32_t path, uint32_t len, uint32_t out) {
  std::string p;
  if (Errno e = mem_.path_arg(path, len, p)) return e;
  struct stat st;
  // The entry itself in its (beneath-resolved) parent; when following, a
  // symlink's target is looked up the same way, hop by hop, so FIFOs,
  // sockets and unreadable files can be looked at too, and an absolute or
  // escaping target is ENOTCAPABLE as anywhere else.
  for (int hops = 0; hops <= 40; ++hops) {
    UniqueFd parent;
    std::string name;
    if (Errno e = parent_of(fd, p, parent, name)) return e;
    if (::fstatat(parent.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return last_error();
    if (!(flags & kLookupFollow) || !S_ISLNK(st.st_mode)) return write_filestat(out, st);
    char target[PATH_MAX];
    ssize_t n = ::readlinkat(parent.get(), name.c_str(), target, sizeof target - 1);
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
  if (Errno e = mem_.path_arg(path, len, p)) return e;
  struct timespec ts[2];
  if (!times_of(atim, mtim, fst_flags, ts)) return kInval;
  if (flags & kLookupFollow) {
    // Resolved beneath the directory first; the times are then set on what
    // was found, named through our descriptor of it.
    UniqueFd target;
    if (Errno e = open_path(fd, p, true, target)) return e;
    std::string via = self_fd_path(target.get());
    return ::utimensat(AT_FDCWD, via.c_str(), ts, 0) == 0 ? kSuccess : last_error();
  }
  UniqueFd parent;
  std::string name;
  if (Errno e = parent_of(fd, p, parent, name)) return e;
  return ::utimensat(parent.get(), name.c_str(), ts, AT_SYMLINK_NOFOLLOW) == 0 ? kSuccess : last_error();
}

uint32_t WasiHost::path_link(uint32_t old_fd, uint32_t old_flags, uint32_t old_path, uint32_t old_len,
                             uint32_t new_fd, uint32_t new_path, uint32_t new_len) {
  std::string op, np, oname, nname;
  if (Errno e = mem_.path_arg(old_path, old_len, op)) return e;
  if (Errno e = mem_.path_arg(new_path, new_len, np)) return e;
  if (old_flags & kLookupFollow) {
    // Linking what a symlink points at: found beneath the directory, then
    // linked by our descriptor of it.
    UniqueFd target;
    if (Errno e = open_path(old_fd, op, true, target)) return e;
    UniqueFd nparent;
    if (Errno e = parent_of(new_fd, np, nparent, nname)) return e;
    return ::linkat(target.get(), "", nparent.get(), nname.c_str(), AT_EMPTY_PATH) == 0 ? kSuccess : last_error();
  }
  UniqueFd oparent, nparent;
  if (Errno e = parent_of(old_fd, op, oparent, oname)) return e;
  if (Errno e = parent_of(new_fd, np, nparent, nname)) return e;
  return ::linkat(oparent.get(), oname.c_str(), nparent.get(), nname.c_str(), 0) == 0 ? kSuccess : last_error();
}

uint32_t WasiHost::path_readlink(uint32_t fd, uint32_t path, uint32_t len, uint32_t buf, uint32_t buf_len,
                                 uint32_t out) {
  std::string p, name;
  if (Errno e = mem_.path_arg(path, len, p)) return e;
  if (!mem_.in_bounds(buf, buf_len) || !mem_.in_bounds(out, 4)) return kFault;
  UniqueFd parent;
  if (Errno e = parent_of(fd, p, parent, name)) return e;
  char target[PATH_MAX];
  ssize_t n = ::readlinkat(parent.get(), name.c_str(), target, sizeof target);
  if (n < 0) return last_error();
  uint32_t take = std::min<uint32_t>(static_cast<uint32_t>(n), buf_len);
  std::memcpy(mem_.at(buf), target, take);
  mem_.store<uint32_t>(out, take);
  return kSuccess;
}

uint32_t WasiHost::path_remove_directory(uint32_t fd, uint32_t path, uint32_t len) {
  UniqueFd parent;
  std::string name;
  if (Errno e = entry_at(fd, path, len, parent, name)) return e;
  if (name == ".") return kInval;
  return ::unlinkat(parent.get(), name.c_str(), AT_REMOVEDIR) == 0 ? kSuccess : last_error();
}

uint32_t WasiHost::path_rename(uint32_t fd, uint32_t old_path, uint32_t old_len, uint32_t new_fd, uint32_t new_path,
                               uint32_t new_len) {
  std::string op, np, oname, nname;
  if (Errno e = mem_.path_arg(old_path, old_len, op)) return e;
  if (Errno e = mem_.path_arg(new_path, new_len, np)) return e;
  UniqueFd oparent, nparent;
  if (Errno e = parent_of(fd, op, oparent, oname)) return e;
  if (Errno e = parent_of(new_fd, np, nparent, nname)) return e;
  if (oname == "." || nname == ".") return kInval;
  return ::renameat(oparent.get(), oname.c_str(), nparent.get(), nname.c_str()) == 0 ? kSuccess : last_error();
}

uint32_t WasiHost::path_symlink(uint32_t old_path, uint32_t old_len, uint32_t fd, uint32_t new_path,
                                uint32_t new_len) {
  std::string target, np, name;
  if (Errno e = mem_.path_arg(old_path, old_len, target)) return e;
  if (Errno e = mem_.path_arg(new_path, new_len, np)) return e;
  // Every later lookup through a link stays beneath its directory, so an
  // absolute target could only ever fail; it is refused when made, as other
  // runtimes do.
  if (!target.empty() && target.front() == '/') return kPerm;
  UniqueFd parent;
  if (Errno e = parent_of(fd, np, parent, name)) return e;
  return ::symlinkat(target.c_str(), parent.get(), name.c_str()) == 0 ? kSuccess : last_error();
}

uint32_t WasiHost::path_unlink_file(uint32_t fd, uint32_t path, uint32_t len) {
  UniqueFd parent;
  std::string name;
  if (Errno e = entry_at(fd, path, len, parent, name)) return e;
  if (name == ".") return kIsDir;
  return ::unlinkat(parent.get(), name.c_str(), 0) == 0 ? kSuccess : last_error();
}

}  // namespace wwjail
