use super::k_quants::{
    BlockQ2K, BlockQ3K, BlockQ4K, BlockQ4_0, BlockQ4_1, BlockQ5K, BlockQ6K, BlockQ8K, BlockQ8_0,
    BlockQ8_1, QK8_0, QK8_1, QK_K,
};
use byteorder::{ByteOrder, LittleEndian};
use half::f16;

#[cfg(target_arch = "x86")]
use core::arch::x86::*;
#[cfg(target_arch = "x86_64")]
use core::arch::x86_64::*;

#[inline(always)]
pub(crate) unsafe fn sum_i16_pairs_float(x: __m256i) -> __m256 {
    let ones = _mm256_set1_epi16(1);
    let summed_pairs = _mm256_madd_epi16(ones, x);
    _mm256_cvtepi32_ps(summed_pairs)
}

#[inline(always)]
pub(crate) unsafe fn mul_sum_us8_pairs_float(ax: __m256i, sy: __m256i) -> __m256 {
    let dot = _mm256_maddubs_epi16(ax, sy);
    sum_i16_pairs_float(dot)
}

#[inline(always)]
pub(crate) unsafe fn hsum_float_8(x: __m256) -> f32 {
    let res = _mm256_extractf128_ps(x, 1);
    let res = _mm_add_ps(res, _mm256_castps256_ps128(x));
    let res = _mm_add_ps(res, _mm_movehl_ps(res, res));
    let res = _mm_add_ss(res, _mm_movehdup_ps(res));
    _mm_cvtss_f32(res)
}

#[inline(always)]
pub(crate) unsafe fn bytes_from_nibbles_32(rsi: *const u8) -> __m256i {
    let tmp = _mm_loadu_si128(rsi as *const __m128i);
    let bytes = _mm256_insertf128_si256::<1>(_mm256_castsi128_si256(tmp), _mm_srli_epi16(tmp, 4));
    let low_mask = _mm256_set1_epi8(0xF);
    _mm256_and_si256(low_mask, bytes)
}

#[inline(always)]
pub(crate) unsafe fn mul_sum_i8_pairs_float(x: __m256i, y: __m256i) -> __m256 {
    let ax = _mm256_sign_epi8(x, x);
    let sy = _mm256_sign_epi8(y, x);
    mul_sum_us8_pairs_float(ax, sy)
}

#[inline(always)]
pub(crate) fn vec_dot_q4_0_q8_0(n: usize, xs: &[BlockQ4_0], ys: &[BlockQ8_0]) -> f32 {
    debug_assert!(
        n.is_multiple_of(QK8_0),
        "vec_dot_q4_0_q8_0: {n} is not divisible by {QK8_0}"
    );
    unsafe {
        let mut acc = _mm256_setzero_ps();
        for (x, y) in xs.iter().zip(ys.iter()) {
            let d = _mm256_set1_ps(f16::to_f32(x.d) * f16::to_f32(y.d));
            let bx = bytes_from_nibbles_32(x.qs.as_ptr());
            let off = _mm256_set1_epi8(8);
            let bx = _mm256_sub_epi8(bx, off);
            let by = _mm256_loadu_si256(y.qs.as_ptr() as *const __m256i);
            let q = mul_sum_i8_pairs_float(bx, by);
            acc = _mm256_fmadd_ps(d, q, acc);
        }
        hsum_float_8(acc)
    }
}

// TOKENWISE PATCH (this block down to `get_scale_shuffle`): the Q8_0 and Q4_1 dot products.
// Each splits a block's work into the weight side (`*_weights`: scale, values, decoded once)
// and one activation row's side (`*_row`), so the one-row kernel and the four-row kernel of
// the prompt matmul run the same operations in the same order: their results are the same
// bits by construction (and tested).
//
// Two accumulators, alternating blocks, a lone last block into the first (upstream: one
// accumulator, so each block's fused multiply-add waited for the previous block's).

// Decoding a token streams every weight of the model from memory once, one weight row after
// the next (the rows are contiguous), and the profile showed the dot product waiting on those
// loads. Each pair of blocks asks for the cache lines `PREFETCH_BYTES` ahead: past the end of
// this row they are the next row's, which the next call reads. A prefetch never faults, so
// reading ahead of the slice's end is safe. (512 B and 2 KB measured slower.)
const PREFETCH_BYTES: usize = 1024;

#[inline(always)]
unsafe fn prefetch_weights_ahead<T>(block: *const T) {
    let ahead = (block as *const i8).wrapping_add(PREFETCH_BYTES);
    _mm_prefetch::<_MM_HINT_T0>(ahead);
    _mm_prefetch::<_MM_HINT_T0>(ahead.wrapping_add(64));
}

/// A Q8_0 weight block, loaded: its scale, its values and their magnitudes.
struct Q8_0Weights {
    d: f32,
    values: __m256i,
    magnitudes: __m256i,
}

#[inline(always)]
unsafe fn q8_0_weights(x: &BlockQ8_0) -> Q8_0Weights {
    let values = _mm256_loadu_si256(x.qs.as_ptr() as *const __m256i);
    Q8_0Weights {
        d: f16::to_f32(x.d),
        values,
        magnitudes: _mm256_sign_epi8(values, values),
    }
}

/// Adds one activation block's product with the weight block into `acc`.
#[inline(always)]
unsafe fn q8_0_row(w: &Q8_0Weights, y: &BlockQ8_0, acc: __m256) -> __m256 {
    let d = _mm256_set1_ps(w.d * f16::to_f32(y.d));
    let by = _mm256_loadu_si256(y.qs.as_ptr() as *const __m256i);
    let q = mul_sum_us8_pairs_float(w.magnitudes, _mm256_sign_epi8(by, w.values));
    _mm256_fmadd_ps(d, q, acc)
}

/// A Q4_1 weight block, unpacked: scale, minimum and the 32 values as bytes.
struct Q4_1Weights {
    d: f32,
    m: f32,
    values: __m256i,
}

#[inline(always)]
unsafe fn q4_1_weights(x: &BlockQ4_1) -> Q4_1Weights {
    Q4_1Weights {
        d: f16::to_f32(x.d),
        m: f16::to_f32(x.m),
        values: bytes_from_nibbles_32(x.qs.as_ptr()),
    }
}

/// Adds d_x·d_y·Σ q_x·q_y (unsigned nibbles times signed bytes) into `acc`; returns the
/// block's offset m_x·s_y, where s_y = d_y·Σ q_y.
#[inline(always)]
unsafe fn q4_1_row(w: &Q4_1Weights, y: &BlockQ8_1, acc: &mut __m256) -> f32 {
    let d = _mm256_set1_ps(w.d * f16::to_f32(y.d));
    let by = _mm256_loadu_si256(y.qs.as_ptr() as *const __m256i);
    let q = mul_sum_us8_pairs_float(w.values, by);
    *acc = _mm256_fmadd_ps(d, q, *acc);
    w.m * f16::to_f32(y.s)
}

