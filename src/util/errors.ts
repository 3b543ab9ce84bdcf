/**
 * Errors about options, in library terms (docs/glossary.md "Errors"). The layers below the CLI name an option as
 * their own interfaces do (`memory`, `selectOn`, `adjustForInit`), never as a command-line flag; the CLI renders
 * the same message with its flag names (`--memory`, `--select-on`: src/cli/option-errors.ts). A config reader
 * renders them with its key paths the same way.
 */

/** How a message names an option: the library's name → the name its reader knows (a flag, a config key). */
export type OptionNamer = (option: string) => string;

/** The library's own naming: the option's name as is. */
export const libraryName: OptionNamer = (option) => option;

/**
 * A bad option value or combination of options. `option` is the option at fault (by its library name), `detail`
 * — for a bad value of that one option — what was expected; `describe(name)` renders the whole message with
 * every option it mentions named by `name`. `message` is `describe(libraryName)`.
 */
export class OptionError extends Error {
  readonly option: string;
  readonly detail: string | undefined;
  readonly #render: (name: OptionNamer) => string;

  /**
   * `text` is either the detail of a bad value (the message is then `<option>: <detail>`) or a function writing
   * the message with every option named through its argument, e.g. `(n) => \`${n("gamma")} applies to asym\``.
   */
  constructor(option: string, text: string | ((name: OptionNamer) => string)) {
    const render = typeof text === "string" ? (n: OptionNamer) => `${n(option)}: ${text}` : text;
    super(render(libraryName));
    this.name = "OptionError";
    this.option = option;
    this.detail = typeof text === "string" ? text : undefined;
    this.#render = render;
  }

  /** The message with options named by `name`. */
  describe(name: OptionNamer): string {
    return this.#render(name);
  }
}
