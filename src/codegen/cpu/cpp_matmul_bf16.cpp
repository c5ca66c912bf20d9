// The bf16 part of the matmul microkernel text (matmul_prelude() appends it to the f32 part of
// cpp_matmul.cpp, whose vector type, masks and f32 entry it uses): jt_matmul_bf16 and its paths,
// AVX512-BF16 pair products and AMX tiles, their packing and the scans that decide between
// them and the f32 path. Operands come as float tile arrays or, read in place, as bf16 tensors
// (JtMatmul's a16 / b16; plan/pass_operands_in_place.h).
#include "codegen/cpu/print_cpp.h"

namespace jagtile::codegen::cpu {

std::string bf16_matmul_text() {
  return R"JT(
#if JT_MATMUL_PART != 1  // the bf16 path: in the file itself, or in the second object
// ---- bf16 operands on AVX512-BF16 ----
// Operands that hold bf16 values (loaded from bf16 tensors; the tile arrays keep them as floats,
// exactly) are multiplied in pairs by vdpbf16ps. Each lane adds the product of its pair's high
// halves, then that of the low halves, each sum rounded to nearest even (checked on Zen 5
// against both orders of fmaf), and the product of two bf16 values is exact in fp32. With k in
// the high half and k + 1 in the low, that is the f32 path's fma(a_k, b_k, c) then
// fma(a_k+1, b_k+1, .), bit for bit, at twice the products per instruction. Two differences
// remain, both ruled out by a scan of the operands (fused with their packing) before any
// product is taken; a matmul that fails it runs on the f32 path:
// - subnormal inputs count as zero and subnormal sums are flushed to zero. Each product is a
//   multiple of 2^(ea + eb - 268), ea and eb the least biased exponents of A's and B's nonzero
//   elements, and so is each partial sum; with ea + eb >= 142 no nonzero one is below 2^-126;
// - an element with its low 16 bits set (not a bf16 value) would be truncated.
// An odd K pads its last pair with +0 in A and -0 in B: adding their product, -0, leaves every
// sum as it was, a zero's sign included. jt_matmul_bf16 returns 1 where the pairs were used.
#if defined(__AVX512BF16__) && defined(__AVX512BW__)
#define JT_BF16_PAIRS 1
struct JtBf16Scan {
  __m512i low, emin;  // the or of the elements' bits; per lane, the least exponent of a nonzero
  JtBf16Scan() : low(_mm512_setzero_si512()), emin(_mm512_set1_epi32(255)) {}
  void add(__m512 x) {
    const __m512i v = _mm512_castps_si512(x), magnitude = _mm512_set1_epi32(0x7fffffff);
    low = _mm512_or_si512(low, v);
    const __m512i e = _mm512_srli_epi32(_mm512_and_si512(v, magnitude), 23);
    emin = _mm512_mask_min_epu32(emin, _mm512_test_epi32_mask(v, magnitude), emin, e);
  }
  bool bf16_values() const { return (_mm512_reduce_or_epi32(low) & 0xffff) == 0; }
  int least_exponent() const { return _mm512_reduce_min_epu32(emin); }
  // The same from bf16 words on 16-bit lanes (`emin16`: jt_bf16_emin16), bf16 values by type.
  void add_least_exponent(int e) { emin = _mm512_min_epu32(emin, _mm512_set1_epi32(e)); }
};
// Per 16-bit lane, the least exponent of the nonzero bf16 words in v and in emin16 so far (start
// from _mm512_set1_epi16(255)); jt_bf16_emin16_reduce gives the least over the lanes.
static inline __m512i jt_bf16_emin16(__m512i emin16, __m512i v) {
  const __m512i magnitude = _mm512_set1_epi16(0x7fff);
  const __m512i e = _mm512_srli_epi16(_mm512_and_si512(v, magnitude), 7);
  return _mm512_mask_min_epu16(emin16, _mm512_test_epi16_mask(v, magnitude), emin16, e);
}
static inline int jt_bf16_emin16_reduce(__m512i emin16) {
  const __m512i lo = _mm512_and_si512(emin16, _mm512_set1_epi32(0xffff));
  return _mm512_reduce_min_epu32(_mm512_min_epu32(lo, _mm512_srli_epi32(emin16, 16)));
}
static inline bool jt_bf16_exact(const JtBf16Scan& a, const JtBf16Scan& b) {
  const int ea = a.least_exponent(), eb = b.least_exponent();
  return a.bf16_values() && b.bf16_values() && ea >= 1 && eb >= 1 && ea + eb >= 142;
}
// The pair words of 32 consecutive k (x0: the first 16, x1: the next): word j holds k = 2j in
// its high half and k = 2j + 1 in its low half (LOW_FIRST: the other way round, the elements'
// high halves in order). The permute's lane 2j + h takes float 2j + (h ^ !LOW_FIRST)'s high half.
template <int LOW_FIRST = 0>
static inline __m512i jt_bf16_pairs(__m512 x0, __m512 x1) {
  alignas(64) static const uint16_t table[2][32] = {
      {3, 1, 7, 5, 11, 9, 15, 13, 19, 17, 23, 21, 27, 25, 31, 29,
       35, 33, 39, 37, 43, 41, 47, 45, 51, 49, 55, 53, 59, 57, 63, 61},
      {1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31,
       33, 35, 37, 39, 41, 43, 45, 47, 49, 51, 53, 55, 57, 59, 61, 63}};
  return _mm512_permutex2var_epi16(_mm512_castps_si512(x0), _mm512_load_si512(table[LOW_FIRST]),
                                   _mm512_castps_si512(x1));
}
static inline __mmask32 jt_first32(int64_t n) {
  return n >= 32 ? (__mmask32)0xffffffffu : (__mmask32)((1u << (n > 0 ? n : 0)) - 1u);
}
static inline uint32_t jt_bf16_word(float hi, float lo) {
  return (jt_f_bits(hi) & 0xffff0000u) | (jt_f_bits(lo) >> 16);
}
static inline void jt_bf16_scan_one(JtBf16Scan& s, float x) {
  s.add(_mm512_maskz_mov_ps(1, _mm512_set1_ps(x)));
}
// An operand's elements as floats, from its float tile array or, read in place, from its bf16
// tensor (JtMatmul's a16 / b16): the packs below take either.
static inline __m512 jt_load_floats(__mmask16 k, const float* p) {
  return _mm512_maskz_loadu_ps(k, p);
}
static inline __m512 jt_load_floats(__mmask16 k, const uint16_t* p) {
  const __m512i wide = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(k, p));
  return _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16));
}
static inline float jt_float_at(const float* p) { return *p; }
static inline float jt_float_at(const uint16_t* p) { return jt_bf2f(*p); }

