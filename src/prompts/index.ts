export { decodeForDisplay } from "./display.ts";
export { encodeExamples, type TaskEncoder, taskEncoder } from "./encode.ts";
export {
  listTasks,
  loadTask,
  loadTaskFile,
  overrideTask,
  PAPER_TASKS,
  PROMPTS_DIR,
  parseMapping,
  parseTask,
  type TaskDef,
} from "./task.ts";
export {
  type EncodedExample,
  encodeNoPrompt,
  encodePieces,
  encodePrompt,
  type Piece,
  type PromptOptions,
  parseTemplate,
  resolveLabelWords,
  validateTemplate,
} from "./template.ts";
