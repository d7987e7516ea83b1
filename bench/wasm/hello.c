/* The start-up benchmark's guest: does nothing but exit. */
int main(void) { return 0; }
