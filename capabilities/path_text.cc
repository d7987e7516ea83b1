#include "capabilities/path_text.h"

#include <vector>

namespace wwjail::path_text {

std::string normalize(std::string_view absolute) {
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i < absolute.size()) {
    while (i < absolute.size() && absolute[i] == '/') ++i;
    size_t j = absolute.find('/', i);
    if (j == std::string_view::npos) j = absolute.size();
    std::string_view part = absolute.substr(i, j - i);
    i = j;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(part);
  }
  if (parts.empty()) return "/";
  std::string out;
  for (auto p : parts) {
    out += '/';
    out += p;
  }
  return out;
}

std::string join(std::string_view base, std::string_view rel) {
  if (!rel.empty() && rel.front() == '/') return std::string(rel);
  std::string out(base);
  if (out.empty() || out.back() != '/') out += '/';
  out += rel;
  return out;
}

bool is_within(std::string_view path, std::string_view dir) {
  if (dir == "/") return !path.empty() && path.front() == '/';
  if (path.size() < dir.size() || path.compare(0, dir.size(), dir) != 0) return false;
  return path.size() == dir.size() || path[dir.size()] == '/';
}

bool has_dotdot(std::string_view path) {
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (path.substr(i, j - i) == "..") return true;
    i = j + 1;
  }
  return false;
}

Split split_last(std::string_view normalized) {
  if (normalized == "/") return {"/", ""};
  size_t slash = normalized.rfind('/');
  std::string parent(slash == 0 ? std::string_view("/") : normalized.substr(0, slash));
  return {parent, std::string(normalized.substr(slash + 1))};
}

std::string relative_to(std::string_view path, std::string_view dir) {
  if (path.size() == dir.size()) return ".";
  size_t skip = dir == "/" ? 1 : dir.size() + 1;
  return std::string(path.substr(skip));
}

}  // namespace wwjail::path_text
