/** CSV with standard quoting (RFC 4180 as Python's csv / pandas read it) and pandas-compatible writing. */

export interface CsvRecord {
  fields: string[];
  /** 1-based line where the record starts. */
  line: number;
}

/**
 * Parse CSV text: `,` separated, `"` quoted with `""` escapes, newlines allowed inside quotes, `\n` or `\r\n`
 * line ends, blank lines skipped (pandas `skip_blank_lines`). A quote inside an unquoted field is literal.
 * Throws on an unterminated quoted field, naming `source` and the line.
 */
export function parseCsv(text: string, source = "csv"): CsvRecord[] {
  const out: CsvRecord[] = [];
  let i = 0;
  let line = 1;
  const n = text.length;
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  while (i < n) {
    const startLine = line;
    const fields: string[] = [];
    let field = "";
    let atFieldStart = true;
    let inQuotes = false;
    let quotedOpenLine = 0;
    let ended = false;
    while (i < n) {
      const c = text[i];
      if (inQuotes) {
        if (c === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
          } else {
            inQuotes = false;
            i++;
          }
        } else {
          if (c === "\n") line++;
          field += c;
          i++;
        }
        continue;
      }
      if (c === '"' && atFieldStart) {
        inQuotes = true;
        quotedOpenLine = line;
        atFieldStart = false;
        i++;
      } else if (c === ",") {
        fields.push(field);
        field = "";
        atFieldStart = true;
        i++;
      } else if (c === "\n" || c === "\r") {
        i += c === "\r" && text[i + 1] === "\n" ? 2 : 1;
        line++;
        ended = true;
        break;
      } else {
        field += c;
        atFieldStart = false;
        i++;
      }
    }
    if (inQuotes) throw new Error(`${source}:${quotedOpenLine}: unterminated quoted field`);
    fields.push(field);
    if (fields.length === 1 && fields[0] === "" && (ended || i >= n)) continue; // blank line
    out.push({ fields, line: startLine });
  }
  return out;
}

/** pandas' default `na_values`: such fields are read as NaN and written back as empty. */
export const PANDAS_NA = new Set([
  "",
  "#N/A",
  "#N/A N/A",
  "#NA",
  "-1.#IND",
  "-1.#QNAN",
  "-NaN",
  "-nan",
  "1.#IND",
  "1.#QNAN",
  "<NA>",
  "N/A",
  "NA",
  "NULL",
  "NaN",
  "n/a",
  "nan",
  "null",
]);

/** One field as `DataFrame.to_csv` writes it (Python csv QUOTE_MINIMAL, NaN as empty). */
function csvField(v: string | null, onlyField: boolean): string {
  if (v === null || v === "") return onlyField ? '""' : "";
  if (/[",\n\r]/.test(v)) return `"${v.replaceAll('"', '""')}"`;
  return v;
}

/** Rows written like pandas `to_csv(header=False, index=False)`; null = NaN. Lines end with `\n`. */
export function formatCsv(rows: (string | null)[][]): string {
  let s = "";
  for (const r of rows) s += `${r.map((v) => csvField(v, r.length === 1)).join(",")}\n`;
  return s;
}

/** A field as pandas `read_csv` holds it: NaN (null) for the default NA strings. */
export function pandasValue(field: string): string | null {
  return PANDAS_NA.has(field) ? null : field;
}