// jt_pack_a_bf16's layout from bf16 elements read in place with A's columns contiguous (a_m 1:
// a transposed operand, as x_values in x^T @ y), 16 rows and 32 k at a time: each pair of k's two
// runs of 16 elements interleaved into 16 words (one per row), then the 16 x 16 words transposed
// in registers (jt_transpose), so that each row's 16 pair words are stored together. Element by
// element this pack was most of jagged_jagged_bmm's time on bf16 (48% of the samples): 134.5 ->
// 79.8 ms, 1.69x (AMX, B = 1024, D = 256, alternated in one process). Returns the least exponent
// of the nonzero elements (jt_bf16_emin16_reduce).
static inline int jt_pack_a_bf16_columns(uint32_t* ap, int64_t KP, int64_t KS, const JtMatmul& m,
                                         const uint16_t* A) {
  // Lane 2i of a pair's words: k = 2p + 1's element of row i (lanes 16-31 of the table's source),
  // lane 2i + 1: k = 2p's (lanes 0-15).
  alignas(64) uint16_t table[32];
  for (int i = 0; i < 16; ++i) {
    table[2 * i] = (uint16_t)(16 + i);
    table[2 * i + 1] = (uint16_t)i;
  }
  const __m512i words_of = _mm512_load_si512(table);
  __m512i emin = _mm512_set1_epi16(255);
  for (int64_t i = 0; i < m.M; ++i)
    for (int64_t p = KP; p < KS; ++p) ap[i * KS + p] = 0;
  for (int64_t i0 = 0; i0 < m.M; i0 += 16) {
    const __mmask16 rows = JtVec::first(m.M - i0);
    const int64_t valid_rows = m.M - i0 < 16 ? m.M - i0 : 16;
    for (int64_t k0 = 0; k0 < m.K; k0 += 32) {
      __m512 r[16];
#pragma GCC unroll 16
      for (int q = 0; q < 16; ++q) {
        const int64_t k = k0 + 2 * q;
        const __m256i even = k < m.K ? _mm256_maskz_loadu_epi16(rows, A + k * m.a_k + i0)
                                     : _mm256_setzero_si256();
        const __m256i odd = k + 1 < m.K ? _mm256_maskz_loadu_epi16(rows, A + (k + 1) * m.a_k + i0)
                                        : _mm256_setzero_si256();
        const __m512i both = _mm512_inserti64x4(_mm512_castsi256_si512(even), odd, 1);
        emin = jt_bf16_emin16(emin, both);
        r[q] = _mm512_castsi512_ps(_mm512_permutexvar_epi16(words_of, both));
      }
      jt_transpose(r);
      const int64_t pairs = (m.K - k0 + 1) / 2 < 16 ? (m.K - k0 + 1) / 2 : 16;
      for (int64_t i = 0; i < valid_rows; ++i)
        _mm512_mask_storeu_epi32(ap + (i0 + i) * KS + k0 / 2, JtVec::first(pairs),
                                 _mm512_castps_si512(r[i]));
    }
  }
  return jt_bf16_emin16_reduce(emin);
}

