#include "policy/program_deps.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <glob.h>
#include <map>
#include <set>
#include <sstream>

#include "capabilities/path_text.h"
#include "policy/path_resolver.h"
#include "sys/unique_fd.h"

namespace wwjail {
namespace {

struct ElfInfo {
  bool mapped = false;       // the file could be mapped (a non-empty regular file)
  uint16_t type = ET_NONE;   // e_type, once the ELF header is a 64-bit one
  std::string interp;
  std::vector<std::string> needed;
  std::vector<std::string> search;  // RPATH/RUNPATH entries, $ORIGIN expanded
};

// A read-only mapping of a whole file.
class MappedFile {
 public:
  explicit MappedFile(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat st{};
    if (!fd.valid() || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) return;
    void* p = ::mmap(nullptr, st.st_size, PROT_READ, MAP_PRIVATE, fd.get(), 0);
    if (p == MAP_FAILED) return;
    data_ = static_cast<const unsigned char*>(p);
    size_ = static_cast<size_t>(st.st_size);
  }
  ~MappedFile() {
    if (data_) ::munmap(const_cast<unsigned char*>(data_), size_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  const unsigned char* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  const unsigned char* data_ = nullptr;
  size_t size_ = 0;
};

std::string dir_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

void split_search_path(const std::string& list, const std::string& origin, std::vector<std::string>& out) {
  std::stringstream ss(list);
  std::string item;
  while (std::getline(ss, item, ':')) {
    for (const char* tok : {"$ORIGIN", "${ORIGIN}"}) {
      for (size_t pos; (pos = item.find(tok)) != std::string::npos;) item.replace(pos, std::strlen(tok), origin);
    }
    if (!item.empty()) out.push_back(item);
  }
}

// Parses a 64-bit little-endian ELF defensively: every offset is bounds-checked.
bool parse_elf(const std::string& path, ElfInfo& info) {
  MappedFile f(path);
  const unsigned char* d = f.data();
  size_t n = f.size();
  info.mapped = d != nullptr;
  if (!d || n < sizeof(Elf64_Ehdr) || std::memcmp(d, ELFMAG, SELFMAG) != 0 || d[EI_CLASS] != ELFCLASS64) return false;
  auto* eh = reinterpret_cast<const Elf64_Ehdr*>(d);
  info.type = eh->e_type;
  if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phoff > n ||
      eh->e_phnum > (n - eh->e_phoff) / sizeof(Elf64_Phdr))
    return false;
  auto* ph = reinterpret_cast<const Elf64_Phdr*>(d + eh->e_phoff);
  auto vaddr_to_off = [&](uint64_t va) -> uint64_t {
    for (int i = 0; i < eh->e_phnum; ++i) {
      if (ph[i].p_type == PT_LOAD && va >= ph[i].p_vaddr && va - ph[i].p_vaddr < ph[i].p_filesz)
        return ph[i].p_offset + (va - ph[i].p_vaddr);
    }
    return UINT64_MAX;
  };
  const Elf64_Phdr* dyn = nullptr;
  for (int i = 0; i < eh->e_phnum; ++i) {
    // The kernel takes the first PT_INTERP and ignores any other: so do we,
    // or a second one would name a file to grant that nothing ever loads.
    if (ph[i].p_type == PT_INTERP && info.interp.empty() && ph[i].p_offset < n &&
        ph[i].p_filesz <= n - ph[i].p_offset) {
      info.interp.assign(reinterpret_cast<const char*>(d + ph[i].p_offset),
                         strnlen(reinterpret_cast<const char*>(d + ph[i].p_offset), ph[i].p_filesz));
    }
    if (ph[i].p_type == PT_DYNAMIC) dyn = &ph[i];
  }
  if (!dyn || dyn->p_offset >= n || dyn->p_filesz > n - dyn->p_offset) return true;
  auto* de = reinterpret_cast<const Elf64_Dyn*>(d + dyn->p_offset);
  size_t count = dyn->p_filesz / sizeof(Elf64_Dyn);
  uint64_t strtab = UINT64_MAX;
  for (size_t i = 0; i < count && de[i].d_tag != DT_NULL; ++i)
    if (de[i].d_tag == DT_STRTAB) strtab = vaddr_to_off(de[i].d_un.d_ptr);
  if (strtab >= n) return true;
  auto str_at = [&](uint64_t off) -> std::string {
    if (off >= n - strtab) return {};
    const char* s = reinterpret_cast<const char*>(d + strtab + off);
    return std::string(s, strnlen(s, n - strtab - off));
  };
  std::string origin = dir_of(path);
  for (size_t i = 0; i < count && de[i].d_tag != DT_NULL; ++i) {
    if (de[i].d_tag == DT_NEEDED) info.needed.push_back(str_at(de[i].d_un.d_val));
    if (de[i].d_tag == DT_RPATH || de[i].d_tag == DT_RUNPATH) split_search_path(str_at(de[i].d_un.d_val), origin, info.search);
  }
  return true;
}

void read_ld_so_conf(const std::string& file, std::vector<std::string>& dirs, int depth) {
  std::ifstream in(file);
  std::string line;
  while (depth < 4 && std::getline(in, line)) {
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::stringstream ss(line);
    std::string word;
    if (!(ss >> word)) continue;
    if (word == "include") {
      std::string pattern;
      while (ss >> pattern) {
        glob_t g{};
        if (::glob(pattern.c_str(), 0, nullptr, &g) == 0)
          for (size_t i = 0; i < g.gl_pathc; ++i) read_ld_so_conf(g.gl_pathv[i], dirs, depth + 1);
        ::globfree(&g);
      }
    } else if (word.front() == '/') {
      dirs.push_back(word);
    }
  }
}

std::vector<std::string> default_lib_dirs() {
  std::vector<std::string> dirs;
  read_ld_so_conf("/etc/ld.so.conf", dirs, 0);
  for (const char* d : {"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib"})
    dirs.emplace_back(d);
  return dirs;
}

bool is_regular(const std::string& p) {
  struct stat st{};
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// The program may be hostile, and everything below is read out of it: its
// headers can name any path. A name becomes a grant only when the file is
// what the loader or the kernel would really use it as, so that no header
// can turn a secret (/etc/shadow, another user's file) into a grant.
std::string file_head(const std::string& p, size_t len) {
  std::ifstream in(p, std::ios::binary);
  std::string head(len, '\0');
  if (!in.read(head.data(), static_cast<std::streamsize>(len))) return {};
  return head;
}

// A shared object or a PIE (ET_DYN): what ld.so loads and PT_INTERP names.
bool is_elf_shared_object(const std::string& p) {
  if (!is_regular(p)) return false;
  std::string h = file_head(p, sizeof(Elf64_Ehdr));
  if (h.size() != sizeof(Elf64_Ehdr) || std::memcmp(h.data(), ELFMAG, SELFMAG) != 0) return false;
  Elf64_Ehdr eh;
  std::memcpy(&eh, h.data(), sizeof eh);
  return eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_type == ET_DYN;
}

// Where start-up grants may point. The headers are the program's, and the
// program may be hostile; a file it names is granted only where only root
// can change it, so that no name can be swapped between this check and the
// grant (a symlink repointed at /, a file replaced by a hard link), and never
// through /proc (/proc/PID/root/... is another mount namespace's file, whose
// path text names a host file). Returns the canonical path, or "".
// `trees` must be canonical (see canonical_trees).
std::string in_trusted_tree(const std::string& p, const std::vector<std::string>& trees, PathResolver& paths) {
  std::optional<std::string> real = paths.resolve(p);
  if (!real) return {};
  for (const auto& tree : trees) {
    if (path_text::is_within(*real, tree)) return *real;
  }
  return {};
}

// The trees as the kernel names them (/lib is /usr/lib on a merged /usr),
// resolved once per program rather than once per candidate file.
std::vector<std::string> canonical_trees(const std::vector<std::string>& trees, PathResolver& paths) {
  std::vector<std::string> out;
  for (const auto& tree : trees) out.emplace_back(paths.resolve(tree).value_or(path_text::normalize(tree)));
  return out;
}

// What the kernel would exec for a "#!" line: an executable ELF or script.
bool is_executable_program(const std::string& p) {
  struct stat st{};
  if (::stat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || !(st.st_mode & 0111)) return false;
  std::string h = file_head(p, SELFMAG);
  return h.size() == SELFMAG && (std::memcmp(h.data(), ELFMAG, SELFMAG) == 0 || h.starts_with("#!"));
}

std::string shebang_interpreter(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char head[2]{};
  if (!in.read(head, 2) || head[0] != '#' || head[1] != '!') return {};
  std::string line;
  std::getline(in, line);
  std::stringstream ss(line);
  std::string interp;
  ss >> interp;
  return interp.size() > 1 && interp.front() == '/' ? interp : std::string();
}

}  // namespace

DepsTrust DepsTrust::system() {
  DepsTrust t;
  t.lib_search = default_lib_dirs();
  t.libraries = *t.lib_search;
  t.libraries.insert(t.libraries.end(), {"/usr/local/lib", "/usr/libexec"});
  t.programs = {"/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/lib", "/usr/libexec", "/usr/local/bin",
                "/usr/local/sbin", "/usr/local/lib", "/lib", "/lib64", "/usr/lib64"};
  return t;
}

ProgramDeps find_program_deps(const std::string& program, const DepsTrust& given) {
  return find_programs_deps({program}, given);
}

ProgramDeps find_programs_deps(const std::vector<std::string>& programs, const DepsTrust& given) {
  PathResolver paths;
  return find_programs_deps(programs, given, paths);
}

namespace {

// One search for the dependencies of some programs: what they share (a
// library found on the default directories, a loader) is looked up once.
class DepsSearch {
 public:
  DepsSearch(const DepsTrust& given, PathResolver& paths)
      : paths_(paths),
        trust_{canonical_trees(given.libraries, paths), canonical_trees(given.programs, paths)},
        lib_dirs_(given.lib_search ? *given.lib_search : default_lib_dirs()) {}

