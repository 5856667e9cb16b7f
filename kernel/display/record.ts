// record(name, value): puts a value into the workbook manifest (out/manifest.json) and shows it in the notebook.
import { emit } from "./emit";
import { RECORD_MIME } from "./record-mime";

export { RECORD_MIME };

/** Records a JSON-serialisable value (seed, schedule string, plotted numbers) under `name`; a later record wins. */
export function record(name: string, value: unknown): void {
  const json = JSON.parse(JSON.stringify(value ?? null));
  const full = typeof json === "string" ? json : JSON.stringify(json);
  // Short values are shown whole; long ones (plotted series) are abridged: the manifest has them all.
  const shown = full.length <= 160 ? full : `${full.slice(0, 120)}… (${full.length} characters, in out/manifest.json)`;
  emit({ [RECORD_MIME]: { [name]: json }, "text/plain": `recorded ${name} = ${shown}` });
}