#[inline(always)]
pub(crate) fn vec_dot_q8_0_q8_0(n: usize, xs: &[BlockQ8_0], ys: &[BlockQ8_0]) -> f32 {
    debug_assert!(
        n.is_multiple_of(QK8_0),
        "vec_dot_q8_0_q8_0: {n} is not divisible by {QK8_0}"
    );
    unsafe {
        let mut acc0 = _mm256_setzero_ps();
        let mut acc1 = _mm256_setzero_ps();
        let mut x_pairs = xs.chunks_exact(2);
        let mut y_pairs = ys.chunks_exact(2);
        for (x, y) in (&mut x_pairs).zip(&mut y_pairs) {
            prefetch_weights_ahead(x.as_ptr());
            acc0 = q8_0_row(&q8_0_weights(&x[0]), &y[0], acc0);
            acc1 = q8_0_row(&q8_0_weights(&x[1]), &y[1], acc1);
        }
        for (x, y) in x_pairs.remainder().iter().zip(y_pairs.remainder()) {
            acc0 = q8_0_row(&q8_0_weights(x), y, acc0);
        }
        hsum_float_8(_mm256_add_ps(acc0, acc1))
    }
}

// An AVX2 dot product for Q4_1 weights: upstream has none, so Q4_1 models, among them
// Tokenwise's default SmolLM2 file, ran the scalar `vec_dot_unopt` (44 % of a prompt's time,
// perf 2026-12-04). The same sum, after llama.cpp's `ggml_vec_dot_q4_1_q8_1`.
#[inline(always)]
pub(crate) fn vec_dot_q4_1_q8_1(n: usize, xs: &[BlockQ4_1], ys: &[BlockQ8_1]) -> f32 {
    debug_assert!(
        n.is_multiple_of(QK8_1),
        "vec_dot_q4_1_q8_1: {n} is not divisible by {QK8_1}"
    );
    unsafe {
        let mut acc0 = _mm256_setzero_ps();
        let mut acc1 = _mm256_setzero_ps();
        let mut offsets = 0f32;
        let mut x_pairs = xs.chunks_exact(2);
        let mut y_pairs = ys.chunks_exact(2);
        for (x, y) in (&mut x_pairs).zip(&mut y_pairs) {
            prefetch_weights_ahead(x.as_ptr());
            let o0 = q4_1_row(&q4_1_weights(&x[0]), &y[0], &mut acc0);
            let o1 = q4_1_row(&q4_1_weights(&x[1]), &y[1], &mut acc1);
            offsets += o0 + o1;
        }
        for (x, y) in x_pairs.remainder().iter().zip(y_pairs.remainder()) {
            offsets += q4_1_row(&q4_1_weights(x), y, &mut acc0);
        }
        hsum_float_8(_mm256_add_ps(acc0, acc1)) + offsets
    }
}

// One Q8_0 weight row against four activation rows (four prompt tokens): each weight block is
// loaded once for the four. The accumulators are named variables, not an array indexed in a
// loop, so they stay in registers (an array version kept them on the stack).
#[inline(always)]
pub(crate) fn vec_dot_q8_0_q8_0_rows4(
    n: usize,
    xs: &[BlockQ8_0],
    ys: [&[BlockQ8_0]; 4],
) -> [f32; 4] {
    debug_assert!(
        n.is_multiple_of(QK8_0),
        "vec_dot_q8_0_q8_0_rows4: {n} is not divisible by {QK8_0}"
    );
    let blocks = xs.len().min(ys.iter().map(|y| y.len()).min().unwrap_or(0));
    let [y0, y1, y2, y3] = ys;
    // SAFETY: every index is below `blocks`, the length of the shortest slice.
    unsafe {
        let zero = _mm256_setzero_ps();
        let (mut a0, mut a1, mut a2, mut a3) = (zero, zero, zero, zero);
        let (mut b0, mut b1, mut b2, mut b3) = (zero, zero, zero, zero);
        let mut pair = 0;
        while pair + 1 < blocks {
            prefetch_weights_ahead(xs.as_ptr().add(pair));
            let w = q8_0_weights(xs.get_unchecked(pair));
            a0 = q8_0_row(&w, y0.get_unchecked(pair), a0);
            a1 = q8_0_row(&w, y1.get_unchecked(pair), a1);
            a2 = q8_0_row(&w, y2.get_unchecked(pair), a2);
            a3 = q8_0_row(&w, y3.get_unchecked(pair), a3);
            let w = q8_0_weights(xs.get_unchecked(pair + 1));
            b0 = q8_0_row(&w, y0.get_unchecked(pair + 1), b0);
            b1 = q8_0_row(&w, y1.get_unchecked(pair + 1), b1);
            b2 = q8_0_row(&w, y2.get_unchecked(pair + 1), b2);
            b3 = q8_0_row(&w, y3.get_unchecked(pair + 1), b3);
            pair += 2;
        }
        if pair < blocks {
            let w = q8_0_weights(xs.get_unchecked(pair));
            a0 = q8_0_row(&w, y0.get_unchecked(pair), a0);
            a1 = q8_0_row(&w, y1.get_unchecked(pair), a1);
            a2 = q8_0_row(&w, y2.get_unchecked(pair), a2);
            a3 = q8_0_row(&w, y3.get_unchecked(pair), a3);
        }
        [(a0, b0), (a1, b1), (a2, b2), (a3, b3)].map(|(a, b)| hsum_float_8(_mm256_add_ps(a, b)))
    }
}

// TOKENWISE PATCH: `vec_dot_q8_0_q8_0_rows4` with each activation block's scale given as
// `f32` (converted once per matrix by the prompt matmul). In the profile of a ~1,000-token
// prompt, loading and converting the f16 scale was four of the ten instructions per row and
// block. The product `w.d · y.d` is the same single-precision product as before (a vector
// multiply of two broadcasts rounds each lane as the scalar multiply did): the same bits.
pub(crate) fn vec_dot_q8_0_q8_0_rows4_scaled(
    n: usize,
    xs: &[BlockQ8_0],
    ys: [&[BlockQ8_0]; 4],
    y_scales: [&[f32]; 4],
) -> [f32; 4] {
    if has_avx_vnni() {
        // SAFETY: the CPU has AVX-VNNI (checked above); the build has AVX2 and FMA.
        unsafe { q8_0_rows4_scaled_vnni(n, xs, ys, y_scales) }
    } else {
        // SAFETY: the build has AVX2 and FMA (this module is compiled only then).
        unsafe { q8_0_rows4_scaled::<false>(n, xs, ys, y_scales) }
    }
}

