// The steps handlers share: decide (and note) a need, resolve and open a
// path beneath its grant, open a create/remove target's parent, duplicate
// a guest descriptor, refuse. Free functions over (Call&, const Services&).
//
// One error convention: a step that can fail returns Expected<T, Verdict>,
// whose error is the answer the guest gets (an errno, or a logged denial);
// a handler returns it as it is. A step never logs a denial it does not
// also return, except where said (redecide_physical).
#pragma once

#include <linux/openat2.h>

#include <cerrno>
#include <memory>
#include <string>
#include <string_view>

#include "broker/call.h"
#include "broker/expected.h"
#include "broker/path_resolver.h"
#include "broker/services.h"
#include "broker/verdict.h"
#include "sys/unique_fd.h"

namespace wwjail {

// The answer to a call that is no longer pending: nobody reads it (the
// thread was interrupted or is gone).
inline Verdict interrupted() { return Verdict::error(ENOENT); }
// 0 from a syscall the broker performed, or its errno.
inline Verdict result_of(int rc) { return rc == 0 ? Verdict::value_of(0) : Verdict::error(errno); }
inline Unexpected<Verdict> fail(int err) { return Unexpected(Verdict::error(err)); }
inline Unexpected<Verdict> fail(Verdict v) { return Unexpected(std::move(v)); }
// A dirfd register (an int in the kernel).
inline int as_dirfd(uint64_t reg) { return static_cast<int>(static_cast<int32_t>(reg)); }

// Decisions. decide() is caps.decide plus note(): every storage decision a
// handler acts on goes through one of them, so allowed and audited ones
// reach the DecisionLog (denials are logged by deny*).
Decision decide(Call& n, const Services& s, std::string_view path, Need need);
void note(Call& n, const Services& s, std::string_view path, Need need, const Decision& d);

// Logs the denial of `r` and answers EACCES (ENOENT, quietly, for a probed
// path that is absent: Services::probed_quietly).
Verdict deny(Call& n, const Services& s, const ResolvedPath& r, Need need);
// A refusal no grant could lift, logged with its reason.
Verdict deny_text(Call& n, const std::string& what, const std::string& why, int err = EACCES);

// Resolution (path_resolver.h) plus note() of the result. The decision in
// the result may be a denial; the error is the resolution's errno.
Expected<ResolvedPath, Verdict> resolve(Call& n, const Services& s, int dirfd, std::string_view raw,
                                        bool follow_last, Need need);
Expected<ResolvedPath, Verdict> resolve_absolute(Call& n, const Services& s, std::string joined, bool follow_last,
                                                 Need need);
// The same, a denial answered (deny) as the error.
Expected<ResolvedPath, Verdict> resolve_granted(Call& n, const Services& s, int dirfd, std::string_view raw,
                                                bool follow_last, Need need);
// read_path + resolve / resolve_granted.
Expected<ResolvedPath, Verdict> locate(Call& n, const Services& s, int dirfd, uint64_t addr, bool follow_last,
                                       Need need);
Expected<ResolvedPath, Verdict> locate_granted(Call& n, const Services& s, int dirfd, uint64_t addr,
                                               bool follow_last, Need need);

// Opens an allowed target beneath its grant (O_PATH unless flags say
// otherwise). Falls back to physical resolution when a symlink inside a
// lexically chosen grant leads out of it (EXDEV), deciding again.
Expected<UniqueFd, Verdict> open_beneath(Call& n, const Services& s, ResolvedPath& r, Need need, uint64_t flags,
                                         mode_t mode, uint64_t extra_resolve);

// A path operand granted `need` and opened by path (O_PATH) beneath its
// grant, the last component followed or not: what metadata calls act on.
struct Target {
  ResolvedPath resolved;
  UniqueFd fd;
};
Expected<Target, Verdict> open_target(Call& n, const Services& s, int dirfd, std::string_view raw, bool follow,
                                      Need need);
// The same for the path argument at `addr` (read_path first).
Expected<Target, Verdict> locate_target(Call& n, const Services& s, int dirfd, uint64_t addr, bool follow, Need need);

// After EXDEV beneath a lexically chosen grant: resolves `dir` (+ `name`)
// physically and decides `need` again on the real target. On a denial it
// logs it as deny() does and answers EACCES, even where deny() would
// answer a quiet ENOENT (the guest already saw the lexical path granted).
Expected<void, Verdict> redecide_physical(Call& n, const Services& s, ResolvedPath& r, Need need,
                                          const std::string& dir, const std::string& name, bool follow_last);
// Its two halves: where `dir` physically is (walked as the guest), and
// `need` decided again on `path` (r becomes that path's physical decision).
Expected<std::string, Verdict> physical_path(const Call& n, const Services& s, const std::string& dir,
                                             bool follow_last);
Expected<void, Verdict> decide_again(Call& n, const Services& s, ResolvedPath& r, Need need, std::string path);

// Resolves the parent of `addr` physically and decides `need` on the entry
// (never followed). The decision may be a denial.
Expected<ResolvedPath, Verdict> locate_entry(Call& n, const Services& s, int dirfd, uint64_t addr, Need need);
// A create/remove target's parent directory, opened beneath its grant, and
// the entry's name (with the guest's trailing slash, which the kernel then
// checks: the *at call never follows the last component, slash or not).
struct Entry {
  UniqueFd parent;
  std::string name;
};
Expected<Entry, Verdict> open_parent(Call& n, const Services& s, ResolvedPath& r, Need need);
// What every one-entry directory syscall starts with: locate_entry, deny,
// open_parent, and the notification confirmed pending.
Expected<Entry, Verdict> enter_parent(Call& n, const Services& s, int dirfd, uint64_t addr, Need need);

// A duplicate of the guest's fd (pidfd_getfd), and the kernel's name for
// it read from our own table (a dup2 in another guest thread cannot change
// what is decided about).
struct NamedFd {
  UniqueFd fd;
  std::string name;
};
Expected<UniqueFd, Verdict> dup_guest_fd(const Call& n, int fd);
Expected<NamedFd, Verdict> dup_guest_fd_named(const Call& n, int fd);

// The path an operation on a held descriptor is decided on, or "" when the
// object is private to the guest: it has no path (pipe, socket, anon
// inode) or is unlinked (a deleted file, O_TMPFILE, memfd). Unlinked is
// read from the descriptor (st_nlink), never from the " (deleted)" the
// kernel appends to the name: a file may really be called "x (deleted)".
std::string decidable_path(int dup, const std::string& name);
// True when `fd` (opened by the broker) is a /proc entry of a process
// outside the calling guest's thread group. The broker never opens those
// for a guest: its own credentials would stand in for the kernel's
// process-access checks (another process's environ, mem, fds; the
// broker's own entries above all), which a CONTINUEd open meets in full.
bool foreign_proc_object(int fd, pid_t tid);
// The refusal for one (EACCES, logged).
Verdict refuse_foreign_proc(Call& n, const std::string& what);
// Opens an entry of the guest's own tree (path_resolver.h) for reading or
// by path, beneath its pinned process.
Expected<UniqueFd, Verdict> open_own_proc(const OwnProcEntry& e, uint64_t flags);
// Resolve flags added beneath grant `g`: a grant that holds /proc (that
// is, /) is walked with no symlink at all, since the walk the decision
// rests on already resolved them and /proc/self beneath it would mean the
// broker.
uint64_t beneath_resolve(const Grant& g);

}  // namespace wwjail
