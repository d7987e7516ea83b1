// The C entry points wasm2c-compiled modules call for their
// wasi_snapshot_preview1 imports: each forwards to the run's WasiHost.
#include "wasm/abi/wasi_imports.h"

#include "wasm/runner/wasi_instance.h"

extern "C" {

uint32_t Z_wasi_snapshot_preview1Z_args_get(struct Z_wasi_snapshot_preview1_instance_t* i, uint32_t a0, uint32_t a1) { return i->host->args_get(a0, a1); }
uint32_t Z_wasi_snapshot_preview1Z_args_sizes_get(struct Z_wasi_snapshot_preview1_instance_t* i, uint32_t a0, uint32_t a1) { return i->host->args_sizes_get(a0, a1); }
uint32_t Z_wasi_snapshot_preview1Z_environ_get(struct Z_wasi_snapshot_preview1_instance_t* i, uint32_t a0, uint32_t a1) { return i->host->environ_get(a0, a1); }
uint32_t Z_wasi_snapshot_preview1Z_environ_sizes_get(struct Z_wasi_snapshot_preview1_instance_t* i, uint32_t a0, uint32_t a1) { return i->host->environ_sizes_get(a0, a1); }
uint32_t Z_wasi_snapshot_preview1Z_clock_res_get(struct Z_wasi_snapshot_preview1_instance_t* i, uint32_t a0, uint32_t a1) { return i->host->clock_res_get(a0, a1); }
uint32_t Z_wasi_snapshot_preview1Z_clock_time_get(struct Z_wasi_snapshot_preview1_instance_t* i, uint32_t a0, uint64_t a1, uint32_t a2) { return i->host->clock_time_get(a0, a1, a2); }
uint32_t Z_wasi_snapshot_preview1Z_fd_advise(struct Z_wasi_snapshot_preview1_instance_t* i, uint32_t a0, uint64_t a1, uint64_t a2, uint32_t a3) { return i->host->fd_advise(a0, a1, a2, a3); }
uint32_t Z_wasi_snapshot_preview1Z_fd_allocate(struct Z_wasi_snapshot_preview1_instance_t* i, uint32_t a0, uint64_t a1, uint64_t a2) { return i->host->fd_allocate(a0, a1, a2); }
uint32_t Z_wasi_snapshot_preview1Z_fd_close(struct Z_wasi_snapshot_preview1_instance_t* i, uint32_t a0) { return i->host->fd_close(a0); }
uint32_t Z_wasi_snapshot_preview1Z_fd_datasync(struct Z_wasi_snapshot_preview1_instance_t* i, uint32_t a0) { return i->host->fd_datasync(a0); }
uint32_t Z_wasi_snapshot_preview1Z_fd_fdstat_get(struct Z_wasi_snapshot_preview1_instance_t* i, uint32_t a0, uint32_t a1) { return i->host->fd_fdstat_get(a0, a1); }
uint32_t Z_wasi_snapshot_preview1Z_fd_fdstat_set_flags(struct Z_wasi_snapshot_preview1_instance_t* i, uint32_t a0, uint32_t a1) { return i->host->fd_fdstat_set_flags(a0, a1); }
uint32_t Z_wasi_snapshot_preview1Z_fd_fdstat_set_rights(struct Z_wasi_snapshot_preview1_instance_t* i, uint32_t a0, uint64_t a1, uint64_t a2) { return i->host->fd_fdstat_set_rights(a0, a1, a2); }
uint32_t Z_wasi_snapshot_preview1Z_fd_filestat_get(struct Z_wasi_snapshot_preview1_instance_t* i, uint32_t a0, uint32_t a1) { return i->host->fd_filestat_get(a0, a1); }
uint32_t Z_wasi_snapshot_preview1Z_fd_filestat_set_size(struct Z_wasi_snapshot_preview1_instance_t* i, uint32_t a0, uint64_t a1) { return i->host->fd_filestat_set_size(a0, a1); }
uint32_t Z_wasi_snapshot_preview1Z_fd_filestat_set_times(struct Z_wasi_snapshot_preview1_instance_t* i, uint32_t a0, uint64_t a1, uint64_t a2, uint32_t a3) { return i->host->fd_filestat_set_times(a0, a1, a2, a3); }
uint32_t Z_wasi_snapshot_preview1Z_fd_pread(struct Z_wasi_snapshot_preview1_instance_t* i, uint32_t a0, uint32_t a1, uint32_t a2, uint64_t a3, uint32_t a4) { return i->host->fd_pread(a0, a1, a2, a3, a4); }
uint32_t Z_wasi_snapshot_preview1Z_fd_prestat_get(struct Z_wasi_snapshot_preview1_instance_t* i, uint32_t a0, uint32_t a1) { return i->host->fd_prestat_get(a0, a1); }
uint32_t Z_wasi_snapshot_preview1Z_fd_prestat_dir_name(struct Z_wasi_snapshot_preview1_instance_t* i, uint32_t a0, uint32_t a1, uint32_t a2) { return i->host->fd_prestat_dir_name(a0, a1, a2); }
uint32_t Z_wasi_snapshot_preview1Z_fd_pwrite(struct Z_wasi_snapshot_preview1_instance_t* i, uint32_t a0, uint32_t a1, uint32_t a2, uint64_t a3, uint32_t a4) { return i->host->fd_pwrite(a0, a1, a2, a3, a4); }
uint32_t Z_wasi_snapshot_preview1Z_fd_read(struct Z_wasi_snapshot_preview1_instance_t* i, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3) { return i->host->fd_read(a0, a1, a2, a3); }
uint32_t Z_wasi_snapshot_preview1Z_fd_readdir(struct Z_wasi_snapshot_preview1_instance_t* i, uint32_t a0, uint32_t a1, uint32_t a2, uint64_t a3, uint32_t a4) { return i->host->fd_readdir(a0, a1, a2, a3, a4); }
uint32_t Z_wasi_snapshot_preview1Z_fd_renumber(struct Z_wasi_snapshot_preview1_instance_t* i, uint32_t a0, uint32_t a1) { return i->host->fd_renumber(a0, a1); }
uint32_t Z_wasi_snapshot_preview1Z_fd_seek(struct Z_wasi_snapshot_preview1_instance_t* i, uint32_t a0, uint64_t a1, uint32_t a2, uint32_t a3) { return i->host->fd_seek(a0, a1, a2, a3); }
uint32_t Z_wasi_snapshot_preview1Z_fd_sync(struct Z_wasi_snapshot_preview1_instance_t* i, uint32_t a0) { return i->host->fd_sync(a0); }
uint32_t Z_wasi_snapshot_preview1Z_fd_tell(struct Z_wasi_snapshot_preview1_instance_t* i, uint32_t a0, uint32_t a1) { return i->host->fd_tell(a0, a1); }
uint32_t Z_wasi_snapshot_preview1Z_fd_write(struct Z_wasi_snapshot_preview1_instance_t* i, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3) { return i->host->fd_write(a0, a1, a2, a3); }
uint32_t Z_wasi_snapshot_preview1Z_path_create_directory(struct Z_wasi_snapshot_preview1_instance_t* i, uint32_t a0, uint32_t a1, uint32_t a2) { return i->host->path_create_directory(a0, a1, a2); }
uint32_t Z_wasi_snapshot_preview1Z_path_filestat_get(struct Z_wasi_snapshot_preview1_instance_t* i, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t a4) { return i->host->path_filestat_get(a0, a1, a2, a3, a4); }
uint32_t Z_wasi_snapshot_preview1Z_path_filestat_set_times(struct Z_wasi_snapshot_preview1_instance_t* i, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3, uint64_t a4, uint64_t a5, uint32_t a6) { return i->host->path_filestat_set_times(a0, a1, a2, a3, a4, a5, a6); }
uint32_t Z_wasi_snapshot_preview1Z_path_link(struct Z_wasi_snapshot_preview1_instance_t* i, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t a4, uint32_t a5, uint32_t a6) { return i->host->path_link(a0, a1, a2, a3, a4, a5, a6); }
uint32_t Z_wasi_snapshot_preview1Z_path_open(struct Z_wasi_snapshot_preview1_instance_t* i, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t a4, uint64_t a5, uint64_t a6, uint32_t a7, uint32_t a8) { return i->host->path_open(a0, a1, a2, a3, a4, a5, a6, a7, a8); }
uint32_t Z_wasi_snapshot_preview1Z_path_readlink(struct Z_wasi_snapshot_preview1_instance_t* i, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t a4, uint32_t a5) { return i->host->path_readlink(a0, a1, a2, a3, a4, a5); }
uint32_t Z_wasi_snapshot_preview1Z_path_remove_directory(struct Z_wasi_snapshot_preview1_instance_t* i, uint32_t a0, uint32_t a1, uint32_t a2) { return i->host->path_remove_directory(a0, a1, a2); }
uint32_t Z_wasi_snapshot_preview1Z_path_rename(struct Z_wasi_snapshot_preview1_instance_t* i, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t a4, uint32_t a5) { return i->host->path_rename(a0, a1, a2, a3, a4, a5); }
uint32_t Z_wasi_snapshot_preview1Z_path_symlink(struct Z_wasi_snapshot_preview1_instance_t* i, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t a4) { return i->host->path_symlink(a0, a1, a2, a3, a4); }
uint32_t Z_wasi_snapshot_preview1Z_path_unlink_file(struct Z_wasi_snapshot_preview1_instance_t* i, uint32_t a0, uint32_t a1, uint32_t a2) { return i->host->path_unlink_file(a0, a1, a2); }
uint32_t Z_wasi_snapshot_preview1Z_poll_oneoff(struct Z_wasi_snapshot_preview1_instance_t* i, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3) { return i->host->poll_oneoff(a0, a1, a2, a3); }
void Z_wasi_snapshot_preview1Z_proc_exit(struct Z_wasi_snapshot_preview1_instance_t* i, uint32_t a0) { i->host->proc_exit(a0); }
uint32_t Z_wasi_snapshot_preview1Z_proc_raise(struct Z_wasi_snapshot_preview1_instance_t* i, uint32_t a0) { return i->host->proc_raise(a0); }
uint32_t Z_wasi_snapshot_preview1Z_random_get(struct Z_wasi_snapshot_preview1_instance_t* i, uint32_t a0, uint32_t a1) { return i->host->random_get(a0, a1); }
uint32_t Z_wasi_snapshot_preview1Z_sched_yield(struct Z_wasi_snapshot_preview1_instance_t* i) { return i->host->sched_yield(); }
uint32_t Z_wasi_snapshot_preview1Z_sock_accept(struct Z_wasi_snapshot_preview1_instance_t* i, uint32_t a0, uint32_t a1, uint32_t a2) { return i->host->sock_accept(a0, a1, a2); }
uint32_t Z_wasi_snapshot_preview1Z_sock_recv(struct Z_wasi_snapshot_preview1_instance_t* i, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t a4, uint32_t a5) { return i->host->sock_recv(a0, a1, a2, a3, a4, a5); }
uint32_t Z_wasi_snapshot_preview1Z_sock_send(struct Z_wasi_snapshot_preview1_instance_t* i, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t a4) { return i->host->sock_send(a0, a1, a2, a3, a4); }
uint32_t Z_wasi_snapshot_preview1Z_sock_shutdown(struct Z_wasi_snapshot_preview1_instance_t* i, uint32_t a0, uint32_t a1) { return i->host->sock_shutdown(a0, a1); }

}  // extern "C"