/// Whether this CPU has AVX-VNNI (Intel Alder Lake and Sapphire Rapids on, AMD Zen 5): one
/// instruction, `vpdpbusd`, does what `vpmaddubsw` + `vpmaddwd` do for a block's byte products.
/// Asked once per process; `TOKENWISE_NO_VNNI=1` keeps the AVX2 instructions (to measure both
/// in one build).
fn has_avx_vnni() -> bool {
    static ANSWER: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ANSWER.get_or_init(|| {
        std::env::var_os("TOKENWISE_NO_VNNI").is_none() && std::is_x86_feature_detected!("avxvnni")
    })
}

#[target_feature(enable = "avx2,fma,avxvnni")]
unsafe fn q8_0_rows4_scaled_vnni(
    n: usize,
    xs: &[BlockQ8_0],
    ys: [&[BlockQ8_0]; 4],
    y_scales: [&[f32]; 4],
) -> [f32; 4] {
    q8_0_rows4_scaled::<true>(n, xs, ys, y_scales)
}

/// The body of `vec_dot_q8_0_q8_0_rows4_scaled`. With `VNNI`, a block's 32 byte products are
/// summed four to a lane by `vpdpbusd`; without, by `vpmaddubsw` then `vpmaddwd`. The lanes
/// hold the same integers either way (the pairs `vpmaddubsw` adds never saturate: the weight
/// magnitudes are at most 128, the activations at most 127), so both give the same bits.
#[inline(always)]
unsafe fn q8_0_rows4_scaled<const VNNI: bool>(
    n: usize,
    xs: &[BlockQ8_0],
    ys: [&[BlockQ8_0]; 4],
    y_scales: [&[f32]; 4],
) -> [f32; 4] {
    debug_assert!(
        n.is_multiple_of(QK8_0),
        "vec_dot_q8_0_q8_0_rows4_scaled: {n} is not divisible by {QK8_0}"
    );
    let blocks = ys
        .iter()
        .map(|y| y.len())
        .chain(y_scales.iter().map(|s| s.len()))
        .fold(xs.len(), usize::min);
    let [y0, y1, y2, y3] = ys;
    let [s0, s1, s2, s3] = y_scales;
    let row = |w: &Q8_0Weights, wd: __m256, y: &BlockQ8_0, scale: &f32, acc: __m256| {
        let d = _mm256_mul_ps(wd, _mm256_broadcast_ss(scale));
        let by = _mm256_loadu_si256(y.qs.as_ptr() as *const __m256i);
        let signed = _mm256_sign_epi8(by, w.values);
        let q = if VNNI {
            _mm256_cvtepi32_ps(_mm256_dpbusd_avx_epi32(
                _mm256_setzero_si256(),
                w.magnitudes,
                signed,
            ))
        } else {
            mul_sum_us8_pairs_float(w.magnitudes, signed)
        };
        _mm256_fmadd_ps(d, q, acc)
    };
    // Every index below is below `blocks`, the length of the shortest slice.
    let zero = _mm256_setzero_ps();
    let (mut a0, mut a1, mut a2, mut a3) = (zero, zero, zero, zero);
    let (mut b0, mut b1, mut b2, mut b3) = (zero, zero, zero, zero);
    let mut pair = 0;
    while pair + 1 < blocks {
        prefetch_weights_ahead(xs.as_ptr().add(pair));
        let w = q8_0_weights(xs.get_unchecked(pair));
        let wd = _mm256_set1_ps(w.d);
        a0 = row(&w, wd, y0.get_unchecked(pair), s0.get_unchecked(pair), a0);
        a1 = row(&w, wd, y1.get_unchecked(pair), s1.get_unchecked(pair), a1);
        a2 = row(&w, wd, y2.get_unchecked(pair), s2.get_unchecked(pair), a2);
        a3 = row(&w, wd, y3.get_unchecked(pair), s3.get_unchecked(pair), a3);
        let next = pair + 1;
        let w = q8_0_weights(xs.get_unchecked(next));
        let wd = _mm256_set1_ps(w.d);
        b0 = row(&w, wd, y0.get_unchecked(next), s0.get_unchecked(next), b0);
        b1 = row(&w, wd, y1.get_unchecked(next), s1.get_unchecked(next), b1);
        b2 = row(&w, wd, y2.get_unchecked(next), s2.get_unchecked(next), b2);
        b3 = row(&w, wd, y3.get_unchecked(next), s3.get_unchecked(next), b3);
        pair += 2;
    }
    if pair < blocks {
        let w = q8_0_weights(xs.get_unchecked(pair));
        let wd = _mm256_set1_ps(w.d);
        a0 = row(&w, wd, y0.get_unchecked(pair), s0.get_unchecked(pair), a0);
        a1 = row(&w, wd, y1.get_unchecked(pair), s1.get_unchecked(pair), a1);
        a2 = row(&w, wd, y2.get_unchecked(pair), s2.get_unchecked(pair), a2);
        a3 = row(&w, wd, y3.get_unchecked(pair), s3.get_unchecked(pair), a3);
    }
    [(a0, b0), (a1, b1), (a2, b2), (a3, b3)].map(|(a, b)| hsum_float_8(_mm256_add_ps(a, b)))
}

