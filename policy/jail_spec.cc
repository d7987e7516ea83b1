#include "policy/jail_spec.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>

#include "policy/environment.h"
#include "policy/path_resolver.h"
#include "sys/sys_error.h"

namespace wwjail {
namespace {

bool explicitly_set(const EnvRequest& env, const std::string& name) {
  return std::any_of(env.set.begin(), env.set.end(), [&](const auto& kv) { return kv.first == name; });
}

}  // namespace

std::vector<std::string> guest_environment(const EnvRequest& env, const char* const* parent,
                                           const std::string& tmpdir, size_t listen_count) {
  std::vector<std::string> out;
  for (auto& e : build_environment(env, parent)) {
    if (e.starts_with("TMPDIR=") && (!tmpdir.empty() || !explicitly_set(env, "TMPDIR"))) continue;
    if (listen_count && e.starts_with("LISTEN_")) continue;
    out.push_back(std::move(e));
  }
  if (!tmpdir.empty()) out.push_back("TMPDIR=" + tmpdir);
  if (listen_count) {
    out.push_back("LISTEN_FDS=" + std::to_string(listen_count));
    std::string names;
    for (size_t i = 0; i < listen_count; ++i) names += (i ? ":listen" : "listen") + std::to_string(i);
    out.push_back("LISTEN_FDNAMES=" + names);
  }
  return out;
}

std::vector<LimitRequest> checked_limits(const std::vector<LimitRequest>& all) {
  std::vector<LimitRequest> requests;
  for (const auto& r : all) {
    std::erase_if(requests, [&](const LimitRequest& e) { return e.resource == r.resource; });
    requests.push_back(r);
  }
  for (const auto& r : requests) {
    rlimit64 now{};
    if (::prlimit64(0, static_cast<__rlimit_resource>(r.resource), nullptr, &now) == 0 && r.value > now.rlim_max &&
        ::geteuid() != 0)
      throw SetupError(r.origin + ": above the hard limit wwjail runs under (" +
                       (now.rlim_max == RLIM64_INFINITY ? std::string("unlimited") : std::to_string(now.rlim_max)) +
                       "); only root may raise it");
  }
  return requests;
}

namespace {

// PROGRAM-PID, PROGRAM's base name kept to the characters a name may
// have (broker/control/control_dir.h), at most 40 of them.
std::string default_control_name(const std::string& program) {
  std::string base = program.substr(program.rfind('/') + 1), name;
  for (char c : base) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (name.size() < 40) name.push_back(ok ? c : '_');
  }
  if (name.empty() || name[0] == '.' || name[0] == '-') name.insert(name.begin(), 'j');
  return name + "-" + std::to_string(::getpid());
}

}  // namespace

JailSpec build_jail_spec(const RunConfig& config, const JailInputs& in, spdlog::logger& log) {
  JailSpec spec;
  spec.program = in.program.path;
  spec.argv = config.command;
  spec.tmpdir = in.tmpdir;
  spec.keep_tmpdir = !in.tmpdir.empty() && config.keep_tmpdir;
  // One resolver for all the grants: each directory's links are read once.
  PathResolver paths;
  spec.storage = build_storage_caps(config, in.program.path, in.tmpdir, log, in.program.invoked, in.trust, paths);
  spec.net = build_net_caps(config, spec.storage, spec.listen, paths);
  spec.learning = in.learning;
  spec.audit = config.audit || in.learning;
  if (spec.audit) {
    spec.storage.enable_audit();
    spec.net.enable_audit();
  }
  spec.limits = checked_limits(config.limits);
  if (spec.listen.size() > JailSpec::kMaxListen)
    throw SetupError("--listen: at most " + std::to_string(JailSpec::kMaxListen) + " sockets");
  spec.env = guest_environment(config.env, in.parent_env, in.tmpdir, spec.listen.size());
  spec.cap_keep = config.cap_keep;
  spec.mediate = effective_mediation(config.mediate, in.learning, config.audit, config.log_level, &spec.mediate_why,
                                     config.mediate_explicit);
  spec.metadata = config.metadata;
  spec.broker_performs_opens = config.broker_performs_opens;
  spec.timeout_ms = config.timeout_ms;
  spec.timeout_grace_ms = config.timeout_grace_ms;
  if (config.control) spec.control_name = config.control_name.empty() ? default_control_name(spec.program) : config.control_name;
  return spec;
}

}  // namespace wwjail
