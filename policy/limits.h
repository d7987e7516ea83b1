// Resource limits a guest starts with: the names a policy's [limits] table
// and --limit NAME=VALUE share, and how a value is read.
//
//   nofile  open files            (RLIMIT_NOFILE)
//   nproc   processes of the uid  (RLIMIT_NPROC; counts every process of
//                                  that user, not just the guest's)
//   memory  address space bytes   (RLIMIT_AS)
//   fsize   largest file written  (RLIMIT_FSIZE)
//   cpu     CPU seconds           (RLIMIT_CPU)
//   core    core dump bytes       (RLIMIT_CORE)
//   stack   main stack bytes      (RLIMIT_STACK)
//
// A value is a non-negative integer, optionally with a K, M or G suffix
// (powers of 1024) for the byte limits, or "unlimited". The limit is set
// soft and hard alike, so the guest cannot raise it again; a limit above
// wwjail's own hard limit cannot be granted by an unprivileged user and is
// an error before the guest starts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/run_config.h"

namespace wwjail {

struct LimitName {
  const char* name;
  int resource;
  bool bytes;  // accepts K/M/G suffixes
};

const std::vector<LimitName>& limit_names();
// "nofile, nproc, ..." for error messages.
std::string limit_name_list();
// nullopt for an unknown name.
std::optional<LimitName> find_limit(std::string_view name);

// Parses VALUE for `limit`. nullopt with `error` saying what to write.
std::optional<uint64_t> parse_limit_value(const LimitName& limit, std::string_view value, std::string& error);

// One limit as --limit NAME=VALUE and [limits] NAME = VALUE both give it.
// Nothing when NAME is no limit (`error` empty: each caller lists the
// names its own way) or VALUE is not one (`error` says why).
std::optional<LimitRequest> parse_limit_request(std::string_view name, std::string_view value, std::string origin,
                                                std::string& error);

}  // namespace wwjail