// A (its elements at `A`, m's strides) as pair words, row i at ap + i * KS (KS >= KP); the
// missing k of an odd K is +0, and so are the words from KP to KS (AMX tiles' padding).
template <class T>
static inline void jt_pack_a_bf16(uint32_t* ap, int64_t KP, int64_t KS, const JtMatmul& m,
                                  const T* A, JtBf16Scan& s) {
  if constexpr (sizeof(T) == 2) {
    if (m.a_m == 1 && m.a_k != 1) {
      s.add_least_exponent(jt_pack_a_bf16_columns(ap, KP, KS, m, A));
      return;
    }
  }
  __m512i emin16 = _mm512_set1_epi16(255);  // bf16 rows' exponents, on 16-bit lanes
  for (int64_t i = 0; i < m.M; ++i) {
    const T* row = A + i * m.a_m;
    uint32_t* out = ap + i * KS;
    for (int64_t p = KP; p < KS; ++p) out[p] = 0;
    if constexpr (sizeof(T) == 2) {
      if (m.a_k == 1) {  // bf16 words in memory's order: each pair's two halves swapped
        for (int64_t k0 = 0; k0 < m.K; k0 += 32) {
          const __m512i v = _mm512_maskz_loadu_epi16(jt_first32(m.K - k0), row + k0);
          emin16 = jt_bf16_emin16(emin16, v);
          const int64_t pairs = (m.K - k0 + 1) / 2;
          _mm512_mask_storeu_epi32(out + k0 / 2, JtVec::first(pairs), _mm512_rol_epi32(v, 16));
        }
        continue;
      }
    }
    if (m.a_k == 1) {
      for (int64_t k0 = 0; k0 < m.K; k0 += 32) {
        const __m512 x0 = jt_load_floats(JtVec::first(m.K - k0), row + k0);
        const __m512 x1 = jt_load_floats(JtVec::first(m.K - k0 - 16), row + k0 + 16);
        s.add(x0);
        s.add(x1);
        const int64_t pairs = (m.K - k0 + 1) / 2;
        _mm512_mask_storeu_epi32(out + k0 / 2, JtVec::first(pairs), jt_bf16_pairs(x0, x1));
      }
      continue;
    }
    for (int64_t p = 0; p < KP; ++p) {
      const float hi = jt_float_at(row + 2 * p * m.a_k);
      const float lo = 2 * p + 1 < m.K ? jt_float_at(row + (2 * p + 1) * m.a_k) : 0.0f;
      jt_bf16_scan_one(s, hi);
      jt_bf16_scan_one(s, lo);
      out[p] = jt_bf16_word(hi, lo);
    }
  }
  s.add_least_exponent(jt_bf16_emin16_reduce(emin16));
}

// jt_pack_b_bf16's layout from bf16 rows read in place (b_n 1): each row pair read whole, front
// to back, 32 columns at a time; k = 2p and 2p + 1 interleaved into 32 pair words by two
// permutes, their exponents scanned on 16-bit lanes: about 2.7x fewer instructions than
// widening each element to a float first, 1.07x on bf16 jagged_dense_bmm at blocks of 256 (AMX,
// alternated in one process, two runs). The missing k of an odd K is -0 (0x8000).
template <int LOW_FIRST>
static inline void jt_pack_b_bf16_rows(uint32_t* bp, int64_t KP, int64_t KS, const JtMatmul& m,
                                       const uint16_t* B, JtBf16Scan& s) {
  enum { NR = 32 };
  // Word j of a half: lane 2j its low half, lane 2j + 1 its high half; k = 2p (r0, lanes 0-31 of
  // the permute's table) in the low half where LOW_FIRST, else in the high half.
  alignas(64) uint16_t table[2][32];
  for (int h = 0; h < 2; ++h)
    for (int j = 0; j < 16; ++j) {
      const uint16_t even = (uint16_t)(16 * h + j), odd = (uint16_t)(32 + 16 * h + j);
      table[h][2 * j] = LOW_FIRST ? even : odd;
      table[h][2 * j + 1] = LOW_FIRST ? odd : even;
    }
  const __m512i first = _mm512_load_si512(table[0]), second = _mm512_load_si512(table[1]);
  const __m512i negative_zero = _mm512_set1_epi16((short)0x8000);
  __m512i emin = _mm512_set1_epi16(255);
  for (int64_t j0 = 0; j0 < m.N; j0 += NR)
    for (int64_t w = KP * NR; w < KS * NR; ++w) bp[(j0 / NR) * KS * NR + w] = 0;
  for (int64_t p = 0; p < KP; ++p)
    for (int64_t j0 = 0; j0 < m.N; j0 += NR) {
      uint32_t* panel = bp + (j0 / NR) * KS * NR + p * NR;
      const __mmask32 cols = jt_first32(m.N - j0);
      const __m512i r0 = _mm512_maskz_loadu_epi16(cols, B + 2 * p * m.b_k + j0);
      const __m512i r1 = 2 * p + 1 < m.K
                             ? _mm512_maskz_loadu_epi16(cols, B + (2 * p + 1) * m.b_k + j0)
                             : negative_zero;
      emin = jt_bf16_emin16(jt_bf16_emin16(emin, r0), r1);
      _mm512_store_si512(panel, _mm512_permutex2var_epi16(r0, first, r1));
      _mm512_store_si512(panel + 16, _mm512_permutex2var_epi16(r0, second, r1));
    }
  s.add_least_exponent(jt_bf16_emin16_reduce(emin));
}

