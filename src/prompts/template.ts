import type { EntkTokenizer } from "../tokenizer/types.ts";
import { OptionError } from "../util/errors.ts";

/** One encoded example; compatible with `PromptInput` (src/model/types.ts) plus the class index. */
export interface EncodedExample {
  inputIds: number[];
  maskPos: number;
  label: number;
}

/** A parsed template piece (docs/protocol.md §2). */
export type Piece =
  | { kind: "cls" | "mask" | "sep" | "sep+"; raw: string }
  | { kind: "label"; raw: string; index: number }
  | { kind: "sent"; raw: string; sent: number; space: boolean; case: "keep" | "lower" | "upper"; dropLast: boolean }
  | { kind: "literal"; raw: string; text: string };

const SPECIAL = new Set(["cls", "mask", "sep", "sep+"]);

/** Sentence pieces in LM-BFF's if/elif order: prefix → (leading space, first-character case, drop last char). */
const SENT_PREFIXES: [string, boolean, "keep" | "lower" | "upper", boolean][] = [
  ["sent_", false, "keep", false],
  ["+sent_", true, "keep", false],
  ["sent-_", false, "keep", true],
  ["sentl_", false, "lower", false],
  ["+sentl_", true, "lower", false],
  ["sentl-_", false, "lower", true],
  ["sentu_", false, "upper", false],
  ["+sentu_", true, "upper", false],
];

function indexAfterUnderscore(template: string, piece: string): number {
  const s = piece.split("_")[1];
  if (s === undefined || !/^\d+$/.test(s))
    throw new Error(`template ${template}: piece *${piece}* needs a sentence/label index after "_" (e.g. sent_0)`);
  return Number(s);
}

/** Split a template on `*` and classify each non-empty piece by the first matching rule. */
export function parseTemplate(template: string): Piece[] {
  const pieces: Piece[] = [];
  for (const raw of template.split("*")) {
    if (raw === "") continue;
    if (SPECIAL.has(raw)) {
      pieces.push({ kind: raw as "cls" | "mask" | "sep" | "sep+", raw });
      continue;
    }
    if (raw.startsWith("labelx_"))
      throw new Error(`template ${template}: *${raw}* (in-context demonstrations) is not supported`);
    if (raw.startsWith("label_")) {
      pieces.push({ kind: "label", raw, index: indexAfterUnderscore(template, raw) });
      continue;
    }
    const sent = SENT_PREFIXES.find(([p]) => raw.startsWith(p));
    if (sent) {
      const [, space, kase, dropLast] = sent;
      pieces.push({ kind: "sent", raw, sent: indexAfterUnderscore(template, raw), space, case: kase, dropLast });
      continue;
    }
    const text = raw.replaceAll("_", " ");
    // LM-BFF applies the sentence limit to any piece whose text starts with "sent" (or has "sent" at 1..4) and
    // then crashes on a literal such as "+sent-_0"; refuse it up front.
    if (text.startsWith("sent") || text.slice(1, 5) === "sent")
      throw new Error(
        `template ${template}: *${raw}* is not a valid piece (valid: sent_i, +sent_i, sent-_i, sentl_i, +sentl_i, sentl-_i, sentu_i, +sentu_i)`,
      );
    pieces.push({ kind: "literal", raw, text });
  }
  return pieces;
}

/** Check that a template uses a mask and only sentences `0..numSentences-1` and labels `0..numLabels-1`. */
export function validateTemplate(
  template: string,
  numSentences: number,
  numLabels: number,
  taskName = "task",
): Piece[] {
  const pieces = parseTemplate(template);
  const masks = pieces.filter((p) => p.kind === "mask").length;
  if (masks === 0) throw new Error(`template ${template}: has no *mask* piece`);
  if (masks > 1)
    throw new Error(`template ${template}: has ${masks} *mask* pieces; the prompt reads exactly one mask position`);
  if (numSentences > 0 && !pieces.some((p) => p.kind === "sent"))
    throw new Error(`template ${template}: uses no sentence (expected *sent_0* or another sentence piece)`);
  for (const p of pieces) {
    if (p.kind === "sent" && p.sent >= numSentences)
      throw new Error(
        `template ${template}: *${p.raw}* names sentence ${p.sent}, but ${taskName} has ${numSentences} sentence${numSentences === 1 ? "" : "s"} (sent_0${numSentences > 1 ? `..sent_${numSentences - 1}` : ""})`,
      );
    if (p.kind === "label" && p.index >= numLabels)
      throw new Error(
        `template ${template}: *${p.raw}* names label ${p.index}, but ${taskName} has ${numLabels} labels`,
      );
  }
  return pieces;
}

/** Slice by Unicode code points, as Python's str indexing does. */
function cp(s: string): string[] {
  return Array.from(s);
}

function sentenceText(text: string, p: Extract<Piece, { kind: "sent" }>): string {
  const chars = cp(text);
  if (chars.length > 0 && p.case !== "keep")
    chars[0] = p.case === "lower" ? chars[0].toLowerCase() : chars[0].toUpperCase();
  const body = (p.dropLast ? chars.slice(0, -1) : chars).join("");
  return p.space ? ` ${body}` : body;
}