// TOKENWISE PATCH: one block of 32 values quantized to Q8_0 in AVX2, the same bits as
// candle's scalar loop (`BlockQ8_0::from_float`): the largest magnitude by vector maxima (exact
// in any order), the same scalar `d` and `1/d`, the same products, and rounding half away from
// zero as `f32::round` does (truncate, then step away from zero when the dropped fraction is
// at least one half; every step is exact). Returns `false`, writing nothing, when a value or
// `1/d` is not finite: the scalar loop handles those edges (NaN to 0, saturation).
#[inline]
pub(crate) fn quantize_block_q8_0(xs: &[f32], block: &mut BlockQ8_0) -> bool {
    let Some(xs) = xs.get(..QK8_0) else {
        return false;
    };
    // SAFETY: `xs` has 32 values (four unaligned loads of 8); the build has AVX2.
    unsafe {
        let v: [__m256; 4] = std::array::from_fn(|i| _mm256_loadu_ps(xs.as_ptr().add(8 * i)));
        let sign_bit = _mm256_set1_ps(-0.0);
        let magnitude = |x: __m256| _mm256_andnot_ps(sign_bit, x);
        // A NaN compares unordered with itself; an infinity has the largest magnitude.
        let mut finite = true;
        for x in v {
            finite &= _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_UNORD_Q>(x, x)) == 0;
        }
        let amax_v = _mm256_max_ps(
            _mm256_max_ps(magnitude(v[0]), magnitude(v[1])),
            _mm256_max_ps(magnitude(v[2]), magnitude(v[3])),
        );
        let mut lanes = [0f32; 8];
        _mm256_storeu_ps(lanes.as_mut_ptr(), amax_v);
        let amax = lanes.iter().copied().fold(0f32, f32::max);
        let d = amax / ((1 << 7) - 1) as f32;
        let id = if d != 0f32 { 1. / d } else { 0. };
        if !finite || !amax.is_finite() || !id.is_finite() {
            return false;
        }
        let idv = _mm256_set1_ps(id);
        let half = _mm256_set1_ps(0.5);
        let one = _mm256_set1_ps(1.0);
        let rounded = v.map(|x| {
            let scaled = _mm256_mul_ps(x, idv);
            let truncated = _mm256_round_ps::<{ _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC }>(scaled);
            let dropped = magnitude(_mm256_sub_ps(scaled, truncated));
            let step_away = _mm256_cmp_ps::<_CMP_GE_OQ>(dropped, half);
            // ±1 with the sign of the value, where the dropped part was at least a half.
            let step = _mm256_and_ps(step_away, _mm256_or_ps(one, _mm256_and_ps(scaled, sign_bit)));
            _mm256_cvttps_epi32(_mm256_add_ps(truncated, step))
        });
        // i32 -> i16 -> i8 (the values are within ±127: no saturation), then the lanes back
        // in order (the packs work within 128-bit halves).
        let words_low = _mm256_packs_epi32(rounded[0], rounded[1]);
        let words_high = _mm256_packs_epi32(rounded[2], rounded[3]);
        let bytes = _mm256_packs_epi16(words_low, words_high);
        let bytes = _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256(block.qs.as_mut_ptr() as *mut __m256i, bytes);
        block.d = f16::from_f32(d);
        true
    }
}

// One Q4_1 weight row against four activation rows: each block's nibbles are unpacked once
// for the four. Offsets are added as the one-row kernel adds them (`o0 + o1` per pair).
#[inline(always)]
pub(crate) fn vec_dot_q4_1_q8_1_rows4(
    n: usize,
    xs: &[BlockQ4_1],
    ys: [&[BlockQ8_1]; 4],
) -> [f32; 4] {
    debug_assert!(
        n.is_multiple_of(QK8_1),
        "vec_dot_q4_1_q8_1_rows4: {n} is not divisible by {QK8_1}"
    );
    let blocks = xs.len().min(ys.iter().map(|y| y.len()).min().unwrap_or(0));
    let [y0, y1, y2, y3] = ys;
    // SAFETY: every index is below `blocks`, the length of the shortest slice.
    unsafe {
        let zero = _mm256_setzero_ps();
        let (mut a0, mut a1, mut a2, mut a3) = (zero, zero, zero, zero);
        let (mut b0, mut b1, mut b2, mut b3) = (zero, zero, zero, zero);
        let mut offsets = [0f32; 4];
        let mut pair = 0;
        while pair + 1 < blocks {
            prefetch_weights_ahead(xs.as_ptr().add(pair));
            let w = q4_1_weights(xs.get_unchecked(pair));
            let o = [
                q4_1_row(&w, y0.get_unchecked(pair), &mut a0),
                q4_1_row(&w, y1.get_unchecked(pair), &mut a1),
                q4_1_row(&w, y2.get_unchecked(pair), &mut a2),
                q4_1_row(&w, y3.get_unchecked(pair), &mut a3),
            ];
            let w = q4_1_weights(xs.get_unchecked(pair + 1));
            let p = [
                q4_1_row(&w, y0.get_unchecked(pair + 1), &mut b0),
                q4_1_row(&w, y1.get_unchecked(pair + 1), &mut b1),
                q4_1_row(&w, y2.get_unchecked(pair + 1), &mut b2),
                q4_1_row(&w, y3.get_unchecked(pair + 1), &mut b3),
            ];
            for r in 0..4 {
                offsets[r] += o[r] + p[r];
            }
            pair += 2;
        }
        if pair < blocks {
            let w = q4_1_weights(xs.get_unchecked(pair));
            offsets[0] += q4_1_row(&w, y0.get_unchecked(pair), &mut a0);
            offsets[1] += q4_1_row(&w, y1.get_unchecked(pair), &mut a1);
            offsets[2] += q4_1_row(&w, y2.get_unchecked(pair), &mut a2);
            offsets[3] += q4_1_row(&w, y3.get_unchecked(pair), &mut a3);
        }
        let sums = [(a0, b0), (a1, b1), (a2, b2), (a3, b3)].map(|(a, b)| hsum_float_8(_mm256_add_ps(a, b)));
        [0, 1, 2, 3].map(|r| sums[r] + offsets[r])
    }
}

#[inline(always)]
unsafe fn get_scale_shuffle(i: usize) -> __m128i {
    const K_SHUFFLE: [u8; 128] = [
        0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3,
        3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 6, 7, 7, 7, 7,
        7, 7, 7, 7, 8, 8, 8, 8, 8, 8, 8, 8, 9, 9, 9, 9, 9, 9, 9, 9, 10, 10, 10, 10, 10, 10, 10, 10,
        11, 11, 11, 11, 11, 11, 11, 11, 12, 12, 12, 12, 12, 12, 12, 12, 13, 13, 13, 13, 13, 13, 13,
        13, 14, 14, 14, 14, 14, 14, 14, 14, 15, 15, 15, 15, 15, 15, 15, 15,
    ];
    _mm_loadu_si128((K_SHUFFLE.as_ptr() as *const __m128i).add(i))
}

#[inline(always)]
unsafe fn get_scale_shuffle_k4(i: usize) -> __m256i {
    const K_SHUFFLE: [u8; 256] = [
        0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1,
        0, 1, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3,
        2, 3, 2, 3, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5,
        4, 5, 4, 5, 4, 5, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7,
        6, 7, 6, 7, 6, 7, 6, 7, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9,
        8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10,
        11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 12, 13, 12, 13, 12, 13,
        12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12,
        13, 12, 13, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15,
        14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15,
    ];
    _mm256_loadu_si256((K_SHUFFLE.as_ptr() as *const __m256i).add(i))
}

#[inline(always)]
unsafe fn get_scale_shuffle_q3k(i: usize) -> __m256i {
    const K_SHUFFLE: [u8; 128] = [
        0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3,
        2, 3, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7,
        6, 7, 6, 7, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 10, 11, 10, 11, 10, 11, 10, 11,
        10, 11, 10, 11, 10, 11, 10, 11, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12,
        13, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15,
    ];
    _mm256_loadu_si256((K_SHUFFLE.as_ptr() as *const __m256i).add(i))
}

