// npm install's last step (the `prepare` script): node_modules/flushlab → .., so a notebook anywhere under the
// project, opened from any Jupyter client with a tslab kernel, resolves `flushlab` and `flushlab/display` with
// tslab's Node10 resolution. npm prunes links it did not make on every install, so each install remakes it.
import * as fs from "fs";
import * as path from "path";

const root = path.resolve(__dirname, "..", "..");
const link = path.join(root, "node_modules", "flushlab");
let current: string | null = null;
try {
  current = fs.readlinkSync(link);
} catch {
  // missing, or a real folder npm left
}
if (current !== "..") {
  fs.rmSync(link, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(link), { recursive: true });
  fs.symlinkSync("..", link);
}
