// Turns the official AWS botocore models into the compact JSON the protocol layer runs on:
// operations, HTTP bindings, shapes with their constraints, errors and paginators; documentation dropped.
//
// Where the models come from: botocore (https://github.com/boto/botocore, Apache-2.0), directory botocore/data/:
// iot/2015-05-28, iot-jobs-data/2017-09-29 and iot-data/2015-05-28, each with service-2.json and paginators-1.json.
// Give that data directory (or a directory holding <service>.json and <service>.paginators.json for the three).
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const SERVICES = ['iot', 'iot-jobs-data', 'iot-data'] as const;
const USAGE = `Usage: npm run gen:models -- <models dir>
  <models dir>: botocore's botocore/data directory (https://github.com/boto/botocore), holding
  iot/2015-05-28/, iot-jobs-data/2017-09-29/ and iot-data/2015-05-28/ with service-2.json and paginators-1.json;
  or a directory with <service>.json and <service>.paginators.json for ${SERVICES.join(', ')}.`;

if (!process.argv[2] || process.argv[2] === '--help' || process.argv[2] === '-h') {
  console.error(USAGE);
  process.exit(process.argv[2] ? 0 : 2);
}
const sourceDir = resolve(process.argv[2]);

/** The model and paginator files of a service, in either layout. */
function sourceFiles(service: string): { model: string; paginators: string } {
  const flat = { model: join(sourceDir, `${service}.json`), paginators: join(sourceDir, `${service}.paginators.json`) };
  if (existsSync(flat.model)) return flat;
  const serviceDir = join(sourceDir, service);
  const version = existsSync(serviceDir) ? readdirSync(serviceDir).sort().at(-1) : undefined;
  const nested = version && { model: join(serviceDir, version, 'service-2.json'), paginators: join(serviceDir, version, 'paginators-1.json') };
  if (nested && existsSync(nested.model)) return nested;
  console.error(`No model of ${service} in ${sourceDir}.\n${USAGE}`);
  process.exit(2);
}
const outDir = join(import.meta.dirname, '..', 'src', 'protocol', 'models');

const SHAPE_KEYS = ['type', 'required', 'min', 'max', 'pattern', 'enum', 'payload', 'timestampFormat', 'exception', 'fault'];
const MEMBER_KEYS = ['shape', 'location', 'locationName', 'idempotencyToken', 'jsonvalue', 'timestampFormat'];

function pick(source: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of keys) if (source[key] !== undefined) out[key] = source[key];
  return out;
}

for (const service of SERVICES) {
  const files = sourceFiles(service);
  const raw = JSON.parse(readFileSync(files.model, 'utf8'));
  const pages = JSON.parse(readFileSync(files.paginators, 'utf8')).pagination ?? {};
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
  writeFileSync(join(outDir, `${service}.json`), `${JSON.stringify(model)}\n`);
  console.log(`${service}: ${Object.keys(operations).length} operations, ${Object.keys(shapes).length} shapes`);
}

// The operation → SDK type map the handlers are checked against follows the models it is read from.
await import('./gen-operations.ts');
