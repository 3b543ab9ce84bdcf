/**
 * Unconstrained L-BFGS (memory 10) with a strong-Wolfe line search, stopping like scipy's L-BFGS-B as
 * scikit-learn calls it: max |gradient| ≤ gtol, or relative decrease (f_k − f_{k+1}) / max(|f_k|, |f_{k+1}|, 1)
 * ≤ factr·eps (factr = 1e7), or maxIter iterations.
 */
import { dot } from "./matrix.ts";

export interface LbfgsResult {
  x: Float64Array;
  f: number;
  iterations: number;
  converged: boolean;
}

export type Objective = (x: Float64Array, grad: Float64Array) => number;

const maxAbs = (a: Float64Array) => {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
};

export function lbfgs(
  fun: Objective,
  x0: Float64Array,
  opts: { gtol?: number; maxIter?: number; memory?: number; ftol?: number } = {},
): LbfgsResult {
  const gtol = opts.gtol ?? 1e-5;
  const maxIter = opts.maxIter ?? 15000;
  const m = opts.memory ?? 10;
  const ftol = opts.ftol ?? 1e7 * Number.EPSILON;
  const n = x0.length;
  let x: Float64Array = Float64Array.from(x0);
  let g: Float64Array = new Float64Array(n);
  let f = fun(x, g);
  const S: Float64Array[] = [];
  const Yh: Float64Array[] = [];
  const rho: number[] = [];
  let it = 0;
  if (maxAbs(g) <= gtol) return { x, f, iterations: 0, converged: true };
  while (it < maxIter) {
    // Two-loop recursion: d = −H g.
    const q = Float64Array.from(g);
    const a = new Array<number>(S.length);
    for (let k = S.length - 1; k >= 0; k--) {
      a[k] = rho[k] * dot(S[k], q);
      for (let i = 0; i < n; i++) q[i] -= a[k] * Yh[k][i];
    }
    if (S.length > 0) {
      const last = S.length - 1;
      const gamma = dot(S[last], Yh[last]) / dot(Yh[last], Yh[last]);
      for (let i = 0; i < n; i++) q[i] *= gamma;
    }
    for (let k = 0; k < S.length; k++) {
      const b = rho[k] * dot(Yh[k], q);
      for (let i = 0; i < n; i++) q[i] += S[k][i] * (a[k] - b);
    }
    const d = q.map((v) => -v);
    let dg = dot(d, g);
    if (!(dg < 0)) {
      // Not a descent direction (curvature info went bad): restart from steepest descent.
      S.length = Yh.length = rho.length = 0;
      for (let i = 0; i < n; i++) d[i] = -g[i];
      dg = -dot(g, g);
    }
    // L-BFGS-B's first trial step is 1/‖d‖ (d = −g); afterwards 1.
    const step0 = it === 0 ? 1 / Math.sqrt(dot(d, d)) : 1;
    const ls = wolfe(fun, x, f, d, dg, step0);
    it++;
    if (!ls) return { x, f, iterations: it, converged: false };
    const s = ls.x.map((v, i) => v - x[i]);
    const y = ls.g.map((v, i) => v - g[i]);
    const sy = dot(s, y);
    const fPrev = f;
    x = ls.x;
    g = ls.g;
    f = ls.f;
    // L-BFGS-B skips the update when sᵀy ≤ eps·(−gᵀs).
    if (sy > Number.EPSILON * -(dg * ls.t)) {
      S.push(s);
      Yh.push(y);
      rho.push(1 / sy);
      if (S.length > m) {
        S.shift();
        Yh.shift();
        rho.shift();
      }
    }
    if (maxAbs(g) <= gtol) return { x, f, iterations: it, converged: true };
    if ((fPrev - f) / Math.max(Math.abs(fPrev), Math.abs(f), 1) <= ftol)
      return { x, f, iterations: it, converged: true };
  }
  return { x, f, iterations: it, converged: false };
}

/** Strong-Wolfe line search (Nocedal & Wright Alg. 3.5/3.6), c1 = 1e-3 and c2 = 0.9 as in L-BFGS-B. */
function wolfe(
  fun: Objective,
  x: Float64Array,
  f0: number,
  d: Float64Array,
  dg0: number,
  step0: number,
): { t: number; x: Float64Array; f: number; g: Float64Array } | undefined {
  const c1 = 1e-3;
  const c2 = 0.9;
  const evalAt = (t: number) => {
    const xt = x.map((v, i) => v + t * d[i]);
    const gt = new Float64Array(x.length);
    const ft = fun(xt, gt);
    return { t, x: xt, f: ft, g: gt, dg: dot(gt, d) };
  };
  type Pt = ReturnType<typeof evalAt>;
  const zoom = (lo: Pt | { t: number; f: number; dg: number }, hi: { t: number; f: number; dg: number }) => {
    for (let k = 0; k < 60; k++) {
      // Cubic interpolation between lo and hi, safeguarded to the middle 80 % of the interval.
      const d1 = lo.dg + hi.dg - (3 * (lo.f - hi.f)) / (lo.t - hi.t);
      const disc = d1 * d1 - lo.dg * hi.dg;
      let t = 0.5 * (lo.t + hi.t);
      if (disc >= 0) {
        const d2 = Math.sign(hi.t - lo.t) * Math.sqrt(disc);
        const tc = hi.t - ((hi.t - lo.t) * (hi.dg + d2 - d1)) / (hi.dg - lo.dg + 2 * d2);
        const a = Math.min(lo.t, hi.t);
        const b = Math.max(lo.t, hi.t);
        if (Number.isFinite(tc) && tc > a + 0.1 * (b - a) && tc < b - 0.1 * (b - a)) t = tc;
      }
      const p = evalAt(t);
      if (p.f > f0 + c1 * t * dg0 || p.f >= lo.f) hi = p;
      else {
        if (Math.abs(p.dg) <= -c2 * dg0) return p;
        if (p.dg * (hi.t - lo.t) >= 0) hi = lo;
        lo = p;
      }
      if (Math.abs(hi.t - lo.t) < 1e-16 * Math.max(1, lo.t)) break;
    }
    return "x" in lo && lo.t > 0 ? (lo as Pt) : undefined;
  };
  let prev: { t: number; f: number; dg: number } = { t: 0, f: f0, dg: dg0 };
  let t = step0;
  for (let k = 0; k < 40; k++) {
    const p = evalAt(t);
    if (!Number.isFinite(p.f)) {
      t = 0.5 * (prev.t + t);
      continue;
    }
    if (p.f > f0 + c1 * t * dg0 || (k > 0 && p.f >= prev.f)) return zoom(prev, p);
    if (Math.abs(p.dg) <= -c2 * dg0) return p;
    if (p.dg >= 0) return zoom(p, prev);
    prev = p;
    t *= 2;
  }
  return undefined;
}
