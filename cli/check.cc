// wwjail check FILE: validates a policy and prints what it grants.
#include <cstdio>
#include <vector>

#include "capabilities/storage_caps.h"
#include "cli/verbs.h"
#include "policy/policy_file.h"
#include "policy/run_config.h"

namespace wwjail::cli {

int check_verb(int argc, char** argv) {
  if (argc != 3 || argv[2][0] == '-') {
    std::fprintf(stderr, "wwjail: usage: wwjail check POLICY_FILE\n");
    return exit_code::kSetupFailed;
  }
  RunConfig config;
  try {
    load_policy_file(argv[2], config);
    // The network grants are parsed (and resolv.conf read) exactly as a run would.
    StorageCaps storage;
    std::vector<NetEndpoint> listen;
    build_net_caps(config, storage, listen);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wwjail: %s\n", e.what());
    return exit_code::kSetupFailed;
  }
  std::printf("%s: valid\n%s", argv[2], describe_capabilities(config).c_str());
  return 0;
}

}  // namespace wwjail::cli
