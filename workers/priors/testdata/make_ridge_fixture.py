"""Reference for workers/priors/ridge.test.ts: numpy ridge regression at the real dimensions.

Data come from an integer hash that the TypeScript test computes identically, so only numpy's
answers are stored. numpy solves the *primal* problem (p×p normal equations) and takes the
leave-one-out error from the primal hat matrix, an independent route from the TypeScript dual
(N×N Cholesky) solver; a small case also checks the closed-form LOO against brute-force refits.

    python workers/priors/testdata/make_ridge_fixture.py   # writes ridge-fixture.json beside it
"""
import json
from pathlib import Path

import numpy as np

M32 = 0xFFFFFFFF


def hashed(seed: int, count: int) -> np.ndarray:
    """Uniform values in [-0.5, 0.5) from a 32-bit integer hash of seed·2^24 + index."""
    h = (np.arange(count, dtype=np.uint64) + np.uint64(seed << 24)) & M32
    h = (h * 0x9E3779B1) & M32
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & M32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & M32
    h ^= h >> 16
    return h.astype(np.float64) / 2**32 - 0.5


def data(n: int, p: int, q: int, seed: int):
    """X [n,p]; Y = X B / sqrt(p) + 0.3 · noise + offset, so the best λ is interior."""
    X = hashed(seed, n * p).reshape(n, p) + 0.2
    B = hashed(seed + 1, p * q).reshape(p, q)
    noise = hashed(seed + 2, n * q).reshape(n, q)
    Y = X @ B / np.sqrt(p) + 0.3 * noise + 0.1
    return X, Y


def lambdas(Xc: np.ndarray) -> np.ndarray:
    n = Xc.shape[0]
    return np.array([10 ** (-4 + k / 2) for k in range(13)]) * (np.sum(Xc * Xc) / n)


def primal(X, Y, lam):
    xm, ym = X.mean(0), Y.mean(0)
    Xc, Yc = X - xm, Y - ym
    p = X.shape[1]
    Wt = np.linalg.solve(Xc.T @ Xc + lam * np.eye(p), Xc.T @ Yc)  # [p, q]
    b = ym - xm @ Wt
    H = np.full((len(X), len(X)), 1 / len(X)) + Xc @ np.linalg.solve(Xc.T @ Xc + lam * np.eye(p), Xc.T)
    resid = Y - (X @ Wt + b)
    loo = resid / (1 - np.diag(H))[:, None]
    return Wt, b, float(np.mean(loo**2))


def brute_loo(X, Y, lam):
    errs = []
    for i in range(len(X)):
        keep = np.arange(len(X)) != i
        Wt, b, _ = primal(X[keep], Y[keep], lam)
        errs.append((Y[i] - (X[i] @ Wt + b)) ** 2)
    return float(np.mean(errs))


def case(n, p, q, seed):
    X, Y = data(n, p, q, seed)
    grid = lambdas(X - X.mean(0))
    fits = [primal(X, Y, lam) for lam in grid]
    errors = [f[2] for f in fits]
    k = int(np.argmin(errors))
    Wt, b, _ = fits[k]
    probes = hashed(seed + 3, p).reshape(1, p)
    baseline = float(np.mean((Y - Y.mean(0)) ** 2) * (n / (n - 1)) ** 2)
    g = lambda a: [float(f"{v:.10g}") for v in np.ravel(a)]  # noqa: E731 (10 digits: far below the test's 1e-6)
    return {"n": n, "p": p, "q": q, "seed": seed, "lambdas": g(grid), "loo_errors": g(errors), "best": k,
            "bias": g(b), "probe_times_w": g(probes @ Wt), "baseline_error": baseline}


def main():
    X, Y = data(10, 6, 5, 40)
    for lam in lambdas(X - X.mean(0))[::4]:
        closed, brute = primal(X, Y, lam)[2], brute_loo(X, Y, lam)
        assert abs(closed - brute) < 1e-12 * max(1, brute), (closed, brute)
    out = {"cases": [case(40, 1280, 1280, 1), case(24, 768, 768, 11)]}
    path = Path(__file__).with_name("ridge-fixture.json")
    path.write_text(json.dumps(out, separators=(",", ":")))
    print(f"wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
