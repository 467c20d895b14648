// Lint and format checks (`npm run lint`; `npm run lint -- --fix` rewrites what it can). The formatting rules are
// @stylistic's, set to the style the code is written in, rather than a reformatter's.
import js from "@eslint/js";
import stylistic from "@stylistic/eslint-plugin";
import tseslint from "typescript-eslint";

export default tseslint.config(
    {
        ignores: [
            "bin/**", "node_modules/**", ".local/**", ".stryker-tmp*/**", "reports/**", "mutation/**/*.cjs",
            "examples/**/node_modules/**", "examples/**/bin/**",
        ],
    },
    js.configs.recommended,
    ...tseslint.configs.recommended,
    {
        plugins: { "@stylistic": stylistic },
        rules: {
            "@stylistic/indent": ["error", 4, { SwitchCase: 1 }],
            "@stylistic/quotes": ["error", "double", { avoidEscape: true, allowTemplateLiterals: "always" }],
            "@stylistic/semi": ["error", "always"],
            "@stylistic/comma-dangle": ["error", "always-multiline"],
            "@stylistic/max-len": ["error", {
                code: 160, ignoreUrls: true, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true,
            }],
            "@stylistic/no-trailing-spaces": "error",
            "@stylistic/eol-last": "error",
            "@stylistic/brace-style": ["error", "1tbs", { allowSingleLine: true }],
            "@stylistic/object-curly-spacing": ["error", "always"],
            "@stylistic/arrow-parens": ["error", "always"],
            "@stylistic/keyword-spacing": "error",
            "@stylistic/space-infix-ops": "error",
            "@stylistic/comma-spacing": "error",
            "@stylistic/no-multiple-empty-lines": ["error", { max: 1 }],
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
        },
    },
    {
        // Plain CommonJS run by Node.js as it is (the runtime client a node's scripts call, see local/node-shell.ts).
        files: ["local/**/*.cjs"],
        languageOptions: { sourceType: "commonjs", globals: { require: "readonly", process: "readonly" } },
        rules: { "@typescript-eslint/no-require-imports": "off" },
    },
    {
        // Mock inputs and outputs are untyped by Pulumi's own types, and tests load programs and modules at run time.
        files: ["tests/**/*.ts", "local/**/*.ts", "lib/testing.ts", "examples/**/*.ts", "bench/**/*.ts", "scripts/**/*.ts"],
        rules: {
            "@typescript-eslint/no-explicit-any": "off",
            "@typescript-eslint/no-require-imports": "off",
            "@typescript-eslint/no-unused-expressions": "off",
        },
    },
);