// B (its elements at `B`, m's strides) as panels of NR columns, panel q at bp + q * KS * NR
// (KS >= KP), pair p of its column j at p * NR + j, k = 2p in the high half (LOW_FIRST: in the
// low half); the missing k of an odd K is -0, columns past N are zero, and so are the pairs from
// KP to KS (AMX tiles' padding).
template <int LOW_FIRST, class T>
static inline void jt_pack_b_bf16(uint32_t* bp, int64_t KP, int64_t KS, const JtMatmul& m,
                                  const T* B, JtBf16Scan& s) {
  enum { NR = 32 };
  const __m512 negative_zero = _mm512_set1_ps(-0.0f);
  if constexpr (sizeof(T) == 2) {
    if (m.b_n == 1) {  // bf16 rows, as below without widening: 32 words from two permutes
      jt_pack_b_bf16_rows<LOW_FIRST>(bp, KP, KS, m, B, s);
      return;
    }
  }
  if (m.b_n == 1) {
    // Rows of B contiguous: each row pair read whole, front to back, which the hardware
    // prefetcher follows (panel by panel, each row's pass took one line in every N / 32: 2.4%
    // slower on bf16 jagged_dense_bmm at blocks of 256, AMX, alternated in one process); 16
    // columns of a row pair make 16 words with two shifts.
    for (int64_t j0 = 0; j0 < m.N; j0 += NR)
      for (int64_t w = KP * NR; w < KS * NR; ++w) bp[(j0 / NR) * KS * NR + w] = 0;
    for (int64_t p = 0; p < KP; ++p)
      for (int64_t j0 = 0; j0 < m.N; j0 += NR) {
        uint32_t* panel = bp + (j0 / NR) * KS * NR;
        const int64_t nj = m.N - j0 < NR ? m.N - j0 : NR;
        for (int64_t h = 0; h < NR; h += 16) {
          const __mmask16 cols = JtVec::first(nj - h);
          const __m512 r0 = jt_load_floats(cols, B + 2 * p * m.b_k + j0 + h);
          const __m512 r1 = 2 * p + 1 < m.K ? jt_load_floats(cols, B + (2 * p + 1) * m.b_k + j0 + h)
                                            : negative_zero;
          s.add(r0);
          s.add(r1);
          const __m512i high = _mm512_castps_si512(LOW_FIRST ? r1 : r0);
          const __m512i low = _mm512_castps_si512(LOW_FIRST ? r0 : r1);
          const __m512i w = _mm512_or_si512(
              _mm512_and_si512(high, _mm512_set1_epi32((int)0xffff0000u)),
              _mm512_srli_epi32(low, 16));
          _mm512_store_si512(panel + p * NR + h, w);
        }
      }
    return;
  }
  for (int64_t j0 = 0; j0 < m.N; j0 += NR) {
    uint32_t* panel = bp + (j0 / NR) * KS * NR;
    for (int64_t w = KP * NR; w < KS * NR; ++w) panel[w] = 0;
    const int64_t nj = m.N - j0 < NR ? m.N - j0 : NR;
    if (m.b_k == 1) {  // columns contiguous (a transposed operand): 16 x 16 words transposed
      for (int64_t h = 0; h < NR; h += 16)
        for (int64_t k0 = 0; k0 < m.K; k0 += 32) {
          const __mmask16 k_first = JtVec::first(m.K - k0), k_second = JtVec::first(m.K - k0 - 16);
          __m512 r[16];
#pragma GCC unroll 16
          for (int j = 0; j < 16; ++j) {
            if (h + j >= nj) {
              r[j] = _mm512_setzero_ps();
              continue;
            }
            const T* col = B + (j0 + h + j) * m.b_n + k0;
            const __m512 x0 =
                _mm512_mask_mov_ps(negative_zero, k_first, jt_load_floats(k_first, col));
            const __m512 x1 =
                _mm512_mask_mov_ps(negative_zero, k_second, jt_load_floats(k_second, col + 16));
            s.add(x0);
            s.add(x1);
            r[j] = _mm512_castsi512_ps(jt_bf16_pairs<LOW_FIRST>(x0, x1));
          }
          jt_transpose(r);
          const int64_t pairs = (m.K - k0 + 1) / 2 < 16 ? (m.K - k0 + 1) / 2 : 16;
          for (int64_t p = 0; p < pairs; ++p)
            _mm512_store_si512(panel + (k0 / 2 + p) * NR + h, _mm512_castps_si512(r[p]));
        }
      continue;
    }
    for (int64_t p = 0; p < KP; ++p)
      for (int64_t j = 0; j < NR; ++j) {
        float hi = 0.0f, lo = -0.0f;
        if (j < nj) {
          hi = jt_float_at(B + 2 * p * m.b_k + (j0 + j) * m.b_n);
          if (2 * p + 1 < m.K) lo = jt_float_at(B + (2 * p + 1) * m.b_k + (j0 + j) * m.b_n);
        }
        jt_bf16_scan_one(s, hi);
        jt_bf16_scan_one(s, lo);
        panel[p * NR + j] = LOW_FIRST ? jt_bf16_word(lo, hi) : jt_bf16_word(hi, lo);
      }
  }
}

