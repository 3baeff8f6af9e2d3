// ARNs of the resources Flotilla keeps, built and read in one place.

export interface Scope {
  account: string;
  region: string;
}

export type ResourceRef =
  | { type: 'package'; packageName: string }
  | { type: 'packageVersion'; packageName: string; versionName: string };

const prefix = (scope: Scope) => `arn:aws:iot:${scope.region}:${scope.account}:`;

export const packageArn = (scope: Scope, packageName: string) => `${prefix(scope)}package/${packageName}`;

export const packageVersionArn = (scope: Scope, packageName: string, versionName: string) =>
  `${prefix(scope)}package/${packageName}/version/${versionName}`;

/** Reads an IoT ARN into its scope and resource; undefined for anything Flotilla does not keep. */
export function parseArn(arn: string): { scope: Scope; resource: ResourceRef } | undefined {
  const m = /^arn:aws:iot:([^:]*):([^:]*):(.+)$/.exec(arn);
  if (!m) return undefined;
  const scope = { region: m[1], account: m[2] };
  const parts = m[3].split('/');
  if (parts[0] === 'package' && parts.length === 2 && parts[1]) return { scope, resource: { type: 'package', packageName: parts[1] } };
  if (parts[0] === 'package' && parts.length === 4 && parts[2] === 'version' && parts[1] && parts[3]) {
    return { scope, resource: { type: 'packageVersion', packageName: parts[1], versionName: parts[3] } };
  }
  return undefined;
}