#[inline(always)]
pub(crate) fn vec_dot_q6k_q8k(n: usize, xs: &[BlockQ6K], ys: &[BlockQ8K]) -> f32 {
    debug_assert!(
        n.is_multiple_of(QK_K),
        "vec_dot_q6k_8k: {n} is not divisible by {QK_K}"
    );

    unsafe {
        let m4 = _mm256_set1_epi8(0xF);
        let m2 = _mm256_set1_epi8(3);
        let m32s = _mm256_set1_epi8(32);
        let mut acc = _mm256_setzero_ps();
        for (x, y) in xs.iter().zip(ys.iter()) {
            let d = y.d * x.d.to_f32();
            let mut q4 = x.ql.as_ptr();
            let mut qh = x.qh.as_ptr();
            let mut q8 = y.qs.as_ptr();

            let scales = _mm_loadu_si128(x.scales.as_ptr() as *const __m128i);
            let mut sumi = _mm256_setzero_si256();

            for j in 0..QK_K / 128 {
                let is = j * 4;
                let scale_0 = _mm_shuffle_epi8(scales, get_scale_shuffle(is));
                let scale_1 = _mm_shuffle_epi8(scales, get_scale_shuffle(is + 1));
                let scale_2 = _mm_shuffle_epi8(scales, get_scale_shuffle(is + 2));
                let scale_3 = _mm_shuffle_epi8(scales, get_scale_shuffle(is + 3));

                let q4bits1 = _mm256_loadu_si256(q4 as *const __m256i);
                q4 = q4.add(32);
                let q4bits2 = _mm256_loadu_si256(q4 as *const __m256i);
                q4 = q4.add(32);
                let q4bits_h = _mm256_loadu_si256(qh as *const __m256i);
                qh = qh.add(32);

                let q4h_0 = _mm256_slli_epi16(_mm256_and_si256(q4bits_h, m2), 4);
                let q4h_1 =
                    _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(q4bits_h, 2), m2), 4);
                let q4h_2 =
                    _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(q4bits_h, 4), m2), 4);
                let q4h_3 =
                    _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(q4bits_h, 6), m2), 4);

                let q4_0 = _mm256_or_si256(_mm256_and_si256(q4bits1, m4), q4h_0);
                let q4_1 = _mm256_or_si256(_mm256_and_si256(q4bits2, m4), q4h_1);
                let q4_2 =
                    _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q4bits1, 4), m4), q4h_2);
                let q4_3 =
                    _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q4bits2, 4), m4), q4h_3);

                let q8_0 = _mm256_loadu_si256(q8 as *const __m256i);
                q8 = q8.add(32);
                let q8_1 = _mm256_loadu_si256(q8 as *const __m256i);
                q8 = q8.add(32);
                let q8_2 = _mm256_loadu_si256(q8 as *const __m256i);
                q8 = q8.add(32);
                let q8_3 = _mm256_loadu_si256(q8 as *const __m256i);
                q8 = q8.add(32);

                let q8s_0 = _mm256_maddubs_epi16(m32s, q8_0);
                let q8s_1 = _mm256_maddubs_epi16(m32s, q8_1);
                let q8s_2 = _mm256_maddubs_epi16(m32s, q8_2);
                let q8s_3 = _mm256_maddubs_epi16(m32s, q8_3);

                let p16_0 = _mm256_maddubs_epi16(q4_0, q8_0);
                let p16_1 = _mm256_maddubs_epi16(q4_1, q8_1);
                let p16_2 = _mm256_maddubs_epi16(q4_2, q8_2);
                let p16_3 = _mm256_maddubs_epi16(q4_3, q8_3);

                let p16_0 = _mm256_sub_epi16(p16_0, q8s_0);
                let p16_1 = _mm256_sub_epi16(p16_1, q8s_1);
                let p16_2 = _mm256_sub_epi16(p16_2, q8s_2);
                let p16_3 = _mm256_sub_epi16(p16_3, q8s_3);

                let p16_0 = _mm256_madd_epi16(_mm256_cvtepi8_epi16(scale_0), p16_0);
                let p16_1 = _mm256_madd_epi16(_mm256_cvtepi8_epi16(scale_1), p16_1);
                let p16_2 = _mm256_madd_epi16(_mm256_cvtepi8_epi16(scale_2), p16_2);
                let p16_3 = _mm256_madd_epi16(_mm256_cvtepi8_epi16(scale_3), p16_3);

                sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p16_0, p16_1));
                sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p16_2, p16_3));
            }
            acc = _mm256_fmadd_ps(_mm256_broadcast_ss(&d), _mm256_cvtepi32_ps(sumi), acc);
        }
        hsum_float_8(acc)
    }
}

#[inline(always)]
unsafe fn mm256_set_m128i(a: __m128i, b: __m128i) -> __m256i {
    _mm256_insertf128_si256(_mm256_castsi128_si256(b), a, 1)
}

#[inline(always)]
pub(crate) fn vec_dot_q2k_q8k(n: usize, xs: &[BlockQ2K], ys: &[BlockQ8K]) -> f32 {
    debug_assert!(
        n.is_multiple_of(QK_K),
        "vec_dot_q2k_q8k: {n} is not divisible by {QK_K}"
    );

    unsafe {
        let m3 = _mm256_set1_epi8(3);
        let m4 = _mm_set1_epi8(0xF);

        let mut acc = _mm256_setzero_ps();

        for (x, y) in xs.iter().zip(ys.iter()) {
            let d = y.d * x.d.to_f32();
            let dmin = -y.d * x.dmin.to_f32();

            let mut q2 = x.qs.as_ptr();
            let mut q8 = y.qs.as_ptr();

            let mins_and_scales = _mm_loadu_si128(x.scales.as_ptr() as *const __m128i);
            let scales8 = _mm_and_si128(mins_and_scales, m4);
            let mins8 = _mm_and_si128(_mm_srli_epi16(mins_and_scales, 4), m4);
            let mins = _mm256_cvtepi8_epi16(mins8);
            let prod =
                _mm256_madd_epi16(mins, _mm256_loadu_si256(y.bsums.as_ptr() as *const __m256i));

            acc = _mm256_fmadd_ps(_mm256_broadcast_ss(&dmin), _mm256_cvtepi32_ps(prod), acc);

            let all_scales = _mm256_cvtepi8_epi16(scales8);
            let l_scales = _mm256_extracti128_si256(all_scales, 0);
            let h_scales = _mm256_extracti128_si256(all_scales, 1);
            let scales = [
                mm256_set_m128i(l_scales, l_scales),
                mm256_set_m128i(h_scales, h_scales),
            ];

            let mut sumi = _mm256_setzero_si256();

            for scale in scales {
                let q2bits = _mm256_loadu_si256(q2 as *const __m256i);
                q2 = q2.add(32);

                let q8_0 = _mm256_loadu_si256(q8 as *const __m256i);
                q8 = q8.add(32);
                let q8_1 = _mm256_loadu_si256(q8 as *const __m256i);
                q8 = q8.add(32);
                let q8_2 = _mm256_loadu_si256(q8 as *const __m256i);
                q8 = q8.add(32);
                let q8_3 = _mm256_loadu_si256(q8 as *const __m256i);
                q8 = q8.add(32);

                let q2_0 = _mm256_and_si256(q2bits, m3);
                let q2_1 = _mm256_and_si256(_mm256_srli_epi16(q2bits, 2), m3);
                let q2_2 = _mm256_and_si256(_mm256_srli_epi16(q2bits, 4), m3);
                let q2_3 = _mm256_and_si256(_mm256_srli_epi16(q2bits, 6), m3);

                let p0 = _mm256_maddubs_epi16(q2_0, q8_0);
                let p1 = _mm256_maddubs_epi16(q2_1, q8_1);
                let p2 = _mm256_maddubs_epi16(q2_2, q8_2);
                let p3 = _mm256_maddubs_epi16(q2_3, q8_3);

                let p0 =
                    _mm256_madd_epi16(_mm256_shuffle_epi8(scale, get_scale_shuffle_q3k(0)), p0);
                let p1 =
                    _mm256_madd_epi16(_mm256_shuffle_epi8(scale, get_scale_shuffle_q3k(1)), p1);
                let p2 =
                    _mm256_madd_epi16(_mm256_shuffle_epi8(scale, get_scale_shuffle_q3k(2)), p2);
                let p3 =
                    _mm256_madd_epi16(_mm256_shuffle_epi8(scale, get_scale_shuffle_q3k(3)), p3);

                let p0 = _mm256_add_epi32(p0, p1);
                let p2 = _mm256_add_epi32(p2, p3);

                sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p0, p2));
            }
            acc = _mm256_fmadd_ps(_mm256_broadcast_ss(&d), _mm256_cvtepi32_ps(sumi), acc);
        }

        hsum_float_8(acc)
    }
}