// The pair path's register blocks: 8 rows by up to 2 vectors of 16 columns (its panels are 32
// columns wide; each dot product takes a pair of k).
enum { kBf16Rows = 8 };
template <int MR, int NV>
static inline void jt_mm_block_bf16(const JtMatmul& m, int64_t i0, int64_t j0, const uint32_t* ap,
                                    int64_t KP, const uint32_t* panel, const JtMasks& mask) {
  enum { NR = 32 };
  JtVec::T c[MR][NV];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) c[i][v] = JtVec::zero();
  const uint32_t* a = ap + i0 * KP;
  for (int64_t p = 0; p < KP; ++p) {
    const __m512bh b0 = (__m512bh)_mm512_load_si512(panel + p * NR);
    const __m512bh b1 = (__m512bh)_mm512_load_si512(panel + p * NR + 16);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const __m512bh ai = (__m512bh)_mm512_set1_epi32((int)a[i * KP + p]);
      c[i][0] = _mm512_dpbf16_ps(c[i][0], ai, b0);
      if (NV > 1) c[i][NV - 1] = _mm512_dpbf16_ps(c[i][NV - 1], ai, b1);
    }
  }
  jt_mm_finish<MR, NV>(m, i0, j0, c, mask);
}

// Both operands packed for the pair or tile paths: A's rows KS pair words apart (KS >= the KP
// that K takes), MS rows of them (those past M zero), then B's panels, KS pairs deep, 64-byte
// aligned; in the caller's `stack` of kBf16StackWords words, or on the heap past it (`heap`,
// which the caller frees). `exact`: whether the scan allows the pairs' (and tiles') products.
enum { kBf16StackWords = 12288 };  // 48 KiB
struct JtBf16Packs {
  uint32_t *ap, *bp, *heap;
  int exact;
};
static inline JtBf16Packs jt_pack_bf16(const JtMatmul& m, int64_t KS, int64_t MS,
                                       uint32_t* stack) {
  enum { NR = 32 };
  const int64_t KP = (m.K + 1) / 2, panels = (m.N + NR - 1) / NR;
  const int64_t a_words = (MS * KS + 15) / 16 * 16, words = a_words + panels * KS * NR;
  JtBf16Packs p;
  p.heap = words > kBf16StackWords ? (uint32_t*)aligned_alloc(64, (size_t)words * 4) : NULL;
  p.ap = p.heap ? p.heap : stack;
  p.bp = p.ap + a_words;
  JtBf16Scan sa, sb;
  if (m.a16)
    jt_pack_a_bf16(p.ap, KP, KS, m, m.a16, sa);
  else
    jt_pack_a_bf16(p.ap, KP, KS, m, m.A, sa);
  for (int64_t w = m.M * KS; w < MS * KS; ++w) p.ap[w] = 0;
  if (m.b16)
    jt_pack_b_bf16<0>(p.bp, KP, KS, m, m.b16, sb);
  else
    jt_pack_b_bf16<0>(p.bp, KP, KS, m, m.B, sb);
  p.exact = jt_bf16_exact(sa, sb);
  return p;
}

// The pair path; 0 (nothing written) where the scan rules it out. Packs up to 48 KiB on the
// stack; not inlined, so the f32 path's frame is not added to it.
static __attribute__((noinline)) int jt_matmul_bf16_pairs(const JtMatmul& m) {
  enum { NR = 32 };
  const int64_t KP = (m.K + 1) / 2;
  alignas(64) uint32_t stack[kBf16StackWords];
  const JtBf16Packs packs = jt_pack_bf16(m, KP, m.M, stack);
  const uint32_t *const ap = packs.ap, *const bp = packs.bp;
  const int exact = packs.exact;
  for (int64_t j0 = 0; exact && j0 < m.N; j0 += NR) {
    const int64_t nj = m.N - j0 < NR ? m.N - j0 : NR;
    const JtMasks mask = jt_masks(nj);
    const uint32_t* panel = bp + (j0 / NR) * KP * NR;
    if (nj > JtVec::W)
      jt_mm_rows<kBf16Rows>(0, m.M, [&](auto rows, int64_t i0) {
        jt_mm_block_bf16<decltype(rows)::value, 2>(m, i0, j0, ap, KP, panel, mask);
      });
    else
      jt_mm_rows<kBf16Rows>(0, m.M, [&](auto rows, int64_t i0) {
        jt_mm_block_bf16<decltype(rows)::value, 1>(m, i0, j0, ap, KP, panel, mask);
      });
  }
  free(packs.heap);
  return exact;
}

