/**
 * Checks a request against the AWS SDK for JavaScript v3's own model of it: the schema arrays each
 * client exports (`CreateJobRequest$`, `UpdateObjectEncryptionRequest$`, ...), generated from the
 * service's Smithy model. A schema is `[kind, namespace, name, traits, memberNames, memberSchemas,
 * requiredCount]` for a structure (kind 3) or union (kind 4), `[1, namespace, name, traits, member]`
 * for a list, `[0, namespace, name, traits, base]` for a named simple type; a member is a number (0 string, 1 number, 2 boolean, 4 timestamp, 64 list of strings,
 * 128 map of strings), a function returning a schema, or either with traits as `[member, traits]`.
 */
type Schema = any;

function resolve(member: Schema): Schema {
  if (typeof member === 'function') return resolve(member());
  // A member with traits: [schema or code, traits]; a named schema has its namespace second.
  if (Array.isArray(member) && member.length === 2 && typeof member[1] !== 'string') return resolve(member[0]);
  return member;
}

/** Every way `value` departs from `schema`, as `path: problem` lines; empty when it conforms. */
export function shapeErrors(schema: Schema, value: unknown, path = '$'): string[] {
  const s = resolve(schema);
  if (typeof s === 'number') return scalarErrors(s, value, path);
  const kind = s[0];
  // A named simple type with traits (e.g. a sensitive string): [0, namespace, name, traits, base].
  if (kind === 0) return shapeErrors(s[4], value, path);
  if (kind === 1) {
    if (!Array.isArray(value)) return [`${path}: expected a list (${s[2]}), got ${JSON.stringify(value)}`];
    return value.flatMap((v, i) => shapeErrors(s[4], v, `${path}[${i}]`));
  }
  if (kind !== 3 && kind !== 4) return [`${path}: schema kind ${kind} of ${s[2]} is not handled here`];
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [`${path}: expected a ${s[2]} object, got ${JSON.stringify(value)}`];
  const names: string[] = s[4];
  const members: Schema[] = s[5];
  const required: number = kind === 3 ? s[6] ?? 0 : 0;
  const errors: string[] = [];
  const present = Object.keys(value).filter((k) => (value as any)[k] !== undefined);
  for (const k of present) {
    const i = names.indexOf(k);
    if (i < 0) errors.push(`${path}.${k}: not a member of ${s[2]} (members: ${names.join(', ')})`);
    else errors.push(...shapeErrors(members[i], (value as any)[k], `${path}.${k}`));
  }
  for (const k of names.slice(0, required)) {
    if (!present.includes(k)) errors.push(`${path}.${k}: required by ${s[2]}`);
  }
  if (kind === 4 && present.length !== 1) errors.push(`${path}: the union ${s[2]} takes exactly one member, got ${present.length} (${present.join(', ')})`);
  return errors;
}

function scalarErrors(code: number, value: unknown, path: string): string[] {
  const ok = (good: boolean, what: string) => (good ? [] : [`${path}: expected ${what}, got ${JSON.stringify(value)}`]);
  switch (code) {
    case 0: return ok(typeof value === 'string', 'a string');
    case 1: return ok(typeof value === 'number' && Number.isFinite(value), 'a number');
    case 2: return ok(typeof value === 'boolean', 'a boolean');
    case 4: return ok(value instanceof Date && !Number.isNaN(value.getTime()), 'a timestamp (Date)');
    case 64: return ok(Array.isArray(value) && value.every((v) => typeof v === 'string'), 'a list of strings');
    case 128: return ok(typeof value === 'object' && value !== null && Object.values(value).every((v) => typeof v === 'string'), 'a map of strings');
    default: return [`${path}: scalar schema ${code} is not handled here`];
  }
}
