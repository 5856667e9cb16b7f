// Runs the CLI in-process and collects what it printed: the one helper the CLI tests share.

import { run } from "../../lib/cli/main";

export function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = run(
    argv,
    (s) => out.push(s),
    (s) => err.push(s),
  );
  return { code, out: out.join("\n"), err: err.join("") };
}
