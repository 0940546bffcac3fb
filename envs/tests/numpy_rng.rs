//! `NumpyRng` against numpy 2.4.6: the streams `fixtures/gymnasium/gen_seeding.py` recorded
//! (`numpy_rng.json`), compared bit for bit.
//!
//! Per seed (0, small, a two-word one, large 64-bit ones): the `SeedSequence` pool and state
//! words, the `PCG64` state they seed, a script of mixed calls on one generator (raw outputs,
//! `random`, `uniform`, `standard_normal`, `normal`, `integers` over 32- and 64-bit ranges)
//! with the number of 64-bit outputs each consumed, and the final state. Then long runs of
//! `standard_normal` that take the ziggurat's tail and wedge branches, and the ziggurat's
//! tables as numpy's own behaviour shows them.

use std::path::PathBuf;

use graft_envs::numpy_rng::{Pcg64, Pcg64State, POOL_SIZE};
use graft_envs::{NumpyRng, SeedSequence};
use proptest::prelude::*;
use serde::Deserialize;
use serde_json::Value as Json;

#[derive(Deserialize)]
struct Fixture {
    numpy: String,
    seeds: Vec<SeedCase>,
    normal_runs: Vec<NormalRun>,
    ziggurat: Ziggurat,
}

#[derive(Deserialize)]
struct SeedCase {
    seed: u64,
    pool: Vec<u32>,
    state_u64: Vec<u64>,
    pcg64: State,
    script: Vec<Op>,
    #[serde(rename = "final")]
    end: State,
}

#[derive(Deserialize)]
struct State {
    state: String,
    inc: String,
    has_uint32: bool,
    uinteger: u32,
}

#[derive(Deserialize)]
struct Op {
    op: String,
    args: Vec<Json>,
    values: Vec<Json>,
    consumed: u64,
}

#[derive(Deserialize)]
struct NormalRun {
    seed: u64,
    n: usize,
    sum_bits: u64,
    xor_bits: u64,
    #[serde(rename = "final")]
    end: State,
    counts: std::collections::BTreeMap<String, usize>,
    slow: Vec<SlowDraw>,
}

#[derive(Deserialize)]
struct SlowDraw {
    i: usize,
    bits: u64,
    kind: String,
}

#[derive(Deserialize)]
struct Ziggurat {
    ki: Vec<u64>,
    wi_bits: Vec<u64>,
}

fn load() -> Fixture {
    let path: PathBuf =
        [env!("CARGO_MANIFEST_DIR"), "tests", "fixtures", "gymnasium", "numpy_rng.json"]
            .iter()
            .collect();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let fx: Fixture = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("cannot parse {}: {e}", path.display()));
    assert_eq!(fx.numpy, "2.4.6");
    fx
}

fn hex128(s: &str) -> u128 {
    u128::from_str_radix(s.trim_start_matches("0x"), 16).unwrap()
}

fn state_of(s: &State) -> Pcg64State {
    Pcg64State {
        state: hex128(&s.state),
        inc: hex128(&s.inc),
        has_uint32: s.has_uint32,
        uinteger: s.uinteger,
    }
}

/// The buffered half is only meaningful while `has_uint32` is set; numpy leaves a stale one.
fn same_state(got: Pcg64State, want: Pcg64State) -> bool {
    got.state == want.state
        && got.inc == want.inc
        && got.has_uint32 == want.has_uint32
        && (!got.has_uint32 || got.uinteger == want.uinteger)
}

/// 64-bit outputs between two states of one stream.
fn outputs_between(before: &Pcg64, after: &Pcg64) -> u64 {
    let mut probe = before.clone();
    let mut n = 0;
    while probe.state().state != after.state().state {
        probe.next_u64();
        n += 1;
        assert!(n < 10_000, "states are not on one stream");
    }
    n
}

fn u(v: &Json) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a u64: {v}"))
}

fn i(v: &Json) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not an i64: {v}"))
}

fn f(v: &Json) -> f64 {
    f64::from_bits(u(v))
}

