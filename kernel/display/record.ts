// record(name, value): puts a value into the workbook manifest (out/manifest.json) and shows it in the notebook.
import { emit } from "./emit";
import { RECORD_MIME } from "./record-mime";

export { RECORD_MIME };

/** Records a JSON-serialisable value (seed, schedule string, plotted numbers) under `name`; a later record wins. */
export function record(name: string, value: unknown): void {
  const json = JSON.parse(JSON.stringify(value ?? null));
  const shown = typeof json === "string" ? json : JSON.stringify(json);
  emit({ [RECORD_MIME]: { [name]: json }, "text/plain": `recorded ${name} = ${shown}` });
}
