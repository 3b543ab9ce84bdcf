import type { MethodModule } from "../../src/experiments/method-modules.ts";

declare const sleepMethod: MethodModule;
export default sleepMethod;
