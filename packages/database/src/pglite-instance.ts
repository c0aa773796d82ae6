// Opening PGlite: on a data directory, or in memory from a cached template.
import { randomBytes } from "node:crypto";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite, type PGliteOptions } from "@electric-sql/pglite";
import { INT8_OID, XID8_OID } from "./database";

const toBigInt = (value: string): bigint => BigInt(value);
const options: PGliteOptions = { parsers: { [XID8_OID]: toBigInt, [INT8_OID]: toBigInt } };

/** Opens PGlite on a data directory, or in memory (from the template) without one. */
export async function createPglite(dataDir: string | undefined): Promise<PGlite> {
  return dataDir === undefined ? createInMemory() : PGlite.create({ ...options, dataDir });
}

/**
 * A fresh in-memory PGlite runs initdb, which takes seconds; tests open many. So the first one
 * leaves a dump of its pristine cluster in the OS temp folder (per PGlite version), and later ones
 * start from it. Anything wrong with the dump falls back to initdb and replaces it.
 */
export async function createInMemory(templatePath?: string): Promise<PGlite> {
  templatePath ??= await templateFile();
  const template = await readFile(templatePath).catch(() => undefined);
  if (template) {
    try {
      return await PGlite.create({ ...options, loadDataDir: new Blob([template]) });
    } catch {
      // Unreadable (an older layout, a truncated file): made anew below.
    }
  }
  const pglite = await PGlite.create(options);
  // Written aside, then renamed: other processes read a whole dump or none.
  const partial = `${templatePath}.${randomBytes(4).toString("hex")}.partial`;
  try {
    const dump = Buffer.from(await (await pglite.dumpDataDir("gzip")).arrayBuffer());
    await writeFile(partial, dump);
    await rename(partial, templatePath);
  } catch {
    // Only a cache: without it the next start runs initdb again.
    await rm(partial, { force: true });
  }
  return pglite;
}

async function templateFile(): Promise<string> {
  const packageJson = fileURLToPath(new URL("../package.json", import.meta.resolve("@electric-sql/pglite")));
  const { version } = JSON.parse(await readFile(packageJson, "utf8")) as { version: string };
  return join(tmpdir(), `sluice-pglite-${version}-template.tar.gz`);
}
