/**
 * Input side of `cdk-s3-encryption check`: which templates to read (a cloud assembly through its
 * manifest, a folder of templates, template files), reading them safely, parsing JSON and YAML with
 * the line of every resource, and refusing what cannot be checked.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AssetManifestArtifact, CloudAssembly, CloudFormationStackArtifact } from 'aws-cdk-lib/cx-api';
import { parseYaml } from './yaml';

/** Largest template read, in bytes: ten times CloudFormation's own 1 MB limit for a template in S3. */
export const MAX_TEMPLATE_BYTES = 10 * 1024 * 1024;

/** A failure that is not a finding: the command exits 2 with this one-line message. */
export class InputError extends Error {}

/** An acknowledgement of a rule on a resource, with its reason and where it was written. */
export interface Acknowledgement {
  readonly id: string;
  readonly reason: string;
  readonly source: string;
  readonly appliesTo?: string[];
}

/** One template to check. */
export interface Template {
  /** Absolute path of the file. */
  readonly file: string;
  /** The parsed template (short-form YAML intrinsics expanded to their JSON form). */
  readonly doc: any;
  /** 1-based line of each resource's logical id in the file. */
  readonly lines: Map<string, number>;
  /** Acknowledgements that the cloud assembly's metadata records for resources of this template. */
  readonly manifestAcks: Map<string, Acknowledgement[]>;
}

/** Refused transforms: their resources are made by CloudFormation at deploy time, so none is checked here. */
const TRANSFORM_HINT = 'its resources exist only after CloudFormation expands it, so they cannot be checked here; check the processed template instead (aws cloudformation get-template --template-stage Processed, or sam build output)';

function shown(file: string, cwd: string): string {
  return path.relative(cwd, file) || file;
}

/** Opens without following a symlink or blocking on a FIFO, then refuses anything but a regular file of bounded size. */
export function readTemplateText(file: string, cwd: string): string {
  const name = shown(file, cwd);
  let lst: fs.Stats;
  try {
    lst = fs.lstatSync(file);
  } catch (e) {
    throw new InputError(`${name}: ${reason(e)}`);
  }
  if (lst.isSymbolicLink()) throw new InputError(`${name}: is a symbolic link; links are not followed, pass the file it points to`);
  if (!lst.isFile()) throw new InputError(`${name}: is not a regular file (${kind(lst)})`);
  let fd: number;
  try {
    // O_RDONLY | O_NOFOLLOW | O_NONBLOCK: the three are distinct single bits, so their sum is their union.
    fd = fs.openSync(file, fs.constants.O_RDONLY + (fs.constants.O_NOFOLLOW ?? 0) + (fs.constants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw new InputError(`${name}: ${reason(e)}`);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new InputError(`${name}: is not a regular file (${kind(st)})`);
    if (st.size > MAX_TEMPLATE_BYTES) {
      throw new InputError(`${name}: is ${st.size} bytes, larger than the ${MAX_TEMPLATE_BYTES} bytes this command reads (CloudFormation itself accepts 1 MB)`);
    }
    const buf = Buffer.alloc(st.size);
    let off = 0;
    while (off < st.size) {
      const n = fs.readSync(fd, buf, off, st.size - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off).toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

function kind(st: fs.Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isDirectory()) return 'a folder';
  return 'not a file';
}

function reason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  switch (err.code) {
    case 'ENOENT': return 'no such file or directory';
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'ELOOP': return 'is a symbolic link; links are not followed';
    default: return String(err.message ?? e).split('\n')[0];
  }
}

/** Parses a template and refuses what cannot be checked: not a template, transforms, undefined conditions. */
export function parseTemplate(file: string, text: string, cwd: string): { doc: any; lines: Map<string, number> } {
  const name = shown(file, cwd);
  let doc: any;
  let lines: Map<string, number>;
  const looksJson = /^\s*[{[]/.test(text);
  if (/\.json$/i.test(file) || (!/\.ya?ml$/i.test(file) && looksJson)) {
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw new InputError(`${name}: malformed JSON: ${(e as Error).message.split('\n')[0]}`);
    }
    lines = jsonResourceLines(text);
  } else {
    const parsed = parseYaml(text);
    if (parsed.error) throw new InputError(`${name}: malformed YAML: ${parsed.error}`);
    doc = parsed.value;
    lines = parsed.resourceLines;
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc) || !doc.Resources || typeof doc.Resources !== 'object' || Array.isArray(doc.Resources)) {
    throw new InputError(`${name}: is not a CloudFormation template: no top-level Resources object`);
  }
  const transforms = doc.Transform === undefined ? [] : (Array.isArray(doc.Transform) ? doc.Transform : [doc.Transform]);
  for (const t of transforms) {
    const id = typeof t === 'string' ? t : (t?.Name ?? JSON.stringify(t));
    throw new InputError(`${name}: uses the transform ${id}, which this command does not expand: ${TRANSFORM_HINT}`);
  }
  const fnTransform = findKey(doc, 'Fn::Transform');
  if (fnTransform) throw new InputError(`${name}: uses Fn::Transform at ${fnTransform}, which this command does not expand: ${TRANSFORM_HINT}`);
  for (const [id, r] of Object.entries<any>(doc.Resources)) {
    if (!r || typeof r !== 'object' || typeof r.Type !== 'string') throw new InputError(`${name}: resource ${id} has no Type`);
    if (r.Type.startsWith('AWS::Serverless::')) {
      throw new InputError(`${name}: resource ${id} is ${r.Type}, which needs the transform AWS::Serverless-2016-10-31: ${TRANSFORM_HINT}`);
    }
  }
  checkConditions(doc, name);
  return { doc, lines };
}

/** Every condition named by a resource, an output, Fn::If or a { Condition } reference is defined. */
function checkConditions(doc: any, name: string): void {
  const defined = new Set(Object.keys(doc.Conditions && typeof doc.Conditions === 'object' ? doc.Conditions : {}));
  const need = (cond: unknown, where: string) => {
    if (typeof cond !== 'string') return;
    if (!defined.has(cond)) throw new InputError(`${name}: ${where} references the Condition ${cond}, which Conditions does not define`);
  };
  const walk = (v: any, where: string): void => {
    if (Array.isArray(v)) {
      v.forEach((x) => walk(x, where));
    } else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries<any>(v)) {
        if (k === 'Fn::If' && Array.isArray(x)) need(x[0], where);
        if (k === 'Condition' && Object.keys(v).length === 1) need(x, where);
        walk(x, where);
      }
    }
  };
  for (const section of ['Resources', 'Outputs']) {
    for (const [id, r] of Object.entries<any>(doc[section] ?? {})) {
      if (r && typeof r === 'object' && 'Condition' in r) need(r.Condition, `${section === 'Resources' ? 'resource' : 'output'} ${id}`);
      walk(r?.Properties ?? r?.Value, `${section === 'Resources' ? 'resource' : 'output'} ${id}`);
    }
  }
  for (const [id, c] of Object.entries<any>(doc.Conditions ?? {})) walk(c, `condition ${id}`);
}

function findKey(v: any, key: string, at = ''): string | undefined {
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const f = findKey(v[i], key, `${at}[${i}]`);
      if (f) return f;
    }
  } else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (k === key) return at || '/';
      const f = findKey(x, key, at ? `${at}.${k}` : k);
      if (f) return f;
    }
  }
  return undefined;
}

