// Every handler, by service and operation name, each checked against its operation's SDK types (see Handlers).
import type { ServiceName } from '../protocol/model.ts';
import type { Handlers } from './context.ts';
import { endpointHandlers } from './endpoint.ts';
import { eventConfigurationHandlers } from './event-configurations.ts';
import { packageConfigHandlers } from './package-config.ts';
import { packageVersionHandlers } from './package-versions.ts';
import { packageHandlers } from './packages.ts';
import { sbomHandlers } from './sbom.ts';
import { tagHandlers } from './tags.ts';
import { indexingHandlers } from './indexing.ts';
import { iotDataHandlers } from './iot-data.ts';
import { jobExecutionHandlers } from './job-executions.ts';
import { jobTemplateHandlers } from './job-templates.ts';
import { jobsDataHandlers } from './jobs-data-http.ts';
import { jobHandlers } from './jobs.ts';
import { billingGroupHandlers } from './billing-groups.ts';
import { thingGroupHandlers } from './thing-groups.ts';
import { shadowHandlers } from './shadows.ts';
import { thingHandlers, thingTypeHandlers } from './things.ts';

export const handlers: { [S in ServiceName]: Handlers<S> } = {
  iot: {
    ...packageHandlers,
    ...packageVersionHandlers,
    ...sbomHandlers,
    ...packageConfigHandlers,
    ...tagHandlers,
    ...endpointHandlers,
    ...thingHandlers,
    ...thingTypeHandlers,
    ...thingGroupHandlers,
    ...billingGroupHandlers,
    ...indexingHandlers,
    ...jobHandlers,
    ...jobExecutionHandlers,
    ...jobTemplateHandlers,
    ...eventConfigurationHandlers,
  },
  'iot-jobs-data': { ...jobsDataHandlers },
  iotdata: { ...shadowHandlers, ...iotDataHandlers },
};
