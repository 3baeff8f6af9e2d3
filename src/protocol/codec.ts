// restJson1 codec driven by the model: binds an HTTP request to a typed input, checks every modelled
// constraint, and renders an output shape as the JSON body AWS would send.
import type { MemberRef, ServiceModel, Shape } from './model.ts';

export interface HttpRequestParts {
  labels: Record<string, string>;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A request the client framed wrongly (bad JSON, wrong types); answered with the operation's validation error. */
export class BindError extends Error {}

interface Member {
  name: string;
  ref: MemberRef;
  target: Shape;
}

const membersCache = new WeakMap<Shape, Member[]>();

/** A structure's members with their shapes resolved, worked out once per shape (every request walks them). */
function membersOf(model: ServiceModel, shape: Shape): Member[] {
  let members = membersCache.get(shape);
  if (!members) {
    members = Object.entries(shape.members ?? {}).map(([name, ref]) => ({ name, ref, target: model.shapes[ref.shape] }));
    membersCache.set(shape, members);
  }
  return members;
}

// ---------------------------------------------------------------- binding

export function bindInput(model: ServiceModel, shapeName: string | undefined, req: HttpRequestParts): Record<string, unknown> {
  if (!shapeName) return {};
  const shape = model.shapes[shapeName];
  const members = membersOf(model, shape);
  const input: Record<string, unknown> = {};
  let bodyMembers = false;
  for (const { name, ref, target } of members) {
    const wire = ref.locationName ?? name;
    switch (ref.location) {
      case 'uri':
        if (req.labels[wire] !== undefined) input[name] = fromText(target, req.labels[wire], name);
        break;
      case 'querystring':
        if (target.type === 'map') {
          const map: Record<string, string> = {};
          for (const [k, v] of req.query) if (!(k in map)) map[k] = v;
          input[name] = map;
        } else if (target.type === 'list') {
          const values = req.query.getAll(wire);
          if (values.length) input[name] = values.map((v) => fromText(model.shapes[target.member!], v, name));
        } else if (req.query.has(wire)) {
          input[name] = fromText(target, req.query.get(wire)!, name);
        }
        break;
      case 'header': {
        const raw = req.headers[wire.toLowerCase()];
        const value = Array.isArray(raw) ? raw.join(',') : raw;
        if (value !== undefined) input[name] = ref.jsonvalue ? parseJsonHeader(value, name) : fromText(target, value, name);
        break;
      }
      case 'headers':
      case 'statusCode':
        break;
      default:
        if (shape.payload === name) {
          input[name] = target.type === 'blob' ? req.body : fromJson(model, target, parseBody(req.body), name);
        } else {
          bodyMembers = true;
        }
    }
  }
  if (bodyMembers && !shape.payload) {
    const body = parseBody(req.body);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BindError('Request body must be a JSON object');
    for (const { name, ref, target } of members) {
      if (ref.location || !(name in body)) continue;
      const value = fromJson(model, target, (body as Record<string, unknown>)[name], name);
      if (value !== undefined) input[name] = value;
    }
  }
  return input;
}

function parseBody(body: Buffer): unknown {
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new BindError(`Could not parse request body into json: ${(err as Error).message}`);
  }
}

function parseJsonHeader(value: string, path: string): unknown {
  try {
    return JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
  } catch {
    throw new BindError(`Header for '${path}' must be base64-encoded JSON`);
  }
}

function fromText(shape: Shape, text: string, path: string): unknown {
  switch (shape.type) {
    case 'integer':
    case 'long': {
      if (!/^-?\d+$/.test(text)) throw new BindError(`Value '${text}' at '${path}' is not a valid integer`);
      return Number(text);
    }
    case 'double':
    case 'float': {
      const n = Number(text);
      if (text.trim() === '' || Number.isNaN(n)) throw new BindError(`Value '${text}' at '${path}' is not a valid number`);
      return n;
    }
    case 'boolean':
      if (text !== 'true' && text !== 'false') throw new BindError(`Value '${text}' at '${path}' is not a valid boolean`);
      return text === 'true';
    case 'timestamp': {
      const date = /^\d+(\.\d+)?$/.test(text) ? new Date(Number(text) * 1000) : new Date(text);
      if (Number.isNaN(date.getTime())) throw new BindError(`Value '${text}' at '${path}' is not a valid timestamp`);
      return date;
    }
    default:
      return text;
  }
}

