// Every handler, by service and operation name.
import type { ServiceName } from '../protocol/model.ts';
import type { HandlerMap } from './context.ts';
import { endpointHandlers } from './endpoint.ts';
import { packageConfigHandlers } from './package-config.ts';
import { packageVersionHandlers } from './package-versions.ts';
import { packageHandlers } from './packages.ts';
import { sbomHandlers } from './sbom.ts';
import { tagHandlers } from './tags.ts';
import { indexingHandlers } from './indexing.ts';
import { iotDataHandlers } from './iot-data.ts';
import { jobExecutionHandlers } from './job-executions.ts';
import { jobTemplateHandlers } from './job-templates.ts';
import { jobHandlers } from './jobs.ts';
import { thingGroupHandlers } from './thing-groups.ts';
import { shadowHandlers } from './shadows.ts';
import { thingHandlers, thingTypeHandlers } from './things.ts';

export const handlers: Record<ServiceName, HandlerMap> = {
  iot: { ...packageHandlers, ...packageVersionHandlers, ...sbomHandlers, ...packageConfigHandlers, ...tagHandlers, ...endpointHandlers, ...thingHandlers, ...thingTypeHandlers, ...thingGroupHandlers, ...indexingHandlers, ...jobHandlers, ...jobExecutionHandlers, ...jobTemplateHandlers },
  'iot-jobs-data': {},
  iotdata: { ...shadowHandlers, ...iotDataHandlers },
};
