// wwjail learn: turns the accesses a run made into a minimal policy file.
//
// What is recorded: every storage decision (canonical path and what was
// needed) and every bind and connect, except what wwjail grants any run by
// itself (the program, its interpreter and libraries, the loader cache,
// /dev/null and friends, the private temp dir).
//
// How it is folded, in order:
//  1. System files go into includes: a shipped base profile is included
//     when the run read something only that profile grants, and then
//     everything that profile grants is dropped from the list. A profile
//     that grants network access (tls-client's dns) needs resolver traffic
//     too: a configuration read (openssl.cnf) alone is granted as a file.
//  2. Creating or removing an entry grants write on its directory; writing
//     an existing file grants write on that file. Every write grant gets a
//     comment saying it reaches outside the private temp dir; one on a
//     system tree is written under write_broad.
//  3. Executed files get exec grants; execs of absent paths ($PATH probes)
//     are no grant, written "?PATH" as in 5.
//  4. A directory folds into a read grant when three or more files were
//     read in it, or when the program listed it, read files in it and
//     looked into every subdirectory it holds (what it worked on: a tree it
//     archived, a directory it serves); never / or a top-level system tree
//     (/etc, /usr, ...), whose files are listed. Other directories the
//     program listed or looked at get a list grant (their entries, nothing
//     below), unless a grant below them already lets them be looked at.
//  5. Paths that did not exist become "?PATH": the guest is told they are
//     absent, as it was during learning. Paths only this host or user has
//     (/sys/fs/cgroup/..., the passwd home when $HOME is elsewhere) are
//     written "?PATH" too, so the policy loads on another host.
//  6. Other processes' /proc/<pid> entries cannot be granted per run: they
//     are listed in a comment.
// Network: binds and connects as SPECs; connects to the resolv.conf
// nameservers on port 53 become dns = true; a connect to a unix socket that
// is absent at render time becomes "?unix:PATH" (policy_file.h).
//
// Everything in a learned policy comes from the run: the command line and
// the paths and addresses the guest chose. So every string is written as an
// escaped TOML string and every comment is escaped visibly (no byte of it can
// end the comment), and a path is written only when the policy reader will
// read back exactly that path: glob characters are quoted with backslashes
// (glob(3) style); a path holding "::" (the reader's HOST::GUEST separator),
// a path that is not UTF-8 (TOML holds Unicode text only) and an absent path
// holding glob characters are left out, each named in a comment.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "capabilities/storage_caps.h"

namespace wwjail {

struct LearnedPolicy {
  std::string text;
  size_t grants = 0;
  bool writes_outside_tmpdir = false;
};

class PolicyLearner {
 public:
  explicit PolicyLearner(std::vector<std::string> command) : command_(std::move(command)) {}

  // Thread-safe; called for every decision while the program runs.
  void storage(std::string_view path, Need need);
  void network(bool bind, std::string_view spec);
  // The run's private temp dir (accesses below it need no grant).
  void set_tmpdir(std::string_view path);
  // The user's home in the passwd database and $HOME: when they differ,
  // paths below the passwd home are written optional ("?PATH"), since they
  // are this user's on this host, not the program's.
  void set_home(std::string_view passwd_home, std::string_view env_home);

  // Folds what was recorded; lstat()s the paths, so call it after the run.
  LearnedPolicy render() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::string> command_;
  std::map<std::string, uint8_t> paths_;  // path -> bit per Need
  std::set<std::string> binds_, connects_;
  std::string tmpdir_;
  std::string home_;  // the passwd home when $HOME names another directory
};

// `s` as a TOML basic string: quotes and backslashes escaped, control
// characters (U+0000-U+001F, U+007F) as \b \t \n \f \r or \u00XX.
// nullopt when `s` is not valid UTF-8, which no TOML string can hold.
std::optional<std::string> toml_string(std::string_view s);

// `s` on one line, every byte visible: a backslash as \\, newline, CR and tab
// as \n \r \t; the other C0 controls, DEL, the C1 controls, U+2028/U+2029,
// the bidirectional controls and every byte that is not part of valid UTF-8
// as \xHH per byte. Other UTF-8 stays as it is. Used for comments in
// policies and for every field of the text log (broker/log_sinks.h).
std::string escape_visibly(std::string_view s);

// Writes `text` to `path` atomically (sys/atomic_file.h), mode 0644.
// Throws SetupError naming the path.
void write_learned_policy(const std::string& path, const std::string& text);

}  // namespace wwjail
