// Planning pass (generated C++ only): the rows of the next work item prefetched. In attention over
// short sequences each (sequence, head) item is a query block or two, and its first touches of
// the query, key and value rows wait on memory: at 64 rows a sequence a profile put a fifth of the
// time in the memo copies' first reads: a head's slice of each row, a row of all heads apart,
// which the hardware prefetchers did not bring in time (prefetching them: 64-row sequences
// 1.30-1.33x faster, docs/performance.md, "HSTU: the next item's rows prefetched").
//
// A tile loop Q directly inside a grid loop G (block size 1: the head loop of attention), whose
// range does not depend on G, prefetches the rows of each tensor that its value nests fill tile
// arrays from in whole rows: row index Q's start + i (the query block), or the start + i of an
// inner tile loop K that begins where Q begins and ends at Q's tile end (the key and value blocks:
// the rows K reads first in Q's next iteration are Q's next tile), the last index the inner loop
// over the row, the other indices fixed across Q and at least one of them G's index. The rows are
// Q's next tile; at Q's last tile, Q's first tile at G's next index (the next head, in the next
// program where G is the split inner program loop); after G's last index, where G is the inner
// program loop, Q's first tile in the program this worker runs next (DeviceFunc::next_program:
// the runtime claims a worker's next chunk before it runs the current one), whose item bounds
// are read under an in-bounds test (hint loads, never checked). Before, that was a guess (the
// rows after this item's), wrong under longest-first order: with the exact program, single-head
// attention over 128 items of 32-96 rows ran 1.15-1.27x faster (docs/performance.md, "HSTU: the
// worker's next program"). Where possible the prefetches are spread, one row
// per row of the first row loop over Q's tile after K's first matmul, in K's last iteration (the
// scores' silu pass of the last key block; a burst of them all in front of the scores matmul
// ran 1.14x slower at 64-row sequences). Else they go at the top of Q's body. A prefetch never
// fails and changes no value; a wrong guess costs bandwidth only. JAGTILE_PREFETCH=0 plans none (to
// measure the pass against its absence).
#pragma once

#include "plan/nest_ir.h"

namespace jagtile::plan {

void prefetch_next_rows(Plan& plan);

}  // namespace jagtile::plan
