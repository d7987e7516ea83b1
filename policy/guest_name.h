// "HOST::GUEST": a granted directory and the name it has inside a
// WebAssembly guest, as flags and policy files spell it, and as wwjail
// hands preopens to its runner (wasm/abi/runner_args.h). Header-only, so
// the runner, which links nothing of policy/, reads the spelling with the
// same function that wrote it.
#pragma once

#include <string>

namespace wwjail {

// Moves GUEST out of `path` into `guest` (left as it is when `path` holds
// no "::"). False when GUEST is not absolute.
inline bool split_guest_name(std::string& path, std::string& guest) {
  auto sep = path.find("::");
  if (sep == std::string::npos) return true;
  guest = path.substr(sep + 2);
  path.resize(sep);
  return !guest.empty() && guest.front() == '/';
}

}  // namespace wwjail
