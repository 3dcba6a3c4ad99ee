"""Independent numpy reference of the Unified Normalization spec (docs/spec.md).

Public: the spec in numpy (docs/api.md).
"""

from dataclasses import dataclass

import numpy as np

# Storage dtypes. bf16 has no numpy type: its values are carried in float32
# arrays whose low 16 bits are zero (see round_bf16). 'f64' is an extension
# (statistics in float64), used for finite-difference tests only.
DTYPES = ("f32", "f16", "bf16", "f64")


def round_bf16(a):
    """Round float32 values to bfloat16 (round to nearest, ties to even); returns float32."""
    a = np.asarray(a, dtype=np.float32)
    bits = a.view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    out = rounded.astype(np.uint32).view(np.float32)
    # NaN must stay NaN (the carry could otherwise turn it into inf or wrap it).
    return np.where(np.isnan(a), np.float32(np.nan), out).astype(np.float32)


def _resolve_dtype(x, dtype):
    if dtype is None:
        dt = np.asarray(x).dtype
        return {np.float16: "f16", np.float64: "f64"}.get(dt.type, "f32")
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {DTYPES}, got {dtype!r}")
    return dtype


def _ct(dtype):
    """Compute dtype for statistics: f32 always, except the f64 extension."""
    return np.float64 if dtype == "f64" else np.float32


def _load(a, dtype):
    """Round a tensor to its storage dtype, then upcast to the compute dtype."""
    a = np.asarray(a)
    if dtype == "f16":
        return a.astype(np.float16).astype(np.float32)
    if dtype == "bf16":
        return round_bf16(a.astype(np.float32))
    return np.array(a, dtype=_ct(dtype))  # copy


def _store(a, dtype):
    """Cast a computed tensor back to the storage dtype of x."""
    if dtype == "f16":
        return a.astype(np.float16)
    if dtype == "bf16":
        return round_bf16(a)
    return a.astype(_ct(dtype))


def _state(a, ct):
    return np.array(a, dtype=ct)  # copy: inputs are never modified


def _geomean(w):
    """Column-wise geometric mean exp(mean(log(w))); log(0) = -inf gives 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.exp(np.mean(np.log(w), axis=0))


@dataclass
class UNState:
    running_var: np.ndarray  # [C]
    ema_gz: np.ndarray  # [C]
    win_x2: np.ndarray  # [Mf, C]
    win_gz: np.ndarray  # [Mb, C]
    t: int = 0
    skips: int = 0

    @classmethod
    def fresh(cls, C, window_fwd=4, window_bwd=4):
        return cls(
            running_var=np.ones(C, np.float32),
            ema_gz=np.zeros(C, np.float32),
            win_x2=np.zeros((window_fwd, C), np.float32),
            win_gz=np.zeros((window_bwd, C), np.float32),
            t=0,
            skips=0,
        )


def train_forward(x, gamma, beta, running_var, win_x2, t, skips, mask=None, *,
                  eps=1e-5, momentum=0.9, warmup_iters=4000, outlier_filtration=False,
                  r_max=5.0, r_warmup=1000, dtype=None):
    """One training forward at step t (t already incremented, t >= 1)."""
    dtype = _resolve_dtype(x, dtype)
    ct = _ct(dtype)
    xs = _load(x, dtype)
    C = xs.shape[-1]
    x2d = xs.reshape(-1, C)  # [T, C]
    gamma, beta = _load(gamma, dtype), _load(beta, dtype)
    rv = _state(running_var, ct)
    win = _state(win_x2, ct)
    Mf = win.shape[0]
    eps, m = ct(eps), ct(momentum)
    W = warmup_iters

    if mask is None:
        keep = np.ones(x2d.shape[0], bool)
    else:
        keep = ~np.asarray(mask, bool).reshape(-1)

    # 1. Quadratic mean over unpadded tokens only.
    kept = x2d[keep]
    with np.errstate(invalid="ignore", divide="ignore"):  # T' = 0 gives NaN
        psi = np.sum(kept * kept, axis=0) / ct(kept.shape[0])

    # 2. s2: unbiased variance of sqrt(win_x2) over all Mf*C entries, BEFORE step 3.
    s = np.sqrt(win).reshape(-1)
    n = s.size
    s2 = np.sum((s - np.mean(s)) ** 2) / ct(n - 1) if n > 1 else ct(np.nan)

    # 3. Window update.
    slot = t % Mf
    win[slot] = psi

    # 4.
    skip = Mf <= 1
    skips_new = int(skips)

    # 5. Outlier filtration. A NaN s2 makes every comparison false.
    if outlier_filtration and t >= W:
        am = np.mean(win, axis=0)
        gm = _geomean(win)
        with np.errstate(invalid="ignore"):
            outlier = bool(np.any(am - gm > s2 * ct(Mf)))
        if outlier:
            win[slot] = rv
            skip = True
            skips_new += 1

    # 6. Fluctuation smoothing: geometric mean of the window after steps 3 and 5.
    if t <= Mf or t < W or skip:
        var = psi
    else:
        var = _geomean(win)

    # 7. Gradient-compensation ratio, with running_var before step 9.
    if t <= max(r_warmup, W) or skip:
        r = np.ones(C, ct)
    else:
        r = np.sqrt(var + eps) / np.sqrt(rv + eps)
        r = np.clip(r, ct(1) / ct(r_max), ct(r_max))

    # 8. Normalize all tokens, padded ones included.
    with np.errstate(invalid="ignore", divide="ignore"):
        z = xs / np.sqrt(var + eps)

    # 9. Running variance (momentum weighs the OLD value).
    rv_new = m * rv + (ct(1) - m) * var

    # 10. Affine.
    y = gamma * z + beta

    return dict(y=_store(y, dtype), z=_store(z, dtype), var=var.astype(ct), r=r.astype(ct),
                skip=bool(skip), running_var_new=rv_new.astype(ct), win_x2_new=win,
                skips_new=skips_new)


def train_backward(gy, z, var, r, skip, gamma, ema_gz, win_gz, t, *,
                   eps=1e-5, momentum=0.9, warmup_iters=4000, dtype=None):
    """Training backward at step t, from the forward's saved z, var, r, skip."""
    dtype = _resolve_dtype(gy, dtype)
    ct = _ct(dtype)
    gys, zs = _load(gy, dtype), _load(z, dtype)
    C = gys.shape[-1]
    gamma = _load(gamma, dtype)
    var, r = _state(var, ct), _state(r, ct)
    ema = _state(ema_gz, ct)
    win = _state(win_gz, ct)
    Mb = win.shape[0]
    eps, m = ct(eps), ct(momentum)
    W = warmup_iters

    # 1.
    g = gys * gamma * r
    # 2. Mean over ALL tokens, padded ones included (unlike the forward).
    g2d, z2d = g.reshape(-1, C), zs.reshape(-1, C)
    gz = np.sum(g2d * z2d, axis=0) / ct(g2d.shape[0])
    # 3.
    slot = t % Mb
    win[slot] = ema if skip else gz
    # 4.
    mu = gz if (t <= Mb or t < W or skip) else np.mean(win, axis=0)
    # 5.
    ema_new = m * ema + (ct(1) - m) * mu
    # 6. The UPDATED ema_gz, unless skip.
    h = g - (mu if skip else ema_new) * zs
    # 7.
    gx = h / np.sqrt(var + eps)
    # 8. Reductions over all leading dims.
    gy2d = gys.reshape(-1, C)
    ggamma = np.sum(gy2d * r * z2d, axis=0)
    gbeta = np.sum(gy2d, axis=0)

    return dict(gx=_store(gx, dtype), ggamma=_store(ggamma, dtype), gbeta=_store(gbeta, dtype),
                ema_gz_new=ema_new.astype(ct), win_gz_new=win)


