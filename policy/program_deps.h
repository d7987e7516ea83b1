// What a program needs just to start: for a dynamically linked ELF its
// interpreter (PT_INTERP) and the shared libraries named by DT_NEEDED,
// transitively, searched the way ld.so does (RPATH/RUNPATH with $ORIGIN, the
// ld.so.conf directories, the default directories); for a "#!" script, its
// interpreter and that interpreter's own dependencies.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace wwjail {

class PathResolver;

// A file the kernel opens with open_exec to start the program, and how.
struct Interpreter {
  enum class Kind {
    kElfLoader,  // an ELF's PT_INTERP (ld.so): the kernel maps it beside the
                 // program; the guest never needs to exec it by name
    kScript,     // a "#!" line's interpreter: the kernel execs it for the script
  };
  std::string path;
  Kind kind = Kind::kElfLoader;
};

struct ProgramDeps {
  std::vector<Interpreter> interpreters;  // need exec (kernel opens them with open_exec)
  std::vector<std::string> libraries;     // need read
};

// Where the files the program's headers name may be granted from: trees
// only root can change (the program may be hostile, and a name checked here
// must still name the same file when it is granted).
struct DepsTrust {
  std::vector<std::string> libraries;  // loaders and shared libraries
  std::vector<std::string> programs;   // "#!" interpreters
  // Where a DT_NEEDED name is searched after RPATH/RUNPATH, in order; unset:
  // the system's (the ld.so.conf directories, then the default ones), read
  // at each search. system() sets it, so that a run reads ld.so.conf once.
  std::optional<std::vector<std::string>> lib_search;
  static DepsTrust system();  // the ld.so.conf directories and the FHS program and library trees
};

// `program` must be an absolute path. Unreadable or non-ELF files yield
// what could be found; the guest's own exec then reports the real error.
// Only files that are what their header says (a shared object for PT_INTERP
// and DT_NEEDED, an executable program for "#!") inside `trust` are listed.
ProgramDeps find_program_deps(const std::string& program, const DepsTrust& trust = DepsTrust::system());

// The same for several programs at once (the files an exec grant on a
// directory names): what they share is read once.
ProgramDeps find_programs_deps(const std::vector<std::string>& programs, const DepsTrust& trust = DepsTrust::system());

// The same with the caller's resolver (policy/path_resolver.h), shared with
// the rest of one start-up's grants.
ProgramDeps find_programs_deps(const std::vector<std::string>& programs, const DepsTrust& trust, PathResolver& paths);

}  // namespace wwjail
