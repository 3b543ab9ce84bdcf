/** Row-sparse gradients (embedding tables, decoder rows): the touched rows of a [numRows, width] gradient. */

/** A gradient that is zero outside `rows` (sorted, distinct): `values` holds those rows, [rows.length, width]. */
export interface SparseRows<A extends Float32Array | Float64Array = Float32Array> {
  rows: Int32Array;
  width: number;
  values: A;
}

/**
 * Row-sparse gradient of a Gather: row v gets Σ_{j: ids_j = v} d_j (d: the gathered rows' cotangent,
 * [ids.length, width]), summed in order of j.
 */
export function scatterRows<A extends Float32Array | Float64Array>(
  ids: ArrayLike<number>,
  d: A,
  width: number,
): SparseRows<A> {
  const rows = Int32Array.from(new Set(Array.from(ids))).sort();
  const where = new Map<number, number>();
  rows.forEach((r, k) => {
    where.set(r, k);
  });
  const values = new (d.constructor as new (n: number) => A)(rows.length * width);
  for (let j = 0; j < ids.length; j++) {
    const dst = where.get(ids[j])! * width;
    const src = j * width;
    for (let h = 0; h < width; h++) values[dst + h] += d[src + h];
  }
  return { rows, width, values };
}

/** The dense [numRows, width] array of a row-sparse gradient. */
export function densifyRows<A extends Float32Array | Float64Array>(s: SparseRows<A>, numRows: number): A {
  const out = new (s.values.constructor as new (n: number) => A)(numRows * s.width);
  s.rows.forEach((r, k) => {
    out.set(s.values.subarray(k * s.width, (k + 1) * s.width), r * s.width);
  });
  return out;
}
