// libFuzzer target: the lexical path helpers grants are chosen with, checked
// against the properties their contracts state (path_text.h).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "capabilities/path_text.h"

namespace pt = wwjail::path_text;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

// A normalized path: absolute, no empty, "." or ".." component, no trailing slash.
bool normalized(const std::string& p) {
  if (p == "/") return true;
  if (p.empty() || p.front() != '/' || p.back() == '/') return false;
  size_t i = 1;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string::npos) j = p.size();
    std::string_view part(p.data() + i, j - i);
    if (part.empty() || part == "." || part == "..") return false;
    i = j + 1;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Two strings: a base and a path, split at the first NUL.
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t cut = in.find('\0');
  std::string_view a = in.substr(0, cut), b = cut == std::string_view::npos ? std::string_view() : in.substr(cut + 1);

  std::string base = pt::normalize("/" + std::string(a));
  check(normalized(base));
  check(pt::normalize(base) == base);  // idempotent
  check(!pt::has_dotdot(base));

  std::string joined = pt::join(base, b);
  check(!b.empty() && b.front() == '/' ? joined == b : joined.starts_with(base));
  std::string full = pt::normalize(joined.empty() || joined.front() != '/' ? "/" + joined : joined);
  check(normalized(full));
  // A relative path without ".." stays within its base.
  if (!pt::has_dotdot(b) && (b.empty() || b.front() != '/')) check(pt::is_within(full, base));

  check(pt::is_within(full, full) && pt::is_within(full, "/"));
  if (pt::is_within(full, base)) {
    std::string rel = pt::relative_to(full, base);
    check(pt::normalize(pt::join(base, rel)) == full);
  }
  pt::Split s = pt::split_last(full);
  check(normalized(s.parent));
  if (full == "/") {
    check(s.name.empty());
  } else {
    check(!s.name.empty() && s.name.find('/') == std::string::npos);
    check((s.parent == "/" ? "" : s.parent) + "/" + s.name == full);
    check(pt::is_within(full, s.parent) && !pt::is_within(s.parent, full));
  }
  return 0;
}
