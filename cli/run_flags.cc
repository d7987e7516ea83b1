#include "cli/run_flags.h"

#include <climits>
#include <cstdlib>
#include <charconv>

#include "broker/control/control_dir.h"
#include "policy/capability_names.h"
#include "policy/duration.h"
#include "policy/enforcement.h"
#include "policy/environment.h"
#include "policy/grant_kinds.h"
#include "policy/limits.h"
#include "policy/policy_file.h"
#include "sys/sys_error.h"

namespace wwjail::cli {
namespace {

// 0, 1 and 2 are the guest's stdio, which wwjail would take over (and
// close); a negative N is no descriptor at all and was silently ignored.
CLI::Validator log_fd_check() {
  return CLI::Validator(
      [](std::string& n) -> std::string {
        long v = 0;
        auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), v);
        if (ec != std::errc() || end != n.data() + n.size() || v > INT_MAX) return "'" + n + "' is not a descriptor number";
        if (v < 3) return "descriptor " + n + " cannot take the log: give 3 or more (0, 1 and 2 are the guest's stdio)";
        return {};
      },
      "N >= 3");
}

// A value one of `names` (policy/enforcement.h), said in one line otherwise.
template <typename Parse>
CLI::Validator one_of(Parse parse, std::string names) {
  return CLI::Validator(
      [parse, names](std::string& v) -> std::string {
        return parse(v) ? std::string() : "'" + v + "' is not one of " + names;
      },
      "");
}

void add_grant_options(CLI::App& app, Flags& f) {
  for (const auto& kind : grant_kinds())
    app.add_option(std::string(kind.flag), f.grants[std::string(kind.key)], std::string(kind.help))
        ->type_name(std::string(kind.operand))
        ->allow_extra_args(false);
}

void add_environment_options(CLI::App& app, Flags& f) {
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
}

void add_enforcement_options(CLI::App& app, RunConfig& config, Flags& f) {
  app.add_flag("--audit", config.audit,
               "enforce no grant (the program may touch whatever you may): log what would be denied, and a "
               "summary at exit");
  app.add_option("--name", config.control_name,
                 "name the run and serve its control socket under that name (wwjail ctl ps, stop, events)")
      ->type_name("NAME")
      ->check(CLI::Validator(
          [](std::string& v) -> std::string {
            return control::valid_jail_name(v) ? std::string()
                                               : "'" + v + "' is not a name: 1-64 of A-Z a-z 0-9 . _ -, not starting with . or -";
          },
          ""));
  app.add_flag("--control", config.control, "serve the run's control socket (wwjail ctl), named PROGRAM-PID");
  auto duration = CLI::Validator(
      [](std::string& v) -> std::string {
        return parse_duration_ms(v) ? std::string() : "'" + v + "' is not a duration: N, Nms, Ns, Nm or Nh";
      },
      "");
  app.add_option("--timeout", f.timeout, "stop the run after DURATION: SIGTERM to the guest, SIGKILL after the grace")
      ->type_name("DURATION")
      ->check(duration);
  app.add_option("--timeout-grace", f.timeout_grace, "how long a timed-out guest has after SIGTERM (default 10s)")
      ->type_name("DURATION")
      ->check(duration);
  app.add_flag("--broker-opens", config.broker_performs_opens,
               "perform every open in the broker (never CONTINUE, even where Landlock enforces the same rule)");
  app.add_option("--mediate", f.mediate,
                 "auto (default: the kernel decides what it can; given explicitly, info and debug logs do not "
                 "turn it into files) or files (the broker mediates every file call)")
      ->type_name("auto|files")->check(one_of(parse_mediate, mediate_names()));
  app.add_option("--metadata", f.metadata,
                 "hidden (default: no stat, readlink or access outside the grants) or visible")
      ->type_name("hidden|visible")->check(one_of(parse_metadata, metadata_names()));
}

