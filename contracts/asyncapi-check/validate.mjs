// Validates an AsyncAPI document with the AsyncAPI parser (the one AsyncAPI's own tools use):
//   node validate.mjs asyncapi.json      or      python -m portal_contracts asyncapi | node validate.mjs
// Prints every diagnostic (errors and warnings, with the path they are at) and exits 1 when the
// document has an error or cannot be parsed at all, 0 otherwise.
import { readFileSync } from "node:fs";
import { DiagnosticSeverity, Parser } from "@asyncapi/parser";

const source = process.argv[2] ?? "stdin";
const text = readFileSync(process.argv[2] ?? 0, "utf8");
const { document, diagnostics } = await new Parser().parse(text);

const names = Object.fromEntries(Object.entries(DiagnosticSeverity).map(([name, level]) => [level, name]));
for (const d of diagnostics) {
  const where = d.path.length ? d.path.join("/") : "(document)";
  console.log(`${names[d.severity] ?? d.severity} ${d.code} at ${where}: ${d.message}`);
}
const count = (level) => diagnostics.filter((d) => d.severity === level).length;
const errors = count(DiagnosticSeverity.Error);
if (document === undefined || errors > 0) {
  console.log(`${source}: not a valid AsyncAPI document (${errors} errors)`);
  process.exit(1);
}
console.log(`${source}: valid AsyncAPI ${document.version()} (${count(DiagnosticSeverity.Warning)} warnings)`);
