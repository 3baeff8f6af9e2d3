// Matches method + path to a modelled operation. Literal segments win over labels, labels over greedy labels.
import type { Operation, ServiceModel } from './model.ts';

interface Node {
  literals: Map<string, Node>;
  label?: { name: string; node: Node };
  greedy?: { name: string; ops: Map<string, string> };
  ops: Map<string, string>; // method -> operation name
}

export interface RouteMatch {
  operation: string;
  labels: Record<string, string>;
}

const newNode = (): Node => ({ literals: new Map(), ops: new Map() });

export class Router {
  private readonly root = newNode();

  constructor(model: ServiceModel) {
    for (const [name, op] of Object.entries(model.operations)) this.add(name, op);
  }

  private add(name: string, op: Operation): void {
    const path = op.uri.split('?')[0];
    let node = this.root;
    for (const segment of splitPath(path)) {
      const label = /^\{(.+?)(\+)?\}$/.exec(segment);
      if (label?.[2]) {
        node.greedy ??= { name: label[1], ops: new Map() };
        node.greedy.ops.set(op.method, name);
        return;
      }
      if (label) {
        node.label ??= { name: label[1], node: newNode() };
        node = node.label.node;
      } else {
        let next = node.literals.get(segment);
        if (!next) {
          next = newNode();
          node.literals.set(segment, next);
        }
        node = next;
      }
    }
    node.ops.set(op.method, name);
  }

  /** Finds the operation for a raw (still percent-encoded) path. Returns undefined when nothing matches. */
  match(method: string, rawPath: string): RouteMatch | undefined {
    const segments = splitPath(rawPath);
    for (let i = 0; i < segments.length; i++) {
      if (!segments[i].includes('%')) continue;
      const decoded = safeDecode(segments[i]);
      if (decoded === undefined) return undefined;
      segments[i] = decoded;
    }
    return walk(this.root, segments, 0, method, {});
  }
}

function walk(node: Node, segments: string[], i: number, method: string, labels: Record<string, string>): RouteMatch | undefined {
  if (i === segments.length) {
    const operation = node.ops.get(method);
    return operation ? { operation, labels } : undefined;
  }
  const segment = segments[i];
  const literal = node.literals.get(segment);
  const viaLiteral = literal && walk(literal, segments, i + 1, method, labels);
  if (viaLiteral) return viaLiteral;
  // An empty segment still binds a label, so the member's own length rule answers `PUT /packages/`.
  if (node.label) {
    const viaLabel = walk(node.label.node, segments, i + 1, method, { ...labels, [node.label.name]: segment });
    if (viaLabel) return viaLabel;
  }
  const greedyOp = node.greedy?.ops.get(method);
  if (node.greedy && greedyOp) return { operation: greedyOp, labels: { ...labels, [node.greedy.name]: segments.slice(i).join('/') } };
  return undefined;
}

function splitPath(path: string): string[] {
  let start = 0;
  while (path[start] === '/') start++;
  const trimmed = start === 0 ? path : path.slice(start);
  return trimmed === '' ? [] : trimmed.split('/');
}

function safeDecode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
