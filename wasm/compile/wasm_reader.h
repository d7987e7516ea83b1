// A bounds-checked reader over a WebAssembly module's bytes (the binary
// format's LEB128 integers, names and byte strings). Every read past the
// end is nullopt, never an access outside the bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace wwjail::wasm_binary {

class Reader {
 public:
  explicit Reader(std::string_view b) : b_(b) {}
  bool done() const { return at_ >= b_.size(); }
  size_t at() const { return at_; }
  size_t left() const { return b_.size() - at_; }
  std::optional<uint8_t> byte() {
    if (at_ >= b_.size()) return std::nullopt;
    return static_cast<uint8_t>(b_[at_++]);
  }
  // Unsigned LEB128 of at most 5 bytes whose value fits 32 bits.
  std::optional<uint32_t> u32() {
    uint64_t v = 0;
    for (int shift = 0; shift < 35; shift += 7) {
      auto b = byte();
      if (!b) return std::nullopt;
      v |= static_cast<uint64_t>(*b & 0x7f) << shift;
      if (!(*b & 0x80)) {
        if (v > UINT32_MAX) return std::nullopt;
        return static_cast<uint32_t>(v);
      }
    }
    return std::nullopt;
  }
  std::optional<std::string_view> bytes(uint32_t n) {
    if (n > b_.size() - at_) return std::nullopt;
    std::string_view v = b_.substr(at_, n);
    at_ += n;
    return v;
  }
  std::optional<std::string_view> name() {
    auto n = u32();
    return n ? bytes(*n) : std::nullopt;
  }

 private:
  std::string_view b_;
  size_t at_ = 0;
};

// Section ids of the binary format (WebAssembly core 2.0, 5.5.2).
enum Section : uint8_t {
  kCustom = 0, kType = 1, kImport = 2, kFunction = 3, kTable = 4, kMemory = 5, kGlobal = 6, kExport = 7,
  kStart = 8, kElement = 9, kCode = 10, kData = 11, kDataCount = 12, kTag = 13,
};

// Import and export kinds (externtype).
enum Kind : uint8_t { kFunc = 0, kTableKind = 1, kMemoryKind = 2, kGlobalKind = 3, kTagKind = 4 };

}  // namespace wwjail::wasm_binary
