// Turns the official AWS botocore models into the compact JSON the protocol layer runs on:
// operations, HTTP bindings, shapes with their constraints, errors and paginators; documentation dropped.
// Usage: npm run gen:models [-- <dir with iot.json, iot-jobs-data.json, iot-data.json>]
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const SERVICES = ['iot', 'iot-jobs-data', 'iot-data'] as const;
const sourceDir = resolve(process.argv[2] ?? join(import.meta.dirname, '..', '..', 'shared', 'aws-models'));
const outDir = join(import.meta.dirname, '..', 'src', 'protocol', 'models');

const SHAPE_KEYS = ['type', 'required', 'min', 'max', 'pattern', 'enum', 'payload', 'timestampFormat', 'exception', 'fault'];
const MEMBER_KEYS = ['shape', 'location', 'locationName', 'idempotencyToken', 'jsonvalue', 'timestampFormat'];

function pick(source: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of keys) if (source[key] !== undefined) out[key] = source[key];
  return out;
}

for (const service of SERVICES) {
  const raw = JSON.parse(readFileSync(join(sourceDir, `${service}.json`), 'utf8'));
  const pages = JSON.parse(readFileSync(join(sourceDir, `${service}.paginators.json`), 'utf8')).pagination ?? {};
  const operations: Record<string, unknown> = {};
  for (const [name, op] of Object.entries<any>(raw.operations)) {
    operations[name] = {
      method: op.http.method,
      uri: op.http.requestUri,
      ...(op.input && { input: op.input.shape }),
      ...(op.output && { output: op.output.shape }),
      errors: (op.errors ?? []).map((e: { shape: string }) => e.shape),
      ...(op.idempotent && { idempotent: true }),
      ...(pages[name] && { paginator: pick(pages[name], ['input_token', 'output_token', 'limit_key', 'result_key']) }),
    };
  }
  const shapes: Record<string, unknown> = {};
  for (const [name, shape] of Object.entries<any>(raw.shapes)) {
    const compact: Record<string, unknown> = pick(shape, SHAPE_KEYS);
    if (shape.error) compact.status = shape.error.httpStatusCode;
    if (shape.members) {
      compact.members = Object.fromEntries(Object.entries<any>(shape.members).map(([m, def]) => [m, pick(def, MEMBER_KEYS)]));
    }
    if (shape.member) compact.member = shape.member.shape;
    if (shape.key) compact.key = shape.key.shape;
    if (shape.value) compact.value = shape.value.shape;
    shapes[name] = compact;
  }
  const model = {
    source: `botocore ${raw.metadata.uid} (Apache-2.0, see NOTICE)`,
    signingName: raw.metadata.signingName,
    apiVersion: raw.metadata.apiVersion,
    operations,
    shapes,
  };
  writeFileSync(join(outDir, `${service}.json`), JSON.stringify(model) + '\n');
  console.log(`${service}: ${Object.keys(operations).length} operations, ${Object.keys(shapes).length} shapes`);
}

// The operation → SDK type map the handlers are checked against follows the models it is read from.
await import('./gen-operations.ts');
