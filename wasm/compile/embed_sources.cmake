# Writes OUTPUT: guest_entry.c and wasi_imports.h (from SOURCE_DIR) as the
# string constants wasm/compile/embedded_sources.h declares.
file(READ "${SOURCE_DIR}/guest_entry.c" entry)
file(READ "${SOURCE_DIR}/wasi_imports.h" imports)
set(body "// Generated from wasm/abi/guest_entry.c and wasm/abi/wasi_imports.h by wasm/compile/embed_sources.cmake.\n")
string(APPEND body "#include \"wasm/compile/embedded_sources.h\"\n\nnamespace wwjail {\n\n")
string(APPEND body "const std::string_view kGuestEntrySource = R\"wwjail_src(${entry})wwjail_src\";\n\n")
string(APPEND body "const std::string_view kWasiImportsHeader = R\"wwjail_src(${imports})wwjail_src\";\n\n")
string(APPEND body "}  // namespace wwjail\n")
file(WRITE "${OUTPUT}.tmp" "${body}")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