#if defined(__AMX_TILE__) && defined(__AMX_BF16__)
#define JT_BF16_AMX 1
#include <sys/syscall.h>
#include <unistd.h>
// ---- bf16 operands on AMX tiles ----
// Where the CPU has AMX-BF16 (Intel Xeon from Sapphire Rapids), the same pair words go through
// tdpbf16ps, which multiplies a 16-row tile of A's pairs by a 16-pair tile of B's into a 16 x 16
// tile of sums: 16 times a vdpbf16ps's products per instruction. Its sums are not the f32
// path's bits. One pair added to c gives c + (a0 b0 + a1 b1), the pair's sum rounded once and
// then the addition, where the f32 path rounds after each product; over more pairs no
// sequential order of roundings reproduced it (measured on an Emerald Rapids Xeon). Each sum is
// within a dot product's rounding bound of the exact one instead, checked in
// tests/codegen/matmul_bf16_test.cpp; JAGTILE_CPU_ISA=avx512bf16 keeps the pairs, bit for bit the
// f32 path. Denormals are treated as on the pair path (the same scan rules them out).
//
// Linux grants a process the tiles' register state only on request (arch_prctl
// ARCH_REQ_XCOMP_PERM for XFEATURE_XTILEDATA); without it the first tile instruction faults.
// Asked once per loaded kernel; where it is refused the pairs run instead.
static int jt_amx_permitted() {
  static int state = 0;  // 0: not asked yet, 1: granted, 2: refused
  int s = __atomic_load_n(&state, __ATOMIC_RELAXED);
  if (s == 0) {
    s = syscall(SYS_arch_prctl, 0x1023, 18) == 0 ? 1 : 2;
    __atomic_store_n(&state, s, __ATOMIC_RELAXED);
  }
  return s == 1;
}

struct JtTileConfig {  // ldtilecfg's 64 bytes, palette 1
  uint8_t palette, start_row, reserved[14];
  uint16_t bytes_per_row[16];
  uint8_t rows[16];
};

// Rows [i0, i0 + rows) of C's columns [j0, j0 + 32) from `sums` (32 rows of 32 floats, the
// tiles' results), D added, the columns past N left alone.
static inline void jt_amx_finish(const JtMatmul& m, int64_t i0, int64_t rows, int64_t j0,
                                 const float* sums) {
  const int64_t nj = m.N - j0 < 32 ? m.N - j0 : 32;
  const JtVec::Mask cols[2] = {JtVec::first(nj), JtVec::first(nj - 16)};
  for (int64_t r = 0; r < rows; ++r) {
    float* c = m.C + (i0 + r) * m.c_m + j0;
    const float* d = m.D ? m.D + (i0 + r) * m.d_m + j0 * m.d_n : NULL;
    for (int h = 0; h < (nj > 16 ? 2 : 1); ++h) {
      JtVec::T v = JtVec::load_all(sums + r * 32 + 16 * h);
      if (d) v = JtVec::add(v, m.d_n ? JtVec::load(cols[h], d + 16 * h) : JtVec::splat(*d));
      JtVec::store(cols[h], c + 16 * h, v);
    }
  }
}

// The products of A's rows [i0, i0 + rows) (rows <= 32; `a`: their first tile row, pair words
// of 16 k in 64 bytes, rows `a_bytes` apart, rows past `rows` zeros or never stored) with every
// panel of B, KS pairs deep: blocks of 32 x 32 of C as four tiles (two where 16 rows or fewer),
// each taking two tiles of A and two of B per 32 k, then D added (jt_amx_finish).
static inline void jt_amx_rows(const JtMatmul& m, int64_t i0, int64_t rows, const char* a,
                               int64_t a_bytes, const uint32_t* bp, int64_t KS, float* sums) {
  enum { NR = 32 };
  const int64_t b_bytes = NR * 4;
  const char* a1 = a + 16 * a_bytes;
  // The caller's stream (JtMatmul::prefetch): 8 lines per 4 tile products, about the rate at
  // which the tiles consume the next item's bytes.
  uintptr_t pf_at = m.prefetch ? m.prefetch->at : 0;
  int64_t pf_lines = m.prefetch ? m.prefetch->lines : 0;
  for (int64_t j0 = 0; j0 < m.N; j0 += NR) {
    const uint32_t* panel = bp + (j0 / NR) * KS * NR;
    _tile_zero(0);
    _tile_zero(1);
    if (rows > 16) {
      _tile_zero(2);
      _tile_zero(3);
      // Software-pipelined: each operand tile is reloaded for the next 16 pairs as soon as the
      // last product reading it has issued, so the loads overlap the products
      // (`bench/microkernel/ab.sh --bf16`: 1.07-1.10x at 256^3, one thread).
      _tile_loadd(4, a, a_bytes);
      _tile_loadd(6, panel, b_bytes);
      _tile_loadd(7, panel + 16, b_bytes);
      _tile_loadd(5, a1, a_bytes);
      for (int64_t p = 16; p < KS; p += 16) {
        _tile_dpbf16ps(0, 4, 6);
        _tile_dpbf16ps(1, 4, 7);
        if (pf_lines > 0) jt_prefetch_lines(m.prefetch, &pf_at, &pf_lines, 8);
        _tile_loadd(4, a + 4 * p, a_bytes);
        _tile_dpbf16ps(2, 5, 6);
        _tile_loadd(6, panel + p * NR, b_bytes);
        _tile_dpbf16ps(3, 5, 7);
        _tile_loadd(7, panel + p * NR + 16, b_bytes);
        _tile_loadd(5, a1 + 4 * p, a_bytes);
      }
      _tile_dpbf16ps(0, 4, 6);
      _tile_dpbf16ps(1, 4, 7);
      _tile_dpbf16ps(2, 5, 6);
      _tile_dpbf16ps(3, 5, 7);
      _tile_stored(2, sums + 16 * 32, b_bytes);
      _tile_stored(3, sums + 16 * 32 + 16, b_bytes);
    } else {
      for (int64_t p = 0; p < KS; p += 16) {
        _tile_loadd(6, panel + p * NR, b_bytes);
        _tile_loadd(7, panel + p * NR + 16, b_bytes);
        _tile_loadd(4, a + 4 * p, a_bytes);
        _tile_dpbf16ps(0, 4, 6);
        _tile_dpbf16ps(1, 4, 7);
      }
    }
    _tile_stored(0, sums, b_bytes);
    _tile_stored(1, sums + 16, b_bytes);
    jt_amx_finish(m, i0, rows, j0, sums);
  }
  if (m.prefetch) m.prefetch->at = pf_at, m.prefetch->lines = pf_lines;
}

