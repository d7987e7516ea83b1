#include "wasm/compile/module_names.h"

#include <cstdint>
#include <cstdio>
#include <optional>

#include "wasm/compile/wasm_reader.h"

namespace wwjail {
namespace {

using wasm_binary::Reader;

// Safe to appear inside a C comment wasm2c writes.
bool plain(std::string_view name) {
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f || c == '\\') return false;
  }
  return name.find("*/") == std::string_view::npos;
}

std::string shown(std::string_view name) {
  std::string out;
  for (unsigned char c : name.substr(0, 60)) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

bool skip_limits(Reader& r) {
  auto flags = r.byte();
  if (!flags || !r.u32()) return false;
  return !(*flags & 1) || r.u32().has_value();
}

// An import or export section: false with `problem` set on a bad name.
bool check_entries(std::string_view content, bool imports, std::string& problem) {
  Reader r(content);
  auto count = r.u32();
  if (!count) return false;
  for (uint32_t i = 0; i < *count; ++i) {
    if (imports) {
      auto mod = r.name();
      auto field = r.name();
      auto kind = r.byte();
      if (!mod || !field || !kind) return false;
      for (auto n : {*mod, *field}) {
        if (!plain(n)) {
          problem = "an import name holds control characters or \"*/\" ('" + shown(n) + "')";
          return false;
        }
      }
      bool ok = true;
      switch (*kind) {
        case 0: ok = r.u32().has_value(); break;                    // function: type index
        case 1: ok = r.byte().has_value() && skip_limits(r); break;  // table: reftype, limits
        case 2: ok = skip_limits(r); break;                          // memory
        case 3: ok = r.byte().has_value() && r.byte().has_value(); break;  // global: type, mutability
        case 4: ok = r.byte().has_value() && r.u32().has_value(); break;   // tag
        default: ok = false;
      }
      if (!ok) return false;
    } else {
      auto n = r.name();
      if (!n || !r.byte() || !r.u32()) return false;
      if (!plain(*n)) {
        problem = "an export name holds control characters or \"*/\" ('" + shown(*n) + "')";
        return false;
      }
    }
  }
  return true;
}

// The "name" custom section: every name in every subsection plain?
bool names_plain(std::string_view content) {
  Reader r(content);
  while (!r.done()) {
    auto id = r.byte();
    auto size = r.u32();
    if (!id || !size) return false;
    auto sub = r.bytes(*size);
    if (!sub) return false;
    Reader s(*sub);
    auto name_map = [&](Reader& m) {
      auto count = m.u32();
      if (!count) return false;
      for (uint32_t i = 0; i < *count; ++i) {
        if (!m.u32()) return false;
        auto n = m.name();
        if (!n || !plain(*n)) return false;
      }
      return true;
    };
    if (*id == 0) {
      auto n = s.name();
      if (!n || !plain(*n)) return false;
    } else if (*id == 2 || *id == 3 || *id == 10) {  // indirect name maps (locals, labels, fields)
      auto count = s.u32();
      if (!count) return false;
      for (uint32_t i = 0; i < *count; ++i) {
        if (!s.u32() || !name_map(s)) return false;
      }
    } else if (*id <= 11) {
      if (!name_map(s)) return false;
    } else {
      return false;  // a subsection this reader does not know: not vouched for
    }
  }
  return true;
}

}  // namespace

ModuleNames check_module_names(std::string_view module) {
  ModuleNames out;
  static const char kHeader[8] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
  if (module.size() < 8 || module.substr(0, 8) != std::string_view(kHeader, 8)) {
    out.problem = "not a WebAssembly module (version 1)";
    return out;
  }
  Reader r(module.substr(8));
  out.bytes.assign(module.substr(0, 8));
  while (!r.done()) {
    size_t start = r.at() + 8;
    auto id = r.byte();
    auto size = r.u32();
    std::optional<std::string_view> content = size ? r.bytes(*size) : std::nullopt;
    if (!id || !content) {
      out.problem = "a section runs past the end of the module";
      return out;
    }
    std::string_view whole = module.substr(start, r.at() + 8 - start);
    if (*id == 2 || *id == 7) {
      if (!check_entries(*content, *id == 2, out.problem)) {
        if (out.problem.empty()) out.problem = "its import or export section is malformed";
        return out;
      }
    } else if (*id == 0) {
      Reader c(*content);
      auto name = c.name();
      if (!name) {
        out.problem = "a custom section has no readable name";
        return out;
      }
      if (*name == "name" && !names_plain(content->substr(c.at()))) {
        out.dropped_names = true;
        continue;  // left out of the bytes compiled
      }
    }
    out.bytes.append(whole);
  }
  out.ok = true;
  return out;
}

}  // namespace wwjail
