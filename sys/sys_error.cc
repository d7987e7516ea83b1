#include "sys/sys_error.h"

#include <cstring>

namespace wwjail {

SysError::SysError(std::string_view what, int err)
    : std::runtime_error(std::string(what) + ": " + std::strerror(err)), err_(err) {}

void throw_sys(std::string_view what, int err) { throw SysError(what, err); }

}  // namespace wwjail
