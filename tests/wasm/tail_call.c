/* Built with -mtail-call: a module using the tail-call proposal, which
 * wasm2c (wabt 1.0.32) cannot translate; wwjail must name the proposal. */
int g(int x);
__attribute__((noinline)) int f(int x) { return x ? g(x - 1) : 0; }
__attribute__((noinline)) int g(int x) { return x ? f(x - 1) : 1; }
int main(int argc, char** argv) {
  (void)argv;
  return f(argc * 1000);
}
