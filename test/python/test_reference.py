"""Tests of the numpy UN reference against hand-derived values of the spec."""

import warnings

import numpy as np
import pytest

from un_mlir.reference import (
    UNState, infer, round_bf16, run_sequence, train_backward, train_forward)

f32 = np.float32


def close(a, b, rtol=1e-6, atol=0.0):
    np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64),
                               rtol=rtol, atol=atol)


def fwd(x, st, t, **kw):
    return train_forward(np.asarray(x, f32), np.ones(st.running_var.size, f32),
                         np.zeros(st.running_var.size, f32), st.running_var, st.win_x2,
                         t, st.skips, **kw)


# ---------------------------------------------------------------- worked example

def test_worked_example():
    x = np.array([[1, 2], [3, 4]], f32)
    st = UNState.fresh(2)
    f = train_forward(x, np.ones(2, f32), np.zeros(2, f32), st.running_var, st.win_x2,
                      1, 0, eps=0.0)
    close(f["var"], [5, 10])
    close(f["r"], [1, 1])
    z = [[1 / np.sqrt(5), 2 / np.sqrt(10)], [3 / np.sqrt(5), 4 / np.sqrt(10)]]
    close(f["z"], z)
    close(f["y"], z)
    close(f["running_var_new"], [1.4, 1.9])
    assert f["skip"] is False and f["skips_new"] == 0
    close(f["win_x2_new"], [[0, 0], [5, 10], [0, 0], [0, 0]])  # slot t mod Mf = 1
    assert f["z"].dtype == np.float32 and f["var"].dtype == np.float32
    # inputs not modified
    assert np.all(st.win_x2 == 0) and np.all(st.running_var == 1)


def test_infer():
    x = np.array([[1, -2], [3, 4]], f32)
    g, b, rv = np.array([2, 3], f32), np.array([0.5, -1], f32), np.array([4, 9], f32)
    close(infer(x, g, b, rv, eps=0.0), [[1.5, -3], [3.5, 3]])


# ---------------------------------------------------------------- smoothing

def test_smoothing_after_warmup():
    # Mf = 2, W = 1: t = 1, 2 use psi (t <= Mf); t = 3 uses the geometric mean
    # of the window [psi2 (slot 0), psi3 (slot 1)].
    xs = [np.array([[1, 2]], f32), np.array([[2, 1]], f32), np.array([[4, 4]], f32)]
    st = UNState.fresh(2, window_fwd=2)
    out = run_sequence(xs, None, np.ones(2, f32), np.zeros(2, f32), st,
                       eps=0.0, warmup_iters=1)
    close(out[0]["var"], [1, 4])
    close(out[1]["var"], [4, 1])
    close(out[2]["var"], [8, 4])  # sqrt([4*16, 1*16])
    close(out[2]["z"], [[4 / np.sqrt(8), 2]])
    close(out[2]["win_x2_new"], [[4, 1], [16, 16]])
    assert [o["t"] for o in out] == [1, 2, 3]
    assert all(np.all(o["r"] == 1) for o in out)  # r_warmup = 1000
    # running_var threads through the steps
    rv = np.ones(2)
    for o in out:
        rv = 0.9 * rv + 0.1 * np.asarray(o["var"], np.float64)
    close(out[2]["state"].running_var, rv)
    # the same sequence with a large W never smooths
    out = run_sequence(xs, None, np.ones(2, f32), np.zeros(2, f32), st, eps=0.0,
                       warmup_iters=4)
    close(out[2]["var"], [16, 16])


def test_smoothing_geomean_with_zero_entry():
    # A zero in the window makes the geometric mean 0 (log(0) = -inf), no crash.
    st = UNState(np.ones(1, f32), np.zeros(1, f32), np.array([[0], [0]], f32),
                 np.zeros((2, 1), f32))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f = fwd([[3]], st, 5, warmup_iters=1, eps=1e-5)
    close(f["var"], [0])
    close(f["z"], [[3 / np.sqrt(1e-5)]], rtol=1e-5)


