// The WASI preview 1 host of wwjail's WebAssembly runner: every host call a
// module imports from wasi_snapshot_preview1, on the runner's own
// descriptors.
//
// The runner is an ordinary guest of the broker: each host call becomes the
// native syscall it needs (openat2 beneath a preopen's descriptor, mkdirat,
// renameat, ...), which the broker decides and logs exactly as it does for
// a native program. The host adds only WASI's own rules on top: paths are
// relative to a descriptor the guest holds and never leave it (openat2
// RESOLVE_BENEATH: "..", absolute paths and absolute symlinks fail with
// ENOTCAPABLE), and every pointer the guest passes is checked against the
// size of its linear memory before it is touched (linear_memory.h).
//
// The calls are defined by concern: wasi_process.cc (args, environ, clocks,
// random, exit, signals), wasi_fds.cc (calls on a descriptor),
// wasi_paths.cc (calls on a path beneath one), wasi_poll.cc (poll_oneoff),
// wasi_sockets.cc (sock_*); wasi_host.cc holds the descriptor table.
#pragma once

#include <sys/stat.h>
#include <sys/uio.h>
#include <wasm-rt.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sys/unique_fd.h"
#include "wasm/runner/linear_memory.h"
#include "wasm/runner/wasi_abi.h"

namespace wwjail {

struct WasiConfig {
  std::vector<std::string> args;  // argv[0] first
  std::vector<std::string> env;   // "NAME=VALUE"
  struct Preopen {
    std::string host;   // a directory
    std::string guest;  // the name the guest sees ("/data")
  };
  std::vector<Preopen> preopens;
  std::vector<int> sockets;  // listening sockets, after the preopens
};

class WasiHost {
 public:
  // Opens the preopens (a message naming the one that fails is thrown as
  // std::runtime_error).
  explicit WasiHost(const WasiConfig& config);
  void bind_memory(wasm_rt_memory_t* memory) { mem_.bind(memory); }
  // The WASI fd of the first listening socket.
  uint32_t first_socket_fd() const { return first_socket_; }

  uint32_t args_get(uint32_t argv, uint32_t buf);
  uint32_t args_sizes_get(uint32_t argc_out, uint32_t size_out);
  uint32_t environ_get(uint32_t env, uint32_t buf);
  uint32_t environ_sizes_get(uint32_t count_out, uint32_t size_out);
  uint32_t clock_res_get(uint32_t id, uint32_t out);
  uint32_t clock_time_get(uint32_t id, uint64_t precision, uint32_t out);
  uint32_t fd_advise(uint32_t fd, uint64_t offset, uint64_t len, uint32_t advice);
  uint32_t fd_allocate(uint32_t fd, uint64_t offset, uint64_t len);
  uint32_t fd_close(uint32_t fd);
  uint32_t fd_datasync(uint32_t fd);
  uint32_t fd_fdstat_get(uint32_t fd, uint32_t out);
  uint32_t fd_fdstat_set_flags(uint32_t fd, uint32_t flags);
  uint32_t fd_fdstat_set_rights(uint32_t fd, uint64_t base, uint64_t inheriting);
  uint32_t fd_filestat_get(uint32_t fd, uint32_t out);
  uint32_t fd_filestat_set_size(uint32_t fd, uint64_t size);
  uint32_t fd_filestat_set_times(uint32_t fd, uint64_t atim, uint64_t mtim, uint32_t flags);
  uint32_t fd_pread(uint32_t fd, uint32_t iovs, uint32_t count, uint64_t offset, uint32_t out);
  uint32_t fd_prestat_get(uint32_t fd, uint32_t out);
  uint32_t fd_prestat_dir_name(uint32_t fd, uint32_t path, uint32_t len);
  uint32_t fd_pwrite(uint32_t fd, uint32_t iovs, uint32_t count, uint64_t offset, uint32_t out);
  uint32_t fd_read(uint32_t fd, uint32_t iovs, uint32_t count, uint32_t out);
  uint32_t fd_readdir(uint32_t fd, uint32_t buf, uint32_t len, uint64_t cookie, uint32_t out);
  uint32_t fd_renumber(uint32_t from, uint32_t to);
  uint32_t fd_seek(uint32_t fd, uint64_t offset, uint32_t whence, uint32_t out);
  uint32_t fd_sync(uint32_t fd);
  uint32_t fd_tell(uint32_t fd, uint32_t out);
  uint32_t fd_write(uint32_t fd, uint32_t iovs, uint32_t count, uint32_t out);
  uint32_t path_create_directory(uint32_t fd, uint32_t path, uint32_t len);
  uint32_t path_filestat_get(uint32_t fd, uint32_t flags, uint32_t path, uint32_t len, uint32_t out);
  uint32_t path_filestat_set_times(uint32_t fd, uint32_t flags, uint32_t path, uint32_t len, uint64_t atim,
                                   uint64_t mtim, uint32_t fst_flags);
  uint32_t path_link(uint32_t old_fd, uint32_t old_flags, uint32_t old_path, uint32_t old_len, uint32_t new_fd,
                     uint32_t new_path, uint32_t new_len);
  uint32_t path_open(uint32_t fd, uint32_t dirflags, uint32_t path, uint32_t len, uint32_t oflags, uint64_t rights,
                     uint64_t inheriting, uint32_t fdflags, uint32_t out);
  uint32_t path_readlink(uint32_t fd, uint32_t path, uint32_t len, uint32_t buf, uint32_t buf_len, uint32_t out);
  uint32_t path_remove_directory(uint32_t fd, uint32_t path, uint32_t len);
  uint32_t path_rename(uint32_t fd, uint32_t old_path, uint32_t old_len, uint32_t new_fd, uint32_t new_path,
                       uint32_t new_len);
  uint32_t path_symlink(uint32_t old_path, uint32_t old_len, uint32_t fd, uint32_t new_path, uint32_t new_len);
  uint32_t path_unlink_file(uint32_t fd, uint32_t path, uint32_t len);
  uint32_t poll_oneoff(uint32_t in, uint32_t out, uint32_t count, uint32_t nevents_out);
  [[noreturn]] void proc_exit(uint32_t code);
  uint32_t proc_raise(uint32_t sig);
  uint32_t random_get(uint32_t buf, uint32_t len);
  uint32_t sched_yield();
  uint32_t sock_accept(uint32_t fd, uint32_t flags, uint32_t out);
  uint32_t sock_recv(uint32_t fd, uint32_t iovs, uint32_t count, uint32_t flags, uint32_t len_out,
                     uint32_t flags_out);
  uint32_t sock_send(uint32_t fd, uint32_t iovs, uint32_t count, uint32_t flags, uint32_t len_out);
  uint32_t sock_shutdown(uint32_t fd, uint32_t how);

