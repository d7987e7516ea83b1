# libFuzzer targets (clang only), included from the top-level CMakeLists.txt
# when WWJAIL_BUILD_FUZZERS is ON; tests/fuzz/run-fuzzers.sh builds and runs
# them in a build directory of their own. Each links only the code it
# reaches (the policy library and the capabilities, never the broker), all
# of it built with AddressSanitizer and UndefinedBehaviorSanitizer. toml++ is
# compiled from its headers here (TOML_HEADER_ONLY) so that its parser is
# instrumented too: Debian's shared library is not.
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "WWJAIL_BUILD_FUZZERS needs clang++ (configure with -DCMAKE_CXX_COMPILER=clang++-14)")
endif()
set(WWJAIL_FUZZ_SANITIZERS -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)

add_library(wwjail_fuzz_code STATIC EXCLUDE_FROM_ALL
  capabilities/path_text.cc capabilities/storage_caps.cc capabilities/net_caps.cc
  sys/sys_error.cc sys/atomic_file.cc
  ${WWJAIL_POLICY_SOURCES} ${WWJAIL_GENERATED_PROFILES})
target_link_libraries(wwjail_fuzz_code PUBLIC wwjail_base spdlog::spdlog PkgConfig::LIBCAP)
target_compile_definitions(wwjail_fuzz_code PRIVATE TOML_HEADER_ONLY=1)
target_compile_options(wwjail_fuzz_code PUBLIC ${WWJAIL_FUZZ_SANITIZERS} PRIVATE -fsanitize=fuzzer-no-link)
target_link_options(wwjail_fuzz_code PUBLIC ${WWJAIL_FUZZ_SANITIZERS})

set(WWJAIL_FUZZERS)
foreach(name policy_file net_spec path_text)
  add_executable(fuzz_${name} EXCLUDE_FROM_ALL tests/fuzz/fuzz_${name}.cc)
  target_link_libraries(fuzz_${name} PRIVATE wwjail_fuzz_code)
  target_compile_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
  target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
  set_target_properties(fuzz_${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
  list(APPEND WWJAIL_FUZZERS fuzz_${name})
endforeach()
add_custom_target(wwjail_fuzzers DEPENDS ${WWJAIL_FUZZERS})
