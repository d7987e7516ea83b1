#include "cli/runc/bundle_config.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace wwjail::runc {

const char* const kDefaultContainerPolicy = R"(# wwjail-runc's default container policy (no org.wwjail.policy annotation).
# Read the image, run its programs, write only the private temp dir, no network.
[storage]
read = ["?/usr", "?/bin", "?/sbin", "?/lib", "?/lib32", "?/lib64", "?/libx32", "?/etc", "?/opt",
        "?/srv", "?/var", "?/home", "?/root", "?/app"]
exec = ["?/usr", "?/bin", "?/sbin", "?/lib", "?/lib64", "?/opt", "?/app"]
)";

namespace {

const nlohmann::json* annotation(const nlohmann::json& config, const char* key) {
  auto a = config.find("annotations");
  if (a == config.end() || !a->is_object()) return nullptr;
  auto v = a->find(key);
  if (v == a->end()) return nullptr;
  if (!v->is_string()) throw BadBundle(std::string("annotation ") + key + " must be a string");
  return &*v;
}

bool inside(const std::string& path, const std::string& dir) {
  return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/';
}

// The host file a policy-file annotation names, read whole.
std::string read_policy_file(const std::string& path, const std::string& policy_dir) {
  const std::string what = std::string("annotation ") + kPolicyFileAnnotation + " " + path;
  char real[PATH_MAX], dir[PATH_MAX];
  if (path.empty() || path[0] != '/') throw BadBundle(what + ": give an absolute path");
  if (!::realpath(policy_dir.c_str(), dir)) throw BadBundle(what + ": the policy directory " + policy_dir + " does not exist");
  if (!::realpath(path.c_str(), real)) throw BadBundle(what + ": " + std::strerror(errno));
  if (!inside(real, dir))
    throw BadBundle(what + ": not under " + dir + " (the host directory policies are taken from; WWJAIL_POLICY_DIR)");
  int fd = ::open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) throw BadBundle(what + ": " + std::strerror(errno));
  struct stat st{};
  std::string text;
  bool ok = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= (1 << 20);
  if (ok) {
    text.resize(st.st_size);
    ok = ::read(fd, text.data(), text.size()) == st.st_size;
  }
  ::close(fd);
  if (!ok) throw BadBundle(what + ": not a readable regular file of at most 1 MiB");
  return text;
}

bool under_inside_dir(const nlohmann::json& mount) {
  auto d = mount.find("destination");
  if (d == mount.end() || !d->is_string()) return false;
  std::string dest = d->get<std::string>();
  while (dest.size() > 1 && dest.back() == '/') dest.pop_back();
  return dest == kInsideDir || inside(dest, kInsideDir);
}

nlohmann::json bind_ro(const std::string& source, const char* destination) {
  return {{"destination", destination},
          {"type", "bind"},
          {"source", source},
          {"options", {"bind", "ro", "nosuid", "nodev"}}};
}

// Takes out a wrap an earlier create put there.
void unwrap(nlohmann::json& args) {
  const std::vector<std::string> prefix = {kWwjailInside, "--policy", kPolicyInside, "--"};
  while (args.size() > prefix.size()) {
    for (size_t i = 0; i < prefix.size(); ++i)
      if (args[i] != prefix[i]) return;
    args.erase(args.begin(), args.begin() + prefix.size());
  }
}

}  // namespace

bool is_pod_sandbox(const nlohmann::json& config) {
  auto a = config.find("annotations");
  if (a == config.end() || !a->is_object()) return false;
  for (const char* key : {"io.kubernetes.cri.container-type", "io.kubernetes.cri-o.ContainerType"}) {
    auto v = a->find(key);
    if (v != a->end() && *v == "sandbox") return true;
  }
  return false;
}

PolicyChoice choose_policy(const nlohmann::json& config, const std::string& policy_dir) {
  const nlohmann::json* inline_policy = annotation(config, kPolicyAnnotation);
  const nlohmann::json* file = annotation(config, kPolicyFileAnnotation);
  if (inline_policy && file)
    throw BadBundle(std::string("annotations ") + kPolicyAnnotation + " and " + kPolicyFileAnnotation +
                    ": give one of them");
  if (inline_policy) return {inline_policy->get<std::string>(), std::string("annotation ") + kPolicyAnnotation};
  if (file) {
    std::string path = file->get<std::string>();
    return {read_policy_file(path, policy_dir), path};
  }
  return {kDefaultContainerPolicy, "the default container policy"};
}

nlohmann::json wrap_config(nlohmann::json config, const HostFiles& host) {
  auto process = config.find("process");
  if (process == config.end() || !process->is_object()) throw BadBundle("config.json has no process to run under wwjail");
  auto args = process->find("args");
  if (args == process->end() || !args->is_array() || args->empty())
    throw BadBundle("config.json has no process.args to run under wwjail");
  for (const auto& a : *args)
    if (!a.is_string()) throw BadBundle("config.json: process.args holds something other than strings");
  unwrap(*args);
  nlohmann::json wrapped = {kWwjailInside, "--policy", kPolicyInside, "--"};
  for (auto& a : *args) wrapped.push_back(std::move(a));
  *args = std::move(wrapped);

  nlohmann::json mounts = nlohmann::json::array();
  auto old = config.find("mounts");
  if (old != config.end() && old->is_array())
    for (auto& m : *old)
      if (!under_inside_dir(m)) mounts.push_back(std::move(m));
  mounts.push_back(bind_ro(host.wwjail, kWwjailInside));
  if (!host.runner.empty()) mounts.push_back(bind_ro(host.runner, kRunnerInside));
  mounts.push_back(bind_ro(host.bundle_policy, kPolicyInside));
  config["mounts"] = std::move(mounts);
  return config;
}

}  // namespace wwjail::runc
