// ARNs of the resources Flotilla keeps, built and read in one place.

export interface Scope {
  account: string;
  region: string;
}

export type ResourceRef =
  | { type: 'package'; packageName: string }
  | { type: 'packageVersion'; packageName: string; versionName: string }
  | { type: 'thing'; thingName: string }
  | { type: 'thingGroup'; thingGroupName: string }
  | { type: 'billingGroup'; billingGroupName: string }
  | { type: 'thingType'; thingTypeName: string }
  | { type: 'job'; jobId: string }
  | { type: 'jobTemplate'; jobTemplateId: string };

const prefix = (scope: Scope) => `arn:aws:iot:${scope.region}:${scope.account}:`;

export const packageArn = (scope: Scope, packageName: string) => `${prefix(scope)}package/${packageName}`;

export const packageVersionArn = (scope: Scope, packageName: string, versionName: string) => `${prefix(scope)}package/${packageName}/version/${versionName}`;

export const thingArn = (scope: Scope, thingName: string) => `${prefix(scope)}thing/${thingName}`;

export const thingGroupArn = (scope: Scope, groupName: string) => `${prefix(scope)}thinggroup/${groupName}`;

export const billingGroupArn = (scope: Scope, groupName: string) => `${prefix(scope)}billinggroup/${groupName}`;

export const thingTypeArn = (scope: Scope, typeName: string) => `${prefix(scope)}thingtype/${typeName}`;

export const jobArn = (scope: Scope, jobId: string) => `${prefix(scope)}job/${jobId}`;

export const jobTemplateArn = (scope: Scope, templateId: string) => `${prefix(scope)}jobtemplate/${templateId}`;

/** Reads an IoT ARN into its scope and resource; undefined for anything Flotilla does not keep. */
export function parseArn(arn: string): { scope: Scope; resource: ResourceRef } | undefined {
  const m = /^arn:aws:iot:([^:]*):([^:]*):(.+)$/.exec(arn);
  if (!m) return undefined;
  const scope = { region: m[1], account: m[2] };
  const parts = m[3].split('/');
  if (parts.length === 2 && parts[1]) {
    if (parts[0] === 'thing') return { scope, resource: { type: 'thing', thingName: parts[1] } };
    if (parts[0] === 'thinggroup') return { scope, resource: { type: 'thingGroup', thingGroupName: parts[1] } };
    if (parts[0] === 'billinggroup') return { scope, resource: { type: 'billingGroup', billingGroupName: parts[1] } };
    if (parts[0] === 'thingtype') return { scope, resource: { type: 'thingType', thingTypeName: parts[1] } };
    if (parts[0] === 'job') return { scope, resource: { type: 'job', jobId: parts[1] } };
    if (parts[0] === 'jobtemplate' && scope.account) return { scope, resource: { type: 'jobTemplate', jobTemplateId: parts[1] } };
  }
  if (parts[0] === 'package' && parts.length === 2 && parts[1]) return { scope, resource: { type: 'package', packageName: parts[1] } };
  if (parts[0] === 'package' && parts.length === 4 && parts[2] === 'version' && parts[1] && parts[3]) {
    return { scope, resource: { type: 'packageVersion', packageName: parts[1], versionName: parts[3] } };
  }
  return undefined;
}
