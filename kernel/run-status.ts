// What a notebook's run came to, in words for its own page (a banner in the HTML, metadata in the .ipynb):
// a dead kernel or a notebook that never ran is said on the page itself, not only on the index.
import type { NotebookRun } from "./run-notebook";

export interface RunStatus {
  status: "ok" | "failed" | "dead" | "stopped";
  headline: string;
  message: string;
}

export function runStatus(r: NotebookRun): RunStatus {
  const failed = r.cells.filter((c) => c.status !== "ok");
  const cells = failed.map((c) => `cell ${c.index + 1}: ${c.message ?? c.status}`).join("; ");
  if (r.kernelDied)
    return {
      status: "dead",
      headline: "The kernel died during this run, so this page is incomplete.",
      message: r.error ?? "",
    };
  if (r.error)
    return {
      status: "stopped",
      headline: r.cells.length ? "This notebook did not run to the end." : "This notebook was not run.",
      message: r.error,
    };
  if (failed.length)
    return { status: "failed", headline: `${failed.length} cell(s) failed in this run.`, message: cells };
  return { status: "ok", headline: "", message: "" };
}
