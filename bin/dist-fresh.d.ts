/** Whether dist/ is at least as new as every file and folder under src/ (`root`: the repository root URL). */
export function distIsFresh(root: URL): boolean;