void add_log_options(CLI::App& app, RunConfig& config) {
  app.add_option("--log", config.log.path, "write the log to FILE (appended) instead of stderr")->type_name("FILE");
  app.add_option("--log-fd", config.log.fd, "write the log to descriptor N (3 or more, opened by the caller)")
      ->type_name("N")->check(log_fd_check());
  app.add_option("--log-format", config.log.format, "text (default) or json: one JSON object per line")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_option("--log-level", config.log_level,
                 "trace, debug, info (also logs allowed decisions), warn (default), error or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
}

void apply_storage_grant(const GrantKind& kind, const std::string& raw, RunConfig& config) {
  const std::string origin = std::string(kind.flag) + (raw.empty() ? "" : " " + raw);
  std::string err;
  GrantEntry entry = parse_grant_entry(raw, err);
  if (!err.empty()) throw SetupError(origin + ": " + err);
  char real[PATH_MAX];
  if (::realpath(entry.path.c_str(), real)) {
    if (auto broad = too_broad_path(kind, real))
      throw SetupError(origin + ": " + *broad + ", or write " + std::string(grant_kind(kind.deliberate).flag) + " " +
                       raw + " if you mean it");
  }
  GrantRequest g{entry.path, kind.rights, origin};
  g.optional = entry.optional;
  g.guest = entry.guest;
  g.list_only = kind.list_only;
  config.grants.push_back(std::move(g));
}

// The SPEC is parsed for the breadth check only; build_net_caps reports a
// malformed one, naming the flag.
void apply_net_grant(const GrantKind& kind, const std::string& spec, RunConfig& config) {
  std::string err;
  auto e = spec == "dns" ? std::nullopt : parse_net_spec(spec, err);
  if (e) {
    if (auto broad = too_broad_peer(kind, *e))
      throw SetupError(std::string(kind.flag) + " " + spec + " " + *broad + ", or write " +
                       std::string(grant_kind(kind.deliberate).flag) + " " + spec + " if you mean it");
  }
  // A flag that is not its verb (--connect-broad) is named as the origin.
  std::string origin = kind.flag == kind.verb ? std::string() : std::string(kind.flag) + " " + spec;
  config.net.push_back({spec, std::string(kind.verb), std::move(origin)});
}

void apply_grants(const Flags& f, RunConfig& config) {
  for (const auto& kind : grant_kinds()) {
    auto given = f.grants.find(kind.key);
    if (given == f.grants.end()) continue;
    for (const auto& raw : given->second) {
      if (kind.section == GrantKind::Section::kStorage) apply_storage_grant(kind, raw, config);
      else apply_net_grant(kind, raw, config);
    }
  }
}

void apply_environment(const Flags& f, RunConfig& config) {
  if (f.no_tmpdir) config.tmpdir = false;
  if (f.keep_tmpdir) config.keep_tmpdir = true;
  if (f.clean_env) env_inherit_all(config.env, false);
  for (const auto& name : f.env_keep) {
    if (!env_inherit_only(config.env, name)) throw SetupError("--keep-env " + name + ": not a variable name");
  }
  for (const auto& name : f.env_unset) {
    if (!env_unset(config.env, name)) throw SetupError("--unset-env " + name + ": not a variable name");
  }
  for (const auto& kv : f.env_set) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || !env_set(config.env, kv.substr(0, eq), kv.substr(eq + 1)))
      throw SetupError("--env " + kv + ": write NAME=VALUE");
  }
}

void apply_limits_and_caps(const Flags& f, RunConfig& config) {
  for (const auto& kv : f.limits) {
    auto eq = kv.find('=');
    std::string err;
    auto request = eq == std::string::npos ? std::nullopt
                                           : parse_limit_request(kv.substr(0, eq), kv.substr(eq + 1), "--limit " + kv, err);
    if (!request && err.empty()) throw SetupError("--limit " + kv + ": write NAME=VALUE, NAME one of " + limit_name_list());
    if (!request) throw SetupError("--limit " + kv + ": " + err);
    config.limits.push_back(std::move(*request));
  }
  for (const auto& name : f.caps_kept) {
    auto cap = parse_capability(name);
    if (!cap) throw SetupError("--cap-keep " + name + ": not a capability name; write one such as CAP_NET_BIND_SERVICE");
    config.cap_keep.push_back({*cap, "--cap-keep " + capability_name(*cap)});
  }
  if (!f.max_memory.empty()) {
    std::string err;
    auto v = parse_limit_value(*find_limit("memory"), f.max_memory, err);
    if (!v) throw SetupError("--max-memory " + f.max_memory + ": write a number of bytes (K, M or G may follow)");
    config.wasm_max_memory = *v;
  }
}

// The values were checked when parsed (add_enforcement_options).
void apply_enforcement(const Flags& f, RunConfig& config) {
  config.mediate = f.mediate.empty() ? MediateMode::kAuto : *parse_mediate(f.mediate);
  config.mediate_explicit = !f.mediate.empty();
  if (!f.metadata.empty()) config.metadata = *parse_metadata(f.metadata);
  if (!config.control_name.empty()) config.control = true;
  if (!f.timeout.empty()) config.timeout_ms = *parse_duration_ms(f.timeout);
  if (!f.timeout_grace.empty()) config.timeout_grace_ms = *parse_duration_ms(f.timeout_grace);
  if (config.timeout_ms == 0 && !f.timeout.empty()) throw SetupError("--timeout 0: give a duration above 0");
}

}  // namespace

void add_run_options(CLI::App& app, RunConfig& config, Flags& f) {
  app.add_option("-p,--policy", f.policies, "a policy file (TOML; repeatable); command-line grants add to it")
      ->type_name("FILE")
      ->allow_extra_args(false);
  add_grant_options(app, f);
  add_environment_options(app, f);
  app.add_option("--cache", config.wasm_cache, "WebAssembly: where compiled modules are kept (default "
                 "$XDG_CACHE_HOME/wwjail)")->type_name("DIR");
  app.add_option("--max-memory", f.max_memory, "WebAssembly: the most linear memory the module may have (e.g. 256M)")
      ->type_name("BYTES");
  add_enforcement_options(app, config, f);
  add_log_options(app, config);
}

void apply_flags(const Flags& f, RunConfig& config) {
  for (const auto& p : f.policies) load_policy_file(p, config);
  apply_grants(f, config);
  apply_environment(f, config);
  apply_limits_and_caps(f, config);
  if (!config.log.path.empty() && config.log.fd >= 0) throw SetupError("--log and --log-fd: give one of them");
  apply_enforcement(f, config);
}

}  // namespace wwjail::cli
