// Sends one display_data carrying several MIME types through tslab's internal hook, which the public
// `display` API lacks (it sends one MIME type per output). Falls back to display.html, then to the console.
import { randomUUID } from "crypto";
import { RECORD_MIME } from "./record-mime";

export type MimeBundle = Record<string, unknown>;

export interface EmitOptions {
  /** Reuse this id with `update: true` to replace the output in place (update_display_data). */
  displayId?: string;
  update?: boolean;
}

/** Which path an emit took: the multi-MIME hook, tslab's public display API, or plain stdout (not in a kernel). */
export type EmitPath = "hook" | "display" | "console";

type WriteDisplayData = (
  msg: { data: MimeBundle; metadata: Record<string, unknown>; transient: Record<string, unknown> },
  update: boolean,
) => void;

/** tslab sets this on every execute_request; it is only there inside a running kernel. */
function hook(): WriteDisplayData | null {
  try {
    // Resolved from this package, so tslab must be a peer (one copy) for this to be the kernel's own module.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only inside a tslab kernel, lazily
    const w = require("tslab/dist/jupyter").lastWriteDisplayData;
    return typeof w === "function" ? w : null;
  } catch {
    return null;
  }
}

export function emit(data: MimeBundle, opts: EmitOptions = {}): EmitPath {
  const write = hook();
  if (write) {
    const transient = opts.displayId ? { display_id: opts.displayId } : {};
    write({ data, metadata: {}, transient }, !!opts.update);
    return "hook";
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only inside a tslab kernel, lazily
    const tslab = require("tslab");
    // Records must still reach the manifest: tslab's raw() sends an object as a JSON object.
    if (data[RECORD_MIME] !== undefined) tslab.display.raw(RECORD_MIME, data[RECORD_MIME]);
    if (typeof data["text/html"] === "string") tslab.display.html(data["text/html"]);
    else tslab.display.text(String(data["text/plain"] ?? ""));
    return "display";
  } catch {
    // Not in a kernel (plain node script, tests): text is the honest rendering.
    console.log(String(data["text/plain"] ?? ""));
    return "console";
  }
}

export function newDisplayId(): string {
  return "flushlab-" + randomUUID();
}
