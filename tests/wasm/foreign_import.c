/* A module importing a function wwjail's host does not provide: compiling
 * it for a run must fail with a message naming the import. */
__attribute__((import_module("env"), import_name("launch_missiles"))) int launch_missiles(void);

int main(void) { return launch_missiles(); }
