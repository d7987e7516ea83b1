#include "broker/guest_walk.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <string_view>
#include <vector>

#include "broker/guest_identity.h"
#include "broker/guest_proc.h"
#include "capabilities/path_text.h"
#include "sys/unique_fd.h"
#include "sys/self_fd.h"

namespace wwjail {
namespace {

constexpr int kMaxSymlinkHops = 40;  // the kernel's limit
constexpr ino_t kProcRootIno = 1;    // PROC_ROOT_INO in fs/proc/internal.h

int read_link_at(int dirfd, const char* name, std::string& out) {
  char buf[PATH_MAX + 1];
  ssize_t n = ::readlinkat(dirfd, name, buf, sizeof buf);
  if (n < 0) return errno;
  if (n > PATH_MAX) return ENAMETOOLONG;
  out.assign(buf, static_cast<size_t>(n));
  return 0;
}

// The path the kernel names our descriptor `fd` by (our own table).
int own_fd_path(int fd, std::string& out) {
  return read_link_at(AT_FDCWD, self_fd_path(fd).c_str(), out);
}

// Pushes the components of `path` so that the first one ends up at the back.
// Empty and "." components are dropped; ".." is kept for the walk to apply.
void push_components(std::vector<std::string>& todo, std::string_view path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view part = path.substr(i, j - i);
    if (!part.empty() && part != ".") parts.emplace_back(part);
    i = j + 1;
  }
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) todo.push_back(std::move(*it));
}

// "x/", "x/." and "x/.." name a directory whatever x is.
bool names_directory(std::string_view path) {
  return path.ends_with('/') || path.ends_with("/.") || path.ends_with("/..") || path == "." || path == "..";
}

enum class ProcPlace { kElsewhere, kRoot, kBelow };

ProcPlace proc_place(int dir) {
  struct statfs sfs;
  if (::fstatfs(dir, &sfs) != 0 || sfs.f_type != PROC_SUPER_MAGIC) return ProcPlace::kElsewhere;
  struct stat st;
  if (::fstat(dir, &st) == 0 && st.st_ino == kProcRootIno) return ProcPlace::kRoot;
  return ProcPlace::kBelow;
}

bool all_digits(std::string_view s) { return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos; }

// Whether a magic link at `dir_text`/`name` (dir_text as the kernel names
// the directory) is one of the guest's own links that may be followed by
// its text: /proc/P/{cwd,root,exe}, /proc/P/fd/N, and the same below
// /proc/P/task/T, where P is the guest's thread group or the thread itself.
bool own_followable_link(const GuestThread& who, std::string_view dir_text, std::string_view name) {
  auto entry = guest_proc::split_proc_pid(dir_text);
  if (!entry || (entry->pid != who.tgid() && entry->pid != who.tid())) return false;
  std::string_view rest = entry->rest;
  if (rest.starts_with("task/")) {
    std::string_view t = rest.substr(5);
    size_t s = t.find('/');
    if (!all_digits(t.substr(0, s))) return false;
    rest = s == std::string_view::npos ? std::string_view() : t.substr(s + 1);
  }
  if (rest.empty()) return name == "cwd" || name == "root" || name == "exe";
  return rest == "fd" && all_digits(name);
}

// True when `text` names, right now, the object the magic link reaches.
bool names_same_object(int dir, const std::string& name, const std::string& text) {
  if (text.empty() || text.front() != '/') return false;
  struct stat via_link, via_name;
  if (::fstatat(dir, name.c_str(), &via_link, 0) != 0) return false;
  if (!S_ISDIR(via_link.st_mode) && via_link.st_nlink == 0) return false;
  if (::stat(text.c_str(), &via_name) != 0) return false;
  return via_link.st_dev == via_name.st_dev && via_link.st_ino == via_name.st_ino;
}

}  // namespace

pid_t GuestThread::tgid() const {
  if (tgid_ < 0) tgid_ = guest_proc::tgid_of(tid_);
  return tgid_ < 0 ? 0 : tgid_;
}

bool in_proc(const std::string& path) { return path_text::is_within(path, "/proc"); }