/** Lines of the keys directly under the top-level "Resources" object of a JSON text. */
export function jsonResourceLines(text: string): Map<string, number> {
  const lines = new Map<string, number>();
  let line = 1;
  // Open containers: '{' or '[', and for objects whether the next string is a key.
  const stack: string[] = [];
  let expectKey = false;
  let topKey: string | undefined;
  let inResources = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') {
      line++;
    } else if (c === '"') {
      const start = line;
      let j = i + 1;
      while (j < text.length && text[j] !== '"') {
        if (text[j] === '\\') j++;
        else if (text[j] === '\n') line++;
        j++;
      }
      if (expectKey) {
        let key: string;
        try {
          key = JSON.parse(text.slice(i, j + 1));
        } catch {
          key = text.slice(i + 1, j);
        }
        if (stack.length === 1) topKey = key;
        if (stack.length === 2 && inResources && !lines.has(key)) lines.set(key, start);
        expectKey = false;
      }
      i = j;
    } else if (c === '{' || c === '[') {
      stack.push(c);
      expectKey = c === '{';
      if (stack.length === 2) inResources = c === '{' && topKey === 'Resources';
    } else if (c === '}' || c === ']') {
      stack.pop();
      expectKey = false;
    } else if (c === ',') {
      expectKey = stack[stack.length - 1] === '{';
    }
  }
  return lines;
}

