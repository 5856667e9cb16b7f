// Headless Debian Chromium through playwright-core (never a downloaded browser), with the flags from toolchain.md.
import { chromium, type Browser } from "playwright-core";
import { loadToolchain } from "../../kernel/paths";
import { ROOT } from "./helpers";

export async function launchChromium(): Promise<Browser> {
  const exe = loadToolchain(ROOT).chromium;
  if (!exe) throw new Error("no Chromium: kernel/setup.sh installs Debian's chromium (apt-get install -y chromium)");
  return chromium.launch({
    executablePath: exe,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}
