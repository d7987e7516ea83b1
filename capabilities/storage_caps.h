// Storage capabilities: the read, write and exec grants of one run, and the
// single decision function every path-carrying syscall goes through.
//
// Grants are data (Grant); building them from flags or policy files is the
// policy/ module's job, compiling them to Landlock is shim/'s, and performing
// an allowed operation is broker/'s. Paths in grants are canonical (symlinks
// resolved at start-up), and decisions are asked about canonical paths.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace wwjail {

// Rights a grant carries. Write and exec imply read (applied by add()).
enum Right : uint8_t {
  kRead = 1,
  kWrite = 2,
  kExec = 4,
};

// What an operation needs, which decides both the right and where it is
// looked for: Create and Remove are rights on the *parent directory*.
enum class Need : uint8_t {
  kStat,    // metadata: any grant on the path, or the path is an ancestor of one
  kRead,    // open for reading, list a directory, readlink, getxattr
  kWrite,   // modify an existing object: open for writing, truncate, chmod, utimes, setxattr
  kExec,    // execve
  kCreate,  // make a new entry (file, dir, fifo, link, symlink) in the parent directory
  kRemove,  // unlink, rmdir, rename away
};

std::string_view need_name(Need need);

struct Grant {
  std::string path;    // canonical absolute path
  uint8_t rights = 0;  // Right bits
  bool directory = false;  // a subtree grant; otherwise exactly this file
  std::string origin;  // where it came from, for logs: "--read /usr", "program", ...
  // An ELF interpreter added only so the kernel can load granted programs:
  // executable through them, never by name (see docs/SECURITY.md, indirect exec).
  bool interpreter_only = false;
  // Audit mode's catch-all (/ with every right): it allows what the real
  // grants would deny, and decide() marks such decisions `audited`.
  bool audit_fallback = false;
  // The path is a symbolic link, granted as itself (lstat, readlink) and
  // never followed through this grant: the grant on its target is separate.
  // Pinned with O_NOFOLLOW; Landlock has no rule for it (it does not check
  // lstat or readlink).
  bool link = false;
  // Added by wwjail to every run (the program, its loader and libraries,
  // locale data, the harmless devices, the private temp dir), not asked for.
  bool automatic = false;
  // A directory's entries, nothing below it (--list). Landlock can only
  // grant reading a directory together with everything beneath it, so the
  // kernel's word is no backstop here: such opens are never CONTINUEd.
  bool list_only = false;
};

struct Decision {
  bool allowed = false;
  // The grant that allowed the access (nullptr for ancestor metadata).
  const Grant* grant = nullptr;
  // For a denial: the grant that is missing, in words.
  std::string missing;
  // Audit mode: the real grants deny this (`missing` says why), the
  // catch-all allowed it.
  bool audited = false;
};

class StorageCaps {
 public:
  // Adds a grant; a second grant on the same path widens the first.
  void add(Grant grant);

  // The one decision point. `path` must be canonical and absolute.
  Decision decide(std::string_view path, Need need) const;

  // Audit mode: what the grants deny is allowed (and marked audited) by a
  // catch-all grant on / with every right. Landlock and the pinned roots
  // see it as one more grant.
  void enable_audit();
  bool auditing() const { return audit_; }

  // Paths the policy named as optional ("?PATH") that were absent at
  // start: asked about one that is still absent (or anything below it),
  // handlers say ENOENT rather than deny it.
  void add_absent(std::string path) { absent_.push_back(std::move(path)); }
  bool named_absent(std::string_view path) const;

  // The most specific grant holding `rights` that covers `path`, or nullptr.
  const Grant* covering(std::string_view path, uint8_t rights) const;

  // True when `path` is a proper ancestor directory of some grant.
  bool is_ancestor_of_grant(std::string_view path) const;

  const std::vector<Grant>& grants() const { return grants_; }

 private:
  Decision decide_granted(std::string_view path, Need need) const;

  std::vector<Grant> grants_;
  std::vector<std::string> absent_;
  bool audit_ = false;
};

}  // namespace wwjail