/**
 * Resolve label words to ids (docs/protocol.md §2 "Label words"): a word not starting with `<`, `[`, `.` or `,` must
 * tokenize (with a leading space) to exactly one token; the others are raw vocabulary entries. Order = `labels`.
 */
export function resolveLabelWords(tok: EntkTokenizer, mapping: Record<string, string>, labels: string[]): number[] {
  const ids = labels.map((label) => labelWordId(tok, mapping, label));
  ids.forEach((id, i) => {
    const j = ids.indexOf(id);
    if (j < i)
      throw new Error(
        `label words ${JSON.stringify(mapping[labels[j]])} (label ${labels[j]}) and ${JSON.stringify(mapping[labels[i]])} ` +
          `(label ${labels[i]}) are the same token; each label needs its own word`,
      );
  });
  return ids;
}

function labelWordId(tok: EntkTokenizer, mapping: Record<string, string>, label: string): number {
  {
    const word = mapping[label];
    if (word === undefined) throw new Error(`label word: no word for label ${JSON.stringify(label)} in the mapping`);
    if ("<[.,".includes(word[0])) {
      const id = tok.tokenToId(word);
      if (id === undefined)
        throw new Error(`label word ${JSON.stringify(word)} (label ${label}) is not in the vocabulary`);
      return id;
    }
    const pieces = tok.tokenize(` ${word}`);
    if (pieces.length !== 1)
      throw new Error(
        `label word ${JSON.stringify(word)} (label ${label}) must be exactly one token with its leading space, but " ${word}" tokenizes to ${pieces.length} tokens: ${JSON.stringify(pieces)}`,
      );
    const id = tok.tokenToId(pieces[0]);
    if (id === undefined) throw new Error(`label word ${JSON.stringify(word)}: token ${pieces[0]} has no id`);
    return id;
  }
}

export interface PromptOptions {
  maxLength: number;
  firstSentLimit: number | null;
  otherSentLimit: number | null;
}

/** The ids of each piece before concatenation (after the per-sentence limits). Useful for `prompt show`. */
export function encodePieces(
  tok: EntkTokenizer,
  pieces: Piece[],
  texts: string[],
  labelWordIds: number[],
  opts: Pick<PromptOptions, "firstSentLimit" | "otherSentLimit">,
): number[][] {
  return pieces.map((p) => {
    switch (p.kind) {
      case "cls":
        return [tok.clsId];
      case "mask":
        return [tok.maskId];
      case "sep":
      case "sep+":
        return [tok.sepId];
      case "label":
        return [labelWordIds[p.index]];
      case "literal": {
        if (cp(p.text).length === 1) {
          // Single characters are a raw vocabulary lookup, without BPE (convert_tokens_to_ids).
          return [tok.tokenToId(p.text) ?? tok.unkId];
        }
        return tok.encode(p.text);
      }
      case "sent": {
        const text = texts[p.sent];
        if (text === undefined) throw new Error(`template piece *${p.raw}*: the example has no sentence ${p.sent}`);
        const ids = tok.encode(sentenceText(text, p));
        const limit = p.sent === 0 ? opts.firstSentLimit : opts.otherSentLimit;
        return limit === null ? ids : ids.slice(0, limit);
      }
      default:
        throw new Error(`unknown template piece ${JSON.stringify(p)}`);
    }
  });
}

/**
 * Encode one example with a template (LM-BFF `tokenize_multipart_input`, no demonstrations): concatenate the
 * pieces, cut the tail to `maxLength`, mask position = first mask. `name` identifies the example in errors.
 */
export function encodePrompt(
  tok: EntkTokenizer,
  pieces: Piece[],
  texts: string[],
  label: number,
  labelWordIds: number[],
  opts: PromptOptions,
  name = "example",
): EncodedExample {
  const ids = encodePieces(tok, pieces, texts, labelWordIds, opts).flat();
  const inputIds = ids.length > opts.maxLength ? ids.slice(0, opts.maxLength) : ids;
  const maskPos = inputIds.indexOf(tok.maskId);
  if (maskPos < 0)
    throw new OptionError(
      "maxLength",
      (n) =>
        `${name}: the mask was truncated away (${ids.length} tokens > max length ${opts.maxLength}); set a sentence ` +
        `limit (${n("firstSentLimit")} / ${n("otherSentLimit")}) or raise ${n("maxLength")}`,
    );
  return { inputIds, maskPos, label };
}

/**
 * The no-prompt ("finetune") encoding: `<s>` + enc(s0) + `</s>` [+ enc(s1) + `</s>`], no sentence limits, tail
 * truncation. The representation is read at position 0, so `maskPos` is 0.
 */
export function encodeNoPrompt(tok: EntkTokenizer, texts: string[], label: number, maxLength: number): EncodedExample {
  const ids = [tok.clsId, ...tok.encode(texts[0] ?? ""), tok.sepId];
  for (const t of texts.slice(1)) ids.push(...tok.encode(t), tok.sepId);
  return { inputIds: ids.slice(0, maxLength), maskPos: 0, label };
}
