// Type-aware lint for the host-side code and tests (the prelude has its own
// tsconfig and is checked by tsc). The rules that matter most here: a
// floating promise in a uWS handler is a write to an aborted response.
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "test/fixtures/**", "examples/**", "bench/.tmp/**", "sandbox/prelude/**", "scripts/**", "bin/**", "eslint.config.js"] },
  {
    files: ["**/*.ts"],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { project: "./tsconfig.json", tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/switch-exhaustiveness-check": ["error", { considerDefaultExhaustiveForUnions: true }],
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      // Test fixtures take async callbacks whether or not a given body awaits.
      "@typescript-eslint/require-await": "off",
    },
  },
);
