/**
 * Validation against the SARIF 2.1.0 JSON schema (OASIS; a JSON Schema 2020-12 document), which
 * scripts/setup/65-sarif-schema.sh installs into .tools/sarif/. Formats are checked too: uri and
 * uri-reference as WHATWG URLs, date-time as RFC 3339, uuid as RFC 4122 text.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';

export const SARIF_SCHEMA_FILE = path.join(__dirname, '..', '..', '.tools', 'sarif', 'sarif-2.1.0.json');

let validator: ReturnType<Ajv2020['compile']> | undefined;

function compile() {
  if (!fs.existsSync(SARIF_SCHEMA_FILE)) {
    throw new Error(`${SARIF_SCHEMA_FILE} is missing: run \`npx projen setup-tools\` (the test command does)`);
  }
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  ajv.addFormat('uri', (s: string) => { try { return new URL(s).protocol.length > 1; } catch { return false; } });
  ajv.addFormat('uri-reference', (s: string) => { try { return Boolean(new URL(s, 'file:///base/')); } catch { return false; } });
  ajv.addFormat('date-time', (s: string) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(s) && !Number.isNaN(Date.parse(s)));
  ajv.addFormat('uuid', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
  return ajv.compile(JSON.parse(fs.readFileSync(SARIF_SCHEMA_FILE, 'utf8')));
}

/** The schema's errors for a SARIF log, one line each; empty when it is valid. */
export function sarifSchemaErrors(log: unknown): string[] {
  validator ??= compile();
  if (validator(log)) return [];
  return (validator.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`);
}

/** Throws with every schema error when the SARIF file is not valid SARIF 2.1.0. */
export function assertValidSarifFile(file: string): void {
  const errors = sarifSchemaErrors(JSON.parse(fs.readFileSync(file, 'utf8')));
  if (errors.length > 0) throw new Error(`${file} is not valid SARIF 2.1.0:\n  ${errors.join('\n  ')}`);
}
