#include "policy/run_config.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "capabilities/path_text.h"
#include "policy/path_resolver.h"
#include "policy/program_deps.h"
#include "policy/run_profile.h"
#include "sys/sys_error.h"

namespace wwjail {
namespace {

// realpath(path), as plain realpath when there is no resolver (find_program).
bool canonical(const std::string& path, std::string& out) {
  char buf[PATH_MAX];
  if (!::realpath(path.c_str(), buf)) return false;
  out = buf;
  return true;
}

bool canonical(PathResolver& paths, const std::string& path, std::string& out) {
  std::optional<std::string> real = paths.resolve(path);
  if (!real) return false;
  out = std::move(*real);
  return true;
}

std::string cwd();

// When `path` is a symbolic link (or a chain of them), grants each link
// itself for reading: lstat and readlink of the name the user wrote work,
// and nothing is reached through it but the target's own grant.
void add_links(StorageCaps& caps, PathResolver& paths, const std::string& path, const std::string& origin,
               bool automatic) {
  std::string at = path_text::normalize(path.front() == '/' ? path : path_text::join(cwd(), path));
  for (int hop = 0; hop < 8; ++hop) {
    auto split = path_text::split_last(at);
    std::string parent;
    if (split.name.empty() || !canonical(paths, split.parent, parent)) return;
    std::string link = path_text::join(parent, split.name);
    struct stat st{};
    if (::lstat(link.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return;
    // A hop through /proc/self (e.g. /dev/stdin -> /proc/self/fd/0) names
    // wwjail's own entries, never the guest's: no link grant there.
    if (path_text::is_within(link, "/proc/" + std::to_string(::getpid()))) return;
    Grant g{link, kRead, false, origin + " (the link itself)"};
    g.link = true;
    g.automatic = automatic;
    caps.add(std::move(g));
    char target[PATH_MAX];
    ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
    if (n <= 0) return;
    target[n] = 0;
    at = path_text::normalize(target[0] == '/' ? std::string(target) : path_text::join(parent, target));
  }
}

// How a grant is added besides its path and rights.
struct AddOptions {
  bool interpreter_only = false;  // an ELF loader: exec only through granted programs
  bool list_only = false;         // a directory's entries, nothing below
  bool automatic = false;         // one wwjail adds to every run (Grant::automatic)
};

void add_path(StorageCaps& caps, PathResolver& paths, const std::string& path, uint8_t rights,
              const std::string& origin, bool required, AddOptions opts = {}) {
  const bool list_only = opts.list_only;
  std::string real;
  struct stat st{};
  if (!canonical(paths, path, real) || ::stat(real.c_str(), &st) != 0) {
    if (required) throw SetupError("grant path " + path + " (" + origin + "): " + std::strerror(errno));
    return;
  }
  // realpath resolved /proc/self (and /dev/fd, /dev/stdin, ...) as wwjail
  // itself. The guest's /proc/self is another process, known only at run
  // time; granting wwjail's own entries would hand over the broker's.
  if (path_text::is_within(real, "/proc/" + std::to_string(::getpid())))
    throw SetupError("grant path " + path + " (" + origin + ") resolves to wwjail's own /proc entry " + real +
                     "; /proc/self cannot be granted (the guest's own entries are decided when it runs)");
  if (list_only && !S_ISDIR(st.st_mode)) throw SetupError(origin + ": " + real + " is not a directory; list takes directories");
  Grant g{real, rights, S_ISDIR(st.st_mode) && !list_only, origin, opts.interpreter_only};
  g.automatic = opts.automatic;
  g.list_only = list_only;
  caps.add(std::move(g));
  if (!path.empty() && real != path) add_links(caps, paths, path, origin, opts.automatic);
}

// Grants what `programs` need to start (policy/program_deps.h): exec on
// their ELF loaders, read on their libraries, all automatic; exec on their
// "#!" interpreters only with `scripts` (PROGRAM's own: an exec grant on a
// script does not grant its interpreter, which would run anything). `whose`
// names them in the grants' origin.
void add_program_deps(StorageCaps& caps, PathResolver& paths, const std::vector<std::string>& programs,
                      const std::string& whose, bool scripts, const DepsTrust& trust, spdlog::logger& log) {
  ProgramDeps deps = find_programs_deps(programs, trust, paths);
  for (const auto& interp : deps.interpreters) {
    if (!scripts && interp.kind == Interpreter::Kind::kScript) continue;
    // A "#!" interpreter is exec'd by the kernel on the script's behalf; an
    // ELF interpreter (PT_INTERP, whatever its name: ld-linux, ld-musl, ...)
    // is executable only through granted programs.
    bool elf_loader = interp.kind == Interpreter::Kind::kElfLoader;
    add_path(caps, paths, interp.path, kExec, "interpreter of " + whose, false,
             {.interpreter_only = elf_loader, .automatic = true});
    log.debug("granted exec on {} {}", elf_loader ? "ELF interpreter" : "script interpreter", interp.path);
  }
  for (const auto& lib : deps.libraries) add_path(caps, paths, lib, kRead, "library of " + whose, false, {.automatic = true});
  log.debug("granted read on {} libraries of {}", deps.libraries.size(), whose);
}

// The programs an exec grant on `path` names: the file itself, or the
// regular files directly in a directory (not below: a tree such as /usr
// would mean reading every file on the system at start), at most
// kMaxExecDirPrograms of them.
constexpr size_t kMaxExecDirPrograms = 4096;

std::vector<std::string> exec_granted_programs(PathResolver& paths, const std::string& path, spdlog::logger& log) {
  std::string real;
  struct stat st{};
  if (!canonical(paths, path, real) || ::stat(real.c_str(), &st) != 0) return {};
  if (!S_ISDIR(st.st_mode)) return {real};
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(real, ec)) {
    if (out.size() == kMaxExecDirPrograms) {
      log.debug("{}: more than {} files; the libraries of the rest are not granted", real, kMaxExecDirPrograms);
      break;
    }
    if (e.is_regular_file(ec)) out.push_back(e.path().string());
  }
  return out;
}

std::string cwd() {
  char buf[PATH_MAX];
  return ::getcwd(buf, sizeof buf) ? std::string(buf) : std::string("/");
}

}  // namespace

std::vector<std::string> resolv_conf_nameservers() {
  std::vector<std::string> out;
  std::ifstream in("/etc/resolv.conf");
  std::string line;
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string key, addr;
    if (ss >> key >> addr && key == "nameserver") out.push_back(addr);
  }
  return out;
}

bool too_broad_to_write(const std::string& canonical_path) {
  static const char* const kSystemTrees[] = {"/", "/usr", "/etc", "/bin", "/sbin", "/lib", "/lib64", "/boot",
                                             "/dev", "/proc", "/sys", "/var", "/home", "/root"};
  for (const char* tree : kSystemTrees) {
    if (canonical_path == tree) return true;
  }
  return false;
}

bool too_broad_to_connect(const NetEndpoint& e) {
  // Port 0 is no port to connect to: 1-65535 is every port as much as *.
  return e.transport != Transport::kUnix && (e.family == 0 || e.prefix == 0) && e.port_lo <= 1 && e.port_hi == 65535;
}

ProgramLookup find_program(const std::string& name) {
  ProgramLookup r;
  auto check = [&](const std::string& candidate) -> bool {
    struct stat st{};
    if (::stat(candidate.c_str(), &st) != 0) return false;
    if (S_ISDIR(st.st_mode) || ::access(candidate.c_str(), X_OK) != 0) {
      r.exit_status = exit_code::kNotExecutable;
      r.error = "cannot execute " + name + ": " + (S_ISDIR(st.st_mode) ? "Is a directory" : std::strerror(EACCES));
      return false;
    }
    canonical(candidate, r.path);
    r.invoked = candidate;
    r.exit_status = 0;
    r.error.clear();
    return true;
  };
  if (name.empty()) {
    r.exit_status = exit_code::kNotFound;
    r.error = "no program given";
    return r;
  }
  if (name.find('/') != std::string::npos) {
    if (!check(name) && r.exit_status == 0) {
      r.exit_status = exit_code::kNotFound;
      r.error = "program not found: " + name;
    }
    return r;
  }
  const char* env = std::getenv("PATH");
  std::stringstream dirs(env ? env : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (check((dir.empty() ? "." : dir) + "/" + name)) return r;
  }
  if (r.exit_status == 0) {
    r.exit_status = exit_code::kNotFound;
    r.error = "program not found in PATH: " + name;
  }
  return r;
}

namespace {

// A unix socket path as decided on: its parent directory canonical (it must
// exist), its own name as written (the socket may not exist yet).
std::string canonical_socket_path(PathResolver& paths, const std::string& path, const std::string& where) {
  auto slash = path.find_last_of('/');
  std::string dir = slash == 0 ? "/" : path.substr(0, slash);
  std::string name = path.substr(slash + 1);
  std::string real;
  if (name.empty() || !canonical(paths, dir, real))
    throw SetupError(where + ": the directory " + dir + " must exist");
  std::string out = (real == "/" ? "" : real) + "/" + name;
  // The canonical directory may be longer than the one written.
  std::string err;
  if (!unix_name_fits(out, false, err)) throw SetupError(where + ": " + err);
  return out;
}

bool socket_dir_exists(PathResolver& paths, const std::string& path) {
  std::string real;
  return canonical(paths, path_text::split_last(path).parent, real);
}

}  // namespace

bool optional_socket_allowed(const NetEndpoint& e, const std::string& flag, std::string& error) {
  if (e.transport != Transport::kUnix || e.abstract) {
    error = "only a unix socket path can be optional (?unix:PATH); an address or an abstract name is never absent";
    return false;
  }
  if (flag != "--connect") {
    error = "only a connect grant can be optional (?unix:PATH); " + flag.substr(2) + " needs its directory";
    return false;
  }
  return true;
}

NetCaps build_net_caps(const RunConfig& config, StorageCaps& storage, std::vector<NetEndpoint>& listen) {
  PathResolver paths;
  return build_net_caps(config, storage, listen, paths);
}

NetCaps build_net_caps(const RunConfig& config, StorageCaps& storage, std::vector<NetEndpoint>& listen,
                       PathResolver& paths) {
  NetCaps caps;
  for (const auto& req : config.net) {
    // Errors and logs name the policy line the grant came from, or the flag.
    const std::string where = req.origin.empty() ? req.flag + " " + req.spec : req.origin;
    if (req.flag == "--connect" && req.spec == "dns") {
      auto servers = resolv_conf_nameservers();
      if (servers.empty()) throw SetupError(where + ": /etc/resolv.conf names no nameserver");
      for (const auto& ns : servers) {
        std::string host = ns.find(':') != std::string::npos ? "[" + ns + "]" : ns;
        for (const char* proto : {"udp", "tcp"}) {
          std::string err;
          auto e = parse_net_spec(std::string(proto) + ":" + host + ":53", err);
          if (!e) throw SetupError(where + ": nameserver " + ns + " in /etc/resolv.conf: " + err);
          caps.add_connect({*e, where + " (" + ns + ")"});
        }
      }
      for (const char* f : {"/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf", "/etc/gai.conf"})
        add_path(storage, paths, f, kRead, "--connect dns", false);
      continue;
    }
    const bool optional = req.spec.starts_with("?");
    std::string err;
    auto e = parse_net_spec(optional ? req.spec.substr(1) : req.spec, err);
    if (!e) throw SetupError(where + ": " + err);
    if (optional && !optional_socket_allowed(*e, req.flag, err)) throw SetupError(where + ": " + err);
    if (optional && !socket_dir_exists(paths, e->path)) {
      caps.add_absent_socket(path_text::normalize(e->path));
      continue;
    }
    if (e->transport == Transport::kUnix && !e->abstract) e->path = canonical_socket_path(paths, e->path, where);
    NetGrant g{*e, where};
    if (req.flag == "--bind") {
      caps.add_bind(std::move(g));
    } else if (req.flag == "--connect") {
      caps.add_connect(std::move(g));
    } else {
      if (e->transport != Transport::kUnix && (e->family == 0 || e->port_lo != e->port_hi || e->prefix != (e->family == AF_INET ? 32 : 128)))
        throw SetupError(where + ": listen needs one address and one port (e.g. tcp:127.0.0.1:8080 or tcp:[::]:8080)");
      listen.push_back(*e);
    }
  }
  return caps;
}

namespace {

// What one entry of the run profile (policy/run_profile.h) adds.
struct ProfileInputs {
  const RunConfig& config;
  const std::string& program;
  const std::string& invoked;
  const std::string& tmpdir;
  const DepsTrust& trust;
  spdlog::logger& log;
  PathResolver& paths;
};

void add_profile_grant(StorageCaps& caps, const ProfileGrant& p, const ProfileInputs& in) {
  const AddOptions automatic{.automatic = true};
  const std::string origin(p.origin);
  switch (p.source) {
    case ProfileGrant::Source::kPath:
      add_path(caps, in.paths, std::string(p.path), p.rights, origin, p.required, automatic);
      return;
    case ProfileGrant::Source::kProgram:
      add_path(caps, in.paths, in.program, p.rights, origin, p.required, automatic);
      if (!in.invoked.empty() && in.invoked != in.program) add_links(caps, in.paths, in.invoked, origin, true);
      return;
    case ProfileGrant::Source::kProgramDeps:
      add_program_deps(caps, in.paths, {in.program}, in.program, /*scripts=*/true, in.trust, in.log);
      return;
    case ProfileGrant::Source::kExecGrantDeps:
      // What each exec grant's programs need, as PROGRAM's own.
      for (const auto& g : in.config.grants) {
        if (g.rights & kExec)
          add_program_deps(caps, in.paths, exec_granted_programs(in.paths, g.path, in.log), g.origin,
                           /*scripts=*/false, in.trust, in.log);
      }
      return;
    case ProfileGrant::Source::kTmpdir:
      if (!in.tmpdir.empty()) add_path(caps, in.paths, in.tmpdir, p.rights, origin, p.required, automatic);
      return;
  }
}

}  // namespace

StorageCaps build_storage_caps(const RunConfig& config, const std::string& program, const std::string& tmpdir,
                               spdlog::logger& log, const std::string& invoked, const DepsTrust& trust) {
  PathResolver paths;
  return build_storage_caps(config, program, tmpdir, log, invoked, trust, paths);
}

StorageCaps build_storage_caps(const RunConfig& config, const std::string& program, const std::string& tmpdir,
                               spdlog::logger& log, const std::string& invoked, const DepsTrust& trust,
                               PathResolver& paths) {
  StorageCaps caps;
  for (const auto& g : config.grants) {
    struct stat st{};
    if (g.optional && ::stat(g.path.c_str(), &st) != 0) {
      caps.add_absent(path_text::normalize(g.path.front() == '/' ? g.path : path_text::join(cwd(), g.path)));
      continue;
    }
    add_path(caps, paths, g.path, g.rights, g.origin, true, {.list_only = g.list_only});
    if (!g.alias.empty()) add_links(caps, paths, g.alias, g.origin, false);
  }
  for (const auto& a : config.absent_paths) caps.add_absent(a);
  // Everything from here on is granted to every run (Grant::automatic).
  const ProfileInputs inputs{config, program, invoked, tmpdir, trust, log, paths};
  for (const auto& p : run_profile()) add_profile_grant(caps, p, inputs);
  return caps;
}

}  // namespace wwjail
