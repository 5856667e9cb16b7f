// Live progress for long searches: one output updated in place (update_display_data, as tslab.newDisplay does).
import { emit, newDisplayId, type EmitPath } from "./emit";
import { escapeHtml } from "./escape";

export interface Progress {
  /** Throttled to one message per `intervalMs`, so a tight loop does not flood the kernel's iopub channel. */
  update(done: number, note?: string): void;
  /** Always sent; leaves the final state in the notebook. */
  finish(note?: string): void;
}

export function progress(label: string, total?: number, intervalMs = 100): Progress {
  const id = newDisplayId();
  let path: EmitPath | null = null;
  let last = 0;
  let current = 0;
  const bundle = (done: number, note: string | undefined, final: boolean) => {
    const of = total ? ` / ${total}` : "";
    const pct = total ? ` (${Math.floor((100 * done) / total)}%)` : "";
    const text = final
      ? `${label}: ${note ?? `${done}${of} done`}`
      : `${label}: ${done}${of}${pct}${note ? ` · ${note}` : ""}`;
    const bar = total
      ? `<progress value="${done}" max="${total}" style="width:16em;vertical-align:middle"></progress> `
      : "";
    return {
      "text/html": `<div class="flushlab-progress">${bar}<code>${escapeHtml(text)}</code></div>`,
      "text/plain": text,
    };
  };
  const send = (done: number, note: string | undefined, final: boolean) => {
    if (path === "console") {
      if (final) console.log(bundle(done, note, final)["text/plain"]);
      return;
    }
    path = emit(bundle(done, note, final), { displayId: id, update: path !== null });
  };
  send(0, undefined, false);
  return {
    update(done, note) {
      current = done;
      const now = Date.now();
      if (now - last < intervalMs) return;
      last = now;
      send(done, note, false);
    },
    finish(note) {
      send(total ?? current, note, true);
    },
  };
}