/// Run one scripted call; returns its results as the fixture writes them (bits or integers).
fn run(rng: &mut NumpyRng, op: &Op) -> Vec<Json> {
    let a = &op.args;
    let bits = |x: f64| Json::from(x.to_bits());
    match op.op.as_str() {
        "raw" => (0..u(&a[0])).map(|_| Json::from(rng.bit_generator_mut().next_u64())).collect(),
        "random" => (0..u(&a[0])).map(|_| bits(rng.random())).collect(),
        "uniform" => {
            let mut out = vec![0.0; u(&a[2]) as usize];
            rng.uniform_fill(f(&a[0]), f(&a[1]), &mut out);
            out.into_iter().map(bits).collect()
        }
        "uniform_pairs" => {
            let (lows, highs) = (a[0].as_array().unwrap(), a[1].as_array().unwrap());
            lows.iter().zip(highs).map(|(lo, hi)| bits(rng.uniform(f(lo), f(hi)))).collect()
        }
        "standard_normal" => {
            let mut out = vec![0.0; u(&a[0]) as usize];
            rng.standard_normal_fill(&mut out);
            out.into_iter().map(bits).collect()
        }
        "normal" => (0..u(&a[2])).map(|_| bits(rng.normal(f(&a[0]), f(&a[1])))).collect(),
        "integers" => {
            let mut out = vec![0i64; u(&a[2]) as usize];
            rng.integers_fill(i(&a[0]), i(&a[1]), &mut out).unwrap();
            out.into_iter().map(Json::from).collect()
        }
        other => panic!("unknown op {other}"),
    }
}

#[test]
fn seed_sequence_and_pcg64_seeding_match_numpy() {
    let fx = load();
    assert!(fx.seeds.iter().any(|c| c.seed == 0) && fx.seeds.iter().any(|c| c.seed > 1 << 63));
    for case in &fx.seeds {
        let seq = SeedSequence::from_u64(case.seed);
        assert_eq!(seq.pool().to_vec(), case.pool, "seed {}", case.seed);
        assert_eq!(case.pool.len(), POOL_SIZE);
        assert_eq!(seq.generate_state_u64(4), case.state_u64, "seed {}", case.seed);
        let rng = NumpyRng::from_seed(case.seed);
        assert!(same_state(rng.bit_generator().state(), state_of(&case.pcg64)), "{}", case.seed);
    }
}

#[test]
fn scripted_draws_match_numpy_value_for_value() {
    let fx = load();
    let mut ops = 0;
    for case in &fx.seeds {
        let mut rng = NumpyRng::from_seed(case.seed);
        for (k, op) in case.script.iter().enumerate() {
            let before = rng.bit_generator().clone();
            let got = run(&mut rng, op);
            let at = format!("seed {}, call {k} ({} {:?})", case.seed, op.op, op.args);
            assert_eq!(got, op.values, "{at}");
            assert_eq!(outputs_between(&before, rng.bit_generator()), op.consumed, "{at}");
            ops += 1;
        }
        let end = rng.bit_generator().state();
        assert!(same_state(end, state_of(&case.end)), "seed {}: final state", case.seed);
    }
    assert!(ops >= 100, "{ops}");
}

#[test]
fn standard_normal_runs_match_numpy_through_tail_and_wedges() {
    let fx = load();
    let mut kinds = std::collections::BTreeMap::<String, usize>::new();
    for run in &fx.normal_runs {
        let mut rng = NumpyRng::from_seed(run.seed);
        let draws: Vec<u64> = (0..run.n).map(|_| rng.standard_normal().to_bits()).collect();
        for d in &run.slow {
            assert_eq!(draws[d.i], d.bits, "seed {}: draw {} ({})", run.seed, d.i, d.kind);
            *kinds.entry(d.kind.clone()).or_default() += 1;
        }
        let sum = draws.iter().fold(0u64, |s, &b| s.wrapping_add(b));
        let xor = draws.iter().fold(0u64, |s, &b| s ^ b);
        assert_eq!((sum, xor), (run.sum_bits, run.xor_bits), "seed {}: checksums", run.seed);
        assert!(same_state(rng.bit_generator().state(), state_of(&run.end)), "seed {}", run.seed);
        assert!(run.counts["tail"] > 0 && run.counts["wedge_rejected"] > 0);
    }
    // Every branch of the ziggurat is among the draws compared one by one.
    for kind in ["tail", "wedge", "wedge_rejected"] {
        assert!(kinds.get(kind).copied().unwrap_or(0) >= 5, "{kind}: {kinds:?}");
    }
}

