// The next item's rows prefetched (plan/pass_prefetch.h): where attention's query loop sits in its
// head loop, the generated C++ prefetches the rows of q, k and v that the next query block reads
// (the next tile, else the next head's first, else the first of the program the worker runs
// next), spread over the scores pass of the last key block. These tests pin where the pass
// applies, and that a prefetch changes nothing: the outputs are bit for bit those without it, on
// items of 0 to 200 rows and on 1 and 2 threads, and a bad sequence count fails as without it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "causal_kernel.h"
#include "codegen_helpers.h"
#include "hstu_inputs.h"
#include "testing/datagen.h"
#include "testing/examples.h"
#include "testing/scoped_env.h"

namespace jagtile::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

Program hstu_program() {
  return Program::from_source(read_source_file(hstu_example().file), "hstu.py");
}

// Items of 0, 1, 64, 65, 200 and 3 rows, 3 heads of 16.
ArgMap hstu_args() {
  return hstu_inputs({0, 1, 64, 65, 200, 3}, 3, 11);
}

std::string cpu_code(const Program& p, const std::string& kernel, const ArgMap& args) {
  use_shared_cache_dir();
  return p.specialise(kernel, args, cpu_options()).source(Backend::cpu);
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(Prefetch, AttentionPrefetchesItsQKAndVRowsAfterTheScoresMatmul) {
  const std::string code = cpu_code(hstu_program(), hstu_example().kernel, hstu_args());
  EXPECT_EQ(count(code, "jt_prefetch_rows(F."), 3u) << code;
  EXPECT_THAT(code, HasSubstr("pf_in_grid"));
  // Spread over the rows of the pass after the scores matmul, not a burst in front of it.
  const size_t scores = code.find("jt_matmul_f32(JtMatmul{");
  ASSERT_NE(scores, std::string::npos);
  EXPECT_GT(code.find("jt_prefetch_rows(F."), scores) << code;
}

// One item per program and no head loop (the item loop is the program loop; the next program's
// rows are not known inside this one); and a kernel without a query loop in a grid loop.
TEST(Prefetch, NoneWithoutAGridLoopAroundTheQueryLoop) {
  const Program per_item = Program::from_source(causal_source("[4, 4]"), "causal.py");
  EXPECT_THAT(cpu_code(per_item, "causal", causal_args()), Not(HasSubstr("jt_prefetch_rows(F.")));

  const ExampleInfo* bmm = find_example("jagged_dense_bmm");
  Program p = Program::from_file(std::string(JAGTILE_SOURCE_DIR) + "/" + bmm->file);
  JaggedShape s;
  s.batch = 5;
  const ArgMap bmm_args = bmm->make_inputs(s, DType::f32, DType::i32);
  EXPECT_THAT(cpu_code(p, bmm->kernel, bmm_args), Not(HasSubstr("jt_prefetch_rows(F.")));
}

// After the last head the rows named are those of the program this worker runs next (passed in
// by the entry loop), its item's start and end read under an in-bounds test.
TEST(Prefetch, AfterTheLastHeadItNamesTheRowsOfTheWorkersNextProgram) {
  const std::string code = cpu_code(hstu_program(), hstu_example().kernel, hstu_args());
  EXPECT_THAT(code, HasSubstr("int64_t jt_program, int64_t jt_next_program)")) << code;
  EXPECT_THAT(code, HasSubstr("c->next_position")) << code;
  EXPECT_THAT(code, HasSubstr("pf_next_begin0 = (int64_t)(((((uint64_t)(int64_t)(jt_next_s0) <"))
      << code;
  EXPECT_THAT(code, HasSubstr(": jt_next_inner)")) << code;
}

TEST(Prefetch, JagtilePrefetchZeroPlansNone) {
  ScopedEnv off("JAGTILE_PREFETCH", "0");
  EXPECT_THAT(cpu_code(hstu_program(), hstu_example().kernel, hstu_args()),
              Not(HasSubstr("jt_prefetch_rows(F.")));
}

// Every output of `source`'s kernel bit for bit with and without the prefetches (the code with
// them asserted to have some), checked and unchecked, 1 and 2 threads, blocks of 64 and of 16
// (several query tiles an item, so every branch of the guess is taken). "Without" compiles from
// a fresh Program, whose specialisations are planned with the pass off.
void expect_same_bits_without_prefetch(const std::string& source, const ArgMap& args) {
  use_shared_cache_dir();
  const Program p = Program::from_source(source, "attention.py");
  for (const std::vector<int64_t>& blocks : {std::vector<int64_t>{64, 64}, {16, 16}})
    for (bool checked : {true, false})
      for (int threads : {1, 2}) {
        SCOPED_TRACE("blocks " + std::to_string(blocks[0]) + (checked ? " checked" : "") +
                     " threads " + std::to_string(threads));
        Options o = cpu_options(checked, threads);
        o.config.block_sizes = blocks;
        ASSERT_THAT(p.specialise("", args, o).source(Backend::cpu),
                    HasSubstr("jt_prefetch_rows(F."));
        const std::vector<Tensor> with = p.call("", args, o).outputs;
        std::vector<Tensor> without;
        {
          ScopedEnv off("JAGTILE_PREFETCH", "0");
          const Program plain = Program::from_source(source, "attention.py");
          ASSERT_THAT(plain.specialise("", args, o).source(Backend::cpu),
                      Not(HasSubstr("jt_prefetch_rows(F.")));
          without = plain.call("", args, o).outputs;
        }
        ASSERT_EQ(with.size(), without.size());
        for (size_t i = 0; i < with.size(); ++i) {
          ASSERT_EQ(with[i].nbytes(), without[i].nbytes());
          EXPECT_EQ(
              0, std::memcmp(with[i].raw_data(), without[i].raw_data(), size_t(with[i].nbytes())))
              << "output " << i;
        }
      }
}

TEST(Prefetch, OutputsAreBitForBitThoseWithoutIt) {
  expect_same_bits_without_prefetch(read_source_file(hstu_example().file), hstu_args());
}

// The offsets copied to the end of a page whose next page cannot be read: a read past them faults.
class OffsetsBeforeAnUnreadablePage {
 public:
  explicit OffsetsBeforeAnUnreadablePage(const Tensor& offsets) {
    const size_t page = size_t(sysconf(_SC_PAGESIZE));
    bytes_ = 2 * page;
    map_ = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    EXPECT_NE(map_, MAP_FAILED);
    EXPECT_EQ(mprotect(static_cast<char*>(map_) + page, page, PROT_NONE), 0);
    char* at = static_cast<char*>(map_) + page - size_t(offsets.nbytes());
    std::memcpy(at, offsets.raw_data(), size_t(offsets.nbytes()));
    tensor = Tensor::from_external(at, offsets.shape(), offsets.dtype(), Device::cpu(), [] {});
  }
  ~OffsetsBeforeAnUnreadablePage() { munmap(map_, bytes_); }
  Tensor tensor;

 private:
  void* map_ = nullptr;
  size_t bytes_ = 0;
};

// The message of the user error a checked call reports, or "no error".
std::string call_error(const Program& p, const std::string& kernel, const ArgMap& args,
                       int threads) {
  try {
    p.call(kernel, args, cpu_options(true, threads));
  } catch (const UserError& e) {
    return e.what();
  }
  return "no error";
}

// A sequence count passed in rather than taken from the offsets: a program past the offsets'
// end fails its own bounds check. The program before it reads that item's bounds for its
// prefetch first; with the offsets right before an unreadable page, a read past their end would
// crash the test, so the call must report the same error as without the pass, and nothing else.
TEST(Prefetch, TheNextItemsStartIsNeverReadOutOfBounds) {
  std::string source = read_source_file(hstu_example().file);
  const std::string count = "    num_seqs = seq_offsets.size(0) - 1\n";
  ASSERT_NE(source.find(count), std::string::npos);
  source.erase(source.find(count), count.size());
  const std::string param = "    max_seq_len: int,\n";
  ASSERT_NE(source.find(param), std::string::npos);
  source.insert(source.find(param), "    num_seqs: int,\n");
  ArgMap args = hstu_args();
  const OffsetsBeforeAnUnreadablePage offsets(std::get<Tensor>(args["seq_offsets"]));
  args["seq_offsets"] = offsets.tensor;
  args["num_seqs"] = int64_t(7);  // one more than the offsets hold
  auto error_of = [&](const Program& p, int threads) { return call_error(p, "", args, threads); };
  use_shared_cache_dir();
  for (int threads : {1, 2}) {
    SCOPED_TRACE("threads " + std::to_string(threads));
    const Program with = Program::from_source(source, "attention.py");
    ASSERT_THAT(with.specialise("", args, cpu_options(true, threads)).source(Backend::cpu),
                HasSubstr("pf_next_begin"));
    const std::string error = error_of(with, threads);
    EXPECT_THAT(error, HasSubstr("seq_offsets")) << error;
    ScopedEnv off("JAGTILE_PREFETCH", "0");
    EXPECT_EQ(error, error_of(Program::from_source(source, "attention.py"), threads));
  }
}

// A per-sequence total summed over the heads keeps the head loop in its program (the heads are
// not independent): after the last head nothing is prefetched (no guess), and the outputs are
// still those without the pass.
TEST(Prefetch, AHeadLoopKeptInItsProgramPrefetchesWithinTheItemOnly) {
  std::string source = read_source_file(hstu_example().file);
  auto insert_after = [&](const std::string& anchor, const std::string& text) {
    const size_t at = source.find(anchor);
    ASSERT_NE(at, std::string::npos) << anchor;
    source.insert(at + anchor.size(), text);
  };
  insert_after("    out = torch.empty_like(v)\n",
               "    total = torch.zeros([num_seqs], dtype=torch.float32, device=q.device)\n");
  insert_after("                out[tile_q, head, :] = acc.to(out.dtype)\n",
               "                total[seq] = total[seq] + acc.sum()\n");
  const std::string ret = "    return out\n";
  ASSERT_NE(source.find(ret), std::string::npos);
  source.replace(source.find(ret), ret.size(), "    return out, total\n");
  const Program p = Program::from_source(source, "attention.py");
  const std::string code = cpu_code(p, hstu_example().kernel, hstu_args());
  EXPECT_THAT(code, HasSubstr("pf_in_grid0 = ((s1 + INT64_C(1)) < end1)")) << code;
  EXPECT_THAT(code, HasSubstr("(end2 - pf_row0)) : INT64_C(0))")) << code;
  expect_same_bits_without_prefetch(source, hstu_args());
}

// ---- the next item's matmul operands (plan/pass_prefetch_operands.h) ----

const ExampleInfo& bmm_example() {
  return *find_example("jagged_dense_bmm");
}

Program bmm_program() {
  return Program::from_file(std::string(JAGTILE_SOURCE_DIR) + "/" + bmm_example().file);
}

// 9 items of 0 to 70 rows (one empty), 40 features: blocks of 16 leave partial row and d blocks.
ArgMap bmm_args(LengthDist dist = LengthDist::uniform, DType dtype = DType::f32) {
  JaggedShape s;
  s.batch = 9;
  s.features = 40;
  s.max_len = 70;
  s.dist = dist;
  s.seed = 3;
  return bmm_example().make_inputs(s, dtype, DType::i32);
}

// The bundled bmm's program is one item: the next item's rows of x_values (F.p0, from its offset
// in x_offsets, F.p1, read under an in-bounds test) and its weight slice (F.p2) go to a stream
// that every matmul block of the program gets.
TEST(PrefetchOperands, TheBmmStreamsTheNextItemsRowsAndWeightThroughItsMatmulBlocks) {
  const std::string code = cpu_code(bmm_program(), bmm_example().kernel, bmm_args());
  EXPECT_THAT(code, HasSubstr("JtPrefetch jt_operands = {};")) << code;
  EXPECT_EQ(count(code, "jt_prefetch_add(&jt_operands, "), 2u) << code;
  EXPECT_THAT(code, HasSubstr("jt_prefetch_add(&jt_operands, F.p0.data, "));
  EXPECT_THAT(code, HasSubstr("jt_prefetch_add(&jt_operands, F.p2.data, "));
  EXPECT_THAT(code, HasSubstr("(uint64_t)jt_next_s0 < (uint64_t)F.p1.size[0]"));
  EXPECT_THAT(code, HasSubstr("(uint64_t)(jt_next_s0 + INT64_C(1)) < (uint64_t)F.p1.size[0]"));
  EXPECT_THAT(code, HasSubstr("jt_prefetch_start(&jt_operands);"));
  EXPECT_EQ(count(code, "jt_matmul_f32(JtMatmul{"), count(code, ", &jt_operands});")) << code;
  EXPECT_THAT(code, HasSubstr("c->next_position"));
  EXPECT_THAT(code, Not(HasSubstr("jt_prefetch_rows(F.")));
}

// Attention's programs are (sequence, head) pairs (an inner program loop): its rows are
// prefetched by pass_prefetch.h, and it gets no operand stream.
TEST(PrefetchOperands, NoneWhereProgramsAreSplitIntoHeads) {
  EXPECT_THAT(cpu_code(hstu_program(), hstu_example().kernel, hstu_args()),
              Not(HasSubstr("jt_operands")));
}

TEST(PrefetchOperands, JagtilePrefetchZeroPlansNone) {
  ScopedEnv off("JAGTILE_PREFETCH", "0");
  EXPECT_THAT(cpu_code(bmm_program(), bmm_example().kernel, bmm_args()),
              Not(HasSubstr("jt_operands")));
}

// The bmm's outputs bit for bit with and without the stream, default and 16-row blocks, checked
// and unchecked, 1 and 2 threads, on uniform lengths and on empty items; f32 (the microkernel's
// blocks take the stream) and bf16 (on an AMX CPU the tile loop takes it too).
TEST(PrefetchOperands, OutputsAreBitForBitThoseWithoutIt) {
  use_shared_cache_dir();
  for (auto [dist, dtype] :
       {std::pair{LengthDist::uniform, DType::f32}, std::pair{LengthDist::empty, DType::f32},
        std::pair{LengthDist::uniform, DType::bf16}}) {
    const ArgMap args = bmm_args(dist, dtype);
    for (const std::vector<int64_t>& blocks : {std::vector<int64_t>{}, {1, 16, 16, 16}})
      for (bool checked : {true, false})
        for (int threads : {1, 2}) {
          SCOPED_TRACE(std::string(length_dist_name(dist)) + " " + std::string(dtype_name(dtype)) +
                       (blocks.empty() ? "" : " blocks 16") + (checked ? " checked" : "") +
                       " threads " + std::to_string(threads));
          Options o = cpu_options(checked, threads);
          o.config.block_sizes = blocks;
          const Program p = bmm_program();
          ASSERT_THAT(p.specialise(bmm_example().kernel, args, o).source(Backend::cpu),
                      HasSubstr("jt_operands"));
          const Tensor with = p.call(bmm_example().kernel, args, o).outputs.at(0);
          ScopedEnv off("JAGTILE_PREFETCH", "0");
          const Tensor without = bmm_program().call(bmm_example().kernel, args, o).outputs.at(0);
          ASSERT_EQ(with.nbytes(), without.nbytes());
          EXPECT_EQ(0, std::memcmp(with.raw_data(), without.raw_data(), size_t(with.nbytes())));
        }
  }
}

// One more weight slice than the offsets have items: the last program fails its own bounds check
// on x_offsets. The program before it reads that item's offsets for its stream first; with the
// offsets right before an unreadable page, a read past their end would crash the test, so the
// call must report the same error as without the pass.
TEST(PrefetchOperands, TheNextItemsOffsetsAreNeverReadOutOfBounds) {
  ArgMap args = bmm_args();
  const std::vector<int64_t> weight = std::get<Tensor>(args["weight"]).shape();
  args["weight"] = Tensor::zeros({weight[0] + 1, weight[1], weight[2]}, DType::f32);
  args["bias"] = Tensor::zeros({weight[0] + 1, weight[2]}, DType::f32);
  const OffsetsBeforeAnUnreadablePage offsets(std::get<Tensor>(args["x_offsets"]));
  args["x_offsets"] = offsets.tensor;
  auto error_of = [&](const Program& p, int threads) {
    return call_error(p, bmm_example().kernel, args, threads);
  };
  use_shared_cache_dir();
  for (int threads : {1, 2}) {
    SCOPED_TRACE("threads " + std::to_string(threads));
    const Program with = bmm_program();
    ASSERT_THAT(with.specialise(bmm_example().kernel, args, cpu_options(true, threads))
                    .source(Backend::cpu),
                HasSubstr("jt_operands"));
    const std::string error = error_of(with, threads);
    EXPECT_THAT(error, HasSubstr("x_offsets")) << error;
    ScopedEnv off("JAGTILE_PREFETCH", "0");
    EXPECT_EQ(error, error_of(bmm_program(), threads));
  }
}

}  // namespace
}  // namespace jagtile::testing