/** What to check: the templates, each read and parsed. Collects every input error before failing. */
export function collectTemplates(inputs: string[], cwd: string): Template[] {
  const errors: string[] = [];
  const entries: Array<{ file: string; acks: Map<string, Acknowledgement[]> }> = [];
  const seen = new Set<string>();
  const add = (file: string, acks = new Map<string, Acknowledgement[]>()) => {
    if (seen.has(file)) return;
    seen.add(file);
    entries.push({ file, acks });
  };
  for (const input of inputs) {
    const p = path.resolve(cwd, input);
    try {
      let st: fs.Stats;
      try {
        st = fs.lstatSync(p);
      } catch (e) {
        throw new InputError(`${input}: ${reason(e)}`);
      }
      if (st.isSymbolicLink()) throw new InputError(`${input}: is a symbolic link; links are not followed, pass the path it points to`);
      if (st.isDirectory()) {
        if (fs.existsSync(path.join(p, 'manifest.json'))) {
          for (const t of assemblyTemplates(p, input)) add(t.file, t.acks);
        } else {
          for (const f of folderTemplates(p, input)) add(f);
        }
      } else {
        add(p);
      }
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      errors.push(e.message);
    }
  }
  const templates: Template[] = [];
  for (const { file, acks } of entries) {
    try {
      const text = readTemplateText(file, cwd);
      const { doc, lines } = parseTemplate(file, text, cwd);
      templates.push({ file, doc, lines, manifestAcks: acks });
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      errors.push(e.message);
    }
  }
  if (errors.length) throw new InputErrors(errors);
  return templates;
}

/** Several input errors, one line each. */
export class InputErrors extends Error {
  constructor(public readonly lines: string[]) {
    super(lines.join('\n'));
  }
}

function folderTemplates(dir: string, input: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (e) {
    throw new InputError(`${input}: cannot read the folder: ${reason(e)}`);
  }
  const found = names.filter((f) => /\.template\.(json|ya?ml)$/i.test(f)).sort().map((f) => path.join(dir, f));
  if (found.length === 0) throw new InputError(`${input}: holds no manifest.json and no *.template.json, *.template.yaml or *.template.yml file`);
  return found;
}

/**
 * The templates of the current synth, through the assembly's manifest: every stack, those of
 * Stages (nested assemblies) included, and the nested stack templates each stack publishes as
 * file assets. A template left in the folder by an earlier synth is not in the manifest, so it is
 * not read.
 */
function assemblyTemplates(dir: string, input: string): Array<{ file: string; acks: Map<string, Acknowledgement[]> }> {
  let asm: CloudAssembly;
  try {
    asm = new CloudAssembly(dir);
  } catch (e) {
    throw new InputError(`${path.join(input, 'manifest.json')}: cannot be read as a cloud assembly manifest: ${String((e as Error).message).split('\n')[0]}`);
  }
  let stacks: CloudFormationStackArtifact[];
  try {
    stacks = asm.stacksRecursively;
  } catch (e) {
    throw new InputError(`${input}: a nested cloud assembly cannot be read: ${String((e as Error).message).split('\n')[0]}`);
  }
  if (stacks.length === 0) throw new InputError(`${path.join(input, 'manifest.json')}: the cloud assembly holds no stack`);
  const out: Array<{ file: string; acks: Map<string, Acknowledgement[]> }> = [];
  for (const stack of stacks) {
    const acks = manifestAcknowledgements(stack);
    out.push({ file: stack.templateFullPath, acks });
    for (const dep of stack.dependencies) {
      if (!AssetManifestArtifact.isAssetManifestArtifact(dep)) continue;
      for (const f of Object.values(dep.contents.files ?? {})) {
        const src = f.source.path;
        if (!src || f.source.packaging === 'zip' || !/\.nested\.template\.json$/.test(src)) continue;
        out.push({ file: path.resolve(path.dirname(dep.file), src), acks });
      }
    }
    // Stacks synthesized with the legacy synthesizer name nested templates in their asset metadata.
    for (const a of stack.assets) {
      if ((a as any).packaging === 'file' && /\.nested\.template\.json$/.test(a.path)) out.push({ file: path.resolve(stack.assembly.directory, a.path), acks });
    }
  }
  return out;
}

/** Validations.of(...).acknowledge() entries recorded in the stack's metadata, by logical id. */
function manifestAcknowledgements(stack: CloudFormationStackArtifact): Map<string, Acknowledgement[]> {
  const result = new Map<string, Acknowledgement[]>();
  let acks: Array<{ path: string; data?: any }>;
  let ids: Array<{ path: string; data?: any }>;
  try {
    acks = stack.findMetadataByType('aws:cdk:acknowledged-rules');
    ids = stack.findMetadataByType('aws:cdk:logicalId');
  } catch {
    return result;
  }
  for (const ack of acks) {
    if (!ack.data || typeof ack.data !== 'object') continue;
    for (const id of ids) {
      if (id.path !== ack.path && !id.path.startsWith(`${ack.path}/`)) continue;
      const list = result.get(String(id.data)) ?? [];
      for (const [qualified, why] of Object.entries(ack.data)) {
        list.push({ id: qualified.replace(/^annotation::/i, ''), reason: String(why), source: `Validations.acknowledge on ${ack.path}` });
      }
      result.set(String(id.data), list);
    }
  }
  return result;
}