function fromJson(model: ServiceModel, shape: Shape, value: unknown, path: string): unknown {
  if (value === null || value === undefined) return undefined;
  const wrong = (expected: string) => new BindError(`Value at '${path}' must be ${expected}`);
  switch (shape.type) {
    case 'structure': {
      if (typeof value !== 'object' || Array.isArray(value)) throw wrong('an object');
      const out: Record<string, unknown> = {};
      for (const { name, target } of membersOf(model, shape)) {
        if (!(name in value)) continue;
        const v = fromJson(model, target, (value as Record<string, unknown>)[name], `${path}.${name}`);
        if (v !== undefined) out[name] = v;
      }
      return out;
    }
    case 'list': {
      if (!Array.isArray(value)) throw wrong('a list');
      const member = model.shapes[shape.member!];
      return value.map((v, i) => fromJson(model, member, v, `${path}.${i + 1}`) ?? null);
    }
    case 'map': {
      if (typeof value !== 'object' || Array.isArray(value)) throw wrong('a map');
      const valueShape = model.shapes[shape.value!];
      // fromEntries defines own properties: an assignment would drop a "__proto__" key (a valid tag key).
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fromJson(model, valueShape, v, `${path}.${k}`) ?? null]));
    }
    case 'string':
      if (typeof value !== 'string') throw wrong('a string');
      return value;
    case 'integer':
    case 'long':
      if (typeof value !== 'number' || !Number.isInteger(value)) throw wrong('an integer');
      return value;
    case 'double':
    case 'float':
      if (typeof value !== 'number') throw wrong('a number');
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') throw wrong('a boolean');
      return value;
    case 'timestamp':
      if (typeof value === 'number') return new Date(value * 1000);
      if (typeof value === 'string' && !Number.isNaN(Date.parse(value))) return new Date(value);
      throw wrong('a timestamp');
    case 'blob':
      if (typeof value !== 'string') throw wrong('base64 text');
      return Buffer.from(value, 'base64');
  }
}

// ---------------------------------------------------------------- validation

const patternCache = new Map<string, RegExp>();

/** AWS models carry Java regexes; translate the POSIX classes JS lacks and anchor the match as AWS does. */
export function compilePattern(pattern: string): RegExp {
  let re = patternCache.get(pattern);
  if (!re) {
    const js = pattern
      .replaceAll('\\p{Graph}', '\\x21-\\x7E')
      .replaceAll('\\p{Upper}', 'A-Z')
      .replaceAll('\\p{Digit}', '0-9')
      .replaceAll('\\p{Cntrl}', '\\x00-\\x1F\\x7F');
    try {
      re = new RegExp(`^(?:${js})$`, 'u');
    } catch {
      re = new RegExp(`^(?:${js})$`);
    }
    patternCache.set(pattern, re);
  }
  return re;
}

/** Returns AWS-style messages for every constraint the input breaks (empty when valid). */
export function validateInput(model: ServiceModel, shapeName: string | undefined, input: Record<string, unknown>): string[] {
  const problems: string[] = [];
  if (shapeName) checkStructure(model, model.shapes[shapeName], input, '', problems);
  return problems;
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return `'${(value.length > 256 ? `${value.slice(0, 256)}…` : value).replaceAll('\u0000', '\\u0000')}'`;
  if (typeof value === 'object') return Array.isArray(value) ? `list of ${value.length}` : 'map';
  return `'${String(value)}'`;
}

function fail(problems: string[], value: unknown, path: string, rule: string): void {
  problems.push(`Value ${describe(value)} at '${path}' failed to satisfy constraint: ${rule}`);
}

function checkStructure(model: ServiceModel, shape: Shape, value: Record<string, unknown>, prefix: string, problems: string[]): void {
  for (const name of shape.required ?? []) {
    if (value[name] === undefined || value[name] === null) fail(problems, null, prefix + name, 'Member must not be null');
  }
  for (const { name, target } of membersOf(model, shape)) {
    const v = value[name];
    if (v !== undefined && v !== null) checkValue(model, target, v, prefix + name, problems);
  }
}