# ---------------------------------------------------------------- outlier filtration

def _outlier_state():
    # sqrt(win) = [1, 2, 2, 1]: mean 1.5, s2 = 4 * 0.25 / 3 = 1/3, s2 * Mf = 2/3.
    return UNState(np.array([2, 3], f32), np.zeros(2, f32), np.array([[1, 4], [4, 1]], f32),
                   np.zeros((2, 2), f32), t=4, skips=3)


def test_outlier_filtered():
    st = _outlier_state()
    # psi = [16, 4] at t = 5 (slot 1): column 0 = [1, 16]: am 8.5, gm 4, 4.5 > 2/3.
    f = fwd([[4, 2]], st, 5, warmup_iters=1, outlier_filtration=True, r_warmup=0, eps=0.0)
    assert f["skip"] is True
    assert f["skips_new"] == 4
    close(f["win_x2_new"], [[1, 4], [2, 3]])  # slot reset to running_var
    close(f["var"], [16, 4])  # var = psi
    close(f["r"], [1, 1])  # pinned because skip
    close(f["running_var_new"], [0.9 * 2 + 1.6, 0.9 * 3 + 0.4])
    # same batch without filtration: not filtered, smoothed instead
    g = fwd([[4, 2]], st, 5, outlier_filtration=False, warmup_iters=1, eps=0.0)
    assert g["skip"] is False and g["skips_new"] == 3
    close(g["win_x2_new"], [[1, 4], [16, 4]])
    close(g["var"], [4, 4])
    # t < W: no filtration and no smoothing; t = W: filtered
    g = fwd([[4, 2]], st, 5, outlier_filtration=True, warmup_iters=6, eps=0.0)
    assert g["skip"] is False and g["skips_new"] == 3
    close(g["var"], [16, 4])
    assert fwd([[4, 2]], st, 6, outlier_filtration=True, warmup_iters=6)["skip"] is True


def test_outlier_not_filtered_below_threshold():
    st = _outlier_state()
    # psi = [4, 4]: column 0 = [1, 4]: am 2.5, gm 2, 0.5 < 2/3; column 1: 0.
    f = fwd([[2, 2]], st, 5, warmup_iters=1, outlier_filtration=True, r_warmup=0, eps=0.0)
    assert f["skip"] is False and f["skips_new"] == 3
    close(f["var"], [2, 4])  # geometric mean of [[1, 4], [4, 4]]
    close(f["r"], [1, np.sqrt(4 / 3)])  # sqrt(var / running_var)
    close(f["z"], [[2 / np.sqrt(2), 1]])


def test_backward_outlier_step():
    # skip: win_gz slot gets the OLD ema_gz, mu = gz, h = g - mu * z.
    gz_win = np.array([[1, 2], [3, 4]], f32)
    ema = np.array([0.5, -0.5], f32)
    z = np.array([[1, 2], [3, -1]], f32)
    gy = np.array([[0.5, 1], [2, -1]], f32)
    gamma = np.array([2, 1], f32)
    var = np.array([4, 9], f32)
    b = train_backward(gy, z, var, np.ones(2, f32), True, gamma, ema, gz_win, 5,
                       warmup_iters=1, eps=0.0)
    g = gy * gamma
    gz = (g * z).mean(0)
    close(b["win_gz_new"], [[1, 2], ema])
    close(b["ema_gz_new"], 0.9 * ema + 0.1 * gz)
    close(b["gx"], (g - gz * z) / np.sqrt(var))


# ---------------------------------------------------------------- backward smoothing

