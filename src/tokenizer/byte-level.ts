/** Byte-level BPE (GPT-2, RoBERTa): the alphabet its tokens are written in. */

/** GPT-2's bytes_to_unicode: printable bytes map to themselves, the rest to U+0100 upwards, in byte order. */
export function bytesToUnicode(): string[] {
  const table: string[] = new Array(256);
  const direct = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  let n = 0;
  for (let b = 0; b < 256; b++) table[b] = String.fromCodePoint(direct(b) ? b : 256 + n++);
  return table;
}
