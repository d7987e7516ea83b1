// A run's configuration as data: what the command line (and, later, policy
// files) asked for. Turning it into StorageCaps happens in build_storage_caps.
#pragma once

#include <spdlog/logger.h>

#include <string>
#include <vector>

#include "capabilities/net_caps.h"
#include "capabilities/storage_caps.h"

namespace wwjail {

struct GrantRequest {
  std::string path;  // as the user wrote it
  uint8_t rights = 0;
  std::string origin;  // "--read /usr"
};

struct NetRequest {
  std::string spec;  // as the user wrote it: "tcp:127.0.0.1:5432", "dns"
  std::string flag;  // "--bind", "--connect" or "--listen"
};

struct RunConfig {
  std::vector<GrantRequest> grants;
  std::vector<NetRequest> net;
  std::vector<std::string> command;  // PROGRAM ARGS...
  bool tmpdir = true;  // a private $TMPDIR for the run
  bool keep_tmpdir = false;
  bool broker_performs_opens = false;
  std::string log_level = "warn";
};

// Exit statuses of wwjail itself (the guest's own status is passed through).
namespace exit_code {
constexpr int kSetupFailed = 125;
constexpr int kNotExecutable = 126;
constexpr int kNotFound = 127;
}  // namespace exit_code

struct ProgramLookup {
  std::string path;  // absolute, canonical
  int exit_status = 0;  // 0 when found; 126 or 127 otherwise
  std::string error;
};

// Finds PROGRAM as execvp would (PATH search when it has no slash).
ProgramLookup find_program(const std::string& name);

// Parses the network requests (SetupError naming the flag and what to write
// instead). --connect dns becomes the resolv.conf nameservers on port 53 and
// read grants on the resolver's files, which are added to `storage`.
// --listen endpoints are returned in `listen` (wwjail binds them itself).
NetCaps build_net_caps(const RunConfig& config, StorageCaps& storage, std::vector<NetEndpoint>& listen);

// Canonicalises every grant (it must exist: SetupError otherwise) and adds
// what any run needs: the program and its interpreter and libraries,
// /etc/ld.so.cache, the harmless devices, and the private temp dir.
StorageCaps build_storage_caps(const RunConfig& config, const std::string& program, const std::string& tmpdir,
                               spdlog::logger& log);

}  // namespace wwjail
