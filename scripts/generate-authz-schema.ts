// `npm run authz:generate`: embeds authz/schema.zed in the Worker as a TS module. A test fails
// when the two differ, so the .zed file stays the single specification.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const zed = readFileSync(path.join(root, "authz/schema.zed"), "utf8");
writeFileSync(
  path.join(root, "src/authz/schema-source.generated.ts"),
  `// Generated from authz/schema.zed by \`npm run authz:generate\`. Do not edit.\nexport const schemaZed = ${JSON.stringify(zed)};\n`,
);
