/* Writes back and drops from every cache level the lines of a buffer, for the peer races' data-cold
 * state (peers_common.race, --cache data): the op's inputs and outputs then come from memory while
 * the code that calls it (the interpreter, torch's dispatch, jagtile's call path) stays cached. x86
 * only: clflush exists on every x86-64 CPU; peers_common builds this file with the C compiler at its
 * first use. */
#include <emmintrin.h>
#include <stdint.h>

void jt_bench_flush_lines(const void* data, int64_t nbytes) {
  const char* line = (const char*)((uintptr_t)data & ~(uintptr_t)63);
  const char* end = (const char*)data + nbytes;
  for (; line < end; line += 64) _mm_clflush(line);
  _mm_mfence(); /* the flushes complete before the timed call starts */
}