 private:
  // One directory entry as fd_readdir reports it.
  struct Dirent {
    uint64_t ino;
    uint8_t type;
    std::string name;
  };
  struct Fd {
    UniqueFd host;
    bool preopen = false;
    std::string name;  // a preopen's guest name
    bool directory = false;  // found when the descriptor was made: no seeking it
    // fd_readdir's snapshot of the directory, taken when a listing starts
    // (cookie 0, as rewinddir does); later cookies index into it.
    std::shared_ptr<std::vector<Dirent>> listing;
  };
  // The guest's fd, or nullptr (EBADF).
  Fd* lookup(uint32_t fd);
  // The host descriptor of the guest's fd, or -1 (EBADF).
  int host_fd(uint32_t fd);
  uint32_t add_fd(UniqueFd host);
  static Fd make_fd(UniqueFd host, bool preopen = false, std::string name = "");
  // The whole listing of a directory, read through a fresh descriptor of it.
  static wasi::Errno read_listing(int dir, std::vector<Dirent>& out);
  using VectorIo = ssize_t (*)(int host, const struct iovec* v, int count, off_t offset);
  // fd_read, fd_write, fd_pread, fd_pwrite: `io` over the guest's iovecs
  // (at `offset` when one is given), the bytes it moved stored at `out`.
  uint32_t vector_io(uint32_t fd, uint32_t iovs, uint32_t count, uint32_t out, std::optional<uint64_t> offset,
                     VectorIo io);

  // Resolves `path` beneath fd's directory to (parent descriptor, last
  // name).
  wasi::Errno parent_of(uint32_t fd, const std::string& path, UniqueFd& parent, std::string& name);
  // parent_of for the path argument at [path, path+len) of linear memory.
  wasi::Errno entry_at(uint32_t fd, uint32_t path, uint32_t len, UniqueFd& parent, std::string& name);
  // Opens `path` beneath fd's directory with O_PATH (following the last
  // symlink when `follow`).
  wasi::Errno open_path(uint32_t fd, const std::string& path, bool follow, UniqueFd& out);
  wasi::Errno write_filestat(uint32_t out, const struct stat& st);

  LinearMemory mem_;
  std::vector<std::string> args_, env_;
  std::vector<std::optional<Fd>> fds_;
  uint32_t first_socket_ = 0;
};

}  // namespace wwjail
