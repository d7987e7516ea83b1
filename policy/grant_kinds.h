// The kinds of grant, one row each: how the command line and a policy file
// name it, what it grants, and the check that keeps an accident from being
// too broad. The flags (cli/run_flags.cc) and the policy reader
// (policy/policy_file.cc) both read this table, so a kind and its checks
// are written once.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "capabilities/net_caps.h"

namespace wwjail {

struct GrantKind {
  enum class Section { kStorage, kNetwork };
  // The check a grant of this kind passes: a write on / or a system tree,
  // or a connect to any peer on any port, is refused unless given under
  // the kind named `deliberate` (its "_broad" twin).
  enum class Breadth { kAny, kNarrowWrite, kNarrowConnect };

  std::string_view key;   // the policy key in its section: "read", "write_broad"
  std::string_view flag;  // the command-line flag: "--read", "--write-broad"
  Section section;
  uint8_t rights = 0;       // storage: kRead | kWrite | kExec
  bool list_only = false;   // storage: a directory's entries, nothing below
  std::string_view verb;    // network: NetRequest::flag ("--bind", "--connect", "--listen")
  Breadth breadth = Breadth::kAny;
  std::string_view deliberate;  // with a Breadth check: the key of the kind that allows it
  std::string_view operand;     // what the flag takes, for --help: "PATH", "DIR", "SPEC"
  std::string_view help;        // the flag's --help line
};

std::span<const GrantKind> grant_kinds();

// The kind with this key in `section` (nullptr: none).
const GrantKind* find_grant_kind(GrantKind::Section section, std::string_view key);
// The kind a key names; for kinds the code itself refers to ("read").
const GrantKind& grant_kind(std::string_view key);

// Why a grant of `kind` on `canonical_path` is too broad to be an
// accident, without the way out (each reader says how to write the
// deliberate form in its own syntax); nothing when it is not.
std::optional<std::string> too_broad_path(const GrantKind& kind, const std::string& canonical_path);
// The same for a network grant's endpoint (`spec` as written).
std::optional<std::string> too_broad_peer(const GrantKind& kind, const NetEndpoint& e);

// One grant entry as written, "?PATH" or "PATH::GUEST": optional (absent
// is allowed), the host path, and the name inside a WebAssembly guest.
struct GrantEntry {
  std::string path;
  std::string guest;
  bool optional = false;
};
// Empty `error` on success; otherwise what is wrong, to be prefixed with
// where it was written.
GrantEntry parse_grant_entry(std::string_view written, std::string& error);

}  // namespace wwjail
