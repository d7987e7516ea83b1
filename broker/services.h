// What every handler may consult and nothing in it changes while calls
// are handled: the grants (storage and network), their pinned roots, the
// path resolver over them, the run's options and the broker's log. Handlers
// take it as `const Services&` (broker/handlers/handlers.h); per-call state lives in
// the Call (broker/call.h).
#pragma once

#include <spdlog/logger.h>

#include <string>
#include <string_view>
#include <vector>

#include "broker/grant_roots.h"
#include "broker/guest_identity.h"
#include "broker/path_resolver.h"
#include "capabilities/net_caps.h"
#include "capabilities/storage_caps.h"

namespace wwjail {

struct HandlerOptions {
  // The guest runs under a Landlock ruleset derived from the same grants, so
  // opens and execs the broker allows may CONTINUE.
  bool landlock_active = false;
  int landlock_abi = 0;
  // Perform every open in the broker, even where CONTINUE would be safe.
  bool broker_performs_opens = false;
  // The reaper: every guest process descends from it (it is a subreaper).
  pid_t tree_root = 0;
  // The handling thread has its own cwd and umask (unshare(CLONE_FS)), so
  // handlers may fchdir and change the umask around an operation. Set by
  // that thread before it handles the first call (NotifyThread).
  bool private_fs = false;
  // Paths that standard runtimes probe on every start and that usually do
  // not exist (glibc's /etc/ld.so.preload). When one is absent, a denial is
  // answered ENOENT and logged at debug level, not as a warning: the guest
  // learns nothing it could not know, and logs stay readable. Optional
  // grants absent at start (StorageCaps::named_absent) are treated alike.
  std::vector<std::string> quiet_absent_paths = {"/etc/ld.so.preload"};
  // Whose credentials the broker acts with (nullptr: its own, for tests
  // of the decisions alone). Handlers only call its note_change(), which
  // sets an atomic flag.
  GuestIdentities* identities = nullptr;
  // The same for unix sockets libc probes (nscd's, where no nscd runs).
  std::vector<std::string> quiet_absent_sockets = {"/run/nscd/socket", "/var/run/nscd/socket"};
};

struct Services {
  Services(const StorageCaps& storage, const NetCaps& network, const GrantRoots& grant_roots, HandlerOptions opts,
           spdlog::logger& logger)
      : caps(storage),
        net(network),
        roots(grant_roots),
        options(std::move(opts)),
        resolver(storage, options.tree_root > 0),
        log(logger) {}

  // A path whose absence is no news (quiet_absent_paths, or an optional
  // grant absent at start): a denial of it, when absent, is answered ENOENT
  // quietly, and an audit of it is not logged.
  bool probed_quietly(std::string_view path) const {
    if (caps.named_absent(path)) return true;
    for (const auto& q : options.quiet_absent_paths) {
      if (path == q) return true;
    }
    return false;
  }
  // The same for unix socket paths (nscd's).
  bool probed_quietly_socket(const std::string& path) const {
    if (net.named_absent_socket(path)) return true;
    for (const auto& q : options.quiet_absent_sockets) {
      if (path == q) return true;
    }
    return false;
  }

  const StorageCaps& caps;
  const NetCaps& net;
  const GrantRoots& roots;
  HandlerOptions options;
  PathResolver resolver;
  spdlog::logger& log;
};

}  // namespace wwjail