  // A program and, through up to four "#!" hops, the interpreters it names.
  void add_program(const std::string& program) {
    std::vector<std::string> pending_exec{program};
    for (int hops = 0; !pending_exec.empty() && hops < 4; ++hops) {
      std::string exe = pending_exec.back();
      pending_exec.pop_back();
      if (std::string named = shebang_interpreter(exe); !named.empty()) {
        std::string interp = in_trusted_tree(named, trust_.programs, paths_);
        if (interp.empty() || !is_executable_program(interp)) continue;
        note(interp, Interpreter::Kind::kScript);
        pending_exec.push_back(interp);
        continue;
      }
      add_elf_tree(exe);
    }
  }

  ProgramDeps take() { return std::move(deps_); }

 private:
  // The kind is where the path was found, never what its name looks like.
  // A path named by a "#!" line is exec'd as itself, whatever else names it.
  void note(const std::string& path, Interpreter::Kind kind) {
    for (auto& known : deps_.interpreters) {
      if (known.path != path) continue;
      if (kind == Interpreter::Kind::kScript) known.kind = kind;
      return;
    }
    deps_.interpreters.push_back({path, kind});
  }

  // An ELF, its loader and its libraries, transitively; each library
  // searched with the RPATH/RUNPATH of the object that needs it too.
  void add_elf_tree(const std::string& exe) {
    std::vector<std::pair<std::string, std::vector<std::string>>> work;  // (elf, extra search dirs)
    work.push_back({exe, {}});
    while (!work.empty()) {
      auto [file, inherited] = work.back();
      work.pop_back();
      ElfInfo info;
      if (auto known = objects_.find(file); known != objects_.end()) {
        if (!known->second.parsed) continue;
        info = known->second.info;  // read when it was checked as a shared object
      } else if (!parse_elf(file, info)) {
        continue;
      }
      if (!info.interp.empty() && checked_loaders_.insert(info.interp).second) {
        std::string loader = in_trusted_tree(info.interp, trust_.libraries, paths_);
        if (!loader.empty() && shared_object(loader)) note(loader, Interpreter::Kind::kElfLoader);
      }
      std::vector<std::string> search = info.search;
      search.insert(search.end(), inherited.begin(), inherited.end());
      for (const auto& name : info.needed) {
        std::string lib = find_library(name, search);
        if (!lib.empty() && seen_libs_.insert(lib).second) {
          deps_.libraries.push_back(lib);
          work.push_back({lib, info.search});
        }
      }
    }
  }

