/* Imports a real WASI function with the wrong shape (sock_shutdown takes
 * two i32s): wwjail must refuse it before compiling, saying both shapes. */
__attribute__((import_module("wasi_snapshot_preview1"), import_name("sock_shutdown"))) int bad_shutdown(int fd);

int main(void) { return bad_shutdown(3); }