namespace {

// Where a walk stopped: the directory it was in (named as the kernel names
// it) and the component it could not take. Returns `err`.
int stopped(int dir, const std::string& name, int err, WalkResult& out) {
  std::string dir_text;
  if (own_fd_path(dir, dir_text) == 0) {
    out.path = path_text::join(dir_text, name);
    out.stopped_in.reset(::fcntl(dir, F_DUPFD_CLOEXEC, 0));
  }
  return err;
}

// The text the walk ends on once every component is taken.
int finish(int dir, const std::string& last, WalkResult& out) {
  std::string dir_text;
  if (int e = own_fd_path(dir, dir_text)) return e;
  if (dir_text.ends_with(" (deleted)")) {
    struct stat st;
    if (::fstat(dir, &st) != 0 || st.st_nlink == 0) return ENOENT;
  }
  out.path = last.empty() ? dir_text : path_text::normalize(path_text::join(dir_text, last));
  out.end = WalkEnd::kPath;
  return 0;
}

}  // namespace

int walk_as_guest(const GuestThread& who, const std::string& absolute, bool follow_last, WalkResult& out) {
  // The walk decides; it performs nothing. It reads the guest's /proc links,
  // which needs the broker's own access.
  AsBroker broker;
  out = {};
  std::vector<std::string> todo;
  push_components(todo, absolute);
  bool want_dir = names_directory(absolute);
  UniqueFd dir(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid()) return errno;
  std::string last;  // the final component, when it is not walked into
  int hops = 0;
  while (!todo.empty()) {
    std::string name = std::move(todo.back());
    todo.pop_back();
    if (name == "..") {
      UniqueFd up(::openat(dir.get(), "..", O_PATH | O_DIRECTORY | O_CLOEXEC));
      if (!up.valid()) return stopped(dir.get(), name, errno, out);
      std::string left;
      if (int e = own_fd_path(dir.get(), left)) return e;
      out.left_by_dotdot.push_back(std::move(left));
      dir = std::move(up);
      continue;
    }
    bool is_last = todo.empty();
    bool walk_into = !is_last || want_dir;
    if (walk_into) {
      UniqueFd next(::openat(dir.get(), name.c_str(), O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC));
      if (next.valid()) {
        dir = std::move(next);
        continue;
      }
      if (errno != ENOTDIR && errno != ELOOP) return stopped(dir.get(), name, errno, out);  // ENOENT: missing on the way
    }
    std::string target;
    int err = (walk_into || follow_last) ? read_link_at(dir.get(), name.c_str(), target) : EINVAL;
    if (err == 0) {
      if (++hops > kMaxSymlinkHops) return stopped(dir.get(), name, ELOOP, out);
      if (target.empty()) return stopped(dir.get(), name, ENOENT, out);
      ProcPlace place = proc_place(dir.get());
      if (place == ProcPlace::kRoot && name == "self") {
        target = std::to_string(who.tgid());
      } else if (place == ProcPlace::kRoot && name == "thread-self") {
        target = std::to_string(who.tgid()) + "/task/" + std::to_string(who.tid());
      } else if (place == ProcPlace::kBelow) {
        std::string dir_text;
        if (int e = own_fd_path(dir.get(), dir_text)) return e;
        std::string link = path_text::join(dir_text, name);
        if (!own_followable_link(who, dir_text, name)) {
          out = {std::move(link), WalkEnd::kRefusedLink, std::move(target)};
          return 0;
        }
        if (!names_same_object(dir.get(), name, target)) {
          out = {std::move(link), WalkEnd::kUnnamedObject, std::move(target)};
          return 0;
        }
      }
      if (target.front() == '/') {
        dir.reset(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!dir.valid()) return errno;
      }
      if (is_last && names_directory(target)) want_dir = true;
      push_components(todo, target);
      continue;
    }
    if (err != EINVAL && err != ENOENT) return stopped(dir.get(), name, err, out);
    if (walk_into) return stopped(dir.get(), name, err == ENOENT ? ENOENT : ENOTDIR, out);
    last = std::move(name);  // not a symlink, or missing: named as it is
  }
  return finish(dir.get(), last, out);
}

}  // namespace wwjail
