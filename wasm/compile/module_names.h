// The names a WebAssembly module carries, checked before wasm2c sees it.
//
// wasm2c (wabt 1.0.32) copies import and export names into C comments of
// the code it writes, unescaped: a name holding "*/" and a newline would
// be C code in the compiled module, native code outside WASI. So import and
// export names must be plain (no control characters, no "*/"), or the
// module is refused; a "name" custom section (function names, for trap
// messages) with such a name is dropped instead, and traps are unnamed.
// The compiler is then given exactly the bytes checked here.
#pragma once

#include <string>
#include <string_view>

namespace wwjail {

struct ModuleNames {
  bool ok = false;           // the module may be compiled (as `bytes`)
  std::string problem;       // why not, in words
  std::string bytes;         // the module to compile (name section dropped if unsafe)
  bool dropped_names = false;
};

ModuleNames check_module_names(std::string_view module);

}  // namespace wwjail
