#include "policy/grant_kinds.h"

#include "capabilities/storage_caps.h"
#include "policy/guest_name.h"
#include "policy/run_config.h"
#include "sys/sys_error.h"

namespace wwjail {
namespace {

using Section = GrantKind::Section;
using Breadth = GrantKind::Breadth;

constexpr GrantKind kKinds[] = {
    {.key = "read", .flag = "--read", .section = Section::kStorage, .rights = kRead, .operand = "PATH",
     .help = "read-only access to PATH (a file, or a directory subtree); ?PATH: if it exists; "
             "PATH::NAME: a WebAssembly guest sees it as NAME"},
    {.key = "list", .flag = "--list", .section = Section::kStorage, .rights = kRead, .list_only = true,
     .operand = "DIR", .help = "may list DIR's entries (and stat it), nothing below it"},
    {.key = "write", .flag = "--write", .section = Section::kStorage, .rights = kRead | kWrite,
     .breadth = Breadth::kNarrowWrite, .deliberate = "write_broad", .operand = "PATH",
     .help = "read-write access to PATH (create, delete, rename inside it)"},
    {.key = "write_broad", .flag = "--write-broad", .section = Section::kStorage, .rights = kRead | kWrite,
     .operand = "PATH", .help = "write on / or a system tree, made deliberate"},
    {.key = "exec", .flag = "--exec", .section = Section::kStorage, .rights = kRead | kExec, .operand = "PATH",
     .help = "may execve PATH (a file or a subtree); PROGRAM itself always may"},
    {.key = "bind", .flag = "--bind", .section = Section::kNetwork, .verb = "--bind", .operand = "SPEC",
     .help = "may bind (and listen) there: tcp:ADDR:PORT, udp:ADDR:PORT, unix:PATH, unix:@NAME"},
    {.key = "connect", .flag = "--connect", .section = Section::kNetwork, .verb = "--connect",
     .breadth = Breadth::kNarrowConnect, .deliberate = "connect_broad", .operand = "SPEC",
     .help = "may connect or send datagrams there (same SPEC; ?unix:PATH: if its directory exists), or 'dns' for "
             "the resolvers"},
    {.key = "connect_broad", .flag = "--connect-broad", .section = Section::kNetwork, .verb = "--connect",
     .operand = "SPEC", .help = "connect to any peer on any port (tcp:*:*), made deliberate"},
    {.key = "listen", .flag = "--listen", .section = Section::kNetwork, .verb = "--listen", .operand = "SPEC",
     .help = "wwjail binds and listens there and hands the socket to the guest (LISTEN_FDS)"},
};

}  // namespace

std::span<const GrantKind> grant_kinds() { return kKinds; }

const GrantKind* find_grant_kind(Section section, std::string_view key) {
  for (const auto& k : kKinds) {
    if (k.section == section && k.key == key) return &k;
  }
  return nullptr;
}

const GrantKind& grant_kind(std::string_view key) {
  for (const auto& k : kKinds) {
    if (k.key == key) return k;
  }
  throw SetupError("internal: no grant kind '" + std::string(key) + "'");
}

std::optional<std::string> too_broad_path(const GrantKind& kind, const std::string& canonical_path) {
  if (kind.breadth != Breadth::kNarrowWrite || !too_broad_to_write(canonical_path)) return std::nullopt;
  return "write on " + canonical_path +
         " is too broad to be deliberate; grant the directories the program writes";
}

std::optional<std::string> too_broad_peer(const GrantKind& kind, const NetEndpoint& e) {
  if (kind.breadth != Breadth::kNarrowConnect || !too_broad_to_connect(e)) return std::nullopt;
  return std::string("reaches any peer on any port, too broad to be deliberate; name the peers");
}

GrantEntry parse_grant_entry(std::string_view written, std::string& error) {
  GrantEntry out;
  out.optional = written.starts_with("?");
  out.path = std::string(out.optional ? written.substr(1) : written);
  error.clear();
  // HOST::GUEST: the directory's name inside a WebAssembly guest.
  if (!split_guest_name(out.path, out.guest))
    error = "the guest name after :: must be absolute, e.g. data::/data";
  else if (out.path.empty())
    error = "an empty path; write a path";
  return out;
}

}  // namespace wwjail
