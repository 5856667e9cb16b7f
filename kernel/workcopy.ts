// The student's working copy (workbook/, git-ignored): seeded from notebooks/ only for notebooks it lacks,
// so edits made in the UI are never overwritten and survive every rerun of `npm start`.
import * as fs from "fs";
import * as path from "path";

export interface Seeded {
  copied: string[];
  kept: string[];
}

export function seedWorkingCopy(sourceDir: string, workDir: string): Seeded {
  fs.mkdirSync(workDir, { recursive: true });
  const result: Seeded = { copied: [], kept: [] };
  const names = fs.existsSync(sourceDir)
    ? fs
        .readdirSync(sourceDir)
        .filter((f) => f.endsWith(".ipynb"))
        .sort()
    : [];
  for (const name of names) {
    try {
      // COPYFILE_EXCL: never replace a file that exists, even one created a moment ago.
      fs.copyFileSync(path.join(sourceDir, name), path.join(workDir, name), fs.constants.COPYFILE_EXCL);
      result.copied.push(name);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      result.kept.push(name);
    }
  }
  return result;
}
