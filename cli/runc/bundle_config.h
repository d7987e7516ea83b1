// What wwjail-runc changes in an OCI bundle's config.json, as pure
// functions over the parsed document (the files are read and written by
// cli/runc/main.cc):
//
//  * process.args becomes  /.wwjail/wwjail --policy /.wwjail/policy.toml -- ARGS...
//  * three read-only bind mounts are appended: wwjail and its WebAssembly
//    runner from the host, and the policy written into the bundle;
//  * the policy comes from annotation org.wwjail.policy (inline TOML) or
//    org.wwjail.policy-file (a host file, copied), else the default below.
//
// Appended last, the mounts cover whatever the image or an earlier mount
// put at /.wwjail. A config already wrapped (a create retried on the same
// bundle) is unwrapped first, so wwjail appears once; any mount the
// config already had at or under /.wwjail is dropped, so nothing but the
// host's wwjail can sit where the prefix points.
#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace wwjail::runc {

// True for a Kubernetes pod's sandbox ("pause") container, which
// containerd and CRI-O mark with an annotation of their own and which is
// passed through unwrapped: it runs no workload, and its image has no C
// library for wwjail. The engines set these annotations themselves, and
// pass a pod's own annotations through only when they match the
// configured patterns (org.wwjail.* in examples/kubernetes).
bool is_pod_sandbox(const nlohmann::json& config);

// A bundle wwjail-runc will not run (one line, for stderr).
class BadBundle : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr const char* kPolicyAnnotation = "org.wwjail.policy";
inline constexpr const char* kPolicyFileAnnotation = "org.wwjail.policy-file";
// Where the host's files appear inside the container.
inline constexpr const char* kInsideDir = "/.wwjail";
inline constexpr const char* kWwjailInside = "/.wwjail/wwjail";
inline constexpr const char* kRunnerInside = "/.wwjail/wwjail-wasm-run";
inline constexpr const char* kPolicyInside = "/.wwjail/policy.toml";
// The policy's name inside the bundle (beside config.json).
inline constexpr const char* kPolicyInBundle = "wwjail-policy.toml";

// The policy a container gets without an annotation (README "Containers
// and Kubernetes" says why this one).
extern const char* const kDefaultContainerPolicy;

struct PolicyChoice {
  std::string text;
  std::string name;  // what messages call it: the annotation, the host file, or "the default container policy"
};

// Reads the annotations. `policy_dir` is the host directory a policy-file
// must resolve into (after symlinks). Throws BadBundle: both annotations,
// a file outside policy_dir, not a regular file, over 1 MiB, unreadable.
PolicyChoice choose_policy(const nlohmann::json& config, const std::string& policy_dir);

struct HostFiles {
  std::string wwjail;           // absolute, on the host
  std::string runner;           // empty when the host has none
  std::string bundle_policy;    // the policy written into the bundle
};

// The config with the container's process under wwjail. Throws BadBundle
// when there is no process.args to wrap.
nlohmann::json wrap_config(nlohmann::json config, const HostFiles& host);

}  // namespace wwjail::runc