// Every tile register 16 rows of 64 bytes (palette 1). The intrinsics' asm tells GCC that
// ldtilecfg reads 8 bytes and tileloadd nothing: the operands and the config must be in memory
// before them.
static inline void jt_amx_configure() {
  alignas(64) JtTileConfig config = {};
  config.palette = 1;
  for (int t = 0; t < 8; ++t) {
    config.bytes_per_row[t] = 64;
    config.rows[t] = 16;
  }
  __asm__ volatile("" ::: "memory");
  _tile_loadconfig(&config);
}

// The AMX path: A and B packed as for the pairs, padded with zeros to whole tiles (16 rows of A,
// 16 pairs of k), then blocks of 32 rows, rows outside and panels inside: a block's 32 rows of A
// stay in L1 while B's panels stream past them (1.15x at 512^3, even below;
// `bench/microkernel/ab.sh --bf16`). 0 (nothing written) where the scan rules the operands out.
static __attribute__((noinline)) int jt_matmul_bf16_amx(const JtMatmul& m) {
  const int64_t KS = ((m.K + 1) / 2 + 15) / 16 * 16, MS = (m.M + 15) / 16 * 16;
  alignas(64) uint32_t stack[kBf16StackWords];
  const JtBf16Packs packs = jt_pack_bf16(m, KS, MS, stack);
  const int exact = packs.exact;
  if (exact) {
    jt_amx_configure();
    alignas(64) float sums[32 * 32];
    for (int64_t i0 = 0; i0 < m.M; i0 += 32)
      jt_amx_rows(m, i0, m.M - i0 < 32 ? m.M - i0 : 32, (const char*)(packs.ap + i0 * KS), KS * 4,
                  packs.bp, KS, sums);
    _tile_release();
  }
  free(packs.heap);
  return exact;
}

// The least biased exponent of the nonzero bf16 elements of `rows` rows of `k` (rows `stride`
// elements apart; 255 when all are zero), 32 at a time on their 16-bit lanes.
static inline int jt_bf16_least_exponent(const uint16_t* a, int64_t rows, int64_t k,
                                         int64_t stride) {
  __m512i emin = _mm512_set1_epi16(255);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k0 = 0; k0 < k; k0 += 32)
      emin =
          jt_bf16_emin16(emin, _mm512_maskz_loadu_epi16(jt_first32(k - k0), a + r * stride + k0));
  return jt_bf16_emin16_reduce(emin);
}

static void jt_matmul_f32_widened(const JtMatmul& m);

// The AMX path for an A read in place from a bf16 tensor with its rows' k contiguous and K a
// multiple of 32: the A tiles are loaded straight from the tensor's rows (tileloadd takes a row
// stride), so A is never packed, and B's pairs are packed low half first, k's order in memory
// (tdpbf16ps pairs the halves of A's and B's words alike, so either order is the same products).
// The rows of a tail under 32 are copied to whole tiles. Each block of 32 rows is scanned just
// before its products (which then find its rows in the cache); a block the scan rules out runs
// alone on the f32 path (rows are independent: the same bits as the whole matmul there). 0
// (nothing written) where B's scan rules it out. Prefetching the next block's rows under the
// products (into L1 or L2) measured the same as not (bf16 jagged_dense_bmm, AMX, two alternated
// runs: 62.2 / 64.1 / 62.8 and 51.3 / 50.7 / 52.6 ms): the hardware prefetcher follows the rows.
static __attribute__((noinline)) int jt_matmul_bf16_amx_direct(const JtMatmul& m) {
  enum { NR = 32 };
  const int64_t KS = m.K / 2, panels = (m.N + NR - 1) / NR;
  const int64_t b_words = panels * KS * NR, tail_words = 32 * KS;
  alignas(64) uint32_t stack[kBf16StackWords];
  uint32_t* const heap = b_words + tail_words > kBf16StackWords
                             ? (uint32_t*)aligned_alloc(64, (size_t)(b_words + tail_words) * 4)
                             : NULL;
  uint32_t* const bp = heap ? heap : stack;
  uint32_t* const tail = bp + b_words;
  JtBf16Scan sb;
  if (m.b16)
    jt_pack_b_bf16<1>(bp, KS, KS, m, m.b16, sb);
  else
    jt_pack_b_bf16<1>(bp, KS, KS, m, m.B, sb);
  const int eb = sb.least_exponent();
  const int exact_b = sb.bf16_values() && eb >= 1;
  if (exact_b) {
    jt_amx_configure();
    alignas(64) float sums[32 * 32];
    const int64_t a_bytes = m.a_m * 2;
    for (int64_t i0 = 0; i0 < m.M; i0 += 32) {
      const int64_t rows = m.M - i0 < 32 ? m.M - i0 : 32;
      const uint16_t* a = m.a16 + i0 * m.a_m;
      const int ea = jt_bf16_least_exponent(a, rows, m.K, m.a_m);
      if (!(ea >= 1 && ea + eb >= 142)) {
        JtMatmul part = m;
        part.M = rows;
        part.a16 = a;
        part.C = m.C + i0 * m.c_m;
        part.D = m.D ? m.D + i0 * m.d_m : NULL;
        part.band = m.band + i0;  // row i of the part is row i0 + i of C
        jt_matmul_f32_widened(part);
        continue;
      }
      if (rows < 32) {  // whole tiles: the rows copied as they are (low half first), zeros after
        for (int64_t r = 0; r < rows; ++r) memcpy(tail + r * KS, a + r * m.a_m, (size_t)KS * 4);
        memset(tail + rows * KS, 0, (size_t)((32 - rows) * KS) * 4);
        jt_amx_rows(m, i0, rows, (const char*)tail, KS * 4, bp, KS, sums);
        continue;
      }
      jt_amx_rows(m, i0, rows, (const char*)a, a_bytes, bp, KS, sums);
    }
    _tile_release();
  }
  free(heap);
  return exact_b;
}
#endif
#endif

