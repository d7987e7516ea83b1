// A run's configuration as data: what the command line and the policy files
// asked for. policy/jail_spec.h turns it into what a launch needs (the
// capabilities: build_storage_caps and build_net_caps below).
#pragma once

#include <spdlog/logger.h>

#include <string>
#include <string_view>
#include <vector>

#include "capabilities/net_caps.h"
#include "capabilities/storage_caps.h"
#include "policy/enforcement.h"
#include "policy/guest_name.h"
#include "policy/program_deps.h"
#include "policy/run_profile.h"  // kTmpdirOrigin

namespace wwjail {

class PathResolver;

struct GrantRequest {
  std::string path;  // as the user wrote it
  uint8_t rights = 0;
  std::string origin;  // "--read /usr"
  // Written "?PATH": skipped when absent (base profiles list paths that
  // only some systems have).
  bool optional = false;
  // A directory granted for listing only (storage.list / --list): its
  // entries' names may be read, the directory itself looked at; nothing
  // below it is opened or looked at.
  bool list_only = false;
  // WebAssembly guests: the name the directory has inside the guest
  // ("HOST::GUEST" in a flag or policy; empty: the host path).
  std::string guest;
  // When `path` was canonicalised already: the absolute path as written,
  // if it differs (a symlink there is granted as itself too).
  std::string alias;
};

struct NetRequest {
  std::string spec;  // as the user wrote it: "tcp:127.0.0.1:5432", "dns"
  std::string flag;  // "--bind", "--connect" or "--listen"
  std::string origin;  // "policy.toml:7 connect tcp:..."; empty: flag + spec
};

// The guest's environment. By default it inherits wwjail's (minus what
// wwjail itself sets: TMPDIR, LISTEN_*); `inherit` narrows that to nothing
// or to the names listed, then `unset` removes and `set` adds.
struct EnvRequest {
  enum class Inherit { kAll, kNone, kListed };
  Inherit inherit = Inherit::kAll;
  std::vector<std::string> keep;  // kListed: the names inherited
  std::vector<std::pair<std::string, std::string>> set;
  std::vector<std::string> unset;
};

// A resource limit the guest starts with (soft and hard alike).
struct LimitRequest {
  int resource = 0;  // RLIMIT_*
  uint64_t value = 0;  // RLIM_INFINITY for unlimited
  std::string origin;  // "--limit nofile=1024", "policy.toml:12 limits.nofile"
};

// A capability the guest keeps (all others are dropped before exec).
struct CapRequest {
  int cap = -1;
  std::string origin;  // "--cap-keep CAP_NET_BIND_SERVICE", "policy.toml:3 capabilities.keep"
};

struct LogRequest {
  std::string format = "text";  // "text" or "json"
  std::string path;  // --log FILE (appended to); empty: stderr
  int fd = -1;  // --log-fd N
};

struct RunConfig {
  std::vector<GrantRequest> grants;
  std::vector<NetRequest> net;
  std::vector<std::string> command;  // PROGRAM ARGS...
  bool tmpdir = true;  // a private $TMPDIR for the run
  bool keep_tmpdir = false;
  bool broker_performs_opens = false;
  // How the grants are enforced (policy/enforcement.h): --mediate, and
  // --metadata or [storage] metadata.
  MediateMode mediate = MediateMode::kAuto;
  bool mediate_explicit = false;  // --mediate was given: logs alone do not change it
  MetadataMode metadata = MetadataMode::kHidden;
  std::string log_level = "warn";
  EnvRequest env;
  std::vector<LimitRequest> limits;
  // By default the guest has no capability in any set (bounding,
  // permitted, effective, inheritable, ambient), even when started as root.
  std::vector<CapRequest> cap_keep;
  LogRequest log;
  // Enforce nothing new: what would be denied is allowed and logged.
  bool audit = false;
  // The control socket (`wwjail ctl`, broker/control/): served when
  // `control` is set, under `control_name` ("": PROGRAM-PID).
  bool control = false;
  std::string control_name;
  // --timeout: the run is stopped after this long (0: never), as
  // `wwjail ctl stop` would with a grace of `timeout_grace_ms`.
  uint32_t timeout_ms = 0;
  uint32_t timeout_grace_ms = 10000;
  // WebAssembly guests: where compiled modules are cached, and the most
  // linear memory a module may have (0: what the module declares).
  std::string wasm_cache;
  uint64_t wasm_max_memory = 0;
  // The policy files read, includes first ("base:NAME" for shipped ones).
  std::vector<std::string> policy_files;
  // Paths an optional grant ("?PATH") named that were absent when the
  // policy was read: the guest is told they do not exist (ENOENT) instead
  // of being denied them.
  std::vector<std::string> absent_paths;
};

// Exit statuses of wwjail itself (the guest's own status is passed through).
namespace exit_code {
constexpr int kSetupFailed = 125;
constexpr int kNotExecutable = 126;
constexpr int kNotFound = 127;
}  // namespace exit_code

struct ProgramLookup {
  std::string path;  // absolute, canonical
  std::string invoked;  // the path found before symlinks were resolved
  int exit_status = 0;  // 0 when found; 126 or 127 otherwise
  std::string error;
};

// Grants too broad to be an accident: write on / or a system tree, connect
// to any address on any port. Policy files and flags reject them unless
// given under their deliberate names (write_broad / --write-broad,
// connect_broad / --connect-broad).
bool too_broad_to_write(const std::string& canonical_path);
bool too_broad_to_connect(const NetEndpoint& e);

// The nameserver addresses /etc/resolv.conf lists, as written.
std::vector<std::string> resolv_conf_nameservers();

// Finds PROGRAM as execvp would (PATH search when it has no slash).
ProgramLookup find_program(const std::string& name);

// "?unix:PATH" (connect only) is an optional grant: allowed as unix:PATH
// when the socket's directory exists at start; otherwise a connect to it is
// told ENOENT, as without a jail, and logged at debug level only. False
// with `error` set for any other SPEC or kind.
bool optional_socket_allowed(const NetEndpoint& e, const std::string& flag, std::string& error);

// Parses the network requests (SetupError naming the flag and what to write
// instead). --connect dns becomes the resolv.conf nameservers on port 53 and
// read grants on the resolver's files, which are added to `storage`.
// --listen endpoints are returned in `listen` (wwjail binds them itself).
NetCaps build_net_caps(const RunConfig& config, StorageCaps& storage, std::vector<NetEndpoint>& listen);
// The same, resolving paths with the start-up's resolver (policy/path_resolver.h).
NetCaps build_net_caps(const RunConfig& config, StorageCaps& storage, std::vector<NetEndpoint>& listen,
                       PathResolver& paths);

// Canonicalises every grant (it must exist: SetupError otherwise) and adds
// what any run needs, the run profile (policy/run_profile.h): the program
// and its interpreter and libraries, /etc/ld.so.cache, locale data, the
// harmless devices, and the private temp dir.
// `invoked`: the program's path before symlinks were resolved (its links
// are granted as themselves, so it may readlink its own name).
StorageCaps build_storage_caps(const RunConfig& config, const std::string& program, const std::string& tmpdir,
                               spdlog::logger& log, const std::string& invoked = "",
                               const DepsTrust& trust = DepsTrust::system());
// The same, resolving paths with the start-up's resolver: each directory's
// links are read once for all the grants (policy/path_resolver.h).
StorageCaps build_storage_caps(const RunConfig& config, const std::string& program, const std::string& tmpdir,
                               spdlog::logger& log, const std::string& invoked, const DepsTrust& trust,
                               PathResolver& paths);

}  // namespace wwjail