def test_backward_smoothing_uses_updated_ema():
    gz_win = np.array([[1, 2], [3, 4]], f32)
    ema = np.array([0.5, -0.5], f32)
    z = np.array([[1, 2], [3, -1]], np.float64)
    gy = np.array([[0.5, 1], [2, -1]], np.float64)
    gamma = np.array([2, 1], np.float64)
    r = np.array([1.5, 0.5], np.float64)
    var = np.array([4, 9], np.float64)
    g = gy * gamma * r
    gz = (g * z).mean(0)
    # t = 5 > Mb, t >= W: mu = mean of window with slot 1 replaced by gz
    b = train_backward(gy.astype(f32), z.astype(f32), var.astype(f32), r.astype(f32), False,
                       gamma.astype(f32), ema, gz_win, 5, warmup_iters=1, eps=0.0)
    mu = (np.array([1, 2]) + gz) / 2
    e = 0.9 * ema + 0.1 * mu
    close(b["win_gz_new"], [[1, 2], gz])
    close(b["ema_gz_new"], e)
    close(b["gx"], (g - e * z) / np.sqrt(var), atol=1e-6)
    close(b["ggamma"], (gy * r * z).sum(0))
    close(b["gbeta"], gy.sum(0))
    # t <= Mb (or t < W): mu = gz, but h still uses the updated ema
    for t, W in ((2, 1), (5, 6)):
        b = train_backward(gy.astype(f32), z.astype(f32), var.astype(f32), r.astype(f32),
                           False, gamma.astype(f32), ema, gz_win, t, warmup_iters=W, eps=0.0)
        e = 0.9 * ema + 0.1 * gz
        close(b["ema_gz_new"], e)
        close(b["gx"], (g - e * z) / np.sqrt(var), atol=1e-6)


# ---------------------------------------------------------------- window 1

def test_window_one():
    st = UNState(np.array([2], f32), np.zeros(1, f32), np.array([[7]], f32),
                 np.zeros((1, 1), f32), t=9, skips=2)
    # Mf * C = 1: s2 is NaN, nothing is filtered, but skip is always true.
    f = fwd([[1], [3]], st, 10, warmup_iters=0, outlier_filtration=True, r_warmup=0, eps=0.0)
    assert f["skip"] is True and f["skips_new"] == 2
    close(f["win_x2_new"], [[5]])
    close(f["var"], [5])
    close(f["r"], [1])
    # Over a sequence, C = 3: skip every step, var = psi, r = 1.
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal((4, 3)).astype(f32) for _ in range(6)]
    gys = [rng.standard_normal((4, 3)).astype(f32) for _ in range(6)]
    out = run_sequence(xs, gys, np.ones(3, f32), np.zeros(3, f32),
                       UNState.fresh(3, window_fwd=1, window_bwd=1), warmup_iters=2,
                       r_warmup=1)
    for x, o in zip(xs, out):
        assert o["skip"] is True
        close(o["var"], (x.astype(np.float64) ** 2).mean(0), rtol=1e-5)
        assert np.all(o["r"] == 1)


# ---------------------------------------------------------------- r clamp

def test_r_clamp_after_r_warmup():
    st = UNState(np.array([1, 1, 100], f32), np.zeros(3, f32), np.zeros((2, 3), f32),
                 np.zeros((2, 3), f32))
    kw = dict(eps=0.0, warmup_iters=1, r_max=1.5)
    x = [[np.sqrt(2), 10, 1]]  # psi = [2, 100, 1]; t <= Mf so var = psi
    # r pinned while t <= max(r_warmup, W)
    close(fwd(x, st, 2, r_warmup=2, **kw)["r"], [1, 1, 1])
    f = fwd(x, st, 2, r_warmup=1, **kw)
    close(f["r"], [np.sqrt(2), 1.5, 1 / 1.5], rtol=2e-6)
    # the W term of max(r_warmup, W)
    close(fwd(x, st, 2, r_warmup=0, eps=0.0, warmup_iters=2, r_max=1.5)["r"], [1, 1, 1])


# ---------------------------------------------------------------- padding mask