#[inline(always)]
pub(crate) fn vec_dot_q3k_q8k(n: usize, xs: &[BlockQ3K], ys: &[BlockQ8K]) -> f32 {
    debug_assert!(
        n.is_multiple_of(QK_K),
        "vec_dot_q3k_q8k: {n} is not divisible by {QK_K}"
    );

    const KMASK1: u32 = 0x03030303;
    const KMASK2: u32 = 0x0f0f0f0f;

    let mut aux = [0u32; 3];

    unsafe {
        let m3 = _mm256_set1_epi8(3);
        let mone = _mm256_set1_epi8(1);
        let m32 = _mm_set1_epi8(32);

        let mut acc = _mm256_setzero_ps();
        for (x, y) in xs.iter().zip(ys.iter()) {
            let d = y.d * x.d.to_f32();

            let mut q3 = x.qs.as_ptr();
            let mut q8 = y.qs.as_ptr();

            LittleEndian::read_u32_into(&x.scales, &mut aux);
            let scales128 = _mm_set_epi32(
                (((aux[1] >> 4) & KMASK2) | (((aux[2] >> 6) & KMASK1) << 4)) as i32,
                (((aux[0] >> 4) & KMASK2) | (((aux[2] >> 4) & KMASK1) << 4)) as i32,
                ((aux[1] & KMASK2) | (((aux[2] >> 2) & KMASK1) << 4)) as i32,
                ((aux[0] & KMASK2) | (((aux[2]) & KMASK1) << 4)) as i32,
            );
            let scales128 = _mm_sub_epi8(scales128, m32);
            let all_scales = _mm256_cvtepi8_epi16(scales128);
            let l_scales = _mm256_extracti128_si256(all_scales, 0);
            let h_scales = _mm256_extracti128_si256(all_scales, 1);
            let scales = [
                mm256_set_m128i(l_scales, l_scales),
                mm256_set_m128i(h_scales, h_scales),
            ];

            // high bit
            let hbits = _mm256_loadu_si256(x.hmask.as_ptr() as *const __m256i);

            let mut sumi = _mm256_setzero_si256();

            for (j, scale) in scales.iter().enumerate() {
                // load low 2 bits
                let q3bits = _mm256_loadu_si256(q3 as *const __m256i);
                q3 = q3.add(32);

                // Prepare low and high bits
                // We hardcode the shifts here to avoid loading them into a separate register
                let q3l_0 = _mm256_and_si256(q3bits, m3);
                let q3h_0 = if j == 0 {
                    _mm256_srli_epi16(_mm256_andnot_si256(hbits, _mm256_slli_epi16(mone, 0)), 0)
                } else {
                    _mm256_srli_epi16(_mm256_andnot_si256(hbits, _mm256_slli_epi16(mone, 4)), 4)
                };
                let q3h_0 = _mm256_slli_epi16(q3h_0, 2);

                let q3l_1 = _mm256_and_si256(_mm256_srli_epi16(q3bits, 2), m3);
                let q3h_1 = if j == 0 {
                    _mm256_srli_epi16(_mm256_andnot_si256(hbits, _mm256_slli_epi16(mone, 1)), 1)
                } else {
                    _mm256_srli_epi16(_mm256_andnot_si256(hbits, _mm256_slli_epi16(mone, 5)), 5)
                };
                let q3h_1 = _mm256_slli_epi16(q3h_1, 2);

                let q3l_2 = _mm256_and_si256(_mm256_srli_epi16(q3bits, 4), m3);
                let q3h_2 = if j == 0 {
                    _mm256_srli_epi16(_mm256_andnot_si256(hbits, _mm256_slli_epi16(mone, 2)), 2)
                } else {
                    _mm256_srli_epi16(_mm256_andnot_si256(hbits, _mm256_slli_epi16(mone, 6)), 6)
                };
                let q3h_2 = _mm256_slli_epi16(q3h_2, 2);

                let q3l_3 = _mm256_and_si256(_mm256_srli_epi16(q3bits, 6), m3);
                let q3h_3 = if j == 0 {
                    _mm256_srli_epi16(_mm256_andnot_si256(hbits, _mm256_slli_epi16(mone, 3)), 3)
                } else {
                    _mm256_srli_epi16(_mm256_andnot_si256(hbits, _mm256_slli_epi16(mone, 7)), 7)
                };
                let q3h_3 = _mm256_slli_epi16(q3h_3, 2);

                // load Q8 quants
                let q8_0 = _mm256_loadu_si256(q8 as *const __m256i);
                q8 = q8.add(32);
                let q8_1 = _mm256_loadu_si256(q8 as *const __m256i);
                q8 = q8.add(32);
                let q8_2 = _mm256_loadu_si256(q8 as *const __m256i);
                q8 = q8.add(32);
                let q8_3 = _mm256_loadu_si256(q8 as *const __m256i);
                q8 = q8.add(32);

                // Dot product: we multiply the 2 low bits and 1 high bit part separately, so we
                // can use _mm256_maddubs_epi16, and then subtract. The high bit part has the 2
                // already subtracted (and so, it is zero if the high bit was not set, and 2 if the
                // high bit was set)
                let q8s_0 = _mm256_maddubs_epi16(q3h_0, q8_0);
                let q8s_1 = _mm256_maddubs_epi16(q3h_1, q8_1);
                let q8s_2 = _mm256_maddubs_epi16(q3h_2, q8_2);
                let q8s_3 = _mm256_maddubs_epi16(q3h_3, q8_3);

                let p16_0 = _mm256_maddubs_epi16(q3l_0, q8_0);
                let p16_1 = _mm256_maddubs_epi16(q3l_1, q8_1);
                let p16_2 = _mm256_maddubs_epi16(q3l_2, q8_2);
                let p16_3 = _mm256_maddubs_epi16(q3l_3, q8_3);

                let p16_0 = _mm256_sub_epi16(p16_0, q8s_0);
                let p16_1 = _mm256_sub_epi16(p16_1, q8s_1);
                let p16_2 = _mm256_sub_epi16(p16_2, q8s_2);
                let p16_3 = _mm256_sub_epi16(p16_3, q8s_3);

                // multiply with scales
                let p16_0 =
                    _mm256_madd_epi16(_mm256_shuffle_epi8(*scale, get_scale_shuffle_q3k(0)), p16_0);
                let p16_1 =
                    _mm256_madd_epi16(_mm256_shuffle_epi8(*scale, get_scale_shuffle_q3k(1)), p16_1);
                let p16_2 =
                    _mm256_madd_epi16(_mm256_shuffle_epi8(*scale, get_scale_shuffle_q3k(2)), p16_2);
                let p16_3 =
                    _mm256_madd_epi16(_mm256_shuffle_epi8(*scale, get_scale_shuffle_q3k(3)), p16_3);

                // accumulate
                let p16_0 = _mm256_add_epi32(p16_0, p16_1);
                let p16_2 = _mm256_add_epi32(p16_2, p16_3);
                sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p16_0, p16_2));
            }

            // multiply with block scale and accumulate
            acc = _mm256_fmadd_ps(_mm256_broadcast_ss(&d), _mm256_cvtepi32_ps(sumi), acc);
        }
        hsum_float_8(acc)
    }
}

