// Validating a container's policy at create, before anything is written,
// against the container's own file system: the policy's paths are
// container paths, and `read = ["/srv"]` must exist in the image, not on
// the host.
//
// A forked child enters a private mount namespace, puts the config's bind
// mounts on the bundle's root file system (making the mount points the
// image lacks, as runc would, and removing them after), chroots into it,
// becomes the
// container's user (its uid and gid, through the config's user namespace
// mappings), and reads the policy there as wwjail will (relative paths
// and includes against /.wwjail). So an include cannot make wwjail-runc,
// which runs as root, read a host file the container does not see.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace wwjail::runc {

// Where and as whom the check runs, from the bundle's config.
struct CheckView {
  std::string rootfs;  // absolute
  struct Bind {
    std::string source, destination;
  };
  std::vector<Bind> binds;
  uid_t uid = 0;  // on the host
  gid_t gid = 0;
  // The ELF interpreter the host's wwjail names (PT_INTERP), which the
  // image must have: wwjail is bind-mounted, its loader is not. Empty for a
  // static wwjail.
  std::string wwjail_interpreter;
};

// PT_INTERP of the ELF file at `path` (empty when it has none). Throws
// BadBundle when it cannot be read.
std::string elf_interpreter(const std::string& path);

// Throws BadBundle when the config has no root, or ids that no mapping covers.
CheckView check_view(const nlohmann::json& config, const std::string& bundle);

// Empty when the policy is valid and the image has wwjail's interpreter;
// otherwise one line saying what is wrong: wwjail's message, naming the
// policy `name` (NAME:LINE:COLUMN: what). Throws std::runtime_error when the
// check cannot be made (cannot fork, cannot enter the container's view).
std::optional<std::string> check_policy(const std::string& text, const std::string& name, const CheckView& view);

}  // namespace wwjail::runc