def test_padding_mask():
    x = np.array([[[1, 2], [2, 2], [100, -50]], [[0, 1], [5, 5], [7, 7]]], f32)  # [B, N, C]
    mask = np.array([[False, False, True], [False, True, True]])
    gy = np.arange(12, dtype=f32).reshape(2, 3, 2) / 10 - 0.3
    gamma, beta = np.array([1.5, -1], f32), np.array([0.1, 0.2], f32)
    st = UNState.fresh(2)
    f = train_forward(x, gamma, beta, st.running_var, st.win_x2, 1, 0, mask, eps=0.0)
    psi = np.array([(1 + 4 + 0) / 3, (4 + 4 + 1) / 3])  # unpadded tokens only
    close(f["var"], psi)
    x64 = x.astype(np.float64)
    z = x64 / np.sqrt(psi)  # all tokens normalized, padded included
    close(f["z"], z)
    close(f["y"], gamma * z + beta)
    b = train_backward(gy, f["z"], f["var"], f["r"], f["skip"], gamma, st.ema_gz, st.win_gz,
                       1, eps=0.0)
    g = gy * gamma
    gz = (g * z).reshape(-1, 2).sum(0) / 6  # ALL 6 tokens, padded included
    close(b["win_gz_new"][1], gz, rtol=1e-5)
    e = 0.1 * gz
    close(b["gx"], (g - e * z) / np.sqrt(psi), rtol=1e-5, atol=1e-6)
    close(b["ggamma"], (gy * z).reshape(-1, 2).sum(0), rtol=1e-5)
    close(b["gbeta"], gy.reshape(-1, 2).sum(0), rtol=1e-5)
    # run_sequence threads masks the same way
    out = run_sequence([x], [gy], gamma, beta, st, masks=[mask], eps=0.0)
    close(out[0]["gx"], b["gx"])


# ---------------------------------------------------------------- all-zero input

