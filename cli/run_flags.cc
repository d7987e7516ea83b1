#include "cli/run_flags.h"

#include <climits>
#include <cstdlib>
#include <charconv>

#include "policy/capability_names.h"
#include "policy/environment.h"
#include "policy/limits.h"
#include "policy/policy_file.h"
#include "sys/sys_error.h"

namespace wwjail::cli {

void add_run_options(CLI::App& app, RunConfig& config, Flags& f) {
  app.add_option("-p,--policy", f.policies, "a policy file (TOML; repeatable); command-line grants add to it")
      ->type_name("FILE")
      ->allow_extra_args(false);
  app.add_option("--read", f.reads,
                 "read-only access to PATH (a file, or a directory subtree); ?PATH: if it exists; "
                 "PATH::NAME: a WebAssembly guest sees it as NAME")
      ->type_name("PATH")->allow_extra_args(false);
  app.add_option("--list", f.lists, "may list DIR's entries (and stat it), nothing below it")->type_name("DIR")->allow_extra_args(false);
  app.add_option("--write", f.writes, "read-write access to PATH (create, delete, rename inside it)")->type_name("PATH")->allow_extra_args(false);
  app.add_option("--write-broad", f.writes_broad, "write on / or a system tree, made deliberate")->type_name("PATH")->allow_extra_args(false);
  app.add_option("--exec", f.execs, "may execve PATH (a file or a subtree); PROGRAM itself always may")
      ->type_name("PATH")->allow_extra_args(false);
  app.add_option("--bind", f.binds, "may bind (and listen) there: tcp:ADDR:PORT, udp:ADDR:PORT, unix:PATH, unix:@NAME")
      ->type_name("SPEC")->allow_extra_args(false);
  app.add_option("--connect", f.connects, "may connect or send datagrams there (same SPEC; ?unix:PATH: if its directory exists), or 'dns' for the resolvers")
      ->type_name("SPEC")->allow_extra_args(false);
  app.add_option("--connect-broad", f.connects_broad, "connect to any peer on any port (tcp:*:*), made deliberate")
      ->type_name("SPEC")->allow_extra_args(false);
  app.add_option("--listen", f.listens, "wwjail binds and listens there and hands the socket to the guest (LISTEN_FDS)")
      ->type_name("SPEC")->allow_extra_args(false);
  app.add_flag("--no-tmpdir", f.no_tmpdir, "no private temp dir (and no TMPDIR)");
  app.add_flag("--keep-tmpdir", f.keep_tmpdir, "keep the private temp dir after the run and print where it is");
  app.add_option("--env", f.env_set, "set NAME=VALUE in the guest's environment")->type_name("NAME=VALUE")->allow_extra_args(false);
  app.add_option("--unset-env", f.env_unset, "remove NAME from the inherited environment")->type_name("NAME")->allow_extra_args(false);
  app.add_flag("--clean-env", f.clean_env, "inherit no environment variables (but --keep-env and --env ones)");
  app.add_option("--keep-env", f.env_keep, "inherit only the NAMEs given (repeatable)")->type_name("NAME")->allow_extra_args(false);
  app.add_option("--limit", f.limits, "a resource limit: " + limit_name_list() + " (e.g. nofile=256, memory=1G)")
      ->type_name("NAME=VALUE")->allow_extra_args(false);
  app.add_option("--cap-keep", f.caps_kept,
                 "keep this capability (e.g. CAP_NET_BIND_SERVICE); the guest has none otherwise, even as root")
      ->type_name("NAME")->allow_extra_args(false);
  app.add_option("--cache", config.wasm_cache, "WebAssembly: where compiled modules are kept (default "
                 "$XDG_CACHE_HOME/wwjail)")->type_name("DIR");
  app.add_option("--max-memory", f.max_memory, "WebAssembly: the most linear memory the module may have (e.g. 256M)")
      ->type_name("BYTES");
  app.add_flag("--audit", config.audit,
               "enforce no grant (the program may touch whatever you may): log what would be denied, and a "
               "summary at exit");
  app.add_flag("--broker-opens", config.broker_performs_opens,
               "perform every open in the broker (never CONTINUE, even where Landlock enforces the same rule)");
  app.add_option("--log", config.log.path, "write the log to FILE (appended) instead of stderr")->type_name("FILE");
  // 0, 1 and 2 are the guest's stdio, which wwjail would take over (and
  // close); a negative N is no descriptor at all and was silently ignored.
  app.add_option("--log-fd", config.log.fd, "write the log to descriptor N (3 or more, opened by the caller)")
      ->type_name("N")
      ->check(CLI::Validator(
          [](std::string& n) -> std::string {
            long v = 0;
            auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), v);
            if (ec != std::errc() || end != n.data() + n.size() || v > INT_MAX)
              return "'" + n + "' is not a descriptor number";
            if (v < 3) return "descriptor " + n + " cannot take the log: give 3 or more (0, 1 and 2 are the guest's stdio)";
            return {};
          },
          "N >= 3"));
  app.add_option("--log-format", config.log.format, "text (default) or json: one JSON object per line")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_option("--log-level", config.log_level,
                 "trace, debug, info (also logs allowed decisions), warn (default), error or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
}

