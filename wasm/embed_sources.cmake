# Writes OUTPUT: guest_entry.c and wasi_imports.h (from SOURCE_DIR) as the
# string constants wasm/embedded_sources.h declares.
file(READ "${SOURCE_DIR}/guest_entry.c" entry)
file(READ "${SOURCE_DIR}/wasi_imports.h" imports)
set(body "// Generated from wasm/guest_entry.c and wasm/wasi_imports.h by wasm/embed_sources.cmake.\n")
string(APPEND body "#include \"wasm/embedded_sources.h\"\n\nnamespace wwjail {\n\n")
string(APPEND body "const std::string_view kGuestEntrySource = R\"wwjail_src(${entry})wwjail_src\";\n\n")
string(APPEND body "const std::string_view kWasiImportsHeader = R\"wwjail_src(${imports})wwjail_src\";\n\n")
string(APPEND body "}  // namespace wwjail\n")
file(WRITE "${OUTPUT}.tmp" "${body}")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
