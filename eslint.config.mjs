// ESLint (flat config) with typescript-eslint's recommended rules over lib/, kernel/, test/ and bin/.
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";

export default tseslint.config(
  {
    ignores: [
      "dist/",
      "out/",
      "workbook/",
      "node_modules/",
      ".jupyter/",
      "bench/",
      "test/kernel/tmp/",
      "test/kernel/fixtures/",
      "kernel/nbconvert/",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // Unused names are TypeScript's job (noUnusedLocals/Parameters); `_`-prefixed ones are deliberate.
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" },
      ],
      // Modelled kernel code is generators; a generator that never yields is a step-less kernel function.
      "require-yield": "off",
    },
  },
  {
    files: ["**/*.js", "**/*.cjs"],
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  {
    // Tests poke at internals and build hostile inputs on purpose.
    files: ["test/**/*.ts"],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
);
