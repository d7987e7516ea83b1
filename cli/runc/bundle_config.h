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
#include <vector>

namespace wwjail::runc {

// True for a Kubernetes pod's sandbox ("pause") container, as containerd
// and CRI-O mark it by annotation. Never a reason to leave a container
// unwrapped: Podman copies an image's own manifest annotations into
// config.json, so the image's author can set this one too; wwjail-runc
// wraps sandbox containers like any other.
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

inline constexpr const char* kLibInside = "/.wwjail/lib";

struct HostFiles {
  std::string wwjail;           // absolute, on the host
  std::string runner;           // empty when the host has none
  std::string bundle_policy;    // the policy written into the bundle
  // The host's loader (wwjail's PT_INTERP) and wwjail's shared libraries
  // (DT_NEEDED, transitively), resolved on the host, and an empty host file
  // to cover the image's /etc/ld.so.preload. When `loader` is set, wwjail
  // is started by it, from /.wwjail/lib, with an environment of its own:
  // nothing of the image (its loader, its libc, LD_PRELOAD from its env,
  // its ld.so.preload) is loaded into wwjail before wwjail sandboxes.
  std::string loader;
  std::vector<std::string> libraries;
  std::string empty_file;
};

// The config with the container's process under wwjail. Throws BadBundle
// when there is no process.args to wrap. With host.loader set, process.args
// is  /.wwjail/lib/LOADER --inhibit-cache --library-path /.wwjail/lib
// /.wwjail/wwjail --clean-env --env=NAME=VALUE... --policy ... -- ARGS,
// process.env keeps only PATH, TMPDIR, XDG_RUNTIME_DIR and HOME (what wwjail
// itself reads), and the guest gets the container's whole env by --env.
nlohmann::json wrap_config(nlohmann::json config, const HostFiles& host);

}  // namespace wwjail::runc