/// PCG's multiplier and its inverse modulo 2^128 (Newton's iteration doubles the correct bits).
const MULTIPLIER: u128 = (2_549_297_995_355_413_924u128 << 64) | 4_865_540_595_714_422_341u128;

fn multiplier_inverse() -> u128 {
    let mut inv = MULTIPLIER; // right to 3 bits for an odd number
    for _ in 0..7 {
        inv = inv.wrapping_mul(2u128.wrapping_sub(MULTIPLIER.wrapping_mul(inv)));
    }
    assert_eq!(MULTIPLIER.wrapping_mul(inv), 1);
    inv
}

/// A `PCG64` whose next 64-bit output is `raw`: the output function (xor of the halves,
/// rotated by the top six bits) is inverted for a chosen high half, and the LCG stepped back.
fn emitting(raw: u64, inv: u128) -> Pcg64 {
    let (inc, hi) = ((0x5851_F42D_4C95_7F2Du128 << 1) | 1, 0x2545_F491_4F6C_DD1Du64);
    let lo = raw.rotate_left((hi >> 58) as u32) ^ hi;
    let next = (u128::from(hi) << 64) | u128::from(lo);
    let state = next.wrapping_sub(inc).wrapping_mul(inv);
    let rng = Pcg64::from_state(Pcg64State { state, inc, has_uint32: false, uinteger: 0 });
    assert_eq!(rng.clone().next_u64(), raw);
    rng
}

/// The ziggurat's tables, as numpy's behaviour shows them: a draw word is
/// `layer | sign << 8 | magnitude << 9`; a magnitude of 1 returns `wi[layer]` itself, and the
/// fast path ends at magnitude `ki[layer]`.
#[test]
fn ziggurat_tables_are_numpys() {
    let fx = load();
    let inv = multiplier_inverse();
    let (ki, wi) = (&fx.ziggurat.ki, &fx.ziggurat.wi_bits);
    assert_eq!((ki.len(), wi.len()), (256, 256));
    let draw = |raw: u64| {
        let mut rng = NumpyRng::from_bit_generator(emitting(raw, inv));
        let before = rng.bit_generator().clone();
        let x = rng.standard_normal();
        (x, outputs_between(&before, rng.bit_generator()))
    };
    for layer in 0..256u64 {
        let k = ki[layer as usize];
        let (x, _) = draw(layer | (1 << 9));
        assert_eq!(x.to_bits(), wi[layer as usize], "wi[{layer}]");
        assert_eq!(draw(layer | (1 << 8) | (1 << 9)).0, -x, "sign of layer {layer}");
        if k > 0 {
            assert_eq!(draw(layer | ((k - 1) << 9)).1, 1, "ki[{layer}]: below it is fast");
        }
        assert!(draw(layer | (k << 9)).1 > 1, "ki[{layer}]: from it on is not");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn uniform_stays_in_its_bounds(
        seed in any::<u64>(),
        low in -1e6..1e6f64,
        width in 0.0..1e6f64,
    ) {
        let mut rng = NumpyRng::from_seed(seed);
        let high = low + width;
        for _ in 0..64 {
            let x = rng.uniform(low, high);
            prop_assert!(low <= x && x <= high, "{x} outside [{low}, {high}]");
        }
    }

    #[test]
    fn integers_stay_in_their_range(seed in any::<u64>(), low in any::<i64>(), width in 1u64..) {
        let mut rng = NumpyRng::from_seed(seed);
        let high = low.saturating_add_unsigned(width);
        prop_assume!(high > low);
        for _ in 0..32 {
            let x = rng.integers(low, high).unwrap();
            prop_assert!(low <= x && x < high, "{x} outside [{low}, {high})");
        }
    }

    #[test]
    fn small_ranges_hit_every_value(seed in any::<u64>(), n in 1i64..8) {
        let mut rng = NumpyRng::from_seed(seed);
        let mut seen = [false; 8];
        for _ in 0..400 {
            seen[rng.integers(0, n).unwrap() as usize] = true;
        }
        prop_assert!(seen[..n as usize].iter().all(|&s| s));
    }
}
