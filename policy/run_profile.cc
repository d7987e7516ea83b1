#include "policy/run_profile.h"

#include "capabilities/storage_caps.h"

namespace wwjail {
namespace {

using S = ProfileGrant::Source;

// Locale data: glibc's setlocale reads it in every program started with
// LANG set. World-readable, the same on every system, and without it each
// run would log a handful of denials and run in the C locale.
constexpr ProfileGrant kRunProfile[] = {
    {S::kProgram, "", kExec, "the program", true},
    {S::kProgramDeps, "", 0, "", false},
    {S::kExecGrantDeps, "", 0, "", false},
    {S::kPath, "/etc/ld.so.cache", kRead, "dynamic loader cache"},
    {S::kPath, "/usr/lib/locale", kRead, "locale data"},
    {S::kPath, "/usr/share/locale", kRead, "locale data"},
    {S::kPath, "/etc/locale.alias", kRead, "locale data"},
    {S::kPath, "/usr/share/i18n/locales", kRead, "locale data"},
    {S::kPath, "/usr/lib/x86_64-linux-gnu/gconv", kRead, "locale data"},
    {S::kPath, "/dev/null", kRead | kWrite, "default device"},
    {S::kPath, "/dev/zero", kRead | kWrite, "default device"},
    {S::kPath, "/dev/urandom", kRead, "default device"},
    {S::kPath, "/dev/random", kRead, "default device"},
    {S::kTmpdir, "", kRead | kWrite, kTmpdirOrigin, true},
};

}  // namespace

std::span<const ProfileGrant> run_profile() { return kRunProfile; }

}  // namespace wwjail
