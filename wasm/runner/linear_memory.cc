#include "wasm/runner/linear_memory.h"

#include <climits>

namespace wwjail {

using namespace wasi;

bool LinearMemory::iovecs(uint32_t iovs, uint32_t count, std::vector<struct iovec>& out) const {
  if (count > IOV_MAX || !in_bounds(iovs, uint64_t{count} * layout::kIovec)) return false;  // EFAULT either way
  out.resize(count);
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t buf = 0, len = 0;
    load(iovs + i * layout::kIovec, buf);
    load(iovs + i * layout::kIovec + 4, len);
    if (!in_bounds(buf, len)) return false;
    out[i] = {at(buf), len};
  }
  return true;
}

Errno LinearMemory::path_arg(uint32_t ptr, uint32_t len, std::string& out) const {
  if (!in_bounds(ptr, len)) return kFault;
  // Checked before anything is copied: a guest's 1 GiB "path" would be a
  // second gigabyte here, outside --max-memory.
  if (len >= PATH_MAX) return kNameTooLong;
  if (std::memchr(at(ptr), '\0', len)) return kInval;
  out.assign(reinterpret_cast<const char*>(at(ptr)), len);
  return kSuccess;
}

Errno LinearMemory::put_strings(const std::vector<std::string>& items, uint32_t ptrs, uint32_t buf) {
  uint64_t total = 0;
  for (const auto& s : items) total += s.size() + 1;
  if (!in_bounds(ptrs, uint64_t{items.size()} * 4) || !in_bounds(buf, total)) return kFault;
  uint32_t next = buf;
  for (size_t i = 0; i < items.size(); ++i) {
    store<uint32_t>(ptrs + static_cast<uint32_t>(i) * 4, next);
    std::memcpy(at(next), items[i].c_str(), items[i].size() + 1);
    next += static_cast<uint32_t>(items[i].size() + 1);
  }
  return kSuccess;
}

Errno LinearMemory::put_string_sizes(const std::vector<std::string>& items, uint32_t count_out, uint32_t size_out) {
  uint32_t size = 0;
  for (const auto& s : items) size += static_cast<uint32_t>(s.size() + 1);
  if (!store<uint32_t>(count_out, static_cast<uint32_t>(items.size())) || !store<uint32_t>(size_out, size))
    return kFault;
  return kSuccess;
}

}  // namespace wwjail