  // Where a DT_NEEDED name resolves to, as ld.so would search it ("": not
  // found, or found for an earlier program already).
  std::string find_library(const std::string& name, const std::vector<std::string>& search) {
    if (name.empty()) return {};
    const bool plain = name.find('/') == std::string::npos && search.empty();
    if (plain && by_default_dirs_.count(name)) return {};  // found and checked for an earlier program
    std::vector<std::string> candidates;
    if (name.find('/') != std::string::npos) {
      candidates.push_back(name);
    } else {
      for (const auto& dir : search) candidates.push_back(dir + "/" + name);
      for (const auto& dir : lib_dirs_) candidates.push_back(dir + "/" + name);
    }
    for (const auto& named : candidates) {
      std::string c = in_trusted_tree(named, trust_.libraries, paths_);
      if (c.empty() || !shared_object(c)) continue;
      if (plain) by_default_dirs_.emplace(name, c);
      // A library already seen is not searched again.
      return seen_libs_.count(c) ? std::string() : c;
    }
    return {};
  }

  // Whether a canonical path is a shared object (is_elf_shared_object),
  // asked once per path (the loader is checked as PT_INTERP and again as
  // libc's DT_NEEDED) and read once: the headers parsed for the check are
  // the ones add_elf_tree searches. stat comes first, as in
  // is_elf_shared_object, so that no fifo or device is ever opened.
  bool shared_object(const std::string& canonical) {
    auto known = objects_.find(canonical);
    if (known == objects_.end()) {
      CheckedObject o;
      if (is_regular(canonical)) {
        o.parsed = parse_elf(canonical, o.info);
        o.shared = o.info.type == ET_DYN;
        // A file that cannot be mapped is still judged by its header, read.
        if (!o.info.mapped) o.shared = is_elf_shared_object(canonical);
      }
      known = objects_.emplace(canonical, std::move(o)).first;
    }
    return known->second.shared;
  }

  PathResolver& paths_;
  const DepsTrust trust_;
  const std::vector<std::string> lib_dirs_;
  struct CheckedObject {
    bool shared = false;  // what is_elf_shared_object would say
    bool parsed = false;  // parse_elf succeeded: `info` holds its headers
    ElfInfo info;
  };
  std::map<std::string, CheckedObject> objects_;
  ProgramDeps deps_;
  std::set<std::string> seen_libs_;
  // A name found on the default directories alone (no RPATH/RUNPATH in
  // play) is the same file for every program: looked up once.
  std::map<std::string, std::string> by_default_dirs_;
  std::set<std::string> checked_loaders_;  // PT_INTERP texts already looked up
};

}  // namespace

ProgramDeps find_programs_deps(const std::vector<std::string>& programs, const DepsTrust& given,
                               PathResolver& paths) {
  DepsSearch search(given, paths);
  for (const auto& program : programs) search.add_program(program);
  return search.take();
}

}  // namespace wwjail
