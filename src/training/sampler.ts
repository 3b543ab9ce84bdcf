import { Rng, shuffleInPlace } from "./rng.ts";

export interface SamplerState {
  epoch: number;
  /** The current epoch's order (indices into the training set). */
  order: number[];
  /** Index in `order` where the next batch starts. */
  pos: number;
  rng: number[];
}

/**
 * Shuffled mini-batches like a DataLoader with RandomSampler and drop_last = false: each epoch is a fresh
 * permutation of [0, n) cut into ⌈n / batchSize⌉ batches, the last one possibly smaller.
 */
export class EpochSampler {
  private rng: Rng;
  private state: Omit<SamplerState, "rng">;

  constructor(
    readonly n: number,
    readonly batchSize: number,
    seed: number,
  ) {
    if (n <= 0) throw new Error("sampler: the training set is empty");
    if (!Number.isInteger(batchSize) || batchSize <= 0) throw new Error(`sampler: bad batch size ${batchSize}`);
    this.rng = new Rng(seed, 1);
    this.state = { epoch: 0, order: [], pos: n };
  }

  get batchesPerEpoch(): number {
    return Math.ceil(this.n / this.batchSize);
  }

  /** The next batch's indices; `epochEnd` is true when it is the last batch of its epoch. */
  next(): { indices: number[]; epoch: number; epochEnd: boolean } {
    const st = this.state;
    if (st.pos >= this.n) {
      st.order = shuffleInPlace(
        Array.from({ length: this.n }, (_, i) => i),
        this.rng,
      );
      st.pos = 0;
      st.epoch += 1;
    }
    const indices = st.order.slice(st.pos, st.pos + this.batchSize);
    st.pos += indices.length;
    return { indices, epoch: st.epoch, epochEnd: st.pos >= this.n };
  }

  getState(): SamplerState {
    return { epoch: this.state.epoch, order: [...this.state.order], pos: this.state.pos, rng: this.rng.getState() };
  }

  setState(s: SamplerState): void {
    if (s.order.length !== (s.epoch === 0 ? 0 : this.n) || s.pos < 0 || s.pos > this.n)
      throw new Error(`sampler: snapshot state does not fit a training set of ${this.n} examples`);
    this.state = { epoch: s.epoch, order: [...s.order], pos: s.pos };
    this.rng.setState(s.rng);
  }
}
