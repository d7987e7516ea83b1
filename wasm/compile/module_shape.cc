#include "wasm/compile/module_shape.h"

#include <iterator>
#include <optional>
#include <vector>

#include "wasm/compile/wasm_reader.h"

namespace wwjail {
namespace {

using namespace wasm_binary;
using namespace wasm_limits;

// Skips one value type. False for an encoding this reader does not know
// (a proposal's): the caller stops reading that part and leaves it to wasm2c.
bool skip_valtype(Reader& r) {
  auto b = r.byte();
  if (!b) return false;
  if (*b == 0x63 || *b == 0x64) return r.u32().has_value();  // (ref null? heaptype): a LEB follows
  return *b >= 0x69 && *b <= 0x7f;                           // numeric, vector and abbreviated reference types
}

struct FuncType {
  uint32_t params = 0, results = 0;
};

// The export names the runner binds, and the kind each must have.
struct Bound {
  std::string_view name;
  Kind kind;
  const char* article;  // "a memory"
};
constexpr Bound kBound[] = {{"memory", kMemoryKind, "a memory"}, {"_start", kFunc, "a function"}};

const char* kind_name(uint8_t kind) {
  switch (kind) {
    case kFunc: return "a function";
    case kTableKind: return "a table";
    case kMemoryKind: return "a memory";
    case kGlobalKind: return "a global";
    case kTagKind: return "a tag";
    default: return "of an unknown kind";
  }
}

std::string too_many(const char* what, uint64_t n, uint64_t most) {
  return "it declares " + std::to_string(n) + " " + what + ", more than the " + std::to_string(most) +
         " wwjail compiles";
}

struct Shape {
  std::vector<FuncType> types;
  bool types_known = true;
  std::vector<uint32_t> func_type;  // type index of each function, imported ones first
  uint32_t imported_funcs = 0;
  struct Export {
    uint8_t kind;
    uint32_t index;
  };
  std::optional<Export> bound[std::size(kBound)];
  bool exports_read = false;
};

std::string read_types(Reader& r, Shape& s) {
  auto count = r.u32();
  if (!count) return "its type section is malformed";
  if (*count > kTypes) return too_many("types", *count, kTypes);
  for (uint32_t i = 0; i < *count; ++i) {
    if (r.byte() != 0x60) {  // a proposal's type (gc, ...): wasm2c names it
      s.types_known = false;
      return "";
    }
    FuncType t;
    for (uint32_t* n : {&t.params, &t.results}) {
      auto c = r.u32();
      if (!c) return "its type section is malformed";
      if (n == &t.params && *c > kParams) return too_many("parameters in a function type", *c, kParams);
      if (n == &t.results && *c > kResults) return too_many("results in a function type", *c, kResults);
      *n = *c;
      for (uint32_t k = 0; k < *c; ++k) {
        if (!skip_valtype(r)) {
          s.types_known = false;
          return "";
        }
      }
    }
    s.types.push_back(t);
  }
  return "";
}

std::string read_imports(Reader& r, Shape& s) {
  auto count = r.u32();
  if (!count) return "its import section is malformed";
  if (*count > kImports) return too_many("imports", *count, kImports);
  for (uint32_t i = 0; i < *count; ++i) {
    auto mod = r.name();
    auto field = r.name();
    auto kind = r.byte();
    if (!mod || !field || !kind) return "its import section is malformed";
    if (*kind != kFunc)
      return "it imports " + std::string(*mod) + "." + std::string(*field) + " as " + kind_name(*kind) +
             "; wwjail provides only WASI's functions";
    auto type = r.u32();
    if (!type) return "its import section is malformed";
    s.func_type.push_back(*type);
    ++s.imported_funcs;
  }
  return "";
}

std::string read_functions(Reader& r, Shape& s) {
  auto count = r.u32();
  if (!count) return "its function section is malformed";
  if (*count > kFunctions) return too_many("functions", *count, kFunctions);
  for (uint32_t i = 0; i < *count; ++i) {
    auto type = r.u32();
    if (!type) return "its function section is malformed";
    s.func_type.push_back(*type);
  }
  return "";
}

std::string read_tables(Reader& r) {
  auto count = r.u32();
  if (!count) return "its table section is malformed";
  if (*count > kTables) return too_many("tables", *count, kTables);
  for (uint32_t i = 0; i < *count; ++i) {
    if (!skip_valtype(r)) return "";  // a proposal's table type: left to wasm2c
    auto flags = r.byte();
    auto initial = r.u32();
    if (!flags || !initial) return "its table section is malformed";
    if (*initial > kTableEntries) return too_many("entries in a table", *initial, kTableEntries);
    if ((*flags & 1) && !r.u32()) return "its table section is malformed";
  }
  return "";
}

std::string read_exports(Reader& r, Shape& s) {
  auto count = r.u32();
  if (!count) return "its export section is malformed";
  if (*count > kExports) return too_many("exports", *count, kExports);
  for (uint32_t i = 0; i < *count; ++i) {
    auto name = r.name();
    auto kind = r.byte();
    auto index = r.u32();
    if (!name || !kind || !index) return "its export section is malformed";
    for (size_t b = 0; b < std::size(kBound); ++b) {
      if (*name != kBound[b].name) continue;
      if (*kind != kBound[b].kind)
        return "its export \"" + std::string(kBound[b].name) + "\" is " + kind_name(*kind) + ", not " +
               kBound[b].article;
      s.bound[b] = Shape::Export{*kind, *index};
    }
  }
  s.exports_read = true;
  return "";
}

// Each body's size, and its locals (declared plus the parameters), before
// anything is translated.
std::string read_code(Reader& r, const Shape& s) {
  auto count = r.u32();
  if (!count) return "its code section is malformed";
  if (*count > kFunctions) return too_many("functions", *count, kFunctions);
  for (uint32_t i = 0; i < *count; ++i) {
    uint32_t index = s.imported_funcs + i;
    auto size = r.u32();
    if (!size) return "its code section is malformed";
    if (*size > kBodyBytes)
      return "function " + std::to_string(index) + "'s body is " + std::to_string(*size) +
             " bytes, more than the " + std::to_string(kBodyBytes) + " wwjail compiles";
    auto body = r.bytes(*size);
    if (!body) return "its code section runs past the end of the module";
    Reader b(*body);
    uint64_t locals = 0;
    if (s.types_known && index < s.func_type.size() && s.func_type[index] < s.types.size())
      locals = s.types[s.func_type[index]].params;
    auto groups = b.u32();
    if (!groups) return "its code section is malformed";
    for (uint32_t g = 0; g < *groups; ++g) {
      auto n = b.u32();
      if (!n) return "its code section is malformed";
      locals += *n;
      if (locals > kLocals)
        return "function " + std::to_string(index) + " declares " + std::to_string(locals) +
               " locals or more, more than the " + std::to_string(kLocals) + " wwjail compiles";
      if (!skip_valtype(b)) break;  // a proposal's type: the rest of this function is wasm2c's to judge
    }
  }
  return "";
}

std::string check_bound_exports(const Shape& s) {
  if (!s.exports_read || !s.bound[0])
    return "it exports no memory named \"memory\" (a WASI module exports its linear memory so)";
  if (!s.bound[1]) return "it exports no function \"_start\" (wwjail runs WASI commands, which start there)";
  uint32_t start = s.bound[1]->index;
  if (s.types_known && start < s.func_type.size() && s.func_type[start] < s.types.size()) {
    const FuncType& t = s.types[s.func_type[start]];
    if (t.params || t.results)
      return "its export \"_start\" takes " + std::to_string(t.params) + " parameters and returns " +
             std::to_string(t.results) + " results; a WASI command's _start takes and returns nothing";
  }
  return "";
}

}  // namespace

std::string check_module_shape(std::string_view module) {
  if (module.size() > kModuleBytes)
    return "it is " + std::to_string(module.size()) + " bytes, more than the " + std::to_string(kModuleBytes) +
           " wwjail compiles";
  if (module.size() < 8) return "it is not a WebAssembly module";
  Reader r(module.substr(8));
  Shape s;
  while (!r.done()) {
    auto id = r.byte();
    auto size = r.u32();
    auto content = size ? r.bytes(*size) : std::nullopt;
    if (!id || !content) return "a section runs past the end of the module";
    Reader c(*content);
    std::string problem;
    switch (*id) {
      case kType: problem = read_types(c, s); break;
      case kImport: problem = read_imports(c, s); break;
      case kFunction: problem = read_functions(c, s); break;
      case kTable: problem = read_tables(c); break;
      case kExport: problem = read_exports(c, s); break;
      case kCode: problem = read_code(c, s); break;
      case kGlobal:
      case kData: {
        auto count = c.u32();
        bool globals = *id == kGlobal;
        uint32_t most = globals ? kGlobals : kDataSegments;
        if (count && *count > most) problem = too_many(globals ? "globals" : "data segments", *count, most);
        break;
      }
      default: break;
    }
    if (!problem.empty()) return problem;
  }
  return check_bound_exports(s);
}

}  // namespace wwjail
