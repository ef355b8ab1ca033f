/**
 * YAML templates, parsed with the `yaml` package that aws-cdk-lib bundles (so users need nothing
 * more): CloudFormation's short-form tags (!Ref, !GetAtt, !Sub, ...) become their JSON form, and
 * the line of every resource's logical id is kept for SARIF.
 */
import * as path from 'node:path';

interface YamlModule {
  parseDocument(text: string, options?: any): any;
}

let yamlModule: YamlModule | undefined;

function loadYaml(): YamlModule {
  if (!yamlModule) {
    // aws-cdk-lib ships `yaml` as a bundled dependency: resolve it from aws-cdk-lib's own folder.
    const cdkRoot = path.dirname(require.resolve('aws-cdk-lib/package.json'));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    yamlModule = require(require.resolve('yaml', { paths: [cdkRoot] })) as YamlModule;
  }
  return yamlModule;
}

export interface ParsedYaml {
  readonly value?: any;
  readonly resourceLines: Map<string, number>;
  readonly error?: string;
}

export function parseYaml(text: string): ParsedYaml {
  const resourceLines = new Map<string, number>();
  let doc: any;
  try {
    doc = loadYaml().parseDocument(text, { prettyErrors: true, keepCstNodes: false });
  } catch (e) {
    return { resourceLines, error: String((e as Error).message).split('\n')[0] };
  }
  if (doc.errors?.length) {
    const e = doc.errors[0];
    const where = e.linePos?.start ? ` at line ${e.linePos.start.line}, column ${e.linePos.start.col}` : '';
    return { resourceLines, error: `${String(e.message).split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}${where}` };
  }
  const lineOf = lineIndex(text);
  const root = doc.contents;
  if (root?.type === 'MAP' || root?.type === 'FLOW_MAP') {
    for (const pair of root.items ?? []) {
      if (keyOf(pair) !== 'Resources') continue;
      const res = pair.value;
      for (const p of res?.items ?? []) {
        const k = keyOf(p);
        if (k !== undefined && p.key?.range) resourceLines.set(k, lineOf(p.key.range[0]));
      }
    }
  }
  try {
    return { value: toJs(root), resourceLines };
  } catch (e) {
    return { resourceLines, error: (e as Error).message };
  }
}

function keyOf(pair: any): string | undefined {
  const k = pair?.key;
  if (k === null || k === undefined) return undefined;
  if (typeof k !== 'object') return String(k);
  return k.value === undefined || k.value === null ? undefined : String(k.value);
}

function lineIndex(text: string): (offset: number) => number {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = Math.floor((lo + hi + 1) / 2);
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
}

/** Converts a node of the document to plain data, expanding CloudFormation's short-form tags. */
function toJs(node: any): any {
  if (node === null || node === undefined) return null;
  if (typeof node !== 'object') return node;
  let value: any;
  switch (node.type) {
    case 'MAP':
    case 'FLOW_MAP': {
      value = {};
      for (const pair of node.items ?? []) {
        if (pair.type === 'MERGE_PAIR') throw new Error('YAML merge keys (<<) are not CloudFormation');
        const k = keyOf(pair);
        if (k === undefined) continue;
        value[k] = toJs(pair.value);
      }
      break;
    }
    case 'SEQ':
    case 'FLOW_SEQ':
      value = (node.items ?? []).map((i: any) => toJs(i));
      break;
    case 'ALIAS':
      value = toJs(node.source);
      break;
    default:
      value = node.value ?? null;
  }
  const tag: string | undefined = node.tag;
  if (!tag || !tag.startsWith('!') || tag.startsWith('!!')) return value;
  const name = tag.slice(1);
  if (name === 'Ref') return { Ref: value };
  if (name === 'Condition') return { Condition: value };
  if (name === 'GetAtt' && typeof value === 'string') {
    const dot = value.indexOf('.');
    return { 'Fn::GetAtt': dot < 0 ? [value] : [value.slice(0, dot), value.slice(dot + 1)] };
  }
  return { [`Fn::${name}`]: value };
}
