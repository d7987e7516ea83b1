// Walks a path one component at a time, as the calling guest thread's
// kernel lookup would, so that every hop means the guest and not the broker.
//
// Why a walk of our own: the broker is another process. Two procfs links
// depend on who looks: /proc/self names the reader's process and
// /proc/thread-self the reader's thread. They are ordinary symlinks
// (RESOLVE_NO_MAGICLINKS does not stop them), and they can be reached
// anywhere in a walk: literally, through /dev/fd -> /proc/self/fd, through
// /proc/mounts -> self/mounts, or through a symlink the guest planted that
// points at /proc. A kernel lookup made by the broker would land in the
// broker's own /proc entry, and the decision would be about the broker's
// descriptors, environment and memory maps. This walk substitutes the guest
// (thread group and thread) for those two links, wherever they appear.
//
// Links below /proc/PID/ (fd/N, cwd, root, exe, map_files/*, ns/*) are
// "magic": the kernel jumps to the object, not to the text readlink shows.
// The walk follows one only when it belongs to the calling guest's own
// thread group and its text names, right now, the very same inode (a named
// file or directory); the walk then continues on that path, decided like
// any other. Anything else ends the walk with a kind that handlers refuse:
// an object with no name (pipe, socket, memfd, anonymous inode, deleted or
// renamed file) or a link of another process or of an unsupported kind.
//
// Each hop is anchored to the directory descriptor the previous hop opened
// (O_PATH|O_NOFOLLOW), so a directory swapped for a symlink mid-walk is seen
// as the symlink it has become. The text returned is the path the kernel
// names the last directory by, plus the last component.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "sys/unique_fd.h"

namespace wwjail {

// The guest thread a walk is made for. `tid` is what a seccomp notification
// carries; the thread group is looked up when a walk first needs it.
class GuestThread {
 public:
  explicit GuestThread(pid_t tid) : tid_(tid) {}
  pid_t tid() const { return tid_; }
  // 0 when the thread is gone.
  pid_t tgid() const;

 private:
  pid_t tid_;
  mutable pid_t tgid_ = -1;
};

enum class WalkEnd {
  kPath,           // `path` names the target (it may not exist if it is the last component)
  kUnnamedObject,  // a magic link of the guest to an object with no path
  kRefusedLink,    // a magic link of another process, or of a kind never followed
};

struct WalkResult {
  std::string path;   // canonical absolute path, or the link's path for the other kinds
  WalkEnd end = WalkEnd::kPath;
  std::string what;   // for the other kinds: what the link shows (for logs)
  // When the walk fails: `path` is where it stopped (the directory it was
  // in, as the kernel names it, plus the component it could not take) and
  // this is that directory. Whether the guest may learn why it failed is
  // decided there, never on the text it gave: the walk applies ".."
  // physically, so the text can name a granted place while the walk failed
  // somewhere else entirely.
  UniqueFd stopped_in;
  // The directories the walk entered and then left by "..": it learned that
  // they exist, so the guest may only have them walked if it may look at
  // them (decided by PathResolver).
  std::vector<std::string> left_by_dotdot;
};

// Returns 0 and fills `out`, or an errno (ENOENT for a missing directory on
// the way, ENOTDIR, ELOOP after 40 symlinks, EACCES for a directory the
// broker cannot search) with `out.path` and `out.stopped_in` saying where
// (empty when even that is unknown). A missing last component is not an
// error: `out` then names it. `absolute` must start with '/'. The walk is
// made with the broker's own search rights (it reads the guest's /proc
// links): whether the guest could search where it stopped is the caller's
// to check (PathResolver does, as the guest).
int walk_as_guest(const GuestThread& who, const std::string& absolute, bool follow_last, WalkResult& out);

// True when `path` lies in the procfs tree at /proc, where text decides
// nothing: the lexical shortcut is never taken there.
bool in_proc(const std::string& path);

}  // namespace wwjail
