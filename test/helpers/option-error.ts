/**
 * Assertions on the library's option errors (src/util/errors.ts): below the CLI a bad option is an OptionError
 * naming the option by its library name, never by a flag (the CLI tests check the flag wording users see).
 */
import { expect } from "vitest";
import { OptionError } from "../../src/util/errors.ts";

function check(err: unknown, option: string, message: RegExp): OptionError {
  expect(err).toBeInstanceOf(OptionError);
  const e = err as OptionError;
  expect(e.option).toBe(option);
  expect(e.message).toMatch(message);
  expect(e.message).not.toMatch(/(^|[\s(])--[a-z]/);
  return e;
}

/** `fn` throws an OptionError about `option` whose library message matches `message`. */
export function expectOptionError(fn: () => unknown, option: string, message: RegExp): OptionError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  return check(err, option, message);
}

/** `p` rejects with an OptionError about `option` whose library message matches `message`. */
export async function expectOptionRejection(
  p: Promise<unknown>,
  option: string,
  message: RegExp,
): Promise<OptionError> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  return check(err, option, message);
}
