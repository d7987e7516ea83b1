// libFuzzer target: the policy-file reader, from the text check before the
// TOML parser through every table to the network grants a run would build
// (what `wwjail check` does). Refusing an input (SetupError, SysError) is the
// reader working; any other exception, a crash or a sanitizer report is a bug.
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>

#include "policy/policy_file.h"
#include "policy/run_config.h"
#include "sys/sys_error.h"

namespace {

// A directory for relative paths and includes: a few files a policy may
// name (a sub-directory, an includable policy, a socket directory).
std::string policy_dir;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  char tmpl[] = "/tmp/wwjail-fuzz.XXXXXX";
  if (!::mkdtemp(tmpl)) ::abort();
  policy_dir = tmpl;
  std::atexit([] { (void)!std::system(("rm -rf '" + policy_dir + "'").c_str()); });
  ::mkdir((policy_dir + "/data").c_str(), 0755);
  ::mkdir((policy_dir + "/run").c_str(), 0755);
  std::ofstream(policy_dir + "/data/f.txt") << "f\n";
  std::ofstream(policy_dir + "/common.toml") << "[storage]\nread = [\"data\"]\n";
  std::ofstream(policy_dir + "/self.toml") << "include = [\"self.toml\"]\n";
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  wwjail::RunConfig config;
  try {
    wwjail::load_policy_text(text, policy_dir + "/policy.toml", policy_dir, config);
    wwjail::StorageCaps storage;
    std::vector<wwjail::NetEndpoint> listen;
    wwjail::build_net_caps(config, storage, listen);
    (void)wwjail::describe_capabilities(config);
  } catch (const wwjail::SetupError&) {
  } catch (const wwjail::SysError&) {
  }
  return 0;
}
