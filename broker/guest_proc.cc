#include "broker/guest_proc.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <string_view>

#include "broker/guest_identity.h"
#include "capabilities/path_text.h"
#include "sys/proc_stat.h"
#include "sys/unique_fd.h"

namespace wwjail::guest_proc {
namespace {

int read_link(const std::string& link, std::string& out) {
  char buf[PATH_MAX + 1];
  ssize_t n = ::readlink(link.c_str(), buf, sizeof buf);
  if (n < 0) return errno;
  if (n > PATH_MAX) return ENAMETOOLONG;
  out.assign(buf, static_cast<size_t>(n));
  return 0;
}

UniqueFd open_pid_dir(pid_t pid) {
  UniqueFd dir(::open(("/proc/" + std::to_string(pid)).c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  struct statfs sfs;
  if (dir.valid() && (::fstatfs(dir.get(), &sfs) != 0 || sfs.f_type != PROC_SUPER_MAGIC)) dir.reset();
  return dir;
}

struct StatusField {
  const char* format;  // scanf format with one conversion, e.g. "Tgid: %u"
  unsigned* out;
};

// Numeric fields of the status file below the /proc/PID directory `dir`,
// read once. False unless the process is there and every field was found.
bool status_fields_at(int dir, std::initializer_list<StatusField> fields) {
  UniqueFd fd(::openat(dir, "status", O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  FILE* f = fd.valid() ? ::fdopen(fd.get(), "r") : nullptr;
  if (!f) return false;
  fd.release();  // the FILE owns it now
  size_t found = 0;
  char line[256];
  while (found < fields.size() && std::fgets(line, sizeof line, f)) {
    for (const auto& field : fields) found += std::sscanf(line, field.format, field.out) == 1;
  }
  std::fclose(f);
  return found == fields.size();
}

// One numeric field of /proc/PID/status (see status_fields_at).
bool status_field(pid_t pid, const char* format, unsigned& out) {
  AsBroker broker;
  UniqueFd dir = open_pid_dir(pid);
  return dir.valid() && status_fields_at(dir.get(), {{format, &out}});
}

// The Tgid and PPid fields of the pinned /proc/PID `dir`; false when the
// process is gone (its entries then fail to open).
bool ids_at(int dir, pid_t& tgid, pid_t& ppid) {
  unsigned t = 0, p = 0;
  if (!status_fields_at(dir, {{"Tgid: %u", &t}, {"PPid: %u", &p}})) return false;
  tgid = static_cast<pid_t>(t);
  ppid = static_cast<pid_t>(p);
  return true;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

// Everything here reads /proc/PID of a guest, which is the broker's to read
// (ptrace access): so as the broker, whoever it acts for.

std::string fd_link(pid_t pid, int fd) {
  std::string proc = "/proc/" + std::to_string(pid);
  return fd == AT_FDCWD ? proc + "/cwd" : proc + "/fd/" + std::to_string(fd);
}

int fd_target(pid_t pid, int fd, std::string& out) {
  if (fd < 0) return EBADF;
  AsBroker broker;
  int err = read_link(fd_link(pid, fd), out);
  return err == ENOENT ? EBADF : err;
}

int dir_path(pid_t pid, int dirfd, std::string& out) {
  AsBroker broker;
  int err = dirfd == AT_FDCWD ? read_link(fd_link(pid, dirfd), out) : fd_target(pid, dirfd, out);
  if (err) return err;
  if (out.empty() || out.front() != '/') return ENOTDIR;
  if (ends_with(out, " (deleted)")) {
    // Removed, or really named so: ask the directory itself.
    struct stat st;
    if (::stat(fd_link(pid, dirfd).c_str(), &st) != 0 || st.st_nlink == 0) return ENOENT;
  }
  return 0;
}

int absolute_path(pid_t pid, int dirfd, std::string_view raw, std::string& out) {
  if (!raw.empty() && raw.front() == '/') {
    out.assign(raw);
    return 0;
  }
  std::string base;
  if (int err = dir_path(pid, dirfd, base)) return err;
  out = path_text::join(base, raw);
  return 0;
}

pid_t tgid_of(pid_t tid) {
  unsigned v;
  return status_field(tid, "Tgid: %u", v) ? static_cast<pid_t>(v) : -1;
}

mode_t umask_of(pid_t pid) {
  unsigned m;
  return status_field(pid, "Umask: %o", m) ? static_cast<mode_t>(m) : 077;  // unknown: the safe guess is private
}

bool in_tree(pid_t pid, pid_t root) {
  AsBroker broker;
  if (pid <= 0 || pid == root) return false;
  for (int depth = 0; depth < 256 && pid > 1; ++depth) {
    pid_t parent = parent_pid(pid);
    if (parent == root) return true;
    if (parent <= 0) return false;
    pid = parent;
  }
  return false;
}

UniqueFd pin_caller_or_descendant(pid_t pid, pid_t caller) {
  AsBroker broker;
  if (pid <= 0 || caller <= 0) return {};
  UniqueFd target = open_pid_dir(pid);
  pid_t tgid = -1, parent = -1;
  if (!target.valid() || !ids_at(target.get(), tgid, parent)) return {};
  if (tgid == caller) return target;  // the caller's own thread group
  UniqueFd ancestor;
  int cur = target.get();
  for (int depth = 0; depth < 1024; ++depth) {
    if (parent == caller) return target;
    if (parent <= 1 || parent == ::getpid()) return {};  // the top, outside the caller
    UniqueFd up = open_pid_dir(parent);
    pid_t up_tgid = -1, up_parent = -1, again_tgid = -1, again = -1;
    // Re-read through the child's pin: still its parent, so `up` pins it.
    if (!up.valid() || !ids_at(up.get(), up_tgid, up_parent) || !ids_at(cur, again_tgid, again) || again != parent)
      return {};
    ancestor = std::move(up);
    cur = ancestor.get();
    parent = up_parent;
  }
  return {};
}

std::optional<ProcPidPath> split_proc_pid(std::string_view path) {
  if (!path.starts_with("/proc/")) return std::nullopt;
  std::string_view rest = path.substr(6);
  size_t slash = rest.find('/');
  std::string_view digits = rest.substr(0, slash);
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  ProcPidPath out;
  out.rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  if (digits.size() <= 9) out.pid = static_cast<pid_t>(std::stol(std::string(digits)));
  return out;
}

int own_fd_link(const std::string& path, pid_t pid) {
  std::string prefix = "/proc/" + std::to_string(pid) + "/fd/";
  if (path.compare(0, prefix.size(), prefix) != 0 || path.size() == prefix.size() || path.size() > prefix.size() + 9)
    return -1;
  int fd = 0;
  for (size_t i = prefix.size(); i < path.size(); ++i) {
    if (path[i] < '0' || path[i] > '9') return -1;
    fd = fd * 10 + (path[i] - '0');
  }
  return fd;
}

std::string rewrite_proc_self(std::string path, pid_t pid) {
  for (std::string_view prefix : {"/proc/thread-self", "/proc/self"}) {
    if (path.compare(0, prefix.size(), prefix) == 0 && (path.size() == prefix.size() || path[prefix.size()] == '/')) {
      return "/proc/" + std::to_string(pid) + path.substr(prefix.size());
    }
  }
  return path;
}

}  // namespace wwjail::guest_proc