#[inline(always)]
pub(crate) fn vec_dot_q4k_q8k(n: usize, xs: &[BlockQ4K], ys: &[BlockQ8K]) -> f32 {
    debug_assert!(
        n.is_multiple_of(QK_K),
        "vec_dot_q4k_q8k: {n} is not divisible by {QK_K}"
    );
    let mut utmp = [0u32; 4];
    const KMASK1: u32 = 0x3f3f3f3f;
    const KMASK2: u32 = 0x0f0f0f0f;
    const KMASK3: u32 = 0x03030303;

    unsafe {
        let m4 = _mm256_set1_epi8(0xF);

        let mut acc = _mm256_setzero_ps();
        let mut acc_m = _mm_setzero_ps();

        for (x, y) in xs.iter().zip(ys.iter()) {
            let d = y.d * x.d.to_f32();
            let dmin = -y.d * x.dmin.to_f32();

            LittleEndian::read_u32_into(&x.scales, &mut utmp[0..3]);

            utmp[3] = ((utmp[2] >> 4) & KMASK2) | (((utmp[1] >> 6) & KMASK3) << 4);
            let uaux = utmp[1] & KMASK1;
            utmp[1] = (utmp[2] & KMASK2) | (((utmp[0] >> 6) & KMASK3) << 4);
            utmp[2] = uaux;
            utmp[0] &= KMASK1;

            let mut q4 = x.qs.as_ptr();
            let mut q8 = y.qs.as_ptr();

            let mins_and_scales = _mm256_cvtepu8_epi16(_mm_set_epi32(
                utmp[3] as i32,
                utmp[2] as i32,
                utmp[1] as i32,
                utmp[0] as i32,
            ));

            let q8sums = _mm256_loadu_si256(y.bsums.as_ptr() as *const __m256i);
            let q8s = _mm_hadd_epi16(
                _mm256_extracti128_si256(q8sums, 0),
                _mm256_extracti128_si256(q8sums, 1),
            );
            let prod = _mm_madd_epi16(_mm256_extracti128_si256(mins_and_scales, 1), q8s);
            acc_m = _mm_fmadd_ps(_mm_set1_ps(dmin), _mm_cvtepi32_ps(prod), acc_m);

            let sc128 = _mm256_extracti128_si256(mins_and_scales, 0);
            let scales = mm256_set_m128i(sc128, sc128);

            let mut sumi = _mm256_setzero_si256();

            for j in 0..QK_K / 64 {
                let scale_l = _mm256_shuffle_epi8(scales, get_scale_shuffle_k4(2 * j));
                let scale_h = _mm256_shuffle_epi8(scales, get_scale_shuffle_k4(2 * j + 1));

                let q4bits = _mm256_loadu_si256(q4 as *const __m256i);
                q4 = q4.add(32);
                let q4l = _mm256_and_si256(q4bits, m4);
                let q4h = _mm256_and_si256(_mm256_srli_epi16(q4bits, 4), m4);

                let q8l = _mm256_loadu_si256(q8 as *const __m256i);
                q8 = q8.add(32);
                let p16l = _mm256_maddubs_epi16(q4l, q8l);
                let p16l = _mm256_madd_epi16(scale_l, p16l);
                sumi = _mm256_add_epi32(sumi, p16l);

                let q8h = _mm256_loadu_si256(q8 as *const __m256i);
                q8 = q8.add(32);
                let p16h = _mm256_maddubs_epi16(q4h, q8h);
                let p16h = _mm256_madd_epi16(scale_h, p16h);
                sumi = _mm256_add_epi32(sumi, p16h);
            }

            let vd = _mm256_set1_ps(d);
            acc = _mm256_fmadd_ps(vd, _mm256_cvtepi32_ps(sumi), acc);
        }

        let acc_m = _mm_add_ps(acc_m, _mm_movehl_ps(acc_m, acc_m));
        let acc_m = _mm_add_ss(acc_m, _mm_movehdup_ps(acc_m));

        hsum_float_8(acc) + _mm_cvtss_f32(acc_m)
    }
}

