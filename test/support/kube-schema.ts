import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { KubeObject } from './kustomize.ts';

/**
 * The model module of an apiVersion: `kubernetes-models` for Kubernetes' own groups,
 * `@kubernetes-models/keda` for KEDA's. Undefined for groups neither package covers
 * (monitoring.coreos.com: the Prometheus Operator's ServiceMonitor and PodMonitor).
 */
export function modelModule(apiVersion: string): string | undefined {
  if (apiVersion.startsWith('keda.sh/')) return `@kubernetes-models/keda/${apiVersion}`;
  if (apiVersion.startsWith('monitoring.coreos.com/')) return undefined;
  return `kubernetes-models/${apiVersion}`;
}

type Validating = new (data: unknown) => { validate(): void };

/**
 * Validates against the OpenAPI schema (required fields, types, enums) with the model class
 * of the object's kind, then refuses fields the schema does not have: the models' validators
 * let unknown fields through, and a misspelt `readinesProbe` is exactly the mistake to catch.
 * Returns the problems found (empty when valid).
 */
export async function schemaProblems(o: KubeObject): Promise<string[]> {
  const module = modelModule(o.apiVersion);
  if (module === undefined) throw new Error(`no schema package for ${o.apiVersion}`);
  const models = (await import(module)) as Record<string, Validating | undefined>;
  const Model = models[o.kind];
  if (Model === undefined) return [`${module} has no kind ${o.kind}`];
  const problems: string[] = [];
  try {
    new Model(o).validate();
  } catch (error) {
    problems.push(String((error as Error).message));
  }
  const entry = fileURLToPath(import.meta.resolve(`${module}/${o.kind}`)).replace(/\.js$/, '.d.ts');
  unknownFields(o, { kind: 'object', file: entry }, o.kind, problems);
  return problems;
}

type FieldType =
  | { kind: 'leaf' }
  | { kind: 'object'; file: string }
  | { kind: 'inline'; fields: Map<string, FieldType> }
  | { kind: 'array'; of: FieldType }
  | { kind: 'map'; of: FieldType };

const LEAF: FieldType = { kind: 'leaf' };
const interfaces = new Map<string, Map<string, FieldType> | undefined>();

function unknownFields(value: unknown, type: FieldType, path: string, problems: string[]): void {
  if (value === null || typeof value !== 'object') return;
  switch (type.kind) {
    case 'leaf':
      return;
    case 'array':
      if (Array.isArray(value)) {
        for (const [i, v] of value.entries()) unknownFields(v, type.of, `${path}[${i}]`, problems);
      }
      return;
    case 'map':
      for (const [k, v] of Object.entries(value)) unknownFields(v, type.of, `${path}.${k}`, problems);
      return;
    case 'object':
    case 'inline': {
      const fields = type.kind === 'inline' ? type.fields : interfaceFields(type.file);
      if (fields === undefined) return; // a type alias (IntOrString, Quantity): no fields to check
      for (const [k, v] of Object.entries(value)) {
        const field = fields.get(k);
        if (field === undefined) problems.push(`${path}.${k} is not a field the schema knows`);
        else unknownFields(v, field, `${path}.${k}`, problems);
      }
    }
  }
}

/** The fields of the interface a model's .d.ts declares, with the type of each. */
function interfaceFields(file: string): Map<string, FieldType> | undefined {
  if (interfaces.has(file)) return interfaces.get(file);
  const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
  const imports = new Map<string, string>();
  for (const m of text.matchAll(/import \{ (\w+) \} from "([^"]+)";/g)) {
    const specifier = m[2]!;
    const url = specifier.startsWith('.')
      ? new URL(specifier, `file://${file}`).href
      : import.meta.resolve(specifier);
    imports.set(m[1]!, fileURLToPath(url).replace(/\.js$/, '.d.ts'));
  }
  const start = /export interface \w+(?: extends [^{]+)? \{/.exec(text);
  let fields: Map<string, FieldType> | undefined;
  if (start !== null) {
    const open = start.index + start[0].length - 1;
    fields = parseBody(text.slice(open + 1, matchingBrace(text, open)), imports);
  }
  interfaces.set(file, fields);
  return fields;
}

function matchingBrace(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) return i;
  }
  throw new Error('unbalanced braces in a .d.ts');
}

/** `"name"?: Type;` members of an interface or inline object type. */
function parseBody(body: string, imports: ReadonlyMap<string, string>): Map<string, FieldType> {
  const fields = new Map<string, FieldType>();
  for (const member of splitMembers(body)) {
    const m = /^"([^"]+)"\??:\s*([\s\S]+)$/.exec(member);
    if (m !== null) fields.set(m[1]!, parseType(m[2]!.trim(), imports));
  }
  return fields;
}

function splitMembers(body: string): string[] {
  const members: string[] = [];
  let depth = 0;
  let current = '';
  for (const c of body) {
    if (c === '{') depth++;
    if (c === '}') depth--;
    if (c === ';' && depth === 0) {
      members.push(current.trim());
      current = '';
    } else current += c;
  }
  if (current.trim() !== '') members.push(current.trim());
  return members;
}

function parseType(type: string, imports: ReadonlyMap<string, string>): FieldType {
  const array = /^Array<([\s\S]+)>$/.exec(type);
  if (array !== null) return { kind: 'array', of: parseType(array[1]!.trim(), imports) };
  if (type.startsWith('{') && type.endsWith('}')) {
    const inner = type.slice(1, -1).trim();
    const map = /^\[key: string\]:\s*([\s\S]+?);?$/.exec(inner);
    if (map !== null) return { kind: 'map', of: parseType(map[1]!.trim(), imports) };
    return { kind: 'inline', fields: parseBody(inner, imports) };
  }
  const file = imports.get(type);
  return file === undefined ? LEAF : { kind: 'object', file };
}