def infer(x, gamma, beta, running_var, *, eps=1e-5, dtype=None):
    """Inference: y = gamma * x / sqrt(running_var + eps) + beta."""
    dtype = _resolve_dtype(x, dtype)
    ct = _ct(dtype)
    xs = _load(x, dtype)
    a = _load(gamma, dtype) / np.sqrt(_state(running_var, ct) + ct(eps))
    return _store(a * xs + _load(beta, dtype), dtype)


_FWD_KEYS = ("eps", "momentum", "warmup_iters", "outlier_filtration", "r_max", "r_warmup", "dtype")
_BWD_KEYS = ("eps", "momentum", "warmup_iters", "dtype")


def run_sequence(xs, gys, gamma, beta, state, masks=None, **hparams):
    """Run training steps, threading the state; `state` itself is not modified.

    Returns one dict per step: forward and backward outputs merged, plus `t`
    and `state` (a UNState after the step). gys may be None (forward only).
    """
    unknown = set(hparams) - set(_FWD_KEYS)
    if unknown:
        raise TypeError(f"unknown hyper-parameters {sorted(unknown)}")
    fwd_hp = {k: v for k, v in hparams.items() if k in _FWD_KEYS}
    bwd_hp = {k: v for k, v in hparams.items() if k in _BWD_KEYS}
    st = UNState(*(np.array(a) for a in (state.running_var, state.ema_gz, state.win_x2,
                                         state.win_gz)), state.t, state.skips)
    out = []
    for i, x in enumerate(xs):
        t = st.t + 1  # the counter is incremented first
        mask = None if masks is None else masks[i]
        f = train_forward(x, gamma, beta, st.running_var, st.win_x2, t, st.skips, mask, **fwd_hp)
        step = dict(f, t=t)
        ema, wgz = st.ema_gz, st.win_gz
        if gys is not None:
            b = train_backward(gys[i], f["z"], f["var"], f["r"], f["skip"], gamma,
                               st.ema_gz, st.win_gz, t, **bwd_hp)
            step.update(b)
            ema, wgz = b["ema_gz_new"], b["win_gz_new"]
        st = UNState(f["running_var_new"], ema, f["win_x2_new"], wgz, t, f["skips_new"])
        step["state"] = st
        out.append(step)
    return out
