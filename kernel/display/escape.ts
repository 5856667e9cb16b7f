// Escaping for the three places notebook text ends up: HTML, inline <script> bodies, and JSON inside <script>.

const HTML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Text → HTML text; plotly labels use it too (plotly decodes entities, so `<script>` shows as text). */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch]);
}

/** A JavaScript source made safe to inline in <script>…</script>: nothing in it can close or comment out the tag. */
export function scriptSafe(js: string): string {
  return js.replace(/<\/script/gi, "<\\/script").replace(/<!--/g, "<\\!--");
}

/** JSON for a <script> body: every "<" becomes \u003c (so no "</script>" or "<!--"), line separators are escaped. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}