def test_all_zero_input():
    xs = [np.zeros((3, 2), f32)] * 5
    gys = [np.ones((3, 2), f32)] * 5
    st = UNState.fresh(2, window_fwd=2, window_bwd=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = run_sequence(xs, gys, np.ones(2, f32), np.full(2, 0.25, f32), st,
                           warmup_iters=1, outlier_filtration=True, r_warmup=0)
    for o in out:
        for k in ("y", "z", "var", "r", "gx", "ggamma", "gbeta", "ema_gz_new"):
            assert np.all(np.isfinite(o[k])), k
        assert np.all(o["z"] == 0) and np.all(o["y"] == 0.25) and np.all(o["var"] == 0)
        assert o["skip"] is False
    close(out[-1]["r"], [0.2, 0.2])  # sqrt(eps / (rv + eps)) clamped to 1/r_max
    close(out[-1]["gx"], np.full((3, 2), 0.2 / np.sqrt(1e-5)), rtol=1e-5)


# ---------------------------------------------------------------- dtypes

def test_round_bf16():
    one = 1.0
    a = np.array([one, one + 2**-8, one + 3 * 2**-8, one + 2**-7, one + 2**-8 + 2**-20,
                  -3.0, np.inf, -np.inf, 0.0], f32)
    expect = [1, 1, one + 2**-6, one + 2**-7, one + 2**-7, -3, np.inf, -np.inf, 0]
    assert np.array_equal(round_bf16(a), np.array(expect, f32))
    assert np.isnan(round_bf16(np.array([np.nan], f32)))[0]
    assert round_bf16(np.array([3.4e38], f32))[0] == np.inf  # rounds past the max
    assert round_bf16(a).dtype == np.float32


def _bkw(kw):
    return {k: v for k, v in kw.items() if k in ("eps", "momentum", "warmup_iters")}


def _seq(dtype):
    rng = np.random.default_rng(1)
    xs = [(300 + 50 * rng.standard_normal((5, 4))).astype(f32) for _ in range(4)]
    gys = [rng.standard_normal((5, 4)).astype(f32) for _ in range(4)]
    gamma = (1 + 0.1 * rng.standard_normal(4)).astype(f32)
    beta = (0.1 * rng.standard_normal(4)).astype(f32)
    return xs, gys, gamma, beta


def test_f16_statistics_in_f32():
    # |x| ~ 300: x^2 overflows f16 (max 65504); statistics must be f32.
    xs, gys, gamma, beta = _seq("f16")
    h = lambda a: a.astype(np.float16)  # noqa: E731
    kw = dict(warmup_iters=2, r_warmup=2, outlier_filtration=True)
    st = UNState.fresh(4, window_fwd=2, window_bwd=2)
    o16 = run_sequence([h(x) for x in xs], [h(g) for g in gys], h(gamma), h(beta), st, **kw)
    # the f32 path on the same (f16-representable) values
    up = lambda a: h(a).astype(f32)  # noqa: E731
    o32 = run_sequence([up(x) for x in xs], [up(g) for g in gys], up(gamma), up(beta), st, **kw)
    for a, b in zip(o16, o32):
        for k in ("y", "z", "gx", "ggamma", "gbeta"):  # the activation type
            assert a[k].dtype == np.float16
            assert np.all(np.isfinite(a[k]))
        for k in ("y", "z"):
            assert np.array_equal(a[k], h(b[k])), k  # cast back only at the end
        # the backward reads the saved f16 z, so gx only agrees to f16 precision
        close(a["gx"], b["gx"], rtol=5e-3, atol=1e-5)
        for k in ("var", "r", "running_var_new", "ema_gz_new"):  # statistics: f32
            assert a[k].dtype == np.float32
        assert np.all(np.isfinite(a["var"])) and np.all(a["var"] > 65504)
    # step 1 (same state on both paths): gx is the f32 backward of the saved z, cast
    b1 = train_backward(up(gys[0]), o16[0]["z"].astype(f32), o16[0]["var"], o16[0]["r"],
                        o16[0]["skip"], up(gamma), st.ema_gz, st.win_gz, 1, **_bkw(kw))
    assert np.array_equal(o16[0]["gx"], h(b1["gx"]))


def test_bf16():
    xs, gys, gamma, beta = _seq("bf16")
    kw = dict(warmup_iters=2, r_warmup=2, outlier_filtration=True)
    st = UNState.fresh(4, window_fwd=2, window_bwd=2)
    ob = run_sequence(xs, gys, gamma, beta, st, dtype="bf16", **kw)
    rb = round_bf16
    o32 = run_sequence([rb(x) for x in xs], [rb(g) for g in gys], rb(gamma), rb(beta), st, **kw)
    for a, b in zip(ob, o32):
        for k in ("y", "z", "gx"):
            assert a[k].dtype == np.float32
            assert np.array_equal(a[k], rb(a[k]))  # bf16-representable
        for k in ("y", "z"):
            assert np.array_equal(a[k], rb(b[k])), k
        close(a["gx"], b["gx"], rtol=3e-2, atol=1e-4)  # backward reads the bf16 z
        close(a["var"], b["var"], rtol=0)  # statistics from the rounded x, in f32
    assert not np.array_equal(ob[0]["z"], o32[0]["z"])  # rounding did happen
    b1 = train_backward(gys[0], ob[0]["z"], ob[0]["var"], ob[0]["r"], ob[0]["skip"], gamma,
                        st.ema_gz, st.win_gz, 1, dtype="bf16", **_bkw(kw))
    assert np.array_equal(ob[0]["gx"], b1["gx"])
    b1 = train_backward(rb(gys[0]), ob[0]["z"], ob[0]["var"], ob[0]["r"], ob[0]["skip"],
                        rb(gamma), st.ema_gz, st.win_gz, 1, **_bkw(kw))
    assert np.array_equal(ob[0]["gx"], rb(b1["gx"]))


# ---------------------------------------------------------------- exact gradient

def test_gradient_finite_differences():
    # Mf = 1 and no mask: skip is always true, so r = 1, mu = gz, and the spec's
    # backward is the exact gradient of sum(gy * y). float64 extension path.
    rng = np.random.default_rng(2)
    T, C = 6, 3
    x = rng.standard_normal((2, T // 2, C))
    gy = rng.standard_normal(x.shape)
    gamma, beta = 1 + 0.2 * rng.standard_normal(C), 0.1 * rng.standard_normal(C)
    st = UNState.fresh(C, window_fwd=1, window_bwd=1)
    ema = np.array([0.3, -0.2, 0.1])  # must not matter when skip
    kw = dict(eps=1e-3, warmup_iters=0, r_warmup=0)

    def loss(x, gamma, beta):
        f = train_forward(x, gamma, beta, st.running_var, st.win_x2, 7, 0, **kw)
        return float(np.sum(gy * f["y"]))

    f = train_forward(x, gamma, beta, st.running_var, st.win_x2, 7, 0, **kw)
    assert f["skip"] is True and f["y"].dtype == np.float64
    b = train_backward(gy, f["z"], f["var"], f["r"], f["skip"], gamma, ema, st.win_gz, 7,
                       eps=1e-3, warmup_iters=0)
    assert b["gx"].dtype == np.float64

    def num_grad(fn, a):
        g = np.zeros_like(a)
        for i in np.ndindex(a.shape):
            d = np.zeros_like(a)
            d[i] = 1e-6
            g[i] = (fn(a + d) - fn(a - d)) / 2e-6
        return g

    close(b["gx"], num_grad(lambda v: loss(v, gamma, beta), x), rtol=1e-6, atol=1e-8)
    close(b["ggamma"], num_grad(lambda v: loss(x, v, beta), gamma), rtol=1e-6, atol=1e-8)
    close(b["gbeta"], num_grad(lambda v: loss(x, gamma, v), beta), rtol=1e-6, atol=1e-8)


# ---------------------------------------------------------------- run_sequence

def test_run_sequence_matches_manual_steps():
    rng = np.random.default_rng(3)
    xs = [rng.standard_normal((4, 2)).astype(f32) * (1 + 5 * (i == 3)) for i in range(7)]
    gys = [rng.standard_normal((4, 2)).astype(f32) for _ in range(7)]
    gamma, beta = np.array([1.2, 0.8], f32), np.array([0.0, 0.1], f32)
    hp = dict(warmup_iters=3, r_warmup=4, outlier_filtration=True)
    st0 = UNState.fresh(2, window_fwd=3, window_bwd=2)
    out = run_sequence(xs, gys, gamma, beta, st0, **hp)
    st = st0
    for i, (x, gy) in enumerate(zip(xs, gys)):
        t = st.t + 1
        f = train_forward(x, gamma, beta, st.running_var, st.win_x2, t, st.skips, **hp)
        b = train_backward(gy, f["z"], f["var"], f["r"], f["skip"], gamma, st.ema_gz,
                           st.win_gz, t, warmup_iters=3)
        st = UNState(f["running_var_new"], b["ema_gz_new"], f["win_x2_new"], b["win_gz_new"],
                     t, f["skips_new"])
        o = out[i]
        assert o["t"] == t == o["state"].t and o["state"].skips == st.skips
        for k in ("y", "gx", "ggamma"):
            assert np.array_equal(o[k], {**f, **b}[k])
        for k in ("running_var", "ema_gz", "win_x2", "win_gz"):
            assert np.array_equal(getattr(o["state"], k), getattr(st, k))
    assert st0.t == 0 and np.all(st0.win_x2 == 0)  # input state untouched
    with pytest.raises(TypeError):
        run_sequence(xs, gys, gamma, beta, st0, window_fwd=2)