#[inline(always)]
pub(crate) fn vec_dot_q5k_q8k(n: usize, xs: &[BlockQ5K], ys: &[BlockQ8K]) -> f32 {
    debug_assert!(
        n.is_multiple_of(QK_K),
        "vec_dot_q5k_q8k: {n} is not divisible by {QK_K}"
    );
    let mut utmp = [0u32; 4];
    const KMASK1: u32 = 0x3f3f3f3f;
    const KMASK2: u32 = 0x0f0f0f0f;
    const KMASK3: u32 = 0x03030303;

    unsafe {
        let m4 = _mm256_set1_epi8(0xF);
        let mzero = _mm_setzero_si128();
        let mone = _mm256_set1_epi8(1);

        let mut acc = _mm256_setzero_ps();
        let mut summs = 0.0;

        for (x, y) in xs.iter().zip(ys.iter()) {
            let d = y.d * x.d.to_f32();
            let dmin = -y.d * x.dmin.to_f32();

            LittleEndian::read_u32_into(&x.scales, &mut utmp[0..3]);

            utmp[3] = ((utmp[2] >> 4) & KMASK2) | (((utmp[1] >> 6) & KMASK3) << 4);
            let uaux = utmp[1] & KMASK1;
            utmp[1] = (utmp[2] & KMASK2) | (((utmp[0] >> 6) & KMASK3) << 4);
            utmp[2] = uaux;
            utmp[0] &= KMASK1;

            let mut q5 = x.qs.as_ptr();
            let mut q8 = y.qs.as_ptr();

            let mins_and_scales = _mm256_cvtepu8_epi16(_mm_set_epi32(
                utmp[3] as i32,
                utmp[2] as i32,
                utmp[1] as i32,
                utmp[0] as i32,
            ));

            let q8sums = _mm256_loadu_si256(y.bsums.as_ptr() as *const __m256i);
            let q8s = _mm_hadd_epi16(
                _mm256_extracti128_si256(q8sums, 0),
                _mm256_extracti128_si256(q8sums, 1),
            );
            let prod = _mm_madd_epi16(_mm256_extracti128_si256(mins_and_scales, 1), q8s);
            let hsum = _mm_hadd_epi32(_mm_hadd_epi32(prod, mzero), mzero);
            summs += dmin * _mm_extract_epi32(hsum, 0) as f32;

            let sc128 = _mm256_extracti128_si256(mins_and_scales, 0);
            let scales = mm256_set_m128i(sc128, sc128);

            let hbits = _mm256_loadu_si256(x.qh.as_ptr() as *const __m256i);
            let mut hmask = mone;

            let mut sumi = _mm256_setzero_si256();

            for j in 0..QK_K / 64 {
                let scale_0 = _mm256_shuffle_epi8(scales, get_scale_shuffle_k4(2 * j));
                let scale_1 = _mm256_shuffle_epi8(scales, get_scale_shuffle_k4(2 * j + 1));

                let q5bits = _mm256_loadu_si256(q5 as *const __m256i);
                q5 = q5.add(32);

                //Similar to q3k we hardcode the shifts here to avoid loading them into a separate register
                let q5l_0 = _mm256_and_si256(q5bits, m4);
                let q5l_0_shift_input = _mm256_and_si256(hbits, hmask);
                let q5l_0_right_shift = match j {
                    0 => _mm256_srli_epi16(q5l_0_shift_input, 0),
                    1 => _mm256_srli_epi16(q5l_0_shift_input, 2),
                    2 => _mm256_srli_epi16(q5l_0_shift_input, 4),
                    3 => _mm256_srli_epi16(q5l_0_shift_input, 6),
                    _ => unreachable!(),
                };
                let q5h_0 = _mm256_slli_epi16(q5l_0_right_shift, 4);
                let q5_0 = _mm256_add_epi8(q5l_0, q5h_0);
                hmask = _mm256_slli_epi16(hmask, 1);

                let q5l_1 = _mm256_and_si256(_mm256_srli_epi16(q5bits, 4), m4);
                let q5l_1_shift_input = _mm256_and_si256(hbits, hmask);
                let q5l_1_right_shift = match j {
                    0 => _mm256_srli_epi16(q5l_1_shift_input, 1),
                    1 => _mm256_srli_epi16(q5l_1_shift_input, 3),
                    2 => _mm256_srli_epi16(q5l_1_shift_input, 5),
                    3 => _mm256_srli_epi16(q5l_1_shift_input, 7),
                    _ => unreachable!(),
                };

                let q5h_1 = _mm256_slli_epi16(q5l_1_right_shift, 4);
                let q5_1 = _mm256_add_epi8(q5l_1, q5h_1);
                hmask = _mm256_slli_epi16(hmask, 1);

                let q8_0 = _mm256_loadu_si256(q8 as *const __m256i);
                q8 = q8.add(32);
                let q8_1 = _mm256_loadu_si256(q8 as *const __m256i);
                q8 = q8.add(32);

                let p16_0 = _mm256_maddubs_epi16(q5_0, q8_0);
                let p16_1 = _mm256_maddubs_epi16(q5_1, q8_1);

                let p16_0 = _mm256_madd_epi16(scale_0, p16_0);
                let p16_1 = _mm256_madd_epi16(scale_1, p16_1);

                sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p16_0, p16_1));
            }
            let vd = _mm256_set1_ps(d);
            acc = _mm256_fmadd_ps(vd, _mm256_cvtepi32_ps(sumi), acc);
        }
        hsum_float_8(acc) + summs
    }
}

#[inline(always)]
pub(crate) fn vec_dot_q8k_q8k(n: usize, xs: &[BlockQ8K], ys: &[BlockQ8K]) -> f32 {
    debug_assert!(
        n.is_multiple_of(QK_K),
        "vec_dot_q8k_8k: {n} is not divisible by {QK_K}"
    );
    unsafe {
        let mut acc = _mm256_setzero_ps();
        for (xs, ys) in xs.iter().zip(ys.iter()) {
            let mut sumi = _mm256_setzero_si256();
            let x_qs = xs.qs.as_ptr();
            let y_qs = ys.qs.as_ptr();
            for j in (0..QK_K).step_by(32) {
                let xs = _mm256_loadu_si256(x_qs.add(j) as *const __m256i);
                let ys = _mm256_loadu_si256(y_qs.add(j) as *const __m256i);

                let xs0 = _mm256_cvtepi8_epi16(_mm256_extracti128_si256(xs, 0));
                let ys0 = _mm256_cvtepi8_epi16(_mm256_extracti128_si256(ys, 0));
                sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(xs0, ys0));

                let xs1 = _mm256_cvtepi8_epi16(_mm256_extracti128_si256(xs, 1));
                let ys1 = _mm256_cvtepi8_epi16(_mm256_extracti128_si256(ys, 1));
                sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(xs1, ys1));
            }
            let d = _mm256_set1_ps(xs.d * ys.d);
            acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sumi), acc);
        }
        hsum_float_8(acc)
    }
}
