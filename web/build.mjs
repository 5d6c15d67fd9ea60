// Bundles the dashboard into the Python package, which serves it: two entry points (the
// sign-in page needs no chart library), one stylesheet, and the two HTML pages copied as they are.
import { copyFile, mkdir, rm, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const out = new URL("../src/usagelens/dashboard/assets/", import.meta.url);

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
await build({
  entryPoints: ["src/signin.ts", "src/dashboard.ts", "styles/dashboard.css"],
  outdir: fileURLToPath(out),
  entryNames: "[name]",
  bundle: true,
  minify: true,
  format: "esm",
  target: ["es2022"],
  legalComments: "none",
  logLevel: "warning",
});
for (const page of ["signin.html", "dashboard.html"]) {
  await copyFile(new URL(`pages/${page}`, import.meta.url), new URL(page, out));
}
// Read by `make`: the bundle is newer than its sources.
await writeFile(new URL(".built", out), `${new Date().toISOString()}\n`);