void apply_flags(const Flags& f, RunConfig& config) {
  for (const auto& p : f.policies) load_policy_file(p, config);
  auto grant = [&](const std::string& raw, uint8_t rights, const char* flag, bool check_broad, bool list = false) {
    GrantRequest g{raw, rights, std::string(flag) + " " + raw};
    g.list_only = list;
    if (g.path.starts_with("?")) {
      g.path.erase(0, 1);
      g.optional = true;
    }
    // HOST::GUEST: the directory's name inside a WebAssembly guest.
    if (!split_guest_name(g.path, g.guest))
      throw SetupError(std::string(flag) + " " + raw + ": the guest name after :: must be absolute, e.g. ::/data");
    if (g.path.empty()) throw SetupError(std::string(flag) + ": an empty path; write a path");
    char real[PATH_MAX];
    if (check_broad && ::realpath(g.path.c_str(), real) && too_broad_to_write(real))
      throw SetupError(std::string(flag) + " " + raw + ": write on " + real +
                       " is too broad to be deliberate; grant the directories the program writes, or write "
                       "--write-broad " + raw + " if you mean it");
    config.grants.push_back(std::move(g));
  };
  for (const auto& p : f.reads) grant(p, kRead, "--read", false);
  for (const auto& p : f.lists) grant(p, kRead, "--list", false, true);
  for (const auto& p : f.writes) grant(p, kRead | kWrite, "--write", true);
  for (const auto& p : f.writes_broad) grant(p, kRead | kWrite, "--write-broad", false);
  for (const auto& p : f.execs) grant(p, kRead | kExec, "--exec", false);
  for (const auto& s : f.binds) config.net.push_back({s, "--bind"});
  for (const auto& s : f.connects) {
    std::string err;
    auto e = s == "dns" ? std::nullopt : parse_net_spec(s, err);
    if (e && too_broad_to_connect(*e))
      throw SetupError("--connect " + s + " reaches any peer on any port, too broad to be deliberate; name the "
                       "peers, or write --connect-broad " + s + " if you mean it");
    config.net.push_back({s, "--connect"});
  }
  for (const auto& s : f.connects_broad) config.net.push_back({s, "--connect", "--connect-broad " + s});
  for (const auto& s : f.listens) config.net.push_back({s, "--listen"});
  if (f.no_tmpdir) config.tmpdir = false;
  if (f.keep_tmpdir) config.keep_tmpdir = true;
  if (f.clean_env) {
    config.env.inherit = EnvRequest::Inherit::kNone;
    config.env.keep.clear();
  }
  for (const auto& name : f.env_keep) {
    if (!valid_env_name(name)) throw SetupError("--keep-env " + name + ": not a variable name");
    config.env.inherit = EnvRequest::Inherit::kListed;
    config.env.keep.push_back(name);
  }
  for (const auto& name : f.env_unset) {
    if (!valid_env_name(name)) throw SetupError("--unset-env " + name + ": not a variable name");
    config.env.unset.push_back(name);
  }
  for (const auto& kv : f.env_set) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || !valid_env_name(kv.substr(0, eq)))
      throw SetupError("--env " + kv + ": write NAME=VALUE");
    config.env.set.push_back({kv.substr(0, eq), kv.substr(eq + 1)});
  }
  for (const auto& kv : f.limits) {
    auto eq = kv.find('=');
    auto limit = eq == std::string::npos ? std::nullopt : find_limit(kv.substr(0, eq));
    if (!limit) throw SetupError("--limit " + kv + ": write NAME=VALUE, NAME one of " + limit_name_list());
    std::string err;
    auto v = parse_limit_value(*limit, kv.substr(eq + 1), err);
    if (!v) throw SetupError("--limit " + kv + ": " + err);
    config.limits.push_back({limit->resource, *v, "--limit " + kv});
  }
  for (const auto& name : f.caps_kept) {
    auto cap = parse_capability(name);
    if (!cap) throw SetupError("--cap-keep " + name + ": not a capability name; write one such as CAP_NET_BIND_SERVICE");
    config.cap_keep.push_back({*cap, "--cap-keep " + capability_name(*cap)});
  }
  if (!config.log.path.empty() && config.log.fd >= 0) throw SetupError("--log and --log-fd: give one of them");
  if (!f.max_memory.empty()) {
    std::string err;
    auto v = parse_limit_value(*find_limit("memory"), f.max_memory, err);
    if (!v) throw SetupError("--max-memory " + f.max_memory + ": write a number of bytes (K, M or G may follow)");
    config.wasm_max_memory = *v;
  }
}

}  // namespace wwjail::cli
