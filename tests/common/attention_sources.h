// Shared by the band tests of the IR pass (tests/ir/band_matmuls_test.cpp) and of the backends
// (tests/codegen/masked_block_skip_test.cpp, masked_elements_test.cpp, kept_panels_test.cpp), and
// the batch loops' tests: causal attention with the
// heads in a batch dim, as Helion's jagged_hstu_attn_2 holds them ([H, tq, D] @ [H, D, tk], the
// mask broadcast over the heads as mask[None, :, :]). Parameters q, k, v [rows, H, D], offsets,
// scale.
#pragma once

#include <string>

namespace jagtile::testing {

// The imports, the decorator (blocks of 4) and the lines both kernels below open with, up to
// the item's rows [first, last).
inline std::string attention_opening(const std::string& name) {
  const std::string indent(name.size() + 5, ' ');  // under the opening parenthesis
  return R"PY(import torch
import helion
import helion.language as hl

@helion.kernel(config=helion.Config(block_sizes=[4, 4]))
def )PY" +
         name + R"PY((q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, offsets: torch.Tensor,
)PY" + indent +
         R"PY(scale: float) -> torch.Tensor:
    H = q.size(1)
    D = q.size(2)
    out = torch.zeros_like(v)
    for item in hl.grid(offsets.size(0) - 1):
        first = offsets[item]
        last = offsets[item + 1]
)PY";
}

inline std::string heads_in_batch_attention_source() {
  return attention_opening("batched") + R"PY(        for tq in hl.tile(first, last):
            qb = q[tq, :, :].transpose(0, 1)
            acc = hl.zeros([H, tq, D], dtype=torch.float32)
            for tk in hl.tile(first, last):
                s = torch.bmm(qb, k[tk, :, :].transpose(0, 1).transpose(-2, -1)) * scale
                mask = tq.index.unsqueeze(1) >= tk.index.unsqueeze(0)
                p = torch.where(mask[None, :, :], s, 0.0)
                acc = acc + torch.bmm(p, v[tk, :, :].transpose(0, 1))
            out[tq, :, :] = acc.transpose(0, 1)
    return out
)PY";
}

// The same attention written one head at a time, as the bundled HSTU example is: what the batch
// loops pass (src/ir/pass_batch_loops.h) makes of the kernel above.
inline std::string per_head_attention_source() {
  return attention_opening("per_head") + R"PY(        for head in hl.grid(H):
            for tq in hl.tile(first, last):
                qb = q[tq, head, :]
                acc = hl.zeros([tq, D], dtype=torch.float32)
                for tk in hl.tile(first, last):
                    s = torch.matmul(qb, k[tk, head, :].T) * scale
                    mask = tq.index.unsqueeze(1) >= tk.index.unsqueeze(0)
                    p = torch.where(mask, s, 0.0)
                    acc = acc + torch.matmul(p, v[tk, head, :])
                out[tq, head, :] = acc
    return out
)PY";
}

// One head, every key block of the item visited and the mask applied with torch.where, blocks of
// `block` (4 by default, so that a handful of rows spans several key blocks): MASK is the
// expression of `keep` from the query and key positions (qi, kj: absolute rows) and `first`, the
// item's first row; PROBS, the kept probabilities, an expression of the scores s.
inline std::string masked_attention_source(const std::string& mask, int block = 4,
                                           const std::string& probs = "s") {
  const std::string b = std::to_string(block);
  return R"PY(import torch
import torch.nn.functional as F
import helion
import helion.language as hl

@helion.kernel(config=helion.Config(block_sizes=[)PY" +
         b + ", " + b + R"PY(]))
def masked(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, offsets: torch.Tensor,
           scale: float) -> torch.Tensor:
    D = q.size(1)
    out = torch.zeros_like(v)
    for item in hl.grid(offsets.size(0) - 1):
        first = offsets[item]
        last = offsets[item + 1]
        for tq in hl.tile(first, last):
            acc = hl.zeros([tq, D], dtype=torch.float32)
            for tk in hl.tile(first, last):
                s = torch.matmul(q[tq, :], k[tk, :].T) * scale
                qi = tq.index.unsqueeze(1)
                kj = tk.index.unsqueeze(0)
                keep = )PY" +
         mask + R"PY(
                p = torch.where(keep, )PY" +
         probs + R"PY(, 0.0)
                acc = acc + torch.matmul(p, v[tk, :])
            out[tq, :] = acc
    return out
)PY";
}

}  // namespace jagtile::testing