// The f32 path for operands read in place from bf16 tensors (a16 / b16): each widened into a
// buffer of its own, A as M rows of K, B as K rows of N (the values the tile copies held, so the
// same bits).
static __attribute__((noinline)) void jt_matmul_f32_widened(const JtMatmul& m) {
  JtMatmul f = m;
  f.a16 = f.b16 = NULL;
  const int64_t a_n = m.a16 ? m.M * m.K : 0, b_n = m.b16 ? m.K * m.N : 0;
  float* const wide = (float*)malloc((size_t)(a_n + b_n + 1) * 4);
  if (m.a16) {
    for (int64_t i = 0; i < m.M; ++i)
      for (int64_t k = 0; k < m.K; ++k) wide[i * m.K + k] = jt_bf2f(m.a16[i * m.a_m + k * m.a_k]);
    f.A = wide;
    f.a_m = m.K;
    f.a_k = 1;
  }
  if (m.b16) {
    float* const b = wide + a_n;
    for (int64_t k = 0; k < m.K; ++k)
      for (int64_t j = 0; j < m.N; ++j) b[k * m.N + j] = jt_bf2f(m.b16[k * m.b_k + j * m.b_n]);
    f.B = b;
    f.b_k = m.N;
    f.b_n = 1;
  }
  jt_matmul_f32(f);
  free(wide);
}

// A matmul whose operands hold bf16 values: AMX tiles where the CPU has them and the block is
// 32 x 32 x 32 or more (returns 2; sums within rounding of the f32 path's, not its bits), else
// the pair path where the CPU has it, the block is large enough and the scan allows (returns 1),
// else the f32 path (returns 0; the pairs' bits either way). Small blocks stay on the f32
// path, which packs nothing (B's rows contiguous). Alone (one thread, hot operands) the pairs
// already won from 24 rows, 32 columns and 16 k (1.2x at 32 x 64 x 64, 1.9x at 256^3), but
// inside the bundled jagged_dense_bmm, whose 64-blocks keep the tile copies and packs in
// flight, that rule lost 9% at D = 64; from 48 x 64 x 32 it is even there and unchanged at D =
// 256 (Zen 5, 2 threads, bench/peers/bf16_matmul.py). The tiles, from 32 x 32 x 32, were 1.5x
// the f32 path at jagged_dense_bmm's default blocks (Emerald Rapids, the same script).
JT_MATMUL_ENTRY int jt_matmul_bf16(const JtMatmul& m) {
  bool scanned = false;  // the tiles' scan ruled the operands out: the pairs' would too
#if defined(JT_BF16_AMX)
  if (m.M >= 32 && m.N >= 32 && m.K >= 32 && m.band_mode != 1 && jt_amx_permitted()) {
    if (m.a16 && m.a_k == 1 && m.K % 32 == 0 ? jt_matmul_bf16_amx_direct(m)
                                              : jt_matmul_bf16_amx(m))
      return 2;
    scanned = true;
  }
#endif
#if defined(JT_BF16_PAIRS)
  // A zero_a band's skipped products are skipped on the f32 path only (the pairs take every k).
  if (!scanned && m.M >= 48 && m.N >= 64 && m.K >= 32 && m.band_mode != 1 &&
      jt_matmul_bf16_pairs(m))
    return 1;
#endif
  (void)scanned;
  if (m.a16 || m.b16)
    jt_matmul_f32_widened(m);
  else
    jt_matmul_f32(m);
  return 0;
}
#endif
)JT";
}

}  // namespace jagtile::codegen::cpu
