# Test kernel: per-segment column sums, 2-D subscript form, explicit tile sizes in the config.
import torch
import helion
import helion.language as hl


@helion.kernel(config=helion.Config(block_sizes=[16, 64, 32]))
def segment_sum_2d(values: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    total_rows, cols = values.shape
    (n_plus_one,) = offsets.size()
    segments = n_plus_one - 1
    result = torch.zeros([segments, cols], dtype=values.dtype, device=values.device)
    for seg in hl.tile(segments):
        first = offsets[seg]
        count = offsets[seg.index + 1] - first
        for col in hl.tile(cols):
            acc = hl.zeros([seg, col], dtype=torch.float32)
            for k in hl.jagged_tile(count):
                acc += values[first[:, None] + k.index[None, :], col].sum(dim=1)
            result[seg, col] = acc.to(values.dtype)
    return result
