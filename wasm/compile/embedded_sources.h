// The C sources compiled into every guest module (guest_entry.c and the
// host's signatures, wasi_imports.h), built into wwjail so a compile needs
// nothing from wwjail's own install tree.
#pragma once

#include <string_view>

namespace wwjail {

extern const std::string_view kGuestEntrySource;
extern const std::string_view kWasiImportsHeader;

}  // namespace wwjail
