// Turns a guest's (dirfd, path) into the absolute path a decision is made on.
//
// Two routes:
//  * lexical: the joined path, normalized as text. Used only when the raw path
//    has no ".." and a grant covers the text. Any symlink inside it is then
//    resolved by the kernel beneath the grant (RESOLVE_BENEATH) or checked by
//    Landlock, so a wrong guess can only fail, never escape.
//  * physical: the broker walks the path itself as the guest thread would
//    (broker/guest_walk.h: /proc/self means the guest, magic links are
//    followed only to the guest's own named objects). This finds the real
//    target of /lib -> usr/lib style links and of symlinks that leave a
//    grant. Paths in /proc always take this route: there, text decides
//    nothing.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <string_view>

#include "broker/guest_walk.h"
#include "capabilities/storage_caps.h"
#include "sys/unique_fd.h"

namespace wwjail {

// An entry of the calling guest's own process (or a descendant's) in /proc:
// `dir` pins the process (guest_proc::pin_caller_or_descendant), `rest` is
// the canonical path below it ("" for the directory itself). Every access is
// made relative to `dir`, so it is about the process that was checked.
struct OwnProcEntry {
  UniqueFd dir;
  std::string rest;
};

struct ResolvedPath {
  std::string path;
  bool physical = false;  // true: symlinks were resolved by the broker
  Decision decision;
  // The guest wrote the entry with a trailing slash ("f/"): the kernel then
  // wants a directory there (unlink, rename: ENOTDIR otherwise).
  bool trailing_slash = false;
  // Set when the walk ended on a link that is never followed (see
  // guest_walk.h): the reason the access is refused, whatever the grants.
  std::string refusal;
  // Set when the path is an own-tree /proc entry read without a grant: the
  // decision then allows it through own_proc_grant(), which has no pinned
  // root; it is opened through this instead (shared: paths are copied into
  // deferred completions).
  std::shared_ptr<const OwnProcEntry> own_proc;
};

// The automatic grant that allows reading and listing the /proc entries of
// the guest's own process tree: never a need to learn or grant by hand.
const Grant& own_proc_grant();

// Whether the calling thread, acting as the guest, may search the directory
// `dir` (a walk's stopped_in): the broker walks with its own rights, where
// the kernel would have stopped the guest with EACCES.
bool guest_may_search(const UniqueFd& dir);

class PathResolver {
 public:
  // `own_proc_readable`: a guest thread may read the /proc entries of its
  // own process and its descendants without a grant (false for tests of
  // the decisions alone).
  PathResolver(const StorageCaps& caps, bool own_proc_readable) : caps_(caps), own_proc_readable_(own_proc_readable) {}

  // Returns 0 and fills `out` (whose decision may be a denial), or an errno
  // for a path that cannot be resolved at all. A failure to resolve a path
  // that no grant covers is reported as a denial, so non-granted parts of the
  // filesystem do not leak existence through ENOENT.
  int resolve(pid_t pid, int dirfd, std::string_view raw, bool follow_last, Need need, ResolvedPath& out) const;

  // Decides an absolute path the broker already knows (an fd's target).
  // Audit mode: when the path does not resolve and the grants would deny
  // it, the errno is returned with `out` holding the audited decision.
  int resolve_absolute(const GuestThread& who, std::string joined, bool follow_last, Need need,
                       ResolvedPath& out) const;

  // Physical resolution of an absolute path (see above). 0 or an errno,
  // under the same rules as resolve_absolute: ENOENT and the like only
  // where the guest may look where the walk stopped and could search
  // there; EACCES when the walk ends on a link that is never followed or
  // left by ".." a directory the guest may not look at.
  // kCallerDecides: a failed walk's errno is returned as it is (unix
  // socket paths: the network caps decide where absence may be told),
  // unless the path holds "..", whose walk could tell what it passed.
  enum class Absence { kStorage, kCallerDecides };
  int physical(const GuestThread& who, const std::string& joined, bool follow_last, std::string& out,
               Absence absence = Absence::kStorage) const;

  // False when `walked` (walk_as_guest, failed or not) left by ".." a
  // directory the guest may not look at: for walks the kernel makes as the
  // broker (openat2 beneath a root), which would otherwise tell the guest
  // whether that directory exists.
  bool stays_visible(const GuestThread& who, const WalkResult& walked) const;

  // The own-tree entry the canonical path `path` names, when `need` only
  // reads it (for a caller that already walked the path as the guest).
  std::shared_ptr<const OwnProcEntry> own_proc(const GuestThread& who, const std::string& path, Need need) const;

 private:
  // For a walk that failed: 0 when the guest may learn `err` (it may look
  // where the walk stopped, and could search the directory there), else
  // the errno it gets instead (EACCES), with `out` holding the denial.
  int failed_walk(const GuestThread& who, const std::string& lexical, int err, const WalkResult& walked, Need need,
                  ResolvedPath& out) const;

  // Whether the guest may look at `path` (stat it): a grant or its own /proc.
  bool may_look(const GuestThread& who, const std::string& path) const;
  // /proc itself, or an entry of the guest's own processes.
  bool shows_own_proc(const GuestThread& who, const std::string& path) const;
  // False, with `out` holding the denial, when the walk left by ".." a
  // directory the guest may not look at.
  bool passed_only_visible(const GuestThread& who, const WalkResult& walked, ResolvedPath& out) const;

  const StorageCaps& caps_;
  bool own_proc_readable_;
};

}  // namespace wwjail