function checkValue(model: ServiceModel, shape: Shape, value: unknown, path: string, problems: string[]): void {
  switch (shape.type) {
    case 'structure':
      checkStructure(model, shape, value as Record<string, unknown>, `${path}.`, problems);
      return;
    case 'list': {
      const list = value as unknown[];
      checkSize(shape, list.length, value, path, problems, 'have length');
      const member = model.shapes[shape.member!];
      list.forEach((item, i) => {
        if (item === null) fail(problems, null, `${path}.${i + 1}`, 'Member must not be null');
        else checkValue(model, member, item, `${path}.${i + 1}`, problems);
      });
      return;
    }
    case 'map': {
      const entries = Object.entries(value as Record<string, unknown>);
      checkSize(shape, entries.length, value, path, problems, 'have length');
      const keyShape = model.shapes[shape.key!];
      const valueShape = model.shapes[shape.value!];
      for (const [k, v] of entries) {
        checkValue(model, keyShape, k, `${path}.key`, problems);
        if (v === null) fail(problems, null, `${path}.${k}`, 'Member must not be null');
        else checkValue(model, valueShape, v, `${path}.${k}`, problems);
      }
      return;
    }
    case 'string': {
      const s = value as string;
      checkSize(shape, s.length, value, path, problems, 'have length');
      if (shape.enum && !shape.enum.includes(s)) fail(problems, value, path, `Member must satisfy enum value set: [${shape.enum.join(', ')}]`);
      if (shape.pattern && !compilePattern(shape.pattern).test(s)) {
        fail(problems, value, path, `Member must satisfy regular expression pattern: ${shape.pattern}`);
      }
      // One rule for every text input, whatever its model says: PostgreSQL cannot store U+0000, so no store keeps it.
      if (s.includes('\u0000')) fail(problems, value, path, 'Member must not contain the character U+0000 (NUL)');
      return;
    }
    case 'integer':
    case 'long':
    case 'double':
    case 'float': {
      const n = value as number;
      if (shape.min !== undefined && n < shape.min) fail(problems, value, path, `Member must have value greater than or equal to ${shape.min}`);
      if (shape.max !== undefined && n > shape.max) fail(problems, value, path, `Member must have value less than or equal to ${shape.max}`);
      return;
    }
    case 'blob':
      checkSize(shape, (value as Buffer).length, 'blob', path, problems, 'have length');
      return;
  }
}

function checkSize(shape: Shape, size: number, value: unknown, path: string, problems: string[], what: string): void {
  if (shape.min !== undefined && size < shape.min) fail(problems, value, path, `Member must ${what} greater than or equal to ${shape.min}`);
  if (shape.max !== undefined && size > shape.max) fail(problems, value, path, `Member must ${what} less than or equal to ${shape.max}`);
}

/** AWS's summary line over the individual constraint messages. */
export function validationMessage(problems: string[]): string {
  const n = problems.length;
  return `${n} validation error${n === 1 ? '' : 's'} detected: ${problems.join('; ')}`;
}

// ---------------------------------------------------------------- serialization

export interface EncodedOutput {
  headers: Record<string, string>;
  body: string | Buffer;
}

export function encodeOutput(model: ServiceModel, shapeName: string | undefined, output: Record<string, unknown> | undefined): EncodedOutput {
  const headers: Record<string, string> = {};
  if (!shapeName || !output) return { headers, body: '{}' };
  const shape = model.shapes[shapeName];
  const body: Record<string, unknown> = {};
  for (const { name, ref, target } of membersOf(model, shape)) {
    const v = output[name];
    if (v === undefined || v === null) continue;
    if (ref.location === 'header') headers[ref.locationName ?? name] = String(v);
    else if (ref.location) continue;
    else if (shape.payload === name) {
      return { headers, body: target.type === 'blob' ? Buffer.from(v as Uint8Array) : JSON.stringify(toJson(model, target, v)) };
    } else body[name] = toJson(model, target, v);
  }
  return { headers, body: JSON.stringify(body) };
}

function toJson(model: ServiceModel, shape: Shape, value: unknown): unknown {
  switch (shape.type) {
    case 'structure': {
      const out: Record<string, unknown> = {};
      for (const { name, target } of membersOf(model, shape)) {
        const v = (value as Record<string, unknown>)[name];
        if (v !== undefined && v !== null) out[name] = toJson(model, target, v);
      }
      return out;
    }
    case 'list': {
      const member = model.shapes[shape.member!];
      return (value as unknown[]).map((v) => toJson(model, member, v));
    }
    case 'map': {
      const valueShape = model.shapes[shape.value!];
      if (valueShape.type === 'string') return value;
      return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, toJson(model, valueShape, v)]));
    }
    case 'timestamp':
      return value instanceof Date ? value.getTime() / 1000 : value;
    case 'blob':
      return Buffer.from(value as Uint8Array).toString('base64');
    default:
      return value;
  }
}
