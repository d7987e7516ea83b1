// Where the control sockets of running jails live: one directory per user,
// one socket per run, NAME.sock. The directory is the first wall around the
// control plane (broker/control/control_server.h has the others): it must
// belong to the user (or root) and let nobody else in, or neither side uses
// it, since whoever can write there could put a socket of their own in a
// jail's place.
//
//   WWJAIL_CONTROL_DIR        when set (tests, or a pod's shared volume)
//   /run/wwjail               for root
//   $XDG_RUNTIME_DIR/wwjail   for other users, where that is set
//   /tmp/wwjail-UID           otherwise
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace wwjail::control {

std::string control_dir();

// Every directory a ctl of this user may look in, whatever its environment:
// control_dir(), /run/wwjail, $XDG_RUNTIME_DIR/wwjail, /tmp/wwjail-UID.
std::vector<std::string> control_dir_candidates();

// A jail's name: 1-64 of [A-Za-z0-9._-], not starting with '.' or '-'.
bool valid_jail_name(std::string_view name);

// DIR/NAME.sock. Throws SetupError when it does not fit a socket address.
std::string socket_path(const std::string& dir, std::string_view name);

// The server's side: makes the directory (0700) if it is missing, then
// checks it as trusted_dir_problem() does. Throws SetupError.
void make_control_dir(const std::string& dir);

// Why `dir` cannot be trusted ("" when it can): not a directory (a
// symlink is not followed), owned by neither this user nor root, or open
// to writing by the group or others.
std::string trusted_dir_problem(const std::string& dir);

}  // namespace wwjail::control
